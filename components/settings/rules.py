"""Readers and formats shared by every settings section (AWS pools and the bare-metal inventory). Pure."""

from __future__ import annotations

import ipaddress
import re

from components.host import Taint
from components.settings.reader import Problems, Reader, join

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
SSH_PUBLIC_KEY = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$")
# A pinned host key as `ssh-keyscan` prints it, without the host name: "<type> <base64>".
SSH_HOST_KEY = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,2}$")
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


def cidr(value: str | None, path: str, problems: Problems) -> ipaddress.IPv4Network | None:
    if value is None:
        return None
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        problems.add(path, f"must be an IPv4 CIDR with no host bits set, such as 10.0.0.0/16 ({error})")
        return None


def address(value: str | None, path: str, problems: Problems) -> ipaddress.IPv4Address | None:
    if value is None:
        return None
    try:
        return ipaddress.IPv4Address(value)
    except ValueError:
        problems.add(path, f"must be an IPv4 address such as 192.0.2.10, got {value!r}")
        return None


def check_labels(labels: dict[str, str] | None, path: str, problems: Problems) -> None:
    for key, val in sorted((labels or {}).items()):
        if not LABEL_KEY.match(key) or not LABEL_VALUE.match(val) or len(val) > 63:
            problems.add(join(join(path, "labels"), key), "is not a valid Kubernetes label (key and value)")


def read_taints(r: Reader, path: str, problems: Problems) -> list[Taint] | None:
    items = r.list_of("taints", [])
    if items is None:
        return None
    taints = []
    for item_path, item in items:
        t = Reader(item, item_path, problems, ["key", "value", "effect"])
        key = t.string("key")
        value = t.string("value", "")
        effect = t.choice("effect", TAINT_EFFECTS)
        if key is not None and not LABEL_KEY.match(key):
            problems.add(join(item_path, "key"), f"is not a valid taint key: {key!r}")
        if None in (key, value, effect) or not t.ok:
            return None
        taints.append(Taint(key=key, value=value, effect=effect))
    return taints
