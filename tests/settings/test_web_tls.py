"""A certificate of the user's own for Harbor and Grafana (addons.tls): checked before anything is declared,
served instead of the cluster CA's, its key a secret end to end, and the nodes trusting its CA (or only their
system store for a publicly trusted one)."""

import base64
import datetime
import json

import pytest

from components.addons.harbor import values as harbor
from components.settings import PROJECT, SettingsError, load_settings
from components.settings.addons import read_addons
from components.settings.reader import Problems
from components.settings.web_tls import UNDECRYPTED, read_web_tls
from tests.certs import NOW, issue
from tests.helpers import PRIVATE_KEY, edited, raw_config, write_stack
from tests.sandbox import Sandbox, render_for
from tests.bootstrap.test_bootstrap import commands, is_wrapped_secret, raw_inputs, unwrapped
from tools.plan import build_plan, plan_config, plan_json
from tools.stack_file import StackConfig

HOSTS = ["harbor.k8s-prod.internal", "grafana.k8s-prod.internal"]
ADDONS = f"{PROJECT}:addons"


@pytest.fixture(scope="module")
def pki():
    ca = issue("Example Root CA", is_ca=True, days=3650)
    intermediate = issue("Example Issuing CA", ca, is_ca=True, days=1825)
    leaf = issue("k8s-prod web", intermediate, dns_names=("*.k8s-prod.internal",))
    return {"ca": ca, "intermediate": intermediate, "leaf": leaf,
            "chain": leaf.cert_pem + intermediate.cert_pem}


def check(value, hosts=HOSTS, secret=True):
    problems = Problems()
    tls = read_web_tls(value, hosts, secret, NOW, problems)
    return tls, [str(p) for p in problems.items]


def test_a_matching_chain_key_and_ca_are_accepted_in_the_shape_of_the_generated_ca(pki):
    tls, problems = check({"certificate": pki["chain"], "key": pki["leaf"].key_pem, "ca": pki["ca"].cert_pem})
    assert problems == [] and tls is not None
    certificates = tls.certificates(HOSTS)
    assert base64.b64decode(certificates["ca"]).decode() == pki["ca"].cert_pem
    for host in HOSTS:
        assert base64.b64decode(certificates["hosts"][host]["cert"]).decode() == pki["chain"]
        assert base64.b64decode(certificates["hosts"][host]["key"]).decode() == pki["leaf"].key_pem
    assert "PRIVATE" not in repr(tls), "the key stays out of the settings' repr (and so out of any message)"


def test_the_key_must_belong_to_the_certificate(pki):
    other = issue("other", pki["intermediate"], dns_names=("*.k8s-prod.internal",))
    tls, problems = check({"certificate": pki["chain"], "key": other.key_pem})
    assert tls is None and problems == ["addons.tls.key: does not belong to the certificate for CN=k8s-prod web"]


def test_every_web_host_must_be_named_and_a_wildcard_covers_one_label_only(pki):
    narrow = issue("narrow", pki["intermediate"], dns_names=("harbor.k8s-prod.internal",))
    _, problems = check({"certificate": narrow.cert_pem, "key": narrow.key_pem})
    assert problems == ["addons.tls.certificate: does not name grafana.k8s-prod.internal "
                        "(its DNS names: harbor.k8s-prod.internal)"]
    _, problems = check({"certificate": pki["chain"], "key": pki["leaf"].key_pem}, hosts=["harbor.a.k8s-prod.internal"])
    assert problems == ["addons.tls.certificate: does not name harbor.a.k8s-prod.internal "
                        "(its DNS names: *.k8s-prod.internal)"]
    bare = issue("no SAN", pki["intermediate"])
    _, problems = check({"certificate": bare.cert_pem, "key": bare.key_pem}, hosts=HOSTS[:1])
    assert problems == ["addons.tls.certificate: does not name harbor.k8s-prod.internal (its DNS names: none)"]


