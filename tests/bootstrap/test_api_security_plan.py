"""Where the audit and encryption steps sit in the bootstrap (under Pulumi mocks): the files before each control
plane becomes a member, the API servers one at a time after the upgrades, the rewrite of the Secrets last; the key
a secret end to end."""

import base64
import re

from tests.bootstrap.test_bootstrap import commands, is_wrapped_secret, raw_inputs, unwrapped, urn_of
from tests.plan_fixtures import of_type, shipped_plan
from tools.plan import plan_json

CONTROL_PLANES = [f"k8s-prod-cp-{i}" for i in range(3)]


def test_files_come_before_init_and_join_and_the_api_servers_change_one_at_a_time():
    result = shipped_plan("prod")
    cmds = commands(result)
    assert urn_of(result, "k8s-prod-cp-0-api-server-files") in cmds["k8s-prod-cp-0-init"]["dependsOn"]
    for cp in CONTROL_PLANES:
        assert urn_of(result, f"{cp}-install") in cmds[f"{cp}-api-server-files"]["dependsOn"]
        assert urn_of(result, f"{cp}-api-server-files") in cmds[f"{cp}-join"]["dependsOn"]
    first_config = cmds["k8s-prod-cp-0-api-server-config"]["dependsOn"]
    assert {urn_of(result, f"{cp}-api-server-files") for cp in CONTROL_PLANES} <= set(first_config)
    assert urn_of(result, "k8s-prod-api-ready") in first_config
    # The last control plane's upgrade step: kubeadm writes no manifest while these change them.
    assert urn_of(result, "k8s-prod-cp-2-upgrade-ready") in first_config
    # Every API server reads the key (config) before any writes with it (encryption), one at a time throughout.
    # (The rest of dependsOn: the machines their connections name, and the key step whose output they carry.)
    key_step = urn_of(result, "k8s-prod-encryption-key")
    steps = [f"{cp}-api-server-{kind}" for kind in ("config", "encryption") for cp in CONTROL_PLANES]
    for before, after in zip(steps, steps[1:]):
        assert [d for d in cmds[after]["dependsOn"] if "Kubeadm$command" in d and d != key_step] == [
            urn_of(result, before)]
    rewrite = [d for d in cmds["k8s-prod-secrets-rewrite"]["dependsOn"] if "Kubeadm$command" in d and d != key_step]
    assert rewrite == [urn_of(result, steps[-1])]
    workers = [name for name in cmds if name.startswith("k8s-prod-general-") and name.endswith("-join")]
    assert workers and not any("api-server" in urn for w in workers for urn in cmds[w]["dependsOn"])


def test_the_key_is_made_on_the_first_control_plane_as_a_secret_output_and_never_by_the_random_provider():
    result = shipped_plan("prod")
    assert of_type(result, "random:index/randomBytes:RandomBytes") == [], "a RandomBytes' ID is its value, in clear"
    made = commands(result)["k8s-prod-encryption-key"]
    assert "stdout" in made["options"]["additionalSecretOutputs"]
    # Neither a new address or machine of the first control plane nor a new script makes a new key.
    assert sorted(made["options"]["ignoreChanges"]) == ["connection", "stdin"]
    assert urn_of(result, "k8s-prod-cp-0-preflight") in made["dependsOn"]
    inputs = raw_inputs(result, "k8s-prod-encryption-key")
    script = unwrapped(inputs["stdin"])
    assert "from encryption-key.sh" in script and 'head -c "$KEY_BYTES" /dev/urandom' in script
    first = unwrapped(raw_inputs(result, "k8s-prod-cp-0-init")["connection"])
    assert unwrapped(inputs["connection"])["host"] == first["host"]


def test_the_key_is_a_secret_in_every_step_and_never_in_the_plan():
    result = shipped_plan("prod")
    # The mocks' key (tools/plan_mocks.py): 32 bytes in base64, the same in every host step, inside a secret.
    steps = [f"{cp}-api-server-{kind}" for cp in CONTROL_PLANES for kind in ("files", "config", "encryption")]
    carried = set()
    for step in [*steps, "k8s-prod-secrets-rewrite"]:
        stdin = raw_inputs(result, step)["stdin"]
        assert is_wrapped_secret(stdin), step
        carried |= set(re.findall(r"^readonly ENCRYPTION_KEY=(\S+)$", unwrapped(stdin), re.MULTILINE))
    [key_value] = carried
    assert len(base64.b64decode(key_value)) == 32
    plan_text = plan_json(result) + "".join(result.artifacts.values())
    assert key_value not in plan_text
    reviewable = result.artifacts["hosts/k8s-prod-cp-1/api-server-files.sh"]
    assert "readonly ENCRYPTION_KEY=" in reviewable and "audit.k8s.io/v1" in reviewable
    assert "hosts/k8s-prod-cp-1/api-server-encryption.sh" in result.artifacts
