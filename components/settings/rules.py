"""Readers and formats shared by every settings section (AWS pools and the bare-metal inventory). Pure."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import struct

from components.host import Taint
from components.settings.reader import Problems, Reader, join, shown

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

# An RFC 1123 label, as Kubernetes' apimachinery checks one (IsDNS1123Label): a digit may come first, as in a node
# name. tests/settings/test_real_parsers.py holds it to apimachinery's own check.
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
MAX_DNS_LABEL = 63


def is_dns_label(value: str, max_length: int = MAX_DNS_LABEL) -> bool:
    return len(value) <= max_length and DNS_LABEL.fullmatch(value) is not None


def dns_label_rule(max_length: int, why: str) -> str:
    """The words of the rule is_dns_label applies, for an error: what a label is, its length and why that length."""
    return (f"must be an RFC 1123 label (a-z, 0-9 and '-', starting and ending with a letter or digit) of at most "
            f"{max_length} characters ({why})")
SSH_KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")
LABEL_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
MAX_LABEL_PREFIX, MAX_LABEL_NAME, MAX_LABEL_VALUE = 253, 63, 63
# The kubelet refuses --node-labels in the kubernetes.io and k8s.io namespaces, except under these two (and a few
# it sets itself, such as kubernetes.io/hostname, which are not the user's to set).
KUBELET_LABEL_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")
RESERVED_LABEL_DOMAINS = ("kubernetes.io", "k8s.io")
# Labels the kubelet refuses but the API takes: the settings accept them, the node's labels step applies them and
# the kubelet is never given them (bootstrap/node_config.py).
API_ONLY_LABEL_NAMESPACES = ("node-role.kubernetes.io",)
MAX_TAINTS = 20


def ssh_key_problem(text: str, comment_allowed: bool) -> str:
    """Why `text` is not an OpenSSH public key line ("<type> <base64>[ comment]"), or "" when it is one. The base64
    blob must decode and name the same key type, which catches truncated and pasted-wrong keys."""
    parts = text.split(" ", 2)
    if len(parts) < 2 or (len(parts) == 3 and not comment_allowed):
        return "expected '<type> <base64>'" + (" and an optional comment" if comment_allowed else "")
    kind, blob = parts[0], parts[1]
    if kind not in SSH_KEY_TYPES:
        return f"the type must be one of {', '.join(SSH_KEY_TYPES)}"
    try:
        raw = base64.b64decode(blob, validate=True)
        (length,) = struct.unpack(">I", raw[:4])
        named = raw[4:4 + length].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError, ValueError):
        return "the key is not valid base64 of an SSH key"
    if named != kind or len(raw) < 4 + length + 16:
        return f"the key data does not hold a complete {kind} key"
    return ""


def cidr(value: str | None, path: str, problems: Problems) -> ipaddress.IPv4Network | None:
    if value is None:
        return None
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        problems.add(path, f"must be an IPv4 CIDR with no host bits set, such as 10.0.0.0/16, got {shown(value)}")
        return None


def special_address_problem(ip: ipaddress.IPv4Address) -> str:
    """Why a host cannot be reached at `ip`, or "": addresses that never name one machine on a network."""
    for test, what in ((ip.is_unspecified, "the unspecified address"), (ip.is_loopback, "a loopback address"),
                       (ip == ipaddress.IPv4Address("255.255.255.255"), "the broadcast address"),
                       (ip.is_multicast, "a multicast address"), (ip.is_link_local, "a link-local address"),
                       (ip.is_reserved, "a reserved address (240.0.0.0/4)")):
        if test:
            return what
    return ""


# IPv4 special-purpose ranges (IANA's registry, RFC 6890) that no cluster network can use: nothing routes them
# between machines. Documentation, shared (100.64.0.0/10) and benchmarking ranges stay allowed: labs and carrier
# networks use them.
SPECIAL_RANGES = ((ipaddress.IPv4Network("0.0.0.0/8"), "'this network', RFC 791"),
                  (ipaddress.IPv4Network("127.0.0.0/8"), "loopback"),
                  (ipaddress.IPv4Network("169.254.0.0/16"), "link-local"),
                  (ipaddress.IPv4Network("224.0.0.0/4"), "multicast"),
                  (ipaddress.IPv4Network("240.0.0.0/4"), "reserved, and the broadcast address"))


def special_range_problem(net: ipaddress.IPv4Network) -> str:
    """Why a cluster network (VPC, hosts, pods, services) cannot be `net`, or "": it overlaps a special range."""
    for special, name in SPECIAL_RANGES:
        if net.overlaps(special):
            return f"{net} overlaps {special} ({name}), which no network routes between machines"
    return ""


def address(value: str | None, path: str, problems: Problems) -> ipaddress.IPv4Address | None:
    """A host's IPv4 address: a unicast address one machine can hold."""
    if value is None:
        return None
    try:
        ip = ipaddress.IPv4Address(value)
    except ValueError:
        problems.add(path, f"must be an IPv4 address such as 203.0.113.10, got {shown(value)}")
        return None
    why = special_address_problem(ip)
    if why:
        problems.add(path, f"{ip} is {why}; a host needs a unicast address such as 203.0.113.10")
        return None
    return ip


