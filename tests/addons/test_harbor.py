"""Harbor and the cluster's web certificates: the CA script run for real with openssl, the node trust script in a
sandbox, and what the program declares (chart values, secrets, TLS, per-tier sizes, order)."""

import base64
import subprocess

import pytest

import tools.plan_mocks as plan_mocks
from components import versions
from components.addons.harbor import values as harbor
from tests.chart_keys import unknown_keys
from tests.plan_fixtures import of_type, shipped_plan
from tests.sandbox import Sandbox, render_for
from tests.bootstrap.test_bootstrap import commands, is_wrapped_secret, raw_inputs, unwrapped, urn_of
from tools.plan import plan_json

RELEASE = "kubernetes:helm.sh/v3:Release"


def run_ca(tmp_path, hosts, days=825):
    script = harbor.ca_script("k8s-prod", hosts).replace("readonly ROOT=''", f"readonly ROOT='{tmp_path}'", 1)
    script = script.replace("readonly CERT_DAYS=825", f"readonly CERT_DAYS={days}", 1)
    result = subprocess.run(["bash", "-s"], input=script, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return harbor.parse_certificates(result.stdout)


def pem(tmp_path, name, b64):
    path = tmp_path / name
    path.write_bytes(base64.b64decode(b64))
    return path


def test_the_ca_signs_a_certificate_per_host_and_keeps_them_across_runs(tmp_path):
    hosts = ["harbor.k8s-prod.internal", "grafana.k8s-prod.internal"]
    first = run_ca(tmp_path, hosts)
    ca = pem(tmp_path, "ca.pem", first["ca"])
    for host in hosts:
        cert = pem(tmp_path, f"{host}.pem", first["hosts"][host]["cert"])
        verify = subprocess.run(["openssl", "verify", "-CAfile", str(ca), str(cert)], capture_output=True, text=True)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        text = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-text"], capture_output=True,
                              text=True).stdout
        assert f"DNS:{host}" in text and "TLS Web Server Authentication" in text
    assert oct((tmp_path / harbor.CA_DIR.lstrip("/") / "ca.key").stat().st_mode)[-3:] == "600"
    again = run_ca(tmp_path, hosts)
    assert again == first, "a second run re-issues nothing"
    more = run_ca(tmp_path, hosts + ["registry.k8s-prod.internal"])
    assert more["ca"] == first["ca"] and more["hosts"][hosts[0]] == first["hosts"][hosts[0]]
    assert "registry.k8s-prod.internal" in more["hosts"]


def test_a_certificate_near_expiry_is_renewed(tmp_path):
    first = run_ca(tmp_path, ["harbor.x.internal"], days=1)
    second = run_ca(tmp_path, ["harbor.x.internal"], days=1)
    assert second["ca"] == first["ca"] and second["hosts"] != first["hosts"]


def test_nodes_trust_the_registry_for_containerd_and_the_system(tmp_path):
    box = Sandbox(tmp_path)
    ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    script = render_for(box, harbor.trust_script, "harbor.k8s-prod.internal", ca)
    assert box.run(script).returncode == 0
    base = box.root / "etc/containerd/certs.d/harbor.k8s-prod.internal"
    assert (base / "ca.crt").read_text() == ca + "\n"
    hosts_toml = (base / "hosts.toml").read_text()
    assert 'server = "https://harbor.k8s-prod.internal"' in hosts_toml
    assert 'ca = "/etc/containerd/certs.d/harbor.k8s-prod.internal/ca.crt"' in hosts_toml
    assert [c.strip() for c in box.calls()] == ["update-ca-certificates"]
    box.reset_calls()
    assert box.run(script).returncode == 0 and box.mutating_calls() == []


def harbor_values(result):
    name = next(r["name"] for r in of_type(result, RELEASE) if r["inputs"]["name"] == "harbor")
    return unwrapped(raw_inputs(result, name)["values"])


