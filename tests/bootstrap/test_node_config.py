"""Generated kubeadm, kubelet, kube-proxy and containerd documents: only known fields, the right values."""

import dataclasses
import tomllib

import pytest
import yaml

from components import sizing
from components.bootstrap import node_config
from components.bootstrap.node_config import ClusterFacts, NodeFacts
from components.host import Taint
from components.settings.host_system import HostSystemSettings
from components.sizing import NodeSize
from tests.kube_schema import unknown_fields

CLUSTER = ClusterFacts("k8s-prod", "prod", "1.35.4", "api.example.internal:6443",
                       ("api.example.internal", "10.20.128.10"), "10.244.0.0/16", "10.96.0.0/12", 24, 110,
                       "mirror.example.internal/k8s")
CONTAINERS = dataclasses.replace(CLUSTER, host_system=HostSystemSettings(True, True, ("NumCPU",)), monitoring=False)
CP = NodeFacts("k8s-prod-cp-0", "10.20.128.10", "control-plane", NodeSize(4, 8, 100))
WORKER = NodeFacts("k8s-prod-gpu-0", "10.20.128.20", "worker", NodeSize(8, 64, 500), labels=(("gpu", "true"),),
                   taints=(Taint("dedicated", "NoSchedule", "gpu"),))


def all_documents():
    docs = node_config.init_documents(CLUSTER, CP, "abcdef.0123456789abcdef")
    docs.append(node_config.join_configuration(CLUSTER, WORKER, "abcdef.0123456789abcdef", "sha256:00", None))
    docs.append(node_config.join_configuration(CLUSTER, CP, "abcdef.0123456789abcdef", "sha256:00", "ab" * 32))
    # What join-credentials.sh writes: the program's documents, the key the host made appended to the last one.
    *cluster, init = node_config.upload_certs_configuration(CLUSTER)
    docs += [*cluster, {**init, "certificateKey": "ab" * 32}]
    docs += node_config.init_documents(CONTAINERS, CP, "abcdef.0123456789abcdef")
    return docs


@pytest.mark.parametrize("document", all_documents(), ids=lambda d: d["kind"])
def test_every_document_has_only_known_fields(document):
    assert unknown_fields(document) == []


def test_the_checker_catches_a_misspelled_field():
    document = node_config.cluster_configuration(CLUSTER)
    document["networking"]["podSubnets"] = "10.244.0.0/16"
    assert unknown_fields(document) == ["ClusterConfiguration.networking.podSubnets"]


@pytest.mark.parametrize("node", [CP, WORKER], ids=["control-plane", "worker"])
def test_kubelet_patch_fields_are_kubelet_configuration_fields(node):
    patch = node_config.kubelet_patch("prod", node)
    assert unknown_fields(patch, node_config.KUBELET_API, "KubeletConfiguration") == []


def test_cluster_configuration_values():
    c = node_config.cluster_configuration(CLUSTER)
    assert c["controlPlaneEndpoint"] == "api.example.internal:6443"
    assert c["kubernetesVersion"] == "v1.35.4"
    assert c["networking"]["podSubnet"] == "10.244.0.0/16" and c["networking"]["serviceSubnet"] == "10.96.0.0/12"
    assert c["apiServer"]["certSANs"] == ["api.example.internal", "10.20.128.10"]
    assert c["imageRepository"] == "mirror.example.internal/k8s"
    assert {"name": "listen-metrics-urls", "value": "http://0.0.0.0:2381"} in c["etcd"]["local"]["extraArgs"]
    assert {"name": "bind-address", "value": "0.0.0.0"} in c["scheduler"]["extraArgs"]


def test_kubelet_uses_systemd_cgroups_and_max_pods():
    k = node_config.kubelet_configuration(CLUSTER)
    assert k["cgroupDriver"] == "systemd" and k["maxPods"] == 110
    assert k["nodeStatusUpdateFrequency"] == "10s" and k["evictionPressureTransitionPeriod"] == "3m0s"
    assert "failCgroupV1" not in k


def test_the_full_node_status_is_written_every_5_minutes_not_at_every_10_s_update():
    # Left out, the kubelet's defaulting copies nodeStatusUpdateFrequency into it (10 s).
    assert node_config.kubelet_configuration(CLUSTER)["nodeStatusReportFrequency"] == "5m0s"


def test_metrics_listen_beyond_loopback_only_when_in_cluster_prometheus_scrapes_them():
    scraped = node_config.cluster_configuration(CLUSTER)
    assert {"name": "bind-address", "value": "0.0.0.0"} in scraped["controllerManager"]["extraArgs"]
    private = node_config.cluster_configuration(CONTAINERS)
    for component in ("controllerManager", "scheduler"):
        assert {"name": "bind-address", "value": "127.0.0.1"} in private[component]["extraArgs"]
    assert private["etcd"]["local"] == {}, "kubeadm's own default: etcd's metrics on http://127.0.0.1:2381"


