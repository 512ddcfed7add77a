"""Container images made from the binaries tests/realnodes/tools.py builds, tagged exactly as kubeadm of each
release names them (`kubeadm config images list`), and pushed into the lab's registry (Debian's docker-registry)
with Debian's skopeo.

An image here is one layer (our own writer of a `docker save` archive: manifest.json, the config, layer.tar):
- kube-apiserver, kube-controller-manager, kube-scheduler and kube-proxy: one image under four names, our multi-call
  binary and its symlinks in /usr/local/bin (kubeadm's manifests and kube-proxy's DaemonSet call them there or by
  name), with the iptables userland kube-proxy runs (iptables-nft and -legacy, conntrack, their libraries and
  xtables extensions, copied from the Debian base);
- etcd: etcd, etcdctl and etcdutl and no shell, as upstream's image (a copy of etcd's own distroless image);
- coredns: /coredns as entrypoint (its Deployment passes only -conf); pause: /pause as entrypoint;
- docker.io/k8splatform/probe: our test workload (engine/labtools/cmd/probe), reached through the docker.io mirror.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from components import versions
from tests.realnodes import tools

UPSTREAM = "registry.k8s.io"
PROBE_IMAGE = "docker.io/k8splatform/probe:1"
PASSWD = "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"
CONTROL_PLANE_PROGRAMS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")
# kube-proxy's iptables userland, from the base: the programs, then every library they and the xtables extensions
# need (libxt_statistic.so needs libm: without it a Service with two endpoints fails to sync).
IPTABLES_PROGRAMS = ("usr/sbin/xtables-nft-multi", "usr/sbin/xtables-legacy-multi", "usr/sbin/conntrack")
IPTABLES_NAMES = ("iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore")


@dataclass
class Image:
    names: tuple[str, ...]
    files: dict[str, Path | bytes] = field(default_factory=dict)  # path in the image -> source file or content
    links: dict[str, str] = field(default_factory=dict)  # path in the image -> link target
    folders: tuple[str, ...] = ("tmp",)  # empty folders (a program's scratch space)
    entrypoint: tuple[str, ...] = ()

    def digest_of_inputs(self) -> str:
        text = json.dumps([self.names, self.entrypoint, sorted(self.links.items()), self.folders,
                           sorted((k, hashlib.sha256(v if isinstance(v, bytes) else v.read_bytes()).hexdigest())
                                  for k, v in self.files.items())])
        return hashlib.sha256(text.encode()).hexdigest()


def _base_files(image: Image) -> None:
    image.files.update({"etc/passwd": PASSWD.encode(), "etc/group": GROUP.encode(),
                        "etc/nsswitch.conf": b"hosts: files dns\n"})


def layer(image: Image) -> bytes:
    """The image's one layer: a tar owned by root, in a fixed order with fixed times (same files, same digest)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        folders = set()
        for path in [*image.files, *image.links]:
            parts = path.split("/")[:-1]
            folders.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        for path in sorted(folders | set(image.folders)):
            info = tarfile.TarInfo(path)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if path == "tmp" else 0o755
            tar.addfile(info)
        for path in sorted(image.files):
            source = image.files[path]
            data = source if isinstance(source, bytes) else source.read_bytes()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o755 if not isinstance(source, bytes) and os.access(source, os.X_OK) else 0o644
            tar.addfile(info, io.BytesIO(data))
        for path, target in sorted(image.links.items()):
            info = tarfile.TarInfo(path)
            info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
            tar.addfile(info)
    return buffer.getvalue()


def docker_archive(image: Image, path: Path) -> None:
    """A `docker save` archive of the image (what skopeo's docker-archive: transport reads)."""
    data = layer(image)
    diff_id = "sha256:" + hashlib.sha256(data).hexdigest()
    config = {"architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
              "config": {"Env": ["PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"],
                         "Entrypoint": list(image.entrypoint) or None, "WorkingDir": "/"},
              "rootfs": {"type": "layers", "diff_ids": [diff_id]}, "history": [{"created_by": "tests/realnodes"}]}
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": list(image.names), "Layers": ["layer.tar"]}]
    with tarfile.open(path, "w") as tar:
        for name, content in (("layer.tar", data), (config_name, config_bytes),
                              ("manifest.json", json.dumps(manifest).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))


