"""What the machine running Pulumi runs to reach a host over SSH (ssh-client-lib.sh): the read every preview and
update makes (ssh-read.sh, bootstrap/host_reads.py), and the wait for a host's SSH server before its first step
(wait-for-ssh.sh, HostRunner.wait_for_ssh). Pure."""

from __future__ import annotations

from components.remote import host_scripts

CONNECT_TIMEOUT_S = 15
# A read is `kubeadm certs check-expiration` or a few cat: a host that takes longer than this (a hung disk, a
# network that drops the session without closing it) is reported unavailable rather than holding up the preview.
READ_TIMEOUT_S = 120


# Tries of the wait for a host's SSH server, this many seconds apart.
WAIT_TRY_INTERVAL_S = 5


def _client_inputs(address: str, port: int, user: str, host_key: str | None, proxy) -> dict[str, object]:
    """ssh-client-lib.sh's inputs; `proxy`: (address, port, user, host key) of a bastion, or None."""
    proxy_address, proxy_port, proxy_user, proxy_key = proxy or ("", 22, "", "")
    return {"HOST": address, "PORT": port, "USER": user, "HOST_KEY": (host_key or "").strip(),
            "PROXY_HOST": proxy_address, "PROXY_PORT": proxy_port, "PROXY_USER": proxy_user,
            "PROXY_HOST_KEY": (proxy_key or "").strip(), "CONNECT_TIMEOUT": CONNECT_TIMEOUT_S}


def ssh_read_command(address: str, port: int, user: str, host_key: str | None, proxy, remote_script: str) -> str:
    """ssh-read.sh for one host; `proxy`: (address, port, user, host key) of a bastion, or None."""
    return host_scripts.render(("ssh-client-lib.sh", "ssh-read.sh"), {
        **_client_inputs(address, port, user, host_key, proxy), "REMOTE_SCRIPT": remote_script.rstrip("\n"),
        "READ_TIMEOUT": READ_TIMEOUT_S}, name="ssh-read")


def wait_for_ssh_command(node_name: str, address: str, port: int, user: str, host_key: str | None, proxy,
                         answer_seconds: int, key_seconds: int) -> str:
    """wait-for-ssh.sh for one host."""
    return host_scripts.render(("ssh-client-lib.sh", "wait-for-ssh.sh"), {
        **_client_inputs(address, port, user, host_key, proxy), "NODE_NAME": node_name,
        "ANSWER_SECONDS": answer_seconds, "KEY_SECONDS": key_seconds, "TRY_INTERVAL": WAIT_TRY_INTERVAL_S},
        name="wait-for-ssh")
