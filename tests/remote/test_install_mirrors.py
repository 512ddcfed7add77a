"""The install step with mirrors (mirrors.*): packages from the mirror's repositories under its key, containerd
pulling the mirrored registries through hosts.toml files, and a changed or dropped mirror followed; upstream's
Kubernetes key fetched again whenever the repository (the minor) changes."""

import dataclasses

from components.bootstrap import host_steps
from components.settings.mirrors import MirrorSettings, PackageMirror, RegistryMirror
from tests.remote.test_host_scripts import CLUSTER, run_twice
from tests.sandbox import Sandbox, installed, render_for

KEY = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmirror key\n-----END PGP PUBLIC KEY BLOCK-----"
CA = "-----BEGIN CERTIFICATE-----\nmirror CA\n-----END CERTIFICATE-----\n"
MIRRORS = MirrorSettings(
    PackageMirror("http://198.51.100.1:8080/kubernetes/core:/stable:/", KEY + "\n"),
    PackageMirror("http://198.51.100.1:8080/docker/linux/", KEY + "\n"),
    (("registry.k8s.io", RegistryMirror("https://registry.example.com:5000", CA)),
     ("docker.io", RegistryMirror("http://198.51.100.1:5000"))))


def install(mirrors: MirrorSettings, version: str = CLUSTER.kubernetes_version):
    return lambda: host_steps.install(dataclasses.replace(CLUSTER, mirrors=mirrors, kubernetes_version=version))


def test_packages_come_from_the_mirrors_under_their_keys_and_no_key_is_downloaded(tmp_path):
    box = Sandbox(tmp_path)
    calls = run_twice(box, render_for(box, install(MIRRORS)))
    assert not any(c.startswith("curl") for c in calls), "the settings give the keys"
    assert (box.root / "etc/apt/sources.list.d/containerd.list").read_text() == (
        "deb [arch=amd64 signed-by=/etc/apt/keyrings/containerd-apt-keyring.asc] "
        "http://198.51.100.1:8080/docker/linux/ubuntu noble stable\n")
    assert (box.root / "etc/apt/keyrings/containerd-apt-keyring.asc").read_text() == KEY + "\n"
    assert (box.root / "etc/apt/sources.list.d/kubernetes.list").read_text() == (
        "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] "
        "http://198.51.100.1:8080/kubernetes/core:/stable:/v1.35/deb/ /\n")
    assert (box.root / "etc/apt/keyrings/kubernetes-apt-keyring.gpg").read_text() == KEY + "\n"
    assert installed(box, "cri-tools") == "1.35.0-1.1", "crictl comes with the node, by name"


def test_containerd_pulls_mirrored_registries_through_their_mirrors_and_follows_a_change(tmp_path):
    box = Sandbox(tmp_path)
    run_twice(box, render_for(box, install(MIRRORS)))
    certs = box.root / "etc/containerd/certs.d"
    assert (certs / "registry.k8s.io/hosts.toml").read_text() == (
        '# k8s-platform: mirrors.registries\nserver = "https://registry.k8s.io"\n\n'
        '[host."https://registry.example.com:5000"]\n  capabilities = ["pull", "resolve"]\n'
        '  ca = "/etc/containerd/certs.d/registry.k8s.io/mirror-ca.crt"\n')
    assert (certs / "registry.k8s.io/mirror-ca.crt").read_text() == CA
    assert 'server = "https://registry-1.docker.io"' in (certs / "docker.io/hosts.toml").read_text()
    # Harbor's proxy cache writes its own hosts.toml (for other registries): ours never touch it.
    (certs / "quay.io").mkdir()
    (certs / "quay.io/hosts.toml").write_text('server = "https://quay.io"\n')
    dropped = dataclasses.replace(MIRRORS, registries=MIRRORS.registries[1:])
    assert box.run(render_for(box, install(dropped))).returncode == 0
    assert not (certs / "registry.k8s.io/hosts.toml").exists() and not (certs / "registry.k8s.io/mirror-ca.crt").exists()
    assert (certs / "docker.io/hosts.toml").exists() and (certs / "quay.io/hosts.toml").exists()


def test_a_joined_node_gets_a_new_registry_mirror_too(tmp_path):
    box = Sandbox(tmp_path)
    assert box.run(render_for(box, install(MirrorSettings()))).returncode == 0
    (box.root / "etc/kubernetes/kubelet.conf").write_text("joined\n")
    assert box.run(render_for(box, install(MIRRORS))).returncode == 0
    assert (box.root / "etc/containerd/certs.d/docker.io/hosts.toml").exists(), "read at every pull: no restart"


def test_upstreams_key_is_fetched_again_when_the_minor_changes(tmp_path):
    box = Sandbox(tmp_path)
    assert box.run(render_for(box, install(MirrorSettings(), "1.35.4"))).returncode == 0
    fetched = [c for c in box.calls() if "Release.key" in c]
    assert fetched == ["curl -fsSL --retry 5 https://pkgs.k8s.io/core:/stable:/v1.35/deb/Release.key"]
    box.reset_calls()
    assert box.run(render_for(box, install(MirrorSettings(), "1.35.4"))).returncode == 0
    assert not any("Release.key" in c for c in box.calls()), "the same repository: the key in place stays"
    (box.root / "etc/kubernetes/kubelet.conf").unlink(missing_ok=True)
    box.reset_calls()
    assert box.run(render_for(box, install(MirrorSettings(), "1.36.5"))).returncode == 0
    assert [c for c in box.calls() if "Release.key" in c] == [
        "curl -fsSL --retry 5 https://pkgs.k8s.io/core:/stable:/v1.36/deb/Release.key"]
