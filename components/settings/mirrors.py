"""`mirrors`: where the nodes get their packages and images instead of upstream's, for air-gapped sites and regions
where the upstream repositories and registries are slow or blocked. Unset, everything comes from upstream. Pure.

    mirrors:
      kubernetesPackages:          # laid out like https://pkgs.k8s.io/core:/stable:/ (v1.NN/deb/ below it)
        url: https://mirror.example.com/kubernetes/core:/stable:/
        signingKey: |              # the OpenPGP public key that signs its Release files, ASCII-armored
          -----BEGIN PGP PUBLIC KEY BLOCK-----
          ...
      containerdPackages:          # laid out like https://download.docker.com/linux/ (ubuntu/ and debian/ below it)
        url: https://mirror.example.com/docker/linux/
        signingKey: |
          ...
      registries:                  # containerd pulls these registries' images through the mirror
        registry.k8s.io: {url: "https://registry.example.com:5000", ca: "<PEM>"}
        docker.io: {url: "http://198.51.100.1:5000"}   # plain HTTP: a lab only

kubeadm's own images come from `imageRepository` (a top-level setting); a registry mirror of registry.k8s.io lets
that stay upstream's name while the bytes come from the mirror.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from components.settings import catalog
from components.settings.reader import Problems, Reader, join, shown

REGISTRIES = ("registry.k8s.io", "docker.io", "quay.io")
# Where containerd reaches each registry without a mirror (docker.io's images live at registry-1.docker.io).
UPSTREAM_SERVERS = {"registry.k8s.io": "https://registry.k8s.io", "docker.io": "https://registry-1.docker.io",
                    "quay.io": "https://quay.io"}
MAX_KEY_TEXT = 65536  # an armored RSA-4096 key with its signatures is well under this
_ARMORED_KEY = re.compile(r"-----BEGIN PGP PUBLIC KEY BLOCK-----\s.+?\s-----END PGP PUBLIC KEY BLOCK-----\s*",
                          re.DOTALL)
_CERTIFICATE = re.compile(r"(-----BEGIN CERTIFICATE-----\s[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----\s*)+")
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


@dataclass(frozen=True)
class PackageMirror:
    url: str  # ends with "/"
    signing_key: str  # ASCII-armored OpenPGP public key


@dataclass(frozen=True)
class RegistryMirror:
    url: str  # scheme://host[:port][/path], without a trailing slash
    ca: str | None = None  # PEM the nodes trust for it (https only)


@dataclass(frozen=True)
class MirrorSettings:
    kubernetes_packages: PackageMirror | None = None
    containerd_packages: PackageMirror | None = None
    registries: tuple[tuple[str, RegistryMirror], ...] = ()

    def registry(self, name: str) -> RegistryMirror | None:
        return dict(self.registries).get(name)


def url_problem(url: str) -> str:
    """Why `url` is not an http(s) URL with a host (and no query, fragment or credentials), or ""."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return f"is not a URL ({error})"
    if parts.scheme not in ("http", "https"):
        return "must start with https:// (or http:// for a lab)"
    if not parts.hostname or not _HOST.fullmatch(parts.hostname):
        return "names no host"
    if parts.username or parts.password:
        return "must not carry credentials"
    if parts.query or parts.fragment or any(c.isspace() for c in url):
        return "must be a plain URL without a query, a fragment or spaces"
    if port == 0:
        return "has port 0"
    return ""


def _text(r: Reader, key: str, limit: int) -> str | None:
    """A long text (a key, a certificate): the reader's strings stop at 2,048 characters."""
    value = r.raw(key, None, kind=catalog.TEXT)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        r.problems.add(join(r.path, key), f"must be a non-empty string, got {shown(value)}")
        return None
    if len(value) > limit:
        r.problems.add(join(r.path, key), f"must be at most {limit} characters, got {len(value)}")
        return None
    return value


def _read_url(r: Reader, path: str) -> tuple[str | None, bool]:
    """The mirror's `url` and whether it read cleanly (the mapping too)."""
    url = r.string("url")
    if url is not None and (why := url_problem(url)):
        r.problems.add(join(path, "url"), f"{why}, got {shown(url)}")
        return url, False
    return url, r.ok


def _package_mirror(value: Any, path: str, problems: Problems) -> PackageMirror | None:
    r = Reader(value, path, problems, ["url", "signingKey"])
    url, ok = _read_url(r, path)
    key = _text(r, "signingKey", MAX_KEY_TEXT)
    if key is None:
        if r.ok:
            problems.add(join(path, "signingKey"), "is required: the ASCII-armored OpenPGP public key that signs the "
                                                   "mirror's Release files (gpg --armor --export KEY)")
        ok = False
    elif not _ARMORED_KEY.fullmatch(key.strip() + "\n"):
        problems.add(join(path, "signingKey"), "must be one ASCII-armored OpenPGP public key (-----BEGIN PGP PUBLIC "
                                               "KEY BLOCK----- ... -----END PGP PUBLIC KEY BLOCK-----)")
        ok = False
    if not ok or url is None:
        return None
    return PackageMirror(url if url.endswith("/") else url + "/", key.strip() + "\n")


def _registry_mirror(value: Any, path: str, problems: Problems) -> RegistryMirror | None:
    r = Reader(value, path, problems, ["url", "ca"])
    url, ok = _read_url(r, path)
    ca = _text(r, "ca", MAX_KEY_TEXT)
    if ca is not None and not _CERTIFICATE.fullmatch(ca.strip() + "\n"):
        problems.add(join(path, "ca"), "must be PEM certificates (-----BEGIN CERTIFICATE----- ...)")
        ok = False
    if ca is not None and url is not None and not url.startswith("https://"):
        problems.add(join(path, "ca"), "applies to an https:// mirror only")
        ok = False
    if not ok or url is None:
        return None
    return RegistryMirror(url.rstrip("/"), None if ca is None else ca.strip() + "\n")


def read_mirrors(value: Any, problems: Problems) -> MirrorSettings:
    r = Reader({} if value is None else value, "mirrors", problems,
               ["kubernetesPackages", "containerdPackages", "registries"])
    packages = {}
    for key in ("kubernetesPackages", "containerdPackages"):
        raw = r.raw(key, None)
        packages[key] = None if raw is None else _package_mirror(raw, join("mirrors", key), problems)
    registries: list[tuple[str, RegistryMirror]] = []
    raw_registries = r.raw("registries", None)
    path = join("mirrors", "registries")
    if raw_registries is not None:
        listed = Reader(raw_registries, path, problems, REGISTRIES)
        for name in REGISTRIES:
            entry = listed.raw(name, None)
            if entry is not None:
                mirror = _registry_mirror(entry, join(path, name), problems)
                if mirror is not None:
                    registries.append((name, mirror))
    return MirrorSettings(packages["kubernetesPackages"], packages["containerdPackages"], tuple(registries))
