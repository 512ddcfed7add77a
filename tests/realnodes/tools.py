"""Builds (or finds cached) what the real-node tests run, outside the checkout, keyed by version:

    python -m tests.realnodes.tools          # scripts/realnodes-tools runs this

- per Kubernetes release (components/versions.py REAL_NODE_KUBERNETES_RELEASES): our multi-call binary
  (engine/kubernetes: kubeadm, kubelet, kubectl, kube-apiserver, kube-controller-manager, kube-scheduler,
  kube-proxy), etcd/etcdctl/etcdutl and CoreDNS at the versions kubeadm of that release runs, crictl and the CNI
  plugins of that minor's package repository;
- containerd, its runc shim and ctr at CONTAINERD_VERSION, runc at RUNC_VERSION (with libseccomp, as upstream's);
- our lab programs (engine/labtools: pause, probe);
- the machines' root filesystem: Debian (REAL_NODE_DEBIAN_SUITE) by debootstrap, with systemd, OpenSSH and what
  kubeadm's preflight and the program's steps run.
Everything lands in $K8S_PLATFORM_CACHE (default ~/.cache/k8s-platform): go/ (module and build caches), bin/<what>/
<version>/, base/<suite>-<digest>/. A piece is rebuilt only when what it is built from changed (a digest of its
inputs in its folder's .inputs). While a piece builds, a line every 30 s says so; the go command's own output goes
to a log file, shown when it fails.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from components import versions

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"
HEARTBEAT_S = 30
# What debootstrap puts into the machines beyond the minimal base: systemd as PID 1 and sshd (a machine is a host
# to the program), what kubeadm's preflight looks for (iptables, conntrack, ethtool, socat, ebtables, ip, mount,
# nsenter), what the program's steps run (curl, gpg, apt), libseccomp for runc.
BASE_PACKAGES = ("systemd", "systemd-sysv", "dbus", "openssh-server", "iproute2", "iptables", "conntrack", "ethtool",
                 "socat", "ebtables", "nftables", "ca-certificates", "kmod", "procps", "iputils-ping", "libseccomp2",
                 "curl", "gnupg", "util-linux", "less")
CNI_PLUGINS = ("bridge", "host-local", "loopback", "portmap", "ptp", "bandwidth", "firewall", "tuning")
# What the program installs from the distribution's own archive (haproxy and keepalived on load-balancer hosts, chrony
# where the clock is the host's own), with what they need beyond the base: the lab's Debian mirror serves them.
DISTRIBUTION_PACKAGES = ("haproxy", "keepalived", "chrony")


def cache_root() -> Path:
    return Path(os.environ.get("K8S_PLATFORM_CACHE", Path.home() / ".cache" / "k8s-platform"))


def go_env(cgo: bool = False) -> dict[str, str]:
    cache = cache_root() / "go"
    return {**os.environ, "GOMODCACHE": str(cache / "mod"), "GOCACHE": str(cache / "build"), "GOTOOLCHAIN": "local",
            "GOFLAGS": "-mod=mod", "CGO_ENABLED": "1" if cgo else "0"}


@dataclass(frozen=True)
class Piece:
    """One thing to build: where it goes, what it is made from (hashed), and how."""

    name: str
    folder: Path
    inputs: str  # everything the result depends on, as text
    build: Callable[[Path, Path], None]  # (folder, log) -> fills folder

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.inputs.encode()).hexdigest()

    def cached(self) -> bool:
        stamp = self.folder / ".inputs"
        return stamp.is_file() and stamp.read_text() == self.digest


def run_logged(command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    with log.open("ab") as out:
        out.write(f"$ {' '.join(command)}\n".encode())
        out.flush()
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    if done.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-40:]
        raise RuntimeError(f"{' '.join(command[:3])} ... failed (exit {done.returncode}); last lines of {log}:\n"
                           + "\n".join(tail))


def make(piece: Piece) -> str:
    """Builds `piece` unless cached; returns what happened, in words."""
    if piece.cached():
        return f"{piece.name}: cached in {piece.folder}"
    started = time.monotonic()
    building = piece.folder.with_name(piece.folder.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    log = cache_root() / "logs" / f"{piece.name.replace(' ', '-')}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(HEARTBEAT_S):
            print(f"    ... {piece.name}: still building ({int(time.monotonic() - started)} s; log {log})",
                  flush=True)

    print(f"{piece.name}: building (log {log})", flush=True)
    beat = threading.Thread(target=heartbeat, daemon=True)
    beat.start()
    try:
        piece.build(building, log)
    finally:
        done.set()
    (building / ".inputs").write_text(piece.digest)
    shutil.rmtree(piece.folder, ignore_errors=True)
    building.rename(piece.folder)
    return f"{piece.name}: built in {int(time.monotonic() - started)} s"


def _text(*paths: Path) -> str:
    return "".join(f"== {path.relative_to(ROOT)}\n{path.read_text()}" for path in paths)


def _go_version() -> str:
    return subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout.strip()


def kubernetes(release: str) -> Piece:
    folder = ENGINE / "kubernetes"
    modfile = folder / f"v{release}.mod"
    minor = versions.kubernetes_minor(release)
    stamp = []
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        stamp += [f"-X {package}.{key}={value}" for key, value in (
            ("gitVersion", f"v{release}"), ("gitMajor", "1"), ("gitMinor", str(minor)), ("gitTreeState", "clean"),
            ("gitCommit", "0" * 40), ("buildDate", "2026-01-01T00:00:00Z"))]

    def build(out: Path, log: Path) -> None:
        # kubeadm compares versions: both version packages carry the release, as upstream's builds stamp them.
        run_logged(["go", "build", f"-modfile={modfile.name}", "-trimpath", "-ldflags", " ".join(["-s", "-w", *stamp]),
                    "-o", str(out / "kube"), "."], log, go_env(), folder)
        for program in ("kubeadm", "kubelet", "kubectl", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
                        "kube-proxy"):
            (out / program).symlink_to("kube")

    inputs = _text(folder / "main.go", modfile, modfile.with_suffix(".sum")) + " ".join(stamp) + _go_version()
    return Piece(f"kubernetes v{release}", cache_root() / "bin" / "kubernetes" / f"v{release}", inputs, build)


def etcd(version: str) -> Piece:
    folder = ENGINE / "etcd"
    modfile = folder / f"v{version}.mod"

    def build(out: Path, log: Path) -> None:
        for package, name in (("go.etcd.io/etcd/server/v3", "etcd"), ("go.etcd.io/etcd/etcdctl/v3", "etcdctl"),
                              ("go.etcd.io/etcd/etcdutl/v3", "etcdutl")):
            run_logged(["go", "build", f"-modfile={modfile.name}", "-trimpath", "-ldflags", "-s -w", "-o",
                        str(out / name), package], log, go_env(), folder)

    return Piece(f"etcd v{version}", cache_root() / "bin" / "etcd" / f"v{version}",
                 _text(modfile, modfile.with_suffix(".sum")) + _go_version(), build)


def coredns(version: str) -> Piece:
    folder = ENGINE / "coredns"
    modfile = folder / f"v{version}.mod"

    def build(out: Path, log: Path) -> None:
        run_logged(["go", "build", f"-modfile={modfile.name}", "-trimpath", "-ldflags", "-s -w", "-o",
                    str(out / "coredns"), "."], log, go_env(), folder)

    return Piece(f"coredns v{version}", cache_root() / "bin" / "coredns" / f"v{version}",
                 _text(folder / "main.go", modfile, modfile.with_suffix(".sum")) + _go_version(), build)


def go_install(name: str, version: str, packages: list[str], cgo: bool = False, tags: str = "") -> Piece:
    """Programs of a module that needs no replace directives, straight from the module proxy."""

    def build(out: Path, log: Path) -> None:
        env = {**go_env(cgo), "GOBIN": str(out), "GOFLAGS": ""}
        flags = ["-trimpath", "-ldflags", "-s -w"] + (["-tags", tags] if tags else [])
        for package in packages:
            run_logged(["go", "install", *flags, f"{package}@v{version}"], log, env)

    inputs = f"{name} {version} {packages} cgo={cgo} tags={tags} {_go_version()}"
    return Piece(f"{name} v{version}", cache_root() / "bin" / name / f"v{version}", inputs, build)


def containerd() -> Piece:
    module = "github.com/containerd/containerd/v2"
    return go_install("containerd", versions.CONTAINERD_VERSION,
                      [f"{module}/cmd/containerd", f"{module}/cmd/containerd-shim-runc-v2", f"{module}/cmd/ctr"])


def runc() -> Piece:
    # As upstream's release builds it: with cgo (its nsenter is C) and seccomp (libseccomp, from Debian).
    return go_install("runc", versions.RUNC_VERSION, ["github.com/opencontainers/runc"], cgo=True, tags="seccomp")


def labtools() -> Piece:
    folder = ENGINE / "labtools"
    sources = sorted(folder.rglob("*.go")) + [folder / "go.mod"]

    def build(out: Path, log: Path) -> None:
        run_logged(["go", "build", "-trimpath", "-ldflags", "-s -w", "-o", str(out) + "/", "./cmd/..."], log,
                   go_env(), folder)

    inputs = _text(*sources) + _go_version()
    return Piece("labtools", cache_root() / "bin" / "labtools" / hashlib.sha256(inputs.encode()).hexdigest()[:12],
                 inputs, build)


def base() -> Piece:
    suite = versions.REAL_NODE_DEBIAN_SUITE
    mirror = debian_mirror()
    inputs = f"{suite} {mirror} {' '.join(BASE_PACKAGES)}"

    def build(out: Path, log: Path) -> None:
        run_logged(["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", suite, str(out),
                    mirror], log)
        # The machines reach no Debian archive: apt reads only the lab's mirrors, which the program adds.
        (out / "etc/apt/sources.list").write_text("")
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (out / leftover).glob("*.deb"):
                entry.unlink()

    return Piece(f"debian {suite} base", cache_root() / "base" / f"{suite}-{hashlib.sha256(inputs.encode()).hexdigest()[:12]}",
                 inputs, build)


def distribution_packages() -> Piece:
    """The .debs of DISTRIBUTION_PACKAGES and their dependencies that the base lacks, from this machine's own Debian
    archive (its apt lists; the base is the same release), resolved against the base's dpkg status."""
    base_piece = base()

    def build(out: Path, log: Path) -> None:
        (out / "partial").mkdir()
        run_logged(["apt-get", "-q", "-y", "--download-only", "--no-install-recommends",
                    f"-oDir::State::status={base_piece.folder / 'var/lib/dpkg/status'}",
                    f"-oDir::Cache::archives={out}", "-oDebug::NoLocking=1", "install", *DISTRIBUTION_PACKAGES], log)
        (out / "partial").rmdir()

    return Piece("debian packages", cache_root() / "debian-packages" / base_piece.digest[:12],
                 base_piece.digest + " ".join(DISTRIBUTION_PACKAGES), build)