def test_expired_certificates_and_a_foreign_ca_are_refused(pki):
    old = issue("old", pki["intermediate"], dns_names=("*.k8s-prod.internal",), days=30,
                start=NOW - datetime.timedelta(days=400))
    _, problems = check({"certificate": old.cert_pem + pki["intermediate"].cert_pem, "key": old.key_pem})
    assert problems == ["addons.tls.certificate: CN=old expired on 2025-11-17"]
    stranger = issue("Stranger CA", is_ca=True)
    _, problems = check({"certificate": pki["chain"], "key": pki["leaf"].key_pem, "ca": stranger.cert_pem})
    assert problems == ["addons.tls.ca: did not sign CN=Example Issuing CA, the last certificate of "
                        "addons.tls.certificate"]
    _, problems = check({"certificate": pki["leaf"].cert_pem + pki["ca"].cert_pem, "key": pki["leaf"].key_pem})
    assert problems == ["addons.tls.certificate: the chain is out of order: CN=k8s-prod web is not signed by the "
                        "next certificate"]


def test_the_key_must_be_a_secret_unencrypted_pem_and_is_never_echoed(pki):
    value = {"certificate": pki["chain"], "key": pki["leaf"].key_pem}
    _, problems = check(value, secret=False)
    assert problems == ["addons.tls.key: must be a secret setting; set it again with pulumi config set --secret "
                        "--path addons.tls.key < privkey.pem"]
    _, problems = check({**value, "key": pki["leaf"].encrypted_key_pem(b"pass")})
    assert problems == ["addons.tls.key: must not be protected by a passphrase (the ingress cannot prompt for one)"]
    garbage = "-----BEGIN PRIVATE KEY-----\nTOPSECRETMATERIAL\n-----END PRIVATE KEY-----\n"
    _, problems = check({**value, "key": garbage})
    assert problems == ["addons.tls.key: must be an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)"]
    _, problems = check({"certificate": "not pem", "kee": "x"})
    assert "addons.tls.kee: unknown key (known: certificate, key, ca)" in problems
    assert any(p.startswith("addons.tls.key: is required") for p in problems)
    assert not any("TOPSECRET" in p for p in problems)


def test_a_certificate_with_nothing_to_serve_is_refused(pki):
    problems = Problems()
    addons = {"ingress": {"enabled": False}, "harbor": {"enabled": False},
              "tls": {"certificate": pki["chain"], "key": pki["leaf"].key_pem}}
    assert read_addons(addons, False, problems, "k8s-prod", secret=True, now=NOW) is None
    assert [str(p) for p in problems.items] == [
        "addons.tls: has nothing to serve: Harbor and Grafana are both off, or the ingress is"]


def own_tls_config(pki, with_ca=True):
    config = raw_config("prod")
    addons = json.loads(config[ADDONS])
    addons["tls"] = {"certificate": pki["chain"], "key": pki["leaf"].key_pem}
    if with_ca:
        addons["tls"]["ca"] = pki["ca"].cert_pem
    config[ADDONS] = json.dumps(addons)
    return config


@pytest.fixture(scope="module")
def own_tls_plan(pki):
    # As the Pulumi CLI hands it over: decrypted, with `addons` listed as secret (its key was set with --secret).
    config = own_tls_config(pki)
    return plan_config("prod", StackConfig(config, frozenset({PRIVATE_KEY, ADDONS}), ()))


def test_the_users_certificate_serves_harbor_and_grafana_and_no_ca_is_made(own_tls_plan, pki):
    result = own_tls_plan
    assert not any(name.endswith("web-certificates-ca") for name in commands(result))
    for secret_name, host in (("harbor-tls", HOSTS[0]), ("grafana-tls", HOSTS[1])):
        raw = raw_inputs(result, next(r.name for r in result.registrations if r.name.endswith(secret_name)))
        data = raw["data"]
        assert is_wrapped_secret(data), f"{secret_name} carries the key: the whole data is a secret"
        data = unwrapped(data)
        assert base64.b64decode(data["tls.key"]).decode() == pki["leaf"].key_pem
        assert base64.b64decode(data["tls.crt"]).decode() == pki["chain"]
        assert base64.b64decode(data["ca.crt"]).decode() == pki["ca"].cert_pem
    assert pki["leaf"].key_pem.splitlines()[1] not in plan_json(result)