def test_upload_certs_reads_the_clusters_version_so_kubeadm_looks_nothing_up_online():
    *cluster, init = node_config.upload_certs_configuration(CLUSTER)
    assert [d["kind"] for d in cluster] == ["ClusterConfiguration"] and init["kind"] == "InitConfiguration"
    assert cluster[0]["kubernetesVersion"] == "v1.35.4"


def test_hosts_on_cgroup_v1_and_in_containers_get_what_they_need_and_nothing_more():
    kubelet = node_config.kubelet_configuration(CONTAINERS)
    assert kubelet["failCgroupV1"] is False
    init = node_config.init_configuration(CONTAINERS, CP, "abcdef.0123456789abcdef")
    assert init["nodeRegistration"]["ignorePreflightErrors"] == ["NumCPU", "SystemVerification"]
    join = node_config.join_configuration(CONTAINERS, WORKER, "t", "sha256:00", None)
    assert join["nodeRegistration"]["ignorePreflightErrors"] == ["NumCPU", "SystemVerification"]
    assert node_config.kube_proxy_configuration(CONTAINERS)["conntrack"] == {"maxPerCore": 0, "min": 0}
    runtime = tomllib.loads(node_config.containerd_config(CONTAINERS))["plugins"]["io.containerd.cri.v1.runtime"]
    assert runtime["restrict_oom_score_adj"] is True
    plain = tomllib.loads(node_config.containerd_config(CLUSTER))["plugins"]["io.containerd.cri.v1.runtime"]
    assert "restrict_oom_score_adj" not in plain
    assert "conntrack" not in node_config.kube_proxy_configuration(CLUSTER)
    assert "ignorePreflightErrors" not in node_config.init_configuration(CLUSTER, CP, "t")["nodeRegistration"]


def test_reservations_follow_the_sizing_module():
    patch = node_config.kubelet_patch("prod", WORKER)
    r = sizing.kubelet_reservations("prod", WORKER.capacity)
    assert patch["systemReserved"] == {"cpu": f"{r.system_cpu_m}m", "memory": f"{r.system_memory_mib}Mi"}
    assert patch["evictionHard"]["memory.available"] == "1024Mi"
    assert patch["evictionMinimumReclaim"]["imagefs.available"] == "1024Mi"


# The signals the kubelet evicts on by default on Linux (pkg/kubelet/eviction defaults): set one, and the kubelet
# drops the others, so each must be in our evictionHard.
KUBELET_DEFAULT_SIGNALS = {"memory.available", "nodefs.available", "nodefs.inodesFree", "imagefs.available",
                           "imagefs.inodesFree"}


@pytest.mark.parametrize("tier", ["lab", "dev", "prod"])
def test_hard_eviction_keeps_every_signal_the_kubelet_evicts_on_by_default(tier):
    thresholds = node_config.kubelet_patch(tier, WORKER)["evictionHard"]
    assert KUBELET_DEFAULT_SIGNALS <= set(thresholds), KUBELET_DEFAULT_SIGNALS - set(thresholds)
    assert thresholds["nodefs.inodesFree"] == thresholds["imagefs.inodesFree"] == "5%"


def test_node_registration_taints_labels_and_address():
    init = node_config.init_configuration(CLUSTER, CP, "abcdef.0123456789abcdef")
    assert init["nodeRegistration"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane",
                                                   "effect": "NoSchedule"}]
    assert init["localAPIEndpoint"]["advertiseAddress"] == "10.20.128.10"
    assert init["bootstrapTokens"][0]["ttl"] == "1h0m0s"
    join = node_config.join_configuration(CLUSTER, WORKER, "t", "sha256:00", None)
    assert join["nodeRegistration"]["taints"] == [{"key": "dedicated", "effect": "NoSchedule", "value": "gpu"}]
    assert {"name": "node-labels", "value": "gpu=true"} in join["nodeRegistration"]["kubeletExtraArgs"]
    assert "controlPlane" not in join


def test_containerd_config_parses_and_matches_kubelet():
    config = tomllib.loads(node_config.containerd_config(CLUSTER))
    assert config["version"] == 3  # containerd 2's layout (tests/bootstrap/test_containerd_config.py has it read)
    plugins = config["plugins"]
    images, runtime = plugins["io.containerd.cri.v1.images"], plugins["io.containerd.cri.v1.runtime"]
    assert runtime["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True
    assert images["pinned_images"]["sandbox"] == "mirror.example.internal/k8s/pause:3.10.1"
    assert images["registry"]["config_path"] == "/etc/containerd/certs.d"


def test_multi_document_yaml_round_trips():
    documents = node_config.init_documents(CLUSTER, CP, "abcdef.0123456789abcdef")
    assert list(yaml.safe_load_all(node_config.to_yaml(documents))) == documents