def debian_mirror() -> str:
    """The Debian archive this machine's apt uses (debootstrap fetches from it)."""
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            words = line.split()
            if line.startswith("URIs:") and "debian" in line and "security" not in line:
                return words[1]
            if words[:1] == ["deb"] and "debian" in line and "security" not in line:
                return next(word for word in words[1:] if word.startswith("http"))
    return "http://deb.debian.org/debian"


def pieces() -> list[Piece]:
    releases = versions.REAL_NODE_KUBERNETES_RELEASES
    minors = sorted({versions.kubernetes_minor(r) for r in releases})
    result = [base(), distribution_packages(), labtools(), containerd(), runc()]
    for release in releases:
        images = versions.kubeadm_images(release)
        result += [kubernetes(release), etcd(images["etcd"].split("-")[0]), coredns(images["coredns"].lstrip("v"))]
    for minor in minors:
        result.append(go_install("crictl", versions.CRI_TOOLS_VERSIONS[minor], ["sigs.k8s.io/cri-tools/cmd/crictl"]))
        result.append(go_install("cni-plugins", versions.KUBERNETES_CNI_VERSIONS[minor],
                                 [f"github.com/containernetworking/plugins/plugins/{kind}/{name}"
                                  for kind, name in (("main", "bridge"), ("ipam", "host-local"), ("main", "loopback"),
                                                     ("meta", "portmap"), ("main", "ptp"), ("meta", "bandwidth"),
                                                     ("meta", "firewall"), ("meta", "tuning"))]))
    unique: dict[Path, Piece] = {}
    for piece in result:
        unique.setdefault(piece.folder, piece)
    return list(unique.values())


