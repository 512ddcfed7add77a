"""The command that reads a host over SSH from the machine running Pulumi (ssh-read.sh), for the reads every
preview and update makes (bootstrap/host_reads.py). Pure."""

from __future__ import annotations

from components.remote import host_scripts

CONNECT_TIMEOUT_S = 15
# A read is `kubeadm certs check-expiration` or a few cat: a host that takes longer than this (a hung disk, a
# network that drops the session without closing it) is reported unavailable rather than holding up the preview.
READ_TIMEOUT_S = 120


def ssh_read_command(address: str, port: int, user: str, host_key: str | None, proxy, remote_script: str) -> str:
    """ssh-read.sh for one host; `proxy`: (address, port, user, host key) of a bastion, or None."""
    proxy_address, proxy_port, proxy_user, proxy_key = proxy or ("", 22, "", "")
    return host_scripts.render("ssh-read.sh", {
        "HOST": address, "PORT": port, "USER": user, "HOST_KEY": (host_key or "").strip(),
        "PROXY_HOST": proxy_address, "PROXY_PORT": proxy_port, "PROXY_USER": proxy_user,
        "PROXY_HOST_KEY": (proxy_key or "").strip(), "REMOTE_SCRIPT": remote_script.rstrip("\n"),
        "CONNECT_TIMEOUT": CONNECT_TIMEOUT_S, "READ_TIMEOUT": READ_TIMEOUT_S}, name="ssh-read")
