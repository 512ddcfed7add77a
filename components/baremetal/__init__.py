"""Bare-metal infrastructure: the inventory's hosts as `Host` records, and the API load balancer on them
(haproxy + keepalived holding a virtual IP), rendered purely and installed over SSH.

May import: settings, sizing, the seams (host, versions), remote and its own modules; never aws, bootstrap or
addons.
"""
