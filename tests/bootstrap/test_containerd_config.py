"""The containerd config we write, read by containerd itself: the pinned version, built from its Go module by
scripts/engine-tools. `containerd config dump` loads the file the way the daemon does, decodes each plugin's section
into that plugin's own types and warns about every key they do not have (runc's `options` table excepted: containerd
hands it to runc as it is, so its keys are checked by value below)."""

from __future__ import annotations

import dataclasses
import subprocess
import tomllib
from pathlib import Path

import pytest

from components import versions
from components.bootstrap import node_config
from components.remote import host_scripts
from tests.engine.harness import TOOLS, ensure_engine_tools
from tests.remote.test_host_scripts import CLUSTER

CONTAINERD = TOOLS / "bin" / "containerd"
UNKNOWN_KEY = "Ignoring unknown key"

# What containerd 1.x documents for the same three settings (config version 2, one CRI plugin): what our nodes ran
# before containerd 2. containerd migrates it to the plugins of version 3 itself.
VERSION_2_EQUIVALENT = """version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      SystemdCgroup = true
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "/etc/containerd/certs.d"
"""


@pytest.fixture(scope="module")
def containerd():
    ensure_engine_tools()
    done = subprocess.run([str(CONTAINERD), "--version"], capture_output=True, text=True, timeout=30)
    assert f" {versions.CONTAINERD_VERSION}+" in done.stdout, done.stdout
    return CONTAINERD


def dump(containerd, path) -> tuple[dict, str]:
    done = subprocess.run([str(containerd), "--config", str(path), "config", "dump"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return tomllib.loads(done.stdout), done.stderr


def written(tmp_path, minor: int, text: str | None = None):
    cluster = dataclasses.replace(CLUSTER, kubernetes_version=versions.PINNED_KUBERNETES_PATCHES[minor])
    path = tmp_path / f"config-1.{minor}.toml"
    path.write_text(text if text is not None else node_config.containerd_config(cluster))
    return path


@pytest.mark.parametrize("minor", versions.SUPPORTED_KUBERNETES_MINORS)
def test_containerd_reads_every_key_of_our_config_where_we_mean_it(containerd, tmp_path, minor):
    config, warnings = dump(containerd, written(tmp_path, minor))
    assert UNKNOWN_KEY not in warnings, warnings
    images = config["plugins"]["io.containerd.cri.v1.images"]
    runc = config["plugins"]["io.containerd.cri.v1.runtime"]["containerd"]["runtimes"]["runc"]
    assert images["pinned_images"]["sandbox"] == f"registry.k8s.io/pause:{versions.PAUSE_IMAGE_TAGS[minor]}"
    assert images["registry"]["config_path"] == node_config.CONTAINERD_CERTS_DIR
    assert runc["runtime_type"] == "io.containerd.runc.v2" and runc["options"]["SystemdCgroup"] is True


def test_our_config_is_what_containerd_makes_of_the_documented_1_x_config(containerd, tmp_path):
    """The same settings in containerd 1.x's layout, migrated by containerd, give exactly the config ours gives."""
    ours, _ = dump(containerd, written(tmp_path, 37))
    pause = f"registry.k8s.io/pause:{versions.PAUSE_IMAGE_TAGS[37]}"
    legacy = tmp_path / "config-1.x.toml"
    legacy.write_text(VERSION_2_EQUIVALENT.format(pause=pause))
    migrated, _ = dump(containerd, legacy)
    assert migrated == ours


def test_a_key_containerd_does_not_know_is_caught(containerd, tmp_path):
    """The check above can fail: containerd 1.x's `sandbox_image`, written into the images plugin of version 3
    (where it has no such key), is reported, and the pause image falls back to containerd's own default."""
    ours = node_config.containerd_config(dataclasses.replace(CLUSTER, kubernetes_version="1.35.8"))
    misplaced = ours.replace('[plugins."io.containerd.cri.v1.images".pinned_images]\n  sandbox',
                             '[plugins."io.containerd.cri.v1.images"]\n  sandbox_image')
    assert misplaced != ours
    config, warnings = dump(containerd, written(tmp_path, 35, misplaced))
    assert UNKNOWN_KEY in warnings and "key=sandbox_image" in warnings
    images = config["plugins"]["io.containerd.cri.v1.images"]
    assert images["pinned_images"]["sandbox"] != f"registry.k8s.io/pause:{versions.PAUSE_IMAGE_TAGS[35]}"


def test_the_host_scripts_check_rejects_what_containerd_would_ignore_or_fail_on(containerd, tmp_path):
    """containerd_config_accepted (containerd-lib.sh), the check a node runs before it replaces its config, with the
    real containerd on PATH: ours passes; a misplaced key and broken TOML are refused."""
    ours = node_config.containerd_config(dataclasses.replace(CLUSTER, kubernetes_version="1.37.2"))
    misplaced = ours.replace("config_path =", "config_paths =")
    assert misplaced != ours
    cases = {"ours": (ours, 0, ""), "misplaced": (misplaced, 1, 'key="registry config_paths"'),
             "broken": ("version = 3\n[plugins\n", 1, "failed to unmarshal TOML")}
    library = (Path(host_scripts.SCRIPTS_DIR) / "containerd-lib.sh").read_text()
    functions = library[library.index("containerd_config_accepted() {"):library.index("# wait_for_cri")]
    for name, (text, expected, message) in cases.items():
        path = tmp_path / f"{name}.toml"
        path.write_text(text)
        done = subprocess.run(["bash", "-c", f"{functions}\ncontainerd_config_accepted {path}"], capture_output=True,
                              text=True, timeout=60, env={"PATH": f"{CONTAINERD.parent}:/usr/bin:/bin"})
        assert done.returncode == expected, (name, done.stderr)
        assert message in done.stderr, (name, done.stderr)