@pytest.mark.parametrize("stack", ["dev", "prod", "metal"])
def test_harbor_is_pinned_served_with_tls_and_stores_on_the_default_class(stack):
    result = shipped_plan(stack)
    release = next(r for r in of_type(result, RELEASE) if r["inputs"]["name"] == "harbor")
    assert release["inputs"]["version"] == versions.CHARTS["harbor"].version
    assert release["inputs"]["values"] == "[secret]"
    values = harbor_values(result)
    assert unknown_keys("harbor", values) == []
    host = result.document["outputs"]["harborUrl"].removeprefix("https://")
    assert values["externalURL"] == f"https://{host}" and values["expose"]["ingress"]["hosts"]["core"] == host
    assert values["expose"]["tls"] == {"enabled": True, "certSource": "secret", "secret": {"secretName": "harbor-tls"}}
    assert values["expose"]["ingress"]["className"] == "traefik" and values["trivy"]["enabled"] is True
    storage_class = result.document["outputs"]["addons"]["storageClass"]
    claims = values["persistence"]["persistentVolumeClaim"]
    assert {claims[k]["storageClass"] for k in ("registry", "database", "redis", "trivy")} == {storage_class}
    generated = {"secretKey": values["secretKey"], "core": values["core"]["secret"],
                 "xsrfKey": values["core"]["xsrfKey"], "jobservice": values["jobservice"]["secret"],
                 "registry": values["registry"]["secret"]}
    assert {key: len(value) for key, value in generated.items()} == harbor.SECRET_LENGTHS
    # Order: the TLS secret, storage and the ingress controller first.
    tls = next(r for r in result.document["resources"] if r["name"].endswith("harbor-tls"))
    assert tls["urn"] in release["dependsOn"]
    assert tls["inputs"]["type"] == "kubernetes.io/tls" and tls["inputs"]["data"] == "[secret]"
    traefik = next(r for r in of_type(result, RELEASE) if r["inputs"]["name"] == "traefik")
    namespace = next(r for r in result.document["resources"] if r["name"].endswith("harbor-namespace"))
    assert traefik["urn"] in namespace["dependsOn"]
    assert result.document["outputs"]["harborAdminPassword"] == "[secret]"
    admin = next(r for r in of_type(result, "random:index/randomPassword:RandomPassword")
                 if r["name"].endswith("harbor-adminpassword"))
    clear = (plan_mocks.digest(admin["type"], admin["name"]) * 4)[:24]
    assert values["harborAdminPassword"] == clear and clear not in plan_json(result)


def test_harbor_sizes_follow_the_tier():
    secrets = {key: "x" * length for key, length in harbor.SECRET_LENGTHS.items()}
    secrets.update(adminPassword="a", databasePassword="d")
    lab = harbor.values("lab", "h", "c", "traefik", secrets)["persistence"]["persistentVolumeClaim"]
    prod = harbor.values("prod", "h", "c", "traefik", secrets)["persistence"]["persistentVolumeClaim"]
    assert (lab["registry"]["size"], prod["registry"]["size"]) == ("20Gi", "500Gi")
    assert (lab["database"]["size"], prod["database"]["size"]) == ("2Gi", "20Gi")


def test_every_node_trusts_the_registry_after_the_ca_exists():
    result = shipped_plan("prod")
    cmds = commands(result)
    ca = next(n for n in cmds if n.endswith("web-certificates-ca"))
    assert is_wrapped_secret(raw_inputs(result, ca)["stdin"]) and cmds[ca]["inputs"]["logging"] == "none"
    for node in result.document["outputs"]["nodes"]:
        trust = cmds[f"{node['name']}-registry-trust"]
        assert urn_of(result, ca) in trust["dependsOn"]
        assert urn_of(result, f"{node['name']}-preflight") in trust["dependsOn"]


def test_grafana_is_served_with_tls_by_the_ingress():
    from tests.addons.test_addons import monitoring_values
    result = shipped_plan("prod")
    grafana = monitoring_values(result)["grafana"]
    assert grafana["ingress"] == {"enabled": True, "ingressClassName": "traefik",
                                  "hosts": ["grafana.k8s-prod.internal"],
                                  "tls": [{"secretName": "grafana-tls", "hosts": ["grafana.k8s-prod.internal"]}]}
    tls = next(r for r in result.document["resources"] if r["name"].endswith("grafana-tls"))
    assert tls["inputs"]["metadata"]["namespace"] == "monitoring"
    assert result.document["outputs"]["grafanaUrl"] == "https://grafana.k8s-prod.internal"


# --- proxy caches --------------------------------------------------------------------------------------------

HARBOR_API_STUB = r'''#!/usr/bin/env bash
# A fake Harbor API over files: registries/<name> holds the id, projects/<name> the registry id.
state="$STATE"; method=GET; data=""; url=""
echo "$*" >>"$state/argv.log"
while (($#)); do case $1 in -X) method=$2; shift;; --data) data=$2; shift;; http*) url=$1;; esac; shift; done
echo "$method $url $data" >>"$state/calls.log"
path=${url#*/api/v2.0}
case "$method $path" in
  "GET /registries?q=name%3D"*) name=${path#*%3D}
    if [[ -f $state/registries/$name ]]; then echo "[{\"id\":$(cat "$state/registries/$name"),\"name\":\"$name\"}]"; else echo "[]"; fi;;
  "POST /registries") name=$(sed 's/.*"name":"\([^"]*\)".*/\1/' <<<"$data")
    echo $(( $(ls "$state/registries" | wc -l) + 1 )) >"$state/registries/$name";;
  "GET /projects?name="*) name=${path#*name=}
    if [[ -f $state/projects/$name ]]; then echo "[{\"name\":\"$name\"}]"; else echo "[]"; fi;;
  "POST /projects") name=$(sed 's/.*"project_name":"\([^"]*\)".*/\1/' <<<"$data")
    sed 's/.*"registry_id":\([0-9]*\).*/\1/' <<<"$data" >"$state/projects/$name";;
esac
'''


