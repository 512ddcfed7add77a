"""Cluster add-ons under Pulumi mocks: the Kubernetes provider, install order, pinned charts and their values."""

import dataclasses
import pytest

from components import versions
from components.addons.calico import values as calico
from components.settings import load_settings
from tests.chart_keys import unknown_keys
from tests.helpers import PRIVATE_KEY, raw_config
from tests.plan_fixtures import of_type, shipped_plan
import tools.plan_mocks as plan_mocks
from tests.bootstrap.test_bootstrap import is_wrapped_secret, raw_inputs, unwrapped, urn_of
from tools.plan import plan_json

RELEASE = "kubernetes:helm.sh/v3:Release"
PROVIDER = "pulumi:providers:kubernetes"
STACKS = ("dev", "prod", "metal")


def settings(stack):
    return load_settings(raw_config(stack), frozenset({PRIVATE_KEY}), stack)


def releases(result) -> dict[str, dict]:
    return {r["inputs"]["name"]: r for r in of_type(result, RELEASE)}


@pytest.mark.parametrize("stack", STACKS)
def test_the_provider_survives_unknown_kubeconfigs_and_never_forgets_objects_unasked(stack):
    result = shipped_plan(stack)
    (provider,) = of_type(result, PROVIDER)
    cluster = settings(stack).cluster_name
    assert provider["inputs"]["clusterIdentifier"] == cluster
    # Unset: a refresh that cannot reach the API fails instead of dropping live objects from the state; the
    # provider reads PULUMI_K8S_DELETE_UNREACHABLE when a destroy is given it.
    assert "deleteUnreachable" not in provider["inputs"]
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert is_wrapped_secret(raw_inputs(result, provider["name"])["kubeconfig"])
    assert urn_of(result, f"{cluster}-api-ready") in provider["dependsOn"]
    # Every Kubernetes object and release goes through it, none through an ambient kubeconfig.
    for resource in result.document["resources"]:
        if resource["type"].startswith("kubernetes:"):
            assert resource["options"].get("provider") == provider["urn"], resource["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_calico_crds_then_operator_after_api_readiness(stack):
    result = shipped_plan(stack)
    cluster = settings(stack).cluster_name
    found = releases(result)
    crds, operator = found["calico-crds"], found["tigera-operator"]
    for release, key in ((crds, "calico-crds"), (operator, "tigera-operator")):
        chart = versions.CHARTS[key]
        assert (release["inputs"]["chart"], release["inputs"]["version"]) == (chart.name, chart.version)
        assert release["inputs"]["repositoryOpts"]["repo"] == chart.repository
    assert crds["urn"] in operator["dependsOn"]
    namespace = next(r for r in result.document["resources"] if r["name"] == f"{cluster}-calico-namespace")
    assert namespace["urn"] in crds["dependsOn"] and urn_of(result, f"{cluster}-api-ready") in namespace["dependsOn"]
    assert result.document["outputs"]["addons"]["calico"] == versions.CHARTS["tigera-operator"].version


@pytest.mark.parametrize("stack, mtu", [("dev", 8951), ("prod", 8951), ("metal", 1450)])
def test_calico_pool_is_the_pod_subnet_with_the_right_encapsulation_and_mtu(stack, mtu):
    s = settings(stack)
    values = releases(shipped_plan(stack))["tigera-operator"]["inputs"]["values"]
    network = values["installation"]["calicoNetwork"]
    assert network["ipPools"][0]["cidr"] == s.network.pod_cidr
    assert network["ipPools"][0]["encapsulation"] == s.network.calico_encapsulation == "VXLAN"
    assert network["mtu"] == mtu and network["bgp"] == "Disabled"
    # The address each node registered with (kubeadm's node-ip: its internal address), not the first NIC found.
    assert network["nodeAddressAutodetectionV4"] == {"kubernetes": "NodeInternalIP"}
    assert unknown_keys("tigera-operator", values) == []


def test_mtu_follows_the_encapsulation_and_the_host_network():
    s = settings("metal")
    for encapsulation, expected in (("IPIP", 1480), ("None", 1500), ("VXLANCrossSubnet", 1450)):
        changed = dataclasses.replace(s, network=dataclasses.replace(s.network, calico_encapsulation=encapsulation))
        values = calico.values(changed, "203.0.113.10", 6443)
        assert values["installation"]["calicoNetwork"]["mtu"] == expected
        assert values["installation"]["calicoNetwork"]["bgp"] == ("Disabled" if "VXLAN" in encapsulation
                                                                  else "Enabled")


# --- storage -------------------------------------------------------------------------------------------------

KINDS_WE_DECLARE = ("kubernetes:core/v1:", "kubernetes:apps/v1:", "kubernetes:batch/v1:",
                    "kubernetes:networking.k8s.io/v1:", "kubernetes:rbac.authorization.k8s.io/v1:",
                    "kubernetes:storage.k8s.io/v1:")


def _revealed(value):
    """Inputs with secret wrappers removed (the schema checks the values, secret or not)."""
    if isinstance(value, dict):
        return _revealed(value["value"]) if is_wrapped_secret(value) else {k: _revealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_revealed(v) for v in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value


def declared_objects(result) -> list[dict]:
    """The Kubernetes objects the program declares itself, as manifests (the plan's inputs)."""
    return [_revealed(r.inputs) for r in result.registrations if r.type.startswith(KINDS_WE_DECLARE)]


@pytest.mark.parametrize("stack", STACKS)
def test_objects_the_program_declares_validate_against_the_cluster_versions_schemas(stack):
    import kubernetes_validate
    version = settings(stack).kubernetes_version.rsplit(".", 1)[0] + ".0"
    objects = declared_objects(shipped_plan(stack))
    assert objects
    for manifest in objects:
        kubernetes_validate.validate(manifest, version, strict=True)


def test_schema_validation_refuses_a_misspelled_field():
    import kubernetes_validate
    from components.addons.storage import values as storage
    manifest = storage.ebs_storage_class("prod")
    manifest["volumeBindingMod"] = manifest.pop("volumeBindingMode")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(manifest, "1.35.0", strict=True)


@pytest.mark.parametrize("stack, reclaim", [("dev", "Delete"), ("prod", "Retain")])
def test_aws_storage_is_the_ebs_driver_with_an_encrypted_gp3_default_class(stack, reclaim):
    result = shipped_plan(stack)
    s = settings(stack)
    driver = releases(result)["aws-ebs-csi-driver"]
    assert driver["inputs"]["version"] == versions.CHARTS["aws-ebs-csi-driver"].version
    assert driver["inputs"]["namespace"] == "kube-system"
    assert unknown_keys("aws-ebs-csi-driver", driver["inputs"]["values"]) == []
    assert releases(result)["tigera-operator"]["urn"] in driver["dependsOn"], "pods need the network first"
    values = driver["inputs"]["values"]
    assert values["node"]["hostNetwork"] is True and values["controller"]["region"] == s.region
    # What outlives a destroy is found by the tag kubernetes.io/cluster/<cluster> (README "Tear down").
    assert values["controller"]["k8sTagClusterId"] == s.cluster_name
    assert values["controller"]["nodeSelector"] == {"node-role.kubernetes.io/control-plane": ""}
    (storage_class,) = of_type(result, "kubernetes:storage.k8s.io/v1:StorageClass")
    assert storage_class["inputs"]["parameters"]["encrypted"] == "true"
    assert storage_class["inputs"]["parameters"]["type"] == "gp3"
    assert storage_class["inputs"]["reclaimPolicy"] == reclaim
    assert storage_class["inputs"]["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert driver["urn"] in storage_class["dependsOn"]
    assert result.document["outputs"]["addons"]["storageClass"] == "gp3-encrypted"


def test_only_control_planes_carry_aws_permissions_and_a_hop_limit_of_two():
    result = shipped_plan("prod")
    (attachment,) = of_type(result, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment["inputs"]["policyArn"].endswith("AmazonEBSCSIDriverPolicy")
    for machine in of_type(result, "aws:ec2/instance:Instance"):
        role = machine["inputs"]["tags"]["role"]
        hop = machine["inputs"]["metadataOptions"]["httpPutResponseHopLimit"]
        assert machine["inputs"]["metadataOptions"]["httpTokens"] == "required"
        if role == "control-plane":
            assert hop == 2 and machine["inputs"]["iamInstanceProfile"], machine["name"]
        else:
            assert hop == 1 and not machine["inputs"].get("iamInstanceProfile"), machine["name"]


def test_bare_metal_storage_is_local_path_unless_the_stack_names_a_class(tmp_path):
    result = shipped_plan("metal")
    (storage_class,) = of_type(result, "kubernetes:storage.k8s.io/v1:StorageClass")
    assert storage_class["inputs"]["provisioner"] == "rancher.io/local-path"
    (deployment,) = of_type(result, "kubernetes:apps/v1:Deployment")
    container = deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == versions.LOCAL_PATH_PROVISIONER_IMAGE and container["resources"]["requests"]
    assert not [r for r in of_type(result, RELEASE) if r["inputs"]["name"] == "aws-ebs-csi-driver"]

    from tests.helpers import write_stack
    from tests.baremetal.test_stack import metal_document
    from tools.plan import build_plan
    addons = {"domain": "k8s-metal.example.com", "storage": {"className": "san-fast"}}
    own = build_plan("custom", write_stack(tmp_path, metal_document(addons=addons)))
    assert not of_type(own, "kubernetes:storage.k8s.io/v1:StorageClass")
    assert own.document["outputs"]["addons"]["storageClass"] == "san-fast"


def test_addon_settings_are_checked():
    from components.settings.addons import read_addons
    from components.settings.reader import Problems
    problems = Problems()
    assert read_addons({"storage": {"className": "gp2"}}, bare_metal=False, problems=problems) is not None
    assert "applies to bare metal only" in problems.items[0].message
    problems = Problems()
    assert read_addons({"calico": {"enabled": "no"}, "storag": {}}, bare_metal=True, problems=problems) is None
    found = {p.path: p.message for p in problems.items}
    assert "did you mean 'storage'" in found["addons.storag"] and "true or false" in found["addons.calico.enabled"]


# --- monitoring ----------------------------------------------------------------------------------------------


def monitoring_values(result):
    return unwrapped(raw_inputs(result, next(r["name"] for r in of_type(result, RELEASE)
                                             if r["inputs"]["name"] == "kube-prometheus-stack"))["values"])


@pytest.mark.parametrize("stack", STACKS)
def test_monitoring_is_pinned_after_storage_with_valid_keys_and_a_secret_password(stack):
    result = shipped_plan(stack)
    release = releases(result)["kube-prometheus-stack"]
    assert release["inputs"]["version"] == versions.CHARTS["kube-prometheus-stack"].version
    assert release["inputs"]["values"] == "[secret]", "the values carry Grafana's password"
    values = monitoring_values(result)
    assert unknown_keys("kube-prometheus-stack", values) == []
    storage_class = settings(stack).addons.storage_class or result.document["outputs"]["addons"]["storageClass"]
    claim = values["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == storage_class
    namespace_urn = next(r["urn"] for r in result.document["resources"] if r["name"].endswith("monitoring-namespace"))
    assert namespace_urn in release["dependsOn"]
    namespace = next(r for r in result.document["resources"] if r["urn"] == namespace_urn)
    storage_ready = [r["urn"] for r in of_type(result, "kubernetes:storage.k8s.io/v1:StorageClass")]
    assert storage_ready and set(storage_ready) <= set(namespace["dependsOn"]), "persistence waits for storage"
    assert result.document["outputs"]["grafanaAdminPassword"] == "[secret]"
    password = next(r for r in of_type(result, "random:index/randomPassword:RandomPassword")
                    if r["name"].endswith("grafana-admin"))
    clear = (plan_mocks.digest(password["type"], password["name"]) * 4)[:24]
    assert values["grafana"]["adminPassword"] == clear and clear not in plan_json(result)


def test_lab_and_prod_differ_in_retention_replicas_and_sizes():
    from components.addons.monitoring import values as monitoring
    lab = monitoring.values(monitoring.size_for("lab"), "local-path", "pw", None)
    prod = monitoring.values(monitoring.size_for("prod"), "local-path", "pw", None)
    assert lab["prometheus"]["prometheusSpec"]["retention"] == "2d"
    assert prod["prometheus"]["prometheusSpec"]["retention"] == "15d"
    assert (lab["prometheus"]["prometheusSpec"]["replicas"], prod["prometheus"]["prometheusSpec"]["replicas"]) == (1, 2)
    assert prod["alertmanager"]["alertmanagerSpec"]["replicas"] == 3
    storage = lambda v: v["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]  # noqa: E731
    assert storage(lab)["resources"]["requests"]["storage"] == "10Gi"
    assert storage(prod)["resources"]["requests"]["storage"] == "200Gi"
    tuned = monitoring.values(monitoring.size_for("prod", "30d", 400), "x", "pw", None)
    assert tuned["prometheus"]["prometheusSpec"]["retention"] == "30d"
    assert tuned["prometheus"]["prometheusSpec"]["retentionSize"] == "340GB"


def test_the_kubeadm_control_plane_is_scraped_where_it_listens():
    from components.bootstrap import node_config
    values = monitoring_values(shipped_plan("prod"))
    assert values["kubeEtcd"]["service"]["targetPort"] == node_config.ETCD_METRICS_PORT == 2381
    assert values["kubeEtcd"]["serviceMonitor"]["scheme"] == "http"
    for component, port in (("kubeControllerManager", 10257), ("kubeScheduler", 10259)):
        assert values[component]["service"]["targetPort"] == port
        assert values[component]["serviceMonitor"] == {"https": True, "insecureSkipVerify": True}
    assert values["kubeProxy"]["service"]["targetPort"] == node_config.KUBE_PROXY_METRICS_PORT
    assert values["defaultRules"]["create"] is True
    # ... and the control plane really listens there (the kubeadm configuration the bootstrap writes).
    init = shipped_plan("prod").artifacts["hosts/k8s-prod-cp-0/kubeadm-init.yaml"]
    assert "listen-metrics-urls" in init and "http://0.0.0.0:2381" in init
    assert init.count("bind-address") >= 2 and "metricsBindAddress: 0.0.0.0:10249" in init


def test_every_workload_has_resource_requests():
    from components.addons.monitoring import values as monitoring
    from components.addons.storage import values as storage
    values = monitoring.values(monitoring.size_for("dev"), "x", "pw", None)
    for path in (("prometheus", "prometheusSpec"), ("alertmanager", "alertmanagerSpec"), ("grafana",),
                 ("prometheusOperator",), ("kube-state-metrics",), ("prometheus-node-exporter",)):
        node = values
        for key in path:
            node = node[key]
        assert node["resources"]["requests"], path
    ebs = storage.ebs_values("dev", "eu-west-1", "k8s-dev")
    assert ebs["controller"]["resources"]["requests"] and ebs["node"]["resources"]["requests"]
    calico_values = calico.values(settings("dev"), "api", 6443)
    assert calico_values["resources"]["requests"]


def test_monitoring_settings_are_checked():
    from components.settings.addons import read_addons
    from components.settings.reader import Problems
    problems = Problems()
    tuned = read_addons({"monitoring": {"retention": "30d", "storageGiB": 400}}, bare_metal=False, problems=problems)
    assert (tuned.monitoring_retention, tuned.monitoring_storage_gib) == ("30d", 400)
    problems = Problems()
    read_addons({"monitoring": {"retention": "30 days"}}, bare_metal=False, problems=problems)
    assert "must be a duration" in problems.items[0].message
    problems = Problems()
    assert read_addons({"storage": {"enabled": False}}, bare_metal=False, problems=problems) is None
    assert problems.items[0].path == "addons.monitoring.enabled" and "needs addons.storage" in problems.items[0].message


# --- logging -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_fluent_bit_ships_to_loki_which_grafana_reads(stack):
    result = shipped_plan(stack)
    found = releases(result)
    loki, fluent_bit = found["loki"], found["fluent-bit"]
    for release, key in ((loki, "loki"), (fluent_bit, "fluent-bit")):
        assert release["inputs"]["version"] == versions.CHARTS[key].version
        assert release["inputs"]["namespace"] == "logging"
        assert unknown_keys(key, release["inputs"]["values"]) == []
    assert loki["urn"] in fluent_bit["dependsOn"]
    values = fluent_bit["inputs"]["values"]
    assert values["tolerations"] == [{"operator": "Exists"}], "runs on control planes too"
    assert "Path             /var/log/containers/*.log" in values["config"]["inputs"]
    assert "_SYSTEMD_UNIT=kubelet.service" in values["config"]["inputs"]
    assert "Host       loki.logging.svc.cluster.local" in values["config"]["outputs"]
    loki_values = loki["inputs"]["values"]
    assert loki_values["singleBinary"]["persistence"]["storageClass"] == \
        result.document["outputs"]["addons"]["storageClass"]
    datasources = monitoring_values(result)["grafana"]["additionalDataSources"]
    assert datasources == [{"name": "Loki", "type": "loki", "access": "proxy",
                            "url": "http://loki.logging.svc.cluster.local:3100"}]


def test_loki_retention_and_size_follow_the_tier():
    from components.addons.logging import values as logging
    lab, prod = logging.loki_values("lab", "x"), logging.loki_values("prod", "x")
    retention = lambda v: v["loki"]["structuredConfig"]["limits_config"]["retention_period"]  # noqa: E731
    assert (retention(lab), retention(prod)) == ("72h", "720h")
    assert (lab["singleBinary"]["persistence"]["size"], prod["singleBinary"]["persistence"]["size"]) == ("10Gi",
                                                                                                         "200Gi")
    assert prod["loki"]["compactor"]["retention_enabled"] is True


# --- ingress -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_traefik_is_the_default_ingress_class_reachable_on_the_nodes(stack):
    result = shipped_plan(stack)
    traefik = releases(result)["traefik"]
    values = traefik["inputs"]["values"]
    assert traefik["inputs"]["version"] == versions.CHARTS["traefik"].version
    assert unknown_keys("traefik", values) == []
    assert values["ingressClass"] == {"enabled": True, "isDefaultClass": True, "name": "traefik"}
    assert releases(result)["tigera-operator"]["urn"] in next(
        r for r in result.document["resources"] if r["name"].endswith("ingress-namespace"))["dependsOn"]
    if stack == "metal":
        assert values["deployment"]["kind"] == "DaemonSet" and values["ports"]["websecure"]["hostPort"] == 443
        assert result.document["outputs"]["ingressAddress"] is None
    else:
        assert values["service"]["spec"]["type"] == "NodePort"
        assert (values["ports"]["web"]["nodePort"], values["ports"]["websecure"]["nodePort"]) == (30080, 30443)
        assert values["deployment"]["replicas"] == (2 if stack == "prod" else 1)
        assert result.document["outputs"]["ingressAddress"].endswith(".elb.eu-west-1.amazonaws.com")