LOCK_WAIT_S = 3600


def exclusive(path: Path, wait_s: float, waiting: str, every_s: float = HEARTBEAT_S):
    """`path` locked for this process (fcntl), waiting at most `wait_s`, saying `waiting` every `every_s` while it
    waits (None: silently); the returned file holds the lock until it is closed. TimeoutError when it never came."""
    path.parent.mkdir(parents=True, exist_ok=True)
    held = open(path, "w")  # noqa: SIM115 (the caller closes it to release the lock)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return held
        except BlockingIOError:
            if time.monotonic() > deadline:
                held.close()
                raise TimeoutError(f"{path} has been held by another process for {wait_s} s") from None
            if waiting:
                print(f"    ... {waiting} ({path})", flush=True)
            time.sleep(every_s)


def hold_the_cache():
    """One builder at a time in the cache, for the life of this process (two clones, or the test command beside
    the real-node tests' own fixture, would otherwise build the same piece into one folder); the others wait, then
    find everything cached."""
    return exclusive(cache_root() / ".lock", LOCK_WAIT_S, "waiting for another build of the real-node tools")


def main() -> int:
    started = time.monotonic()
    with hold_the_cache():
        for piece in pieces():
            print(make(piece), flush=True)
    print(f"real-node tools ready in {int(time.monotonic() - started)} s (cache {cache_root()})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