def label_key_problem(key: str) -> str:
    """Why `key` is not a valid label or taint key ("[prefix/]name"), or ""."""
    prefix, _, name = key.rpartition("/")
    if prefix and not (len(prefix) <= MAX_LABEL_PREFIX and LABEL_PREFIX.fullmatch(prefix)):
        return f"the prefix must be a DNS subdomain of at most {MAX_LABEL_PREFIX} characters"
    if not (len(name) <= MAX_LABEL_NAME and LABEL_NAME.fullmatch(name)):
        return (f"the name must be 1 to {MAX_LABEL_NAME} characters: letters, digits, '-', '_', '.', starting and "
                f"ending with a letter or digit")
    return ""


def value_problem(value: str) -> str:
    if len(value) <= MAX_LABEL_VALUE and LABEL_VALUE.fullmatch(value):
        return ""
    return (f"the value must be at most {MAX_LABEL_VALUE} characters: letters, digits, '-', '_', '.', starting and "
            f"ending with a letter or digit")


def _in(prefix: str, namespaces: tuple[str, ...]) -> bool:
    return any(prefix == n or prefix.endswith("." + n) for n in namespaces)


def is_api_only_label(key: str) -> bool:
    """A label the API takes and the kubelet refuses (node-role.kubernetes.io/<role>)."""
    return key.rpartition("/")[0] in API_ONLY_LABEL_NAMESPACES


def _reserved_namespace(prefix: str) -> bool:
    return (_in(prefix, RESERVED_LABEL_DOMAINS) and not _in(prefix, KUBELET_LABEL_NAMESPACES)
            and prefix not in API_ONLY_LABEL_NAMESPACES)


def check_labels(labels: dict[str, str] | None, path: str, problems: Problems) -> None:
    for key, val in sorted((labels or {}).items()):
        where = join(join(path, "labels"), key)
        why = label_key_problem(key) or value_problem(val)
        if not why and _reserved_namespace(key.rpartition("/")[0]):
            why = (f"the kubelet refuses labels in the {' and '.join(RESERVED_LABEL_DOMAINS)} namespaces except "
                   f"under {' and '.join(n + '/' for n in KUBELET_LABEL_NAMESPACES)}; accepted are those, "
                   f"{' and '.join(n + '/' for n in API_ONLY_LABEL_NAMESPACES)} (applied through the API) and a "
                   f"prefix of your own such as example.com/role; topology.kubernetes.io/zone and region are set "
                   f"from the zones")
        if why:
            problems.add(where, f"is not a valid node label: {why}")


def read_taints(r: Reader, path: str, problems: Problems) -> list[Taint] | None:
    """Every taint, or None after reporting each bad one (not only the first)."""
    items = r.list_of("taints", [])
    if items is None:
        return None
    if len(items) > MAX_TAINTS:
        problems.add(join(path, "taints"), f"at most {MAX_TAINTS} taints, got {len(items)}")
        return None
    taints, complete, seen = [], True, {}
    for item_path, item in items:
        t = Reader(item, item_path, problems, ["key", "value", "effect"])
        key = t.string("key")
        value = t.string("value", "")
        effect = t.choice("effect", TAINT_EFFECTS)
        if key is not None and label_key_problem(key):
            problems.add(join(item_path, "key"), f"is not a valid taint key: {label_key_problem(key)}")
            key = None
        if value and value_problem(value):
            problems.add(join(item_path, "value"), f"is not a valid taint value: {value_problem(value)}")
            value = None
        if key is not None and effect is not None:
            if (key, effect) in seen:
                problems.add(item_path, f"repeats the taint {key}:{effect} of {seen[key, effect]}")
                key = None
            else:
                seen[key, effect] = item_path
        if None in (key, value, effect) or not t.ok:
            complete = False
            continue
        taints.append(Taint(key=key, value=value, effect=effect))
    return taints if complete else None
