"""What must never be deployed as written: the shipped example stacks' public key and the documentation address
ranges (RFC 5737) as networks allowed to reach SSH or the API, and a private key that does not match the public key
the machines get. Pure: the program refuses to deploy with any of them and the previews and the offline plan say so.

A machine made with the example key or reachable only from a documentation range is a machine no one can log in
to: the update would build it, then wait for SSH until it gives up.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import struct

from components.settings.model import Settings

# The comment of the shipped stacks' public key (Pulumi.dev.yaml, Pulumi.lab.yaml, Pulumi.prod.yaml).
EXAMPLE_KEY_COMMENT = "platform@example"
# RFC 5737: TEST-NET-1, -2 and -3, for documentation; never a real client's address.
DOCUMENTATION_RANGES = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))
_OPENSSH_MAGIC = b"openssh-key-v1\0"


def example_values(settings: Settings) -> list[str]:
    """"<key path>: <why>" for each example value left in the settings."""
    found = []
    key = (settings.ssh_public_key or "").split()
    if key and key[-1] == EXAMPLE_KEY_COMMENT:
        found.append(f"sshPublicKey: is the example key of the shipped stacks (comment {EXAMPLE_KEY_COMMENT}); set "
                     f"the public half of your own key (pulumi config set sshPublicKey \"$(cat ~/.ssh/id_ed25519.pub)\")")
    access = settings.access
    for name, networks in (("sshAllowedCidrs", access.ssh_allowed_cidrs if access else ()),
                           ("apiAllowedCidrs", access.api_allowed_cidrs if access else ())):
        for i, text in enumerate(networks):
            network = ipaddress.ip_network(text, strict=False)
            documentation = next((d for d in DOCUMENTATION_RANGES if network.overlaps(d)), None)
            if documentation is not None:
                found.append(f"access.{name}[{i}]: {text} is a documentation range ({documentation}, RFC 5737): no "
                             f"real client is there; set the network you connect from")
    return found


def _string(blob: bytes, at: int) -> tuple[bytes, int]:
    (length,) = struct.unpack(">I", blob[at:at + 4])
    if at + 4 + length > len(blob):
        raise ValueError("truncated")
    return blob[at + 4:at + 4 + length], at + 4 + length


def public_key_of(private_key: str) -> str | None:
    """"<type> <base64>" of an OpenSSH private key (the format ssh-keygen writes; its public half is stored in clear,
    even when the key is encrypted), or None for another format (PEM RSA and the like)."""
    lines = [line.strip() for line in private_key.strip().splitlines()]
    if len(lines) < 3 or lines[0] != "-----BEGIN OPENSSH PRIVATE KEY-----" or \
            lines[-1] != "-----END OPENSSH PRIVATE KEY-----":
        return None
    try:
        blob = base64.b64decode("".join(lines[1:-1]), validate=True)
        if not blob.startswith(_OPENSSH_MAGIC):
            return None
        at = len(_OPENSSH_MAGIC)
        for _ in ("cipher", "kdf", "kdf options"):
            _, at = _string(blob, at)
        (count,) = struct.unpack(">I", blob[at:at + 4])
        public, _ = _string(blob, at + 4)
        kind, _ = _string(public, 0)
    except (binascii.Error, ValueError, struct.error):
        return None
    if count < 1:
        return None
    return f"{kind.decode(errors='replace')} {base64.b64encode(public).decode()}"


def key_pair_problem(private_key: str | None, public_key: str | None) -> str | None:
    """Why the private key (the secret the program connects with) cannot log in to machines given `public_key`,
    or None when it matches or cannot be checked (no private key, or a format that does not carry its public half)."""
    if not private_key or not public_key:
        return None
    derived = public_key_of(private_key)
    if derived is None:
        return None
    given = " ".join(public_key.split()[:2])
    if derived != given:
        return (f"sshPrivateKey: does not match sshPublicKey (its public half is {derived[:40]}..., sshPublicKey is "
                f"{given[:40]}...): the machines would get a key the program cannot log in with; set the pair's "
                f"two halves (pulumi config set --secret sshPrivateKey < key; pulumi config set sshPublicKey ...)")
    return None


def deploy_refusals(settings: Settings, private_key: str | None) -> list[str]:
    """Everything that makes the settings undeployable as written, one "<key path>: <why>" line each."""
    mismatch = key_pair_problem(private_key, settings.ssh_public_key)
    return example_values(settings) + ([mismatch] if mismatch else [])
