"""The bare-metal API load balancer's files for each host that holds the VIP, from the settings. Pure."""

from __future__ import annotations

from components import versions
from components.baremetal import haproxy_config, keepalived_config
from components.host import CONTROL_PLANE
from components.remote import host_scripts
from components.settings import Settings
from components.settings.inventory import load_balancer_hosts

# Stands in for the VRRP secret in the reviewable copies of keepalived.conf (`tools.plan --emit`).
PLACEHOLDER_AUTH_PASS = "PLACEHLD"


def holders(s: Settings) -> list[keepalived_config.Peer]:
    lb = s.load_balancer
    return [keepalived_config.Peer(h.name, h.address, h.vip_interface or lb.interface)
            for h in load_balancer_hosts(s.inventory, lb.mode)]


def backends(s: Settings) -> list[haproxy_config.Backend]:
    """Every control plane's apiserver, in inventory order."""
    return [haproxy_config.Backend(h.name, h.address) for h in s.inventory if h.node_role == CONTROL_PLANE]


def haproxy(s: Settings) -> str:
    return haproxy_config.render(s.load_balancer.port, backends(s), s.max_node_count)


def keepalived(s: Settings, holder: str, auth_pass: str) -> str:
    peers = holders(s)
    me = next(p for p in peers if p.name == holder)
    lb = s.load_balancer
    return keepalived_config.render(me, peers, lb.vip, lb.prefix_length, lb.virtual_router_id, auth_pass)


def install_script(haproxy_cfg: str, keepalived_conf: str) -> str:
    return host_scripts.render("install-load-balancer.sh", {
        "HAPROXY_PACKAGE": versions.HAPROXY_PACKAGE,
        "HAPROXY_VERSION_PREFIX": versions.HAPROXY_VERSION_PREFIX,
        "KEEPALIVED_PACKAGE": versions.KEEPALIVED_PACKAGE,
        "KEEPALIVED_VERSION_PREFIX": versions.KEEPALIVED_VERSION_PREFIX,
        "HAPROXY_CONFIG": haproxy_cfg.rstrip("\n"),
        "KEEPALIVED_CONFIG": keepalived_conf.rstrip("\n"),
    }, name="install-load-balancer")
