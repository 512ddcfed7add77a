"""Harbor and the cluster's web certificates: the CA script run for real with openssl, the node trust script in a
sandbox, and what the program declares (chart values, secrets, TLS, per-tier sizes, order)."""

import base64
import subprocess

import pytest

import tools.plan_mocks as plan_mocks
from components import versions
from components.addons import harbor
from tests.chart_keys import unknown_keys
from tests.plan_fixtures import of_type, shipped_plan
from tests.sandbox import Sandbox, render_for
from tests.test_bootstrap import commands, is_wrapped_secret, raw_inputs, unwrapped, urn_of
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
    from tests.test_addons import monitoring_values
    result = shipped_plan("prod")
    grafana = monitoring_values(result)["grafana"]
    assert grafana["ingress"] == {"enabled": True, "ingressClassName": "traefik",
                                  "hosts": ["grafana.k8s-prod.internal"],
                                  "tls": [{"secretName": "grafana-tls", "hosts": ["grafana.k8s-prod.internal"]}]}
    tls = next(r for r in result.document["resources"] if r["name"].endswith("grafana-tls"))
    assert tls["inputs"]["metadata"]["namespace"] == "monitoring"
    assert result.document["outputs"]["grafanaUrl"] == "https://grafana.k8s-prod.internal"
