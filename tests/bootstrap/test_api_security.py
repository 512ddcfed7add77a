"""The API server's audit log and Secrets encrypted at rest: the files the control planes get and the flags kubeadm
gives kube-apiserver, read by the API server's own code (engine/apiserver-check, k8s.io/apiserver at the nodes'
Kubernetes version, built by scripts/engine-tools), and the file scripts run in a sandbox through a key rotation."""

from __future__ import annotations

import base64
import subprocess

import pytest
import yaml

from components import versions
from components.bootstrap import api_security, host_steps, node_config
from tests.engine.harness import TOOLS, ensure_engine_tools
from tests.remote.test_host_scripts import CLUSTER, CP0, ENCRYPTION_KEY
from tests.sandbox import Sandbox, render_for

CHECK = TOOLS / "bin" / "apiserver-check"
OTHER_KEY = base64.b64encode(b"the key a rotation makes, 32 b.!").decode()


@pytest.fixture(scope="module")
def apiserver_check():
    ensure_engine_tools()
    go_mod = (TOOLS.parent / "engine" / "apiserver-check" / "go.mod").read_text()
    minor = versions.kubernetes_minor(versions.DEFAULT_KUBERNETES_VERSION)
    assert f"k8s.io/apiserver v0.{minor}." in go_mod, "the checker reads files as the nodes' API server does"
    return CHECK


def check(tool, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(tool), *args], capture_output=True, text=True, timeout=60)


def api_server_flags() -> list[str]:
    """The flags kubeadm gives kube-apiserver from our ClusterConfiguration's extraArgs."""
    api_server = node_config.cluster_configuration(CLUSTER)["apiServer"]
    return [f"--{arg['name']}={arg['value']}" for arg in api_server["extraArgs"]]


def files_on(sandbox: Sandbox, key: str) -> subprocess.CompletedProcess:
    return sandbox.run(render_for(sandbox, host_steps.api_server_files, key))


def keys_in(sandbox: Sandbox) -> list[str]:
    config = yaml.safe_load((sandbox.root / api_security.ENCRYPTION_CONFIG_FILE.lstrip("/")).read_text())
    providers = config["resources"][0]["providers"]
    return [k["secret"] for k in providers[0]["secretbox"]["keys"]]


def test_the_api_server_accepts_our_audit_policy_and_flags(tmp_path, apiserver_check):
    sandbox = Sandbox(tmp_path)
    done = files_on(sandbox, ENCRYPTION_KEY)
    assert done.returncode == 0, done.stderr
    policy = sandbox.root / api_security.AUDIT_POLICY_FILE.lstrip("/")
    config = sandbox.root / api_security.ENCRYPTION_CONFIG_FILE.lstrip("/")
    result = check(apiserver_check, "-audit-policy", str(policy), "-encryption-config", str(config), "--",
                   *api_server_flags())
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"audit policy: {len(api_security.audit_policy()['rules'])} rules" in result.stdout
    assert "encryption configuration: secrets encrypted" in result.stdout
    assert f"flags: {len(api_server_flags())} accepted" in result.stdout
    # The checker is no rubber stamp: a misspelt flag, a policy with an unknown level, a short key are refused.
    assert check(apiserver_check, "--", "--audit-log-max-size=100").returncode == 1
    bad_policy = tmp_path / "bad-policy.yaml"
    bad_policy.write_text(yaml.safe_dump({**api_security.audit_policy(), "rules": [{"level": "Everything"}]}))
    assert "audit policy" in check(apiserver_check, "-audit-policy", str(bad_policy)).stdout
    bad_key = tmp_path / "bad-key.yaml"
    bad_key.write_text(yaml.safe_dump(api_security.encryption_config([("k", base64.b64encode(b"short").decode())])))
    assert check(apiserver_check, "-encryption-config", str(bad_key)).returncode == 1


