"""The lab's mirrors, served from the lab namespace at 198.51.100.1, and the stack settings that point at them:

- http://198.51.100.1:8080/kubernetes/core:/stable:/v1.NN/deb/  and  .../docker/linux/debian/  (packages.py), and
  .../debian/ (what the program installs from the distribution's own archive, as a site's Debian mirror), served
  by Python's http.server;
- 198.51.100.1:5000, Debian's docker-registry (plain HTTP), holding the images of images.py; the nodes pull
  registry.k8s.io and docker.io through it (mirrors.registries), so kubeadm's images keep their upstream names.

The repositories are built once per set of binaries (kept in the cache); the registry's storage is filled once per
set of images (kept in the cache, then served read-only in every session).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.realnodes import images, packages, tools
from tests.realnodes.machines import LAB_ADDRESS, LabNetwork

APT_PORT = 8080
REGISTRY_PORT = 5000
APT_URL = f"http://{LAB_ADDRESS}:{APT_PORT}"
REGISTRY = f"{LAB_ADDRESS}:{REGISTRY_PORT}"
REGISTRY_CONFIG = """version: 0.1
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: false
http:
  addr: {address}
log:
  level: warn
"""


def _wait_for_port(lab: LabNetwork, port: int, what: str, log: Path) -> None:
    for _ in range(100):
        if lab.exec("bash", "-c", f"exec 3<>/dev/tcp/{LAB_ADDRESS}/{port}", check=False).returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not answer on {LAB_ADDRESS}:{port}:\n{log.read_text(errors='replace')[-2000:]}")


class LabMirrors:
    def __init__(self, lab: LabNetwork, releases: tuple[str, ...]):
        self.lab, self.releases = lab, releases
        self.key = packages.SigningKey()

    def repositories(self) -> Path:
        """The apt tree, built when any binary it holds changed (a digest of their pieces' inputs names it)."""
        pieces = [tools.containerd(), tools.runc(), tools.distribution_packages()] + [
            tools.kubernetes(r) for r in self.releases]
        digest = hashlib.sha256(("".join(p.digest for p in pieces) + self.key.public
                                 + Path(packages.__file__).read_text() + " ".join(self.releases)).encode()).hexdigest()
        root = tools.cache_root() / "mirror" / f"apt-{digest[:12]}"
        if not (root / ".complete").exists():
            shutil.rmtree(root, ignore_errors=True)
            for release in self.releases:
                packages.kubernetes_repository(root / "kubernetes" / "core:" / "stable:", release, self.key)
            packages.containerd_repository(root / "docker" / "linux", self.key)
            packages.flat_repository(root / "debian", tools.distribution_packages().folder, self.key)
            (root / ".complete").touch()
        return root

    def registry_storage(self, scratch: Path) -> Path:
        """The registry's storage holding every image, pushed once per set of images."""
        wanted = [image for release in self.releases for image in images.release_images(release, tools.base().folder)]
        wanted.append(images.probe_image())
        digest = hashlib.sha256(json.dumps(sorted(i.digest_of_inputs() for i in wanted)).encode()).hexdigest()
        storage = tools.cache_root() / "mirror" / f"registry-{digest[:12]}"
        if not (storage / ".complete").exists():
            shutil.rmtree(storage, ignore_errors=True)
            storage.mkdir(parents=True)
            process = self._registry(storage, scratch)
            try:
                images.push(wanted, REGISTRY, ["ip", "netns", "exec", self.lab.namespace], scratch)
            finally:
                self.lab.processes.remove(process)
                process.terminate()
                process.wait(timeout=10)
            (storage / ".complete").touch()
        return storage

    def _registry(self, storage: Path, scratch: Path) -> subprocess.Popen:
        config = scratch / "registry.yml"
        config.write_text(REGISTRY_CONFIG.format(storage=storage, address=REGISTRY))
        log = scratch / "registry.log"
        process = self.lab.start("docker-registry", "serve", str(config), log=log)
        _wait_for_port(self.lab, REGISTRY_PORT, "docker-registry", log)
        return process

    def start(self, scratch: Path) -> None:
        scratch.mkdir(parents=True, exist_ok=True)
        root = self.repositories()
        log = scratch / "apt-http.log"
        self.lab.start(sys.executable, "-m", "http.server", "--bind", LAB_ADDRESS, "--directory", str(root),
                       str(APT_PORT), log=log)
        _wait_for_port(self.lab, APT_PORT, "the apt mirror", log)
        self._registry(self.registry_storage(scratch), scratch)

    def machine_files(self) -> dict[str, str | bytes]:
        """What a lab machine's own apt configuration says (as a site's hosts point at the site's mirror of their
        distribution): the lab's Debian packages and the key that signs them."""
        return {"etc/apt/sources.list.d/lab-debian.list":
                f"deb [signed-by=/etc/apt/keyrings/lab-debian.asc] {APT_URL}/debian/ /\n",
                "etc/apt/keyrings/lab-debian.asc": self.key.public}

    def settings(self) -> dict:
        """The stack's `mirrors` setting for this lab."""
        return {
            "kubernetesPackages": {"url": f"{APT_URL}/kubernetes/core:/stable:/", "signingKey": self.key.public},
            "containerdPackages": {"url": f"{APT_URL}/docker/linux/", "signingKey": self.key.public},
            "registries": {name: {"url": f"http://{REGISTRY}"} for name in ("registry.k8s.io", "docker.io")},
        }
