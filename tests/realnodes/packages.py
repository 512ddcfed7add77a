"""The lab's apt repositories, laid out and signed as upstream's, holding packages built with dpkg-deb from the
binaries tests/realnodes/tools.py builds:

- pkgs.k8s.io's layout: one flat repository per minor, <url>/v1.NN/deb/ with Packages, Release, InRelease and
  Release.key (sources line "deb [signed-by=...] <url>/v1.NN/deb/ /"), holding kubeadm, kubelet and kubectl at
  <release>-1.1, cri-tools and kubernetes-cni at that minor's versions;
- download.docker.com's layout: <url>/debian/dists/bookworm/stable/binary-amd64/Packages and the pool, the key at
  <url>/debian/gpg, holding containerd.io at CONTAINERD_VERSION.

Each package as upstream's (kubernetes/release cmd/krel/templates/latest, built into .debs by debbuild; Docker's
containerd-packaging): the same name, version, files, Depends/Provides/Conflicts/Replaces and maintainer-script
effects, our own unit files with upstream's directives. Where ours differ (README "Real nodes"): no
/usr/share/doc files, and kubeadm, kubelet and kubectl each carry our multi-call binary under their own name.
A test OpenPGP key (made once per cache, no passphrase) signs both repositories.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from components import versions
from tests.realnodes import tools

REVISION = versions.KUBERNETES_PACKAGE_REVISION
MAINTAINER = "Kubernetes Authors <dev@kubernetes.io>"
KUBELET_UNIT = """[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
"""
KUBEADM_DROPIN = """# kubeadm's kubelet drop-in (as the kubeadm package ships it): kubeadm init and join write the files it names.
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
"""
KUBELET_POSTINST = """#!/bin/sh
set -e
if [ "$1" = configure ]; then
  systemctl preset kubelet.service >/dev/null 2>&1 || :
fi
"""
KUBELET_PRERM = """#!/bin/sh
set -e
if [ "$1" = remove ] || [ "$1" = purge ]; then
  systemctl --no-reload disable kubelet.service >/dev/null 2>&1 || :
  systemctl stop kubelet.service >/dev/null 2>&1 || :
fi
"""
KUBELET_POSTRM = """#!/bin/sh
systemctl daemon-reload >/dev/null 2>&1 || :
"""
CONTAINERD_UNIT = """[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target dbus.service

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/bin/containerd
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target
"""
CONTAINERD_CONFIG = 'disabled_plugins = ["cri"]\n'
CONTAINERD_POSTINST = """#!/bin/sh
set -e
if [ "$1" = configure ]; then
  systemctl daemon-reload >/dev/null 2>&1 || :
  systemctl enable containerd.service >/dev/null 2>&1 || :
  systemctl restart containerd.service >/dev/null 2>&1 || :
fi
"""
CONTAINERD_PRERM = """#!/bin/sh
set -e
if [ "$1" = remove ] || [ "$1" = purge ]; then
  systemctl stop containerd.service >/dev/null 2>&1 || :
fi
"""


@dataclass
class Package:
    name: str
    version: str
    section: str
    description: str
    files: dict[str, Path | str] = field(default_factory=dict)  # path -> source file or text
    modes: dict[str, int] = field(default_factory=dict)
    folders: tuple[str, ...] = ()
    depends: str = ""
    relations: dict[str, str] = field(default_factory=dict)  # Provides, Conflicts, Replaces
    conffiles: tuple[str, ...] = ()
    scripts: dict[str, str] = field(default_factory=dict)  # postinst, prerm, postrm
    maintainer: str = MAINTAINER
    homepage: str = "https://kubernetes.io"

    @property
    def file_name(self) -> str:
        return f"{self.name}_{self.version}_amd64.deb"

    def build(self, into: Path) -> Path:
        with tempfile.TemporaryDirectory(dir=into) as work:
            tree = Path(work)
            for folder in self.folders:
                (tree / folder).mkdir(parents=True, exist_ok=True)
            size = 0
            for path, source in self.files.items():
                target = tree / path
                target.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(source, Path):
                    shutil.copyfile(source, target)
                    target.chmod(self.modes.get(path, 0o755))
                else:
                    target.write_text(source)
                    target.chmod(self.modes.get(path, 0o644))
                size += target.stat().st_size
            control = tree / "DEBIAN"
            control.mkdir()
            fields = {"Package": self.name, "Version": self.version, "Section": self.section, "Priority": "optional",
                      "Architecture": "amd64", "Installed-Size": str(size // 1024 + 1), "Maintainer": self.maintainer,
                      **({"Depends": self.depends} if self.depends else {}), **self.relations,
                      "Homepage": self.homepage, "Description": self.description}
            (control / "control").write_text("".join(f"{k}: {v}\n" for k, v in fields.items()))
            if self.conffiles:
                (control / "conffiles").write_text("".join(f"/{path}\n" for path in self.conffiles))
            for name, text in self.scripts.items():
                (control / name).write_text(text)
                (control / name).chmod(0o755)
            out = into / self.file_name
            # gzip at its fastest: the multi-call binary is large, and the lab's network is a bridge.
            subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", str(tree), str(out)],
                           check=True, capture_output=True, text=True)
        return out


def kubernetes_packages(release: str) -> list[Package]:
    minor = versions.kubernetes_minor(release)
    kube = tools.kubernetes(release).folder / "kube"
    version = f"{release}-{REVISION}"
    cri = versions.CRI_TOOLS_VERSIONS[minor]
    cni = versions.KUBERNETES_CNI_VERSIONS[minor]
    cni_folder = tools.go_install("cni-plugins", cni, []).folder
    return [
        Package("kubelet", version, "net", "Node agent for Kubernetes clusters",
                files={"usr/bin/kubelet": kube, "lib/systemd/system/kubelet.service": KUBELET_UNIT,
                       "var/lib/kubelet/.kubelet-keep": "", "etc/kubernetes/manifests/.kubelet-keep": "",
                       "etc/default/kubelet": "KUBELET_EXTRA_ARGS=\n"},
                depends="iptables (>= 1.4.21),kubernetes-cni (>= 1.2.0),mount,util-linux",
                conffiles=("etc/default/kubelet",),
                scripts={"postinst": KUBELET_POSTINST, "prerm": KUBELET_PRERM, "postrm": KUBELET_POSTRM}),
        Package("kubeadm", version, "admin", "Command-line utility for administering a Kubernetes cluster",
                files={"usr/bin/kubeadm": kube, "lib/systemd/system/kubelet.service.d/10-kubeadm.conf":
                       KUBEADM_DROPIN}),
        Package("kubectl", version, "admin", "Command-line utility for interacting with a Kubernetes cluster",
                files={"usr/bin/kubectl": kube}),
        Package("cri-tools", f"{cri}-{REVISION}", "admin", "Command-line utility for interacting with a container runtime",
                files={"usr/bin/crictl": tools.go_install("crictl", cri, []).folder / "crictl"}),
        Package("kubernetes-cni", f"{cni}-{REVISION}", "net", "Binaries required to provision kubernetes container networking",
                files={**{f"opt/cni/bin/{name}": cni_folder / name for name in tools.CNI_PLUGINS},
                       "etc/cni/net.d/.kubernetes-cni-keep": ""}),
    ]


def containerd_package(suite: str, os_version: str) -> Package:
    containerd = tools.containerd().folder
    return Package(
        "containerd.io", f"{versions.CONTAINERD_VERSION}-1~debian.{os_version}~{suite}", "devel",
        "An open and reliable container runtime",
        files={"usr/bin/containerd": containerd / "containerd",
               "usr/bin/containerd-shim-runc-v2": containerd / "containerd-shim-runc-v2",
               "usr/bin/ctr": containerd / "ctr", "usr/bin/runc": tools.runc().folder / "runc",
               "lib/systemd/system/containerd.service": CONTAINERD_UNIT, "etc/containerd/config.toml":
               CONTAINERD_CONFIG},
        depends="libc6 (>= 2.34), libseccomp2 (>= 2.5.0)",
        relations={"Provides": "containerd, runc", "Conflicts": "containerd, runc", "Replaces": "containerd, runc"},
        conffiles=("etc/containerd/config.toml",),
        scripts={"postinst": CONTAINERD_POSTINST, "prerm": CONTAINERD_PRERM},
        maintainer="Containerd team <help@containerd.io>", homepage="https://containerd.io")


class SigningKey:
    """The lab's test OpenPGP key (no passphrase), kept in the cache: it signs the repositories' Release files."""

    def __init__(self) -> None:
        self.home = tools.cache_root() / "apt-signing-key"
        if not (self.home / "public.asc").is_file():
            shutil.rmtree(self.home, ignore_errors=True)
            self.home.mkdir(parents=True, mode=0o700)
            self._gpg("--quick-gen-key", "k8s-platform lab repository <lab@k8s-platform.invalid>", "ed25519",
                      "sign", "never")
            (self.home / "public.asc").write_bytes(self._gpg("--armor", "--export"))

    def _gpg(self, *arguments: str, stdin: bytes | None = None) -> bytes:
        """gpg with this key's home; the agent it starts is stopped again (a test leaves nothing running)."""
        try:
            return subprocess.run(["gpg", "--homedir", str(self.home), "--batch", "--yes", "--pinentry-mode",
                                   "loopback", "--passphrase", "", *arguments], input=stdin, check=True,
                                  capture_output=True).stdout
        finally:
            subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "all"], capture_output=True)

    @property
    def public(self) -> str:
        return (self.home / "public.asc").read_text()

    def sign(self, release: Path) -> None:
        data = release.read_bytes()
        (release.parent / "InRelease").write_bytes(self._gpg("--clearsign", stdin=data))
        (release.parent / "Release.gpg").write_bytes(self._gpg("--armor", "--detach-sign", stdin=data))