def test_secrets_and_tokens_are_logged_without_their_content():
    rules = api_security.audit_policy()["rules"]

    def level_of(group: str, resource: str, verb: str) -> str:
        for rule in rules:
            matches = all(key in ("level",) or (key == "verbs" and verb in rule[key]) or
                          (key == "resources" and any(r["group"] == group and resource in r["resources"]
                                                      for r in rule[key])) for key in rule)
            if matches and not set(rule) & {"users", "userGroups", "namespaces", "nonResourceURLs"}:
                return rule["level"]
        raise AssertionError(f"no rule for {verb} {group}/{resource}")

    for group, resource in (("", "secrets"), ("", "configmaps"), ("", "serviceaccounts/token"),
                            ("authentication.k8s.io", "tokenreviews")):
        assert level_of(group, resource, "create") == "Metadata", resource
    assert level_of("apps", "deployments", "patch") == "Request"
    assert level_of("apps", "deployments", "get") == "Metadata"


def test_every_file_the_flags_name_is_mounted_into_the_api_server():
    volumes = api_security.api_server_volumes()
    args = api_security.api_server_args()
    for flag, writable in (("audit-policy-file", False), ("encryption-provider-config", False),
                           ("audit-log-path", True)):
        path = args[flag]
        mount = next(v for v in volumes if path.startswith(v["mountPath"] + "/"))
        assert mount["hostPath"] == mount["mountPath"] and mount["readOnly"] is (not writable), flag
    cluster = node_config.cluster_configuration(CLUSTER)
    assert cluster["apiServer"]["extraVolumes"] == volumes


def test_a_rotated_key_reads_what_the_old_one_sealed_and_then_writes(tmp_path, apiserver_check):
    sandbox = Sandbox(tmp_path)
    config = str(sandbox.root / api_security.ENCRYPTION_CONFIG_FILE.lstrip("/"))
    assert files_on(sandbox, ENCRYPTION_KEY).returncode == 0
    assert keys_in(sandbox) == [ENCRYPTION_KEY]
    sealed = check(apiserver_check, "-encryption-config", config, "-seal", "db-password")
    stored = sealed.stdout.split("sealed: ")[1].strip()
    old_name = yaml.safe_load(open(config))["resources"][0]["providers"][0]["secretbox"]["keys"][0]["name"]
    assert base64.b64decode(stored).startswith(f"k8s:enc:secretbox:v1:{old_name}:".encode())

    # The new key first reads (every control plane gets it before any writes with it) ...
    done = files_on(sandbox, OTHER_KEY)
    assert done.returncode == 0, done.stderr
    assert keys_in(sandbox) == [ENCRYPTION_KEY, OTHER_KEY]
    # ... then writes; the old one stays, so what it sealed stays readable until the rewrite.
    manifest = sandbox.root / "etc/kubernetes/manifests/kube-apiserver.yaml"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("    image: registry.k8s.io/kube-apiserver:v1.35.4\n" +
                        "".join(f"    - {flag}\n" for flag in api_server_flags()))
    (sandbox.root / "etc/kubernetes/admin.conf").write_text("admin\n")
    done = sandbox.run(render_for(sandbox, host_steps.api_server_config, CLUSTER, CP0, OTHER_KEY))
    assert done.returncode == 0, done.stderr
    assert keys_in(sandbox) == [OTHER_KEY, ENCRYPTION_KEY]
    assert any(c.startswith("crictl ps") for c in sandbox.calls()), "the API server restarted for the new key"
    opened = check(apiserver_check, "-encryption-config", config, "-open", stored)
    assert opened.returncode == 0 and "opened: db-password (stale: true)" in opened.stdout, opened.stdout
    resealed = check(apiserver_check, "-encryption-config", config, "-seal", "db-password").stdout
    assert base64.b64decode(resealed.split("sealed: ")[1]).startswith(b"k8s:enc:secretbox:v1:key-")
    assert f":{old_name}:".encode() not in base64.b64decode(resealed.split("sealed: ")[1])[:40]
    # A files step run again (a re-run, a new policy) keeps the key that writes: no demotion.
    assert files_on(sandbox, OTHER_KEY).returncode == 0
    assert keys_in(sandbox) == [OTHER_KEY, ENCRYPTION_KEY]


