"""`mirrors` (package repositories and registries instead of upstream's) and `hostSystem` (hosts that are containers
or run cgroup v1): each accepted as documented, each mistake refused with its key path and what is accepted."""

import pytest

from components.settings.host_system import HostSystemSettings
from components.settings.mirrors import PackageMirror, RegistryMirror
from tests.settings.test_inventory import load, metal, problems

KEY = ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ0000000000000000000000000000000000000000000000000000000\n"
       "=AbCd\n-----END PGP PUBLIC KEY BLOCK-----\n")
CA = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ0E=\n-----END CERTIFICATE-----\n"


def test_upstream_is_the_default():
    s = load(metal())
    assert s.mirrors.kubernetes_packages is None and s.mirrors.containerd_packages is None
    assert s.mirrors.registries == () and s.host_system == HostSystemSettings()


def test_mirrors_of_packages_and_registries_are_read():
    s = load(metal(mirrors={
        "kubernetesPackages": {"url": "https://mirror.example.com/k8s/core:/stable:", "signingKey": KEY},
        "containerdPackages": {"url": "http://198.51.100.1:8080/docker/linux/", "signingKey": KEY},
        "registries": {"registry.k8s.io": {"url": "https://registry.example.com:5000/", "ca": CA},
                       "quay.io": {"url": "http://198.51.100.1:5000"}}}))
    assert s.mirrors.kubernetes_packages == PackageMirror("https://mirror.example.com/k8s/core:/stable:/", KEY)
    assert s.mirrors.containerd_packages.url == "http://198.51.100.1:8080/docker/linux/"
    assert s.mirrors.registries == (("registry.k8s.io", RegistryMirror("https://registry.example.com:5000", CA)),
                                    ("quay.io", RegistryMirror("http://198.51.100.1:5000")))


@pytest.mark.parametrize("mirror, path, words", [
    ({"kubernetesPackages": {"url": "ftp://mirror.example.com/", "signingKey": KEY}},
     "mirrors.kubernetesPackages.url", "must start with https://"),
    ({"kubernetesPackages": {"url": "https://user:secret@mirror.example.com/", "signingKey": KEY}},
     "mirrors.kubernetesPackages.url", "must not carry credentials"),
    ({"kubernetesPackages": {"url": "https://mirror.example.com/"}},
     "mirrors.kubernetesPackages.signingKey", "is required: the ASCII-armored OpenPGP public key"),
    ({"containerdPackages": {"url": "https://mirror.example.com/", "signingKey": "ssh-ed25519 AAAA"}},
     "mirrors.containerdPackages.signingKey", "must be one ASCII-armored OpenPGP public key"),
    ({"registries": {"ghcr.io": {"url": "https://mirror.example.com"}}},
     "mirrors.registries.ghcr.io", "(known keys: registry.k8s.io, docker.io, quay.io)"),
    ({"registries": {"docker.io": {"url": "http://198.51.100.1:5000", "ca": CA}}},
     "mirrors.registries.docker.io.ca", "applies to an https:// mirror only"),
    ({"registries": {"docker.io": {"url": "https://mirror.example.com", "ca": "not a certificate"}}},
     "mirrors.registries.docker.io.ca", "must be PEM certificates"),
    ({"registries": {"docker.io": {"url": "https://mirror.example.com?x=1"}}},
     "mirrors.registries.docker.io.url", "without a query"),
    ({"kubernetesPackages": {"url": "https://mirror.example.com/", "signingKey": KEY, "signingkey": KEY}},
     "mirrors.kubernetesPackages.signingkey", "unknown key; did you mean 'signingKey'?"),
])
def test_each_mirror_mistake_is_refused_with_its_path(mirror, path, words):
    found = problems(metal(mirrors=mirror))
    assert words in found[path], found


def test_a_registry_harbor_caches_cannot_also_have_a_mirror():
    found = problems(metal(mirrors={"registries": {"docker.io": {"url": "https://mirror.example.com"}}},
                           addons={"domain": "k8s-metal.example.com", "harbor": {"proxyCache": ["docker.io"]}}))
    assert "also in addons.harbor.proxyCache" in found["mirrors.registries.docker.io"]


def test_host_system_relaxations_are_read_and_cgroup_v1_lets_system_verification_pass():
    s = load(metal(hostSystem={"cgroupV1": True, "containers": True, "ignorePreflightErrors": ["NumCPU"]}))
    assert s.host_system == HostSystemSettings(True, True, ("NumCPU",))
    assert s.host_system.ignored_preflight_errors == ("NumCPU", "SystemVerification")
    assert s.host_system.relaxed == ("cgroupV1", "containers", "ignorePreflightErrors")


@pytest.mark.parametrize("names, index, words", [
    (["all"], 0, "'all' would let every preflight error pass"),
    (["NumCPU", "NumCPU"], 1, "NumCPU is listed twice"),
    (["Num CPU"], 0, "must be the name of a kubeadm preflight check"),
])
def test_preflight_errors_to_let_pass_are_named_one_by_one(names, index, words):
    found = problems(metal(hostSystem={"ignorePreflightErrors": names}))
    assert words in found[f"hostSystem.ignorePreflightErrors[{index}]"]


def test_host_system_flags_are_booleans():
    found = problems(metal(hostSystem={"containers": "yes"}))
    assert "must be true or false" in found["hostSystem.containers"]
