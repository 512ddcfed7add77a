"""The top-level scalar settings and the AWS tags: each checked against its full pattern and bounds. Pure."""

from __future__ import annotations

import re
from typing import Any

from components import versions
from components.settings import catalog
from components.settings.reader import REQUIRED, Problems, Reader, shown
from components.settings.rules import ssh_key_problem

REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
# 1.MINOR.PATCH in ASCII digits, without leading zeros (kubeadm and the package repositories spell them so).
VERSION = re.compile(r"1\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
IMAGE_REPOSITORY = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]([-._a-z0-9]*[a-z0-9])?)*")
AMI = re.compile(r"ami-[0-9a-f]{8,17}")
# A login name as useradd accepts it by default (and one no shell reads as more than a word).
SSH_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
# AWS tags: letters, digits, spaces and + - = . _ : / @; keys up to 128 characters, values up to 256; the aws:
# prefix is AWS's own.
TAG_TEXT = re.compile(r"[\w +\-=.:/@]*", re.ASCII)
MAX_TAG_KEY, MAX_TAG_VALUE = 128, 256
MAX_TAGS = 40  # AWS allows 50 a resource; the program sets up to 6 of its own and leaves room
RESERVED_TAGS = ("Name", "cluster", "tier", "role", "pool")


def check_region(region: str | None, required: bool, problems: Problems) -> str | None:
    """The region when it is valid; None (after saying why, where it is required) otherwise."""
    catalog.note("aws:region", catalog.TEXT, REQUIRED if required else None)
    if not region:
        if required:
            problems.add("aws:region", "is required (pulumi config set aws:region eu-west-1)")
        return None
    if not REGION.fullmatch(region):
        problems.add("aws:region", f"must be an AWS region name such as eu-west-1, got {shown(region)}")
        return None
    return region


def check_kubernetes_version(version: str, problems: Problems) -> None:
    accepted = ", ".join(f"1.{m}.x" for m in versions.SUPPORTED_KUBERNETES_MINORS)
    match = VERSION.fullmatch(version)
    if not match:
        problems.add("kubernetesVersion", f"must be an exact version 1.MINOR.PATCH without leading zeros "
                                          f"({accepted}), got {shown(version)}")
    elif int(match[1]) not in versions.SUPPORTED_KUBERNETES_MINORS:
        problems.add("kubernetesVersion", f"minor 1.{match[1]} is not supported; accepted: {accepted}")
    elif int(match[2]) < int(versions.KUBEADM_INIT_THROUGH_LOAD_BALANCER_FIXED[int(match[1])].split(".")[2]):
        fixed = versions.KUBEADM_INIT_THROUGH_LOAD_BALANCER_FIXED[int(match[1])]
        problems.add("kubernetesVersion", f"{version} has kubeadm#3294 (kubeadm init fails while the API load "
                                          f"balancer is not yet healthy); accepted: 1.{match[1]}.x from {fixed} "
                                          f"(pinned: {versions.PINNED_KUBERNETES_PATCHES[int(match[1])]})")


def check_ssh_user(user: str, path: str, problems: Problems) -> bool:
    if SSH_USER.fullmatch(user):
        return True
    problems.add(path, f"must be a login name (a-z, 0-9, '_', '-', starting with a letter or '_', at most 32), "
                       f"got {shown(user)}")
    return False


def check_ssh_public_key(key: str, problems: Problems) -> None:
    why = ssh_key_problem(key.strip(), comment_allowed=True)
    if why:
        problems.add("sshPublicKey", f"must be an OpenSSH public key (ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp*): "
                                     f"{why}")


def read_scalar_int(raw: Any, key: str, default: int, low: int, high: int, problems: Problems) -> int | None:
    catalog.note(key, catalog.whole(low, high), default)
    if raw is None:
        return default
    text = str(raw).strip()
    if not re.fullmatch(r"[0-9]{1,9}", text):
        problems.add(key, f"must be a whole number from {low} to {high}, got {shown(raw)}")
        return None
    value = int(text)
    if not low <= value <= high:
        problems.add(key, f"must be from {low} to {high}, got {value}")
        return None
    return value


def read_tags(value: Any, problems: Problems) -> dict[str, str]:
    tags = Reader({"tags": value}, "", problems, ["tags"]).string_map("tags", {}) or {}
    if len(tags) > MAX_TAGS:
        problems.add("tags", f"at most {MAX_TAGS} tags, got {len(tags)}")
    valid = {}
    for key in sorted(tags):
        path = f"tags.{key}"
        if key in RESERVED_TAGS or key.startswith("kubernetes.io/cluster/"):
            problems.add(path, f"is set by the program; reserved: {', '.join(RESERVED_TAGS)}, kubernetes.io/cluster/*")
        elif key.lower().startswith("aws:"):
            problems.add(path, "the aws: prefix is reserved for AWS's own tags")
        elif not (0 < len(key) <= MAX_TAG_KEY and TAG_TEXT.fullmatch(key)):
            problems.add(path, f"a tag key is 1 to {MAX_TAG_KEY} letters, digits, spaces and + - = . _ : / @")
        elif not (len(tags[key]) <= MAX_TAG_VALUE and TAG_TEXT.fullmatch(tags[key])):
            problems.add(path, f"a tag value is at most {MAX_TAG_VALUE} letters, digits, spaces and + - = . _ : / @")
        else:
            valid[key] = tags[key]
    return valid
