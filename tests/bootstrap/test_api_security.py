"""The API server's audit log and Secrets encrypted at rest: the files the control planes get and the flags kubeadm
gives kube-apiserver, read by the API server's own code (engine/apiserver-check, k8s.io/apiserver at the nodes'
Kubernetes version, built by scripts/engine-tools), and the file scripts run in a sandbox through a key rotation."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
import yaml

from components import versions
from components.bootstrap import api_security, api_security_steps, host_steps, node_config
from tests.engine.harness import TOOLS, ensure_engine_tools
from tests.remote.test_host_scripts import CLUSTER, CP0, ENCRYPTION_KEY
from tests.sandbox import Sandbox, render_for

CHECK = TOOLS / "bin" / "apiserver-check"
OTHER_KEY = base64.b64encode(b"the key a rotation makes, 32 b.!").decode()


@pytest.fixture(scope="module")
def apiserver_check():
    """engine/apiserver-check, built with the engine tools: the tests that use it are marked `engine`."""
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
    [secretbox] = [p["secretbox"] for p in config["resources"][0]["providers"] if "secretbox" in p]
    return [k["secret"] for k in secretbox["keys"]]


@pytest.mark.engine
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
    # Lease renewals by the cluster's own identities are not logged; a person's, or a new lease, is.
    assert level_of("coordination.k8s.io", "leases", "update") == "Request"
    assert level_of("coordination.k8s.io", "leases", "create") == "Request"
    quiet = [r for r in rules if r["level"] == "None"
             and any(g["resources"] == ["leases"] for g in r.get("resources", []))]
    assert all(set(r["verbs"]) == {"get", "update", "patch"} for r in quiet)


def test_lease_renewals_are_left_out_only_for_the_clusters_own_identities(tmp_path, apiserver_check):
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(api_security.audit_policy()))

    def level(user: str, groups: str, verb: str = "update", namespace: str = "kube-node-lease") -> str:
        request = (f"user={user};groups={groups},system:authenticated;verb={verb};group=coordination.k8s.io;"
                   f"resource=leases;namespace={namespace}")
        done = check(apiserver_check, "-audit-policy", str(policy), "-level", request)
        assert done.returncode == 0, done.stdout
        return done.stdout.splitlines()[-1].rsplit(": ", 1)[1]

    # Judged by the API server's own evaluator (k8s.io/apiserver's policy.NewPolicyRuleEvaluator).
    assert level("system:node:cp-1", "system:nodes") == "None"
    assert level("system:kube-controller-manager", "") == "None"
    assert level("system:serviceaccount:kube-system:coredns", "system:serviceaccounts,"
                 "system:serviceaccounts:kube-system", namespace="kube-system") == "None"
    # A workload's ServiceAccount is not the cluster's own: its lease writes are logged with their body.
    assert level("system:serviceaccount:shop:app", "system:serviceaccounts,system:serviceaccounts:shop",
                 namespace="shop") == "Request"
    assert level("alice", "ops", namespace="kube-system") == "Request", "a person's change to a lease is logged"
    assert level("system:node:cp-1", "system:nodes", verb="create") == "Request", "a new lease is logged"


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


def running_control_plane(sandbox: Sandbox, flags: bool = True) -> Path:
    """The sandbox as a control plane whose API server runs, with our flags or as one made before them."""
    manifest = sandbox.root / "etc/kubernetes/manifests/kube-apiserver.yaml"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text("    image: registry.k8s.io/kube-apiserver:v1.35.4\n" +
                        "".join(f"    - {flag}\n" for flag in (api_server_flags() if flags else [])))
    (sandbox.root / "etc/kubernetes/admin.conf").write_text("admin\n")
    return manifest


def readers_pass(sandbox: Sandbox, key: str) -> subprocess.CompletedProcess:
    done = sandbox.run(render_for(sandbox, host_steps.api_server_config, CLUSTER, CP0, key))
    assert done.returncode == 0, done.stderr
    return done


def writers_pass(sandbox: Sandbox, key: str) -> subprocess.CompletedProcess:
    done = sandbox.run(render_for(sandbox, host_steps.api_server_encryption, key))
    assert done.returncode == 0, done.stderr
    return done


def sealed_under(sealed: subprocess.CompletedProcess) -> str:
    """The key name a `-seal` run of apiserver-check sealed under."""
    return base64.b64decode(sealed.stdout.split("sealed: ")[1].strip()).split(b":")[4].decode()


@pytest.mark.engine
def test_a_rotated_key_reads_on_every_api_server_before_any_writes_with_it(tmp_path, apiserver_check):
    sandbox = Sandbox(tmp_path)
    config = str(sandbox.root / api_security.ENCRYPTION_CONFIG_FILE.lstrip("/"))
    assert files_on(sandbox, ENCRYPTION_KEY).returncode == 0
    assert keys_in(sandbox) == [ENCRYPTION_KEY]
    running_control_plane(sandbox)
    writers_pass(sandbox, ENCRYPTION_KEY)
    sealed = check(apiserver_check, "-encryption-config", config, "-seal", "db-password")
    stored = sealed.stdout.split("sealed: ")[1].strip()
    old_name = sealed_under(sealed)

    # The new key reads: every control plane's API server restarted with it second (the readers' pass) ...
    assert files_on(sandbox, OTHER_KEY).returncode == 0
    assert keys_in(sandbox) == [ENCRYPTION_KEY, OTHER_KEY]
    before = sandbox.container_starts("kube-apiserver")
    readers_pass(sandbox, OTHER_KEY)
    assert keys_in(sandbox) == [ENCRYPTION_KEY, OTHER_KEY] and sandbox.container_starts("kube-apiserver") == before + 1
    assert sealed_under(check(apiserver_check, "-encryption-config", config, "-seal", "x")) == old_name
    readers_pass(sandbox, OTHER_KEY)
    assert sandbox.container_starts("kube-apiserver") == before + 1, "nothing changed: no restart"
    # ... then writes (the writers' pass, once every API server reads it); what the old one sealed stays readable.
    writers_pass(sandbox, OTHER_KEY)
    assert keys_in(sandbox) == [OTHER_KEY, ENCRYPTION_KEY] and sandbox.container_starts("kube-apiserver") == before + 2
    opened = check(apiserver_check, "-encryption-config", config, "-open", stored)
    assert opened.returncode == 0 and "opened: db-password (stale: true)" in opened.stdout, opened.stdout
    assert sealed_under(check(apiserver_check, "-encryption-config", config, "-seal", "x")) not in ("", old_name)
    writers_pass(sandbox, OTHER_KEY)
    # A files step or a readers' pass run again (a re-run, a new policy) keeps the key that writes: no demotion.
    assert files_on(sandbox, OTHER_KEY).returncode == 0
    readers_pass(sandbox, OTHER_KEY)
    assert keys_in(sandbox) == [OTHER_KEY, ENCRYPTION_KEY] and sandbox.container_starts("kube-apiserver") == before + 2


def test_an_edited_audit_policy_restarts_the_api_server_once(tmp_path, monkeypatch):
    sandbox = Sandbox(tmp_path)
    assert files_on(sandbox, ENCRYPTION_KEY).returncode == 0  # before the init: the policy it starts with
    running_control_plane(sandbox)
    before = sandbox.container_starts("kube-apiserver")
    readers_pass(sandbox, ENCRYPTION_KEY)
    assert sandbox.container_starts("kube-apiserver") == before, "the API server already runs with this policy"
    policy = api_security.audit_policy()
    monkeypatch.setattr(api_security, "audit_policy", lambda: {**policy, "rules": [{"level": "Metadata"}]})
    stale = sandbox.run(render_for(sandbox, host_steps.api_server_config, CLUSTER, CP0, ENCRYPTION_KEY))
    assert stale.returncode != 0 and "not this run's audit policy" in stale.stderr, "files first"
    assert files_on(sandbox, ENCRYPTION_KEY).returncode == 0
    assert sandbox.container_starts("kube-apiserver") == before, "the files step restarts nothing"
    done = readers_pass(sandbox, ENCRYPTION_KEY)
    assert "changed since kube-apiserver started" in done.stderr and sandbox.container_starts("kube-apiserver") == before + 1
    readers_pass(sandbox, ENCRYPTION_KEY)
    assert sandbox.container_starts("kube-apiserver") == before + 1


def test_the_reviewable_copy_carries_no_usable_key_and_writes_nothing(tmp_path):
    sandbox = Sandbox(tmp_path)
    done = sandbox.run(render_for(sandbox, host_steps.api_server_files, api_security_steps.PLACEHOLDER_ENCRYPTION_KEY))
    assert done.returncode != 0 and "not 32 bytes" in done.stderr
    assert not (sandbox.root / api_security.ENCRYPTION_CONFIG_FILE.lstrip("/")).exists()


def test_the_host_writes_the_configuration_the_program_describes(tmp_path):
    sandbox = Sandbox(tmp_path)
    first = files_on(sandbox, ENCRYPTION_KEY)
    assert first.returncode == 0
    path = sandbox.root / api_security.ENCRYPTION_CONFIG_FILE.lstrip("/")
    written = yaml.safe_load(path.read_text())
    name = written["resources"][0]["providers"][1]["secretbox"]["keys"][0]["name"]
    # A control plane new to the cluster reads sealed Secrets from its start and seals only in its own writers'
    # pass: the others may not read its key yet (a rotation under way when it joins).
    assert written == api_security.encryption_config([(name, ENCRYPTION_KEY)], identity_writes=True)
    assert oct(path.stat().st_mode & 0o777) == "0o600" and oct(path.parent.stat().st_mode & 0o777) == "0o700"
    keys = sandbox.root / api_security.ENCRYPTION_KEYS_FILE.lstrip("/")
    assert oct(keys.stat().st_mode & 0o777) == "0o600"
    before = sandbox.snapshot()
    again = files_on(sandbox, ENCRYPTION_KEY)
    assert again.returncode == 0 and sandbox.snapshot() == before, "a second run changes nothing"
    logs = "\n".join(p.read_text(errors="replace") for p in sandbox.state.rglob("*.log"))
    said = first.stderr + first.stdout + again.stderr + again.stdout + logs
    assert "holds key key-" in first.stderr and ENCRYPTION_KEY not in said, "the key is never logged"


def test_a_cluster_made_before_gets_the_flags_through_kubeadm_and_seals_only_once_every_api_server_reads(tmp_path):
    sandbox = Sandbox(tmp_path)
    manifest = running_control_plane(sandbox, flags=False)
    script = render_for(sandbox, host_steps.api_server_config, CLUSTER, CP0, ENCRYPTION_KEY)
    refused = sandbox.run(script)
    assert refused.returncode != 0 and "api-server-files step has not run here" in refused.stderr
    refused = sandbox.run(render_for(sandbox, host_steps.api_server_encryption, ENCRYPTION_KEY))
    assert refused.returncode != 0 and "api-server-config step has not run here" in refused.stderr
    config = sandbox.root / api_security.ENCRYPTION_CONFIG_FILE.lstrip("/")
    assert files_on(sandbox, ENCRYPTION_KEY).returncode == 0
    name = yaml.safe_load(config.read_text())["resources"][0]["providers"][1]["secretbox"]["keys"][0]["name"]
    # Readers' pass: the flags through kubeadm, identity still writing (the others may not read sealed ones yet).
    done = readers_pass(sandbox, ENCRYPTION_KEY)
    assert "kubeadm writes its manifest again" in done.stderr
    assert all(f"- {flag}" in manifest.read_text() for flag in api_server_flags())
    assert yaml.safe_load(config.read_text()) == api_security.encryption_config([(name, ENCRYPTION_KEY)],
                                                                                identity_writes=True)
    uploaded = yaml.safe_load_all((sandbox.state / "uploaded-kubeadm-config.yaml").read_text())
    cluster = next(d for d in uploaded if d["kind"] == "ClusterConfiguration")
    assert cluster["apiServer"]["extraArgs"] == node_config.cluster_configuration(CLUSTER)["apiServer"]["extraArgs"]
    sandbox.reset_calls()
    readers_pass(sandbox, ENCRYPTION_KEY)
    assert not any("control-plane apiserver" in c for c in sandbox.calls()), "flags in place: no second rewrite"
    # Writers' pass: secretbox seals, the API server restarted with it; once.
    before = sandbox.container_starts("kube-apiserver")
    writers_pass(sandbox, ENCRYPTION_KEY)
    assert yaml.safe_load(config.read_text()) == api_security.encryption_config([(name, ENCRYPTION_KEY)])
    assert sandbox.container_starts("kube-apiserver") == before + 1
    writers_pass(sandbox, ENCRYPTION_KEY)
    readers_pass(sandbox, ENCRYPTION_KEY)
    assert sandbox.container_starts("kube-apiserver") == before + 1
    assert yaml.safe_load(config.read_text()) == api_security.encryption_config([(name, ENCRYPTION_KEY)])


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
    # Its place in the file survives a restart of Fluent Bit, kept under the mounted /var/log, once per file.
    assert tail["DB"].startswith("/var/log/") and tail["DB"] == logging.AUDIT_TAIL_DB
    assert [s.get("DB") for s in _sections(values["config"]["inputs"])].count(tail["DB"]) == 1
    assert f"job={logging.AUDIT_JOB}" in output["Labels"]
    assert not any(s["Match"] == "*" for s in outputs)
    # The chart mounts the host's /var/log (its default daemonSetVolumes, which these values leave alone), and the
    # API server writes under it; control planes are tolerated.
    assert api_security.AUDIT_LOG_FILE.startswith("/var/log/") and "daemonSetVolumes" not in values
    assert values["tolerations"] == [{"operator": "Exists"}]