def _libraries(base: Path, programs: list[Path]) -> set[str]:
    """Every shared library `programs` load, as the paths the loader asks for (found with ldd in the base)."""
    found: set[str] = set()
    for program in programs:
        listing = subprocess.run(["chroot", str(base), "ldd", "/" + str(program.relative_to(base))],
                                 capture_output=True, text=True, check=True).stdout
        for line in listing.splitlines():
            path = next((word for word in line.split() if word.startswith("/")), None)
            if path:
                found.add(path)
    return found


def _normalised(parts: list[str]) -> list[str]:
    result: list[str] = []
    for part in parts:
        if part == "..":
            if result:
                result.pop()
        elif part not in ("", "."):
            result.append(part)
    return result


def copy_from_base(base: Path, path: str, image: Image) -> None:
    """`path` of the base into the image as the base has it: each symbolic link on the way (a merged /usr's /lib,
    the loader's absolute link) as a link, the file it ends at as a file."""
    pending = _normalised(path.split("/"))
    walked: list[str] = []
    for _ in range(256):  # path components and links followed; a loop of links in the base stops here
        if not pending:
            return
        walked.append(pending.pop(0))
        current = "/".join(walked)
        source = base / current
        if source.is_symlink():
            target = os.readlink(source)
            image.links[current] = target
            start = [] if target.startswith("/") else walked[:-1]
            pending = _normalised([*start, *target.split("/")]) + pending
            walked = []
        elif not pending:
            image.files[current] = source
    raise AssertionError(f"{path} in {base}: too many symbolic links")


def iptables_userland(base: Path, image: Image) -> None:
    programs = [base / p for p in IPTABLES_PROGRAMS]
    extensions = sorted((base / "usr/lib/x86_64-linux-gnu/xtables").glob("*.so"))
    for path in sorted(_libraries(base, programs + extensions) | {"/" + str(p.relative_to(base)) for p in
                                                                  programs + extensions}):
        copy_from_base(base, path, image)
    for name in IPTABLES_NAMES:
        image.links[f"usr/sbin/{name}"] = "xtables-nft-multi"  # the machines' own iptables is nft too
        image.links[f"usr/sbin/{name.replace('iptables', 'iptables-legacy')}"] = "xtables-legacy-multi"


def release_images(release: str, base: Path) -> list[Image]:
    minor_images = versions.kubeadm_images(release)
    kube = tools.kubernetes(release).folder / "kube"
    control = Image(tuple(f"{UPSTREAM}/{name}:v{release}" for name in CONTROL_PLANE_PROGRAMS),
                    files={"usr/local/bin/kube": kube})
    control.links.update({f"usr/local/bin/{name}": "kube" for name in CONTROL_PLANE_PROGRAMS})
    iptables_userland(base, control)
    etcd_folder = tools.etcd(minor_images["etcd"].split("-")[0]).folder
    etcd = Image((f"{UPSTREAM}/etcd:{minor_images['etcd']}",),
                 files={f"usr/local/bin/{name}": etcd_folder / name for name in ("etcd", "etcdctl", "etcdutl")})
    coredns = Image((f"{UPSTREAM}/coredns/coredns:{minor_images['coredns']}",),
                    files={"coredns": tools.coredns(minor_images["coredns"].lstrip("v")).folder / "coredns"},
                    entrypoint=("/coredns",))
    pause = Image((f"{UPSTREAM}/pause:{minor_images['pause']}",), files={"pause": tools.labtools().folder / "pause"},
                  entrypoint=("/pause",))
    for image in (control, etcd, coredns, pause):
        _base_files(image)
    return [control, etcd, coredns, pause]


def probe_image() -> Image:
    image = Image((PROBE_IMAGE,), files={"usr/local/bin/probe": tools.labtools().folder / "probe"},
                  entrypoint=("/usr/local/bin/probe",))
    _base_files(image)
    return image


def push(images: list[Image], registry: str, namespace_exec: list[str], scratch: Path) -> None:
    """Each image under each of its names into the registry at `registry` (host:port, plain HTTP), the repository
    path kept (registry.k8s.io/coredns/coredns:X -> REGISTRY/coredns/coredns:X)."""
    for image in images:
        with tempfile.TemporaryDirectory(dir=scratch) as work:
            archive = Path(work) / "image.tar"
            docker_archive(image, archive)
            for name in image.names:
                target = f"{registry}/{name.split('/', 1)[1]}"
                subprocess.run([*namespace_exec, "skopeo", "copy", "--quiet", "--insecure-policy",
                                "--dest-tls-verify=false", f"docker-archive:{archive}:{name}", f"docker://{target}"],
                               check=True, capture_output=True, text=True, timeout=600)