def _ftparchive(*arguments: str, cwd: Path) -> bytes:
    return subprocess.run(["apt-ftparchive", *arguments], cwd=cwd, check=True, capture_output=True).stdout


def kubernetes_repository(root: Path, release: str, key: SigningKey) -> Path:
    """<root>/v1.NN/deb/, a flat repository as pkgs.k8s.io serves it."""
    folder = root / f"v1.{versions.kubernetes_minor(release)}" / "deb"
    folder.mkdir(parents=True, exist_ok=True)
    for package in kubernetes_packages(release):
        if not (folder / package.file_name).exists():
            package.build(folder)
    (folder / "Packages").write_bytes(_ftparchive("packages", ".", cwd=folder))
    (folder / "Release").write_bytes(_ftparchive("release", ".", cwd=folder))
    key.sign(folder / "Release")
    (folder / "Release.key").write_text(key.public)
    return folder


def containerd_repository(root: Path, key: SigningKey, suite: str = versions.REAL_NODE_DEBIAN_SUITE,
                          os_version: str = "12") -> Path:
    """<root>/debian/, laid out as download.docker.com/linux/debian (dists/<suite>/stable, pool, gpg)."""
    top = root / "debian"
    pool = top / "pool" / suite / "stable"
    pool.mkdir(parents=True, exist_ok=True)
    package = containerd_package(suite, os_version)
    if not (pool / package.file_name).exists():
        package.build(pool)
    dist = top / "dists" / suite
    binary = dist / "stable" / "binary-amd64"
    binary.mkdir(parents=True, exist_ok=True)
    (binary / "Packages").write_bytes(_ftparchive("packages", f"pool/{suite}", cwd=top))
    options = [f"-oAPT::FTPArchive::Release::{k}={v}" for k, v in (
        ("Origin", "Docker"), ("Label", "Docker CE"), ("Suite", suite), ("Codename", suite),
        ("Components", "stable"), ("Architectures", "amd64"))]
    (dist / "Release").write_bytes(_ftparchive(*options, "release", ".", cwd=dist))
    key.sign(dist / "Release")
    (top / "gpg").write_text(key.public)
    return top


def flat_repository(folder: Path, debs: Path, key: SigningKey) -> Path:
    """A flat, signed repository of the .debs in `debs` (sources line "deb [signed-by=...] URL /")."""
    folder.mkdir(parents=True, exist_ok=True)
    for deb in debs.glob("*.deb"):
        shutil.copyfile(deb, folder / deb.name)
    (folder / "Packages").write_bytes(_ftparchive("packages", ".", cwd=folder))
    (folder / "Release").write_bytes(_ftparchive("release", ".", cwd=folder))
    key.sign(folder / "Release")
    return folder


def fingerprint(key: SigningKey) -> str:
    listing = subprocess.run(["gpg", "--show-keys", "--with-colons"], input=key.public.encode(), check=True,
                             capture_output=True).stdout.decode()
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