def run_proxy_cache(tmp_path, proxies):
    for directory in ("bin", "registries", "projects"):
        (tmp_path / directory).mkdir(exist_ok=True)
    curl = tmp_path / "bin" / "curl"
    curl.write_text(HARBOR_API_STUB)
    curl.chmod(0o755)
    (_, _, job) = harbor.proxy_cache_objects(proxies, {"password": "x"})
    env_list = job["spec"]["template"]["spec"]["containers"][0]["env"]
    env = {e["name"]: e.get("value", "pw") for e in env_list}
    env.update(PATH=f"{tmp_path / 'bin'}:/usr/bin:/bin", STATE=str(tmp_path))
    script = host_scripts_dir() / "harbor-proxy-cache.sh"
    return subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=60)


def host_scripts_dir():
    from components.remote import host_scripts
    return host_scripts.SCRIPTS_DIR


def test_proxy_cache_projects_are_created_once(tmp_path):
    proxies = ("docker.io", "quay.io", "registry.k8s.io")
    result = run_proxy_cache(tmp_path, proxies)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "projects").iterdir()) == sorted(proxies)
    registry_ids = {p.name: p.read_text().strip() for p in (tmp_path / "registries").iterdir()}
    for project in proxies:
        assert (tmp_path / "projects" / project).read_text().strip() == registry_ids[project]
    posts = [c for c in (tmp_path / "calls.log").read_text().splitlines() if c.startswith("POST")]
    assert any('"type":"docker-hub","url":"https://hub.docker.com"' in c for c in posts)
    argv = (tmp_path / "argv.log").read_text()
    assert "--config -" in argv and "pw" not in argv, "the admin password never appears on a command line"
    (tmp_path / "calls.log").write_text("")
    again = run_proxy_cache(tmp_path, proxies)
    assert again.returncode == 0 and "POST" not in (tmp_path / "calls.log").read_text()


def test_nodes_pull_through_the_caches_and_fall_back_to_upstream(tmp_path):
    box = Sandbox(tmp_path)
    ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    script = render_for(box, harbor.trust_script, "harbor.k8s-prod.internal", ca, ("docker.io", "quay.io"))
    assert box.run(script).returncode == 0
    docker = (box.root / "etc/containerd/certs.d/docker.io/hosts.toml").read_text()
    assert docker.startswith('server = "https://registry-1.docker.io"')
    assert '[host."https://harbor.k8s-prod.internal/v2/docker.io"]' in docker and "override_path = true" in docker
    assert (box.root / "etc/containerd/certs.d/quay.io/hosts.toml").exists()
    fewer = render_for(box, harbor.trust_script, "harbor.k8s-prod.internal", ca, ("docker.io",))
    assert box.run(fewer).returncode == 0
    assert not (box.root / "etc/containerd/certs.d/quay.io/hosts.toml").exists(), "a dropped mirror goes away"
    assert (box.root / "etc/containerd/certs.d/docker.io/hosts.toml").exists()


def test_prod_configures_the_caches_after_harbor_with_the_admin_password_as_a_secret():
    result = shipped_plan("prod")
    release = next(r for r in of_type(result, RELEASE) if r["inputs"]["name"] == "harbor")
    (job,) = of_type(result, "kubernetes:batch/v1:Job")
    credentials = next(r for r in result.document["resources"] if r["name"].endswith("proxy-cache-credentials"))
    assert credentials["inputs"]["stringData"] == "[secret]" and release["urn"] in credentials["dependsOn"]
    assert credentials["urn"] in job["dependsOn"]
    env = {e["name"]: e for e in job["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PROXIES"]["value"].splitlines() == [
        "docker.io docker-hub https://hub.docker.com", "quay.io quay https://quay.io",
        "registry.k8s.io docker-registry https://registry.k8s.io"]
    assert env["HARBOR_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == harbor.ADMIN_SECRET
    trust = raw_inputs(result, "k8s-prod-general-0-registry-trust")["stdin"]
    assert "docker.io https://registry-1.docker.io" in unwrapped(trust)


def test_proxy_cache_settings_are_checked():
    from components.settings.addons import read_addons
    from components.settings.reader import Problems
    problems = Problems()
    read_addons({"harbor": {"proxyCache": ["docker.io", "ghcr.io", "docker.io"]}}, bare_metal=False,
                problems=problems, cluster_name="c")
    messages = {p.path: p.message for p in problems.items}
    assert "must be one of docker.io, quay.io, registry.k8s.io" in messages["addons.harbor.proxyCache[1]"]