def test_nodes_trust_the_users_ca_for_the_registry(own_tls_plan, pki):
    cmds = commands(own_tls_plan)
    trust = [name for name in cmds if name.endswith("-registry-trust")]
    assert len(trust) == len(own_tls_plan.document["outputs"]["nodes"])
    for name in trust:
        stdin = unwrapped(raw_inputs(own_tls_plan, name)["stdin"])
        assert pki["ca"].cert_pem.splitlines()[1] in stdin and "PRIVATE KEY" not in stdin


def test_a_publicly_trusted_certificate_ships_no_ca(pki):
    config = own_tls_config(pki, with_ca=False)
    result = plan_config("prod", StackConfig(config, frozenset({PRIVATE_KEY, ADDONS}), ()))
    secret = next(r for r in result.registrations if r.name.endswith("harbor-tls"))
    assert set(unwrapped(secret.inputs["data"])) == {"tls.crt", "tls.key"}
    stdin = unwrapped(raw_inputs(result, "k8s-prod-general-0-registry-trust")["stdin"])
    assert "CA_CERT=''" in stdin


def test_the_offline_plan_reads_a_stack_file_with_the_key_encrypted(tmp_path, pki):
    addons = {"harbor": {"proxyCache": ["docker.io"]},
              "tls": {"certificate": pki["chain"], "key": {"secure": "v1:AAAA"}, "ca": pki["ca"].cert_pem}}
    result = build_plan("prod", write_stack(tmp_path, edited("prod", addons=addons)))
    secret = next(r for r in result.registrations if r.name.endswith("harbor-tls"))
    assert is_wrapped_secret(secret.inputs["data"])
    assert base64.b64decode(unwrapped(secret.inputs["data"])["tls.key"]).decode().startswith(UNDECRYPTED[:-1])
    # Written in clear, the key is refused before anything is declared.
    addons["tls"]["key"] = pki["leaf"].key_pem
    with pytest.raises(Exception, match="addons.tls.key: must be a secret setting"):
        build_plan("prod", write_stack(tmp_path, edited("prod", addons=addons)))


def test_settings_refuse_a_bad_certificate_before_any_resource(pki):
    config = own_tls_config(pki)
    addons = json.loads(config[ADDONS])
    addons["tls"]["key"] = issue("x").key_pem
    config[ADDONS] = json.dumps(addons)
    with pytest.raises(SettingsError, match="addons.tls.key: does not belong to the certificate"):
        load_settings(config, {PRIVATE_KEY, ADDONS}, "prod")


def test_switching_to_a_public_certificate_removes_the_cluster_ca_from_the_node(tmp_path):
    box = Sandbox(tmp_path)
    ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    assert box.run(render_for(box, harbor.trust_script, "harbor.example.com", ca, ("docker.io",))).returncode == 0
    box.reset_calls()
    public = render_for(box, harbor.trust_script, "harbor.example.com", "", ("docker.io",))
    assert box.run(public).returncode == 0
    base = box.root / "etc/containerd/certs.d"
    assert not (base / "harbor.example.com/ca.crt").exists()
    assert not (box.root / "usr/local/share/ca-certificates/k8s-platform-registry.crt").exists()
    for hosts_toml in (base / "harbor.example.com/hosts.toml", base / "docker.io/hosts.toml"):
        assert "ca =" not in hosts_toml.read_text() and "https://harbor.example.com" in hosts_toml.read_text()
    assert [c.strip() for c in box.calls()] == ["update-ca-certificates --fresh"]
    box.reset_calls()
    assert box.run(public).returncode == 0 and box.mutating_calls() == [], "a second run changes nothing"