def test_the_host_writes_the_configuration_the_program_describes(tmp_path):
    sandbox = Sandbox(tmp_path)
    assert files_on(sandbox, ENCRYPTION_KEY).returncode == 0
    path = sandbox.root / api_security.ENCRYPTION_CONFIG_FILE.lstrip("/")
    written = yaml.safe_load(path.read_text())
    name = written["resources"][0]["providers"][0]["secretbox"]["keys"][0]["name"]
    assert written == api_security.encryption_config([(name, ENCRYPTION_KEY)])
    assert oct(path.stat().st_mode & 0o777) == "0o600" and oct(path.parent.stat().st_mode & 0o777) == "0o700"
    keys = sandbox.root / api_security.ENCRYPTION_KEYS_FILE.lstrip("/")
    assert oct(keys.stat().st_mode & 0o777) == "0o600"
    before = sandbox.snapshot()
    again = files_on(sandbox, ENCRYPTION_KEY)
    assert again.returncode == 0 and sandbox.snapshot() == before, "a second run changes nothing"
    assert ENCRYPTION_KEY not in again.stderr + again.stdout, "the key is never logged"


def test_a_cluster_made_before_gets_the_flags_through_kubeadm_and_kubeadm_config(tmp_path):
    sandbox = Sandbox(tmp_path)
    manifests = sandbox.root / "etc/kubernetes/manifests"
    manifests.mkdir(parents=True)
    (manifests / "kube-apiserver.yaml").write_text("    image: registry.k8s.io/kube-apiserver:v1.35.4\n")
    (sandbox.root / "etc/kubernetes/admin.conf").write_text("admin\n")
    script = render_for(sandbox, host_steps.api_server_config, CLUSTER, CP0, ENCRYPTION_KEY)
    refused = sandbox.run(script)
    assert refused.returncode != 0 and "api-server-files step has not run here" in refused.stderr
    assert files_on(sandbox, ENCRYPTION_KEY).returncode == 0
    done = sandbox.run(script)
    assert done.returncode == 0, done.stderr
    assert "kubeadm writes its manifest again" in done.stderr
    manifest = (manifests / "kube-apiserver.yaml").read_text()
    assert all(f"- {flag}" in manifest for flag in api_server_flags())
    uploaded = yaml.safe_load_all((sandbox.state / "uploaded-kubeadm-config.yaml").read_text())
    cluster = next(d for d in uploaded if d["kind"] == "ClusterConfiguration")
    assert cluster["apiServer"]["extraArgs"] == node_config.cluster_configuration(CLUSTER)["apiServer"]["extraArgs"]
    sandbox.reset_calls()
    assert sandbox.run(script).returncode == 0
    assert not any("control-plane apiserver" in c for c in sandbox.calls()), "flags in place: no second rewrite"


def _sections(text: str) -> list[dict[str, str]]:
    """Fluent Bit's classic config as a list of {key: value} per [SECTION]."""
    sections = []
    for line in text.splitlines():
        if line.startswith("["):
            sections.append({})
        elif line.strip():
            key, _, value = line.strip().partition(" ")
            sections[-1][key] = value.strip()
    return sections


def test_fluent_bit_ships_the_audit_log_to_loki_under_its_own_job():
    from components.addons.logging import values as logging
    values = logging.fluent_bit_values()
    [tail] = [s for s in _sections(values["config"]["inputs"]) if s.get("Path") == api_security.AUDIT_LOG_FILE]
    outputs = _sections(values["config"]["outputs"])
    [output] = [s for s in outputs if s["Match"] == tail["Tag"]]  # one output, of its own
    assert tail["Name"] == "tail" and output["Name"] == "loki"
    assert f"job={logging.AUDIT_JOB}" in output["Labels"]
    assert not any(s["Match"] == "*" for s in outputs)
    # The chart mounts the host's /var/log (its default daemonSetVolumes, which these values leave alone), and the
    # API server writes under it; control planes are tolerated.
    assert api_security.AUDIT_LOG_FILE.startswith("/var/log/") and "daemonSetVolumes" not in values
    assert values["tolerations"] == [{"operator": "Exists"}]
