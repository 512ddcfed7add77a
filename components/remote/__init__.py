"""How anything runs on a host: `runner.py` (one SSH remote command per host and phase, host keys pinned, inputs on
stdin), `host_scripts.py` (renders a script from scripts/ with a generated header of its inputs) and scripts/ (the
real shell files, shellcheck-clean, each idempotent).

Shared by baremetal (the load balancer install), bootstrap and addons (etcd backups, registry trust), so it sits
below all three rather than inside bootstrap. May import: the seams (host, versions) only.
"""
