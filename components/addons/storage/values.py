"""Persistent storage: a default StorageClass every stateful add-on uses. Pure.

AWS: the EBS CSI driver with encrypted gp3 volumes. Its controller runs on the control planes, whose instance
profile alone carries the EBS permissions and whose metadata hop limit lets a pod reach them; its node plugin uses
the host network, so the workers keep a hop limit of 1 and no cloud permissions at all.
Bare metal: local-path-provisioner (a directory on the node that runs the pod), unless the stack names a
StorageClass of its own.
"""

from __future__ import annotations

from components import versions
from components.addons.manifests import MANAGED_BY, namespace
from components.host import CONTROL_PLANE

EBS_CLASS = "gp3-encrypted"
LOCAL_CLASS = "local-path"
LOCAL_NAMESPACE = "local-path-storage"
LOCAL_DIRECTORY = "/var/lib/local-path-provisioner"
DEFAULT_CLASS_ANNOTATION = {"storageclass.kubernetes.io/is-default-class": "true"}
CONTROL_PLANE_SCHEDULING = {
    "nodeSelector": {f"node-role.kubernetes.io/{CONTROL_PLANE}": ""},
    "tolerations": [{"key": f"node-role.kubernetes.io/{CONTROL_PLANE}", "operator": "Exists",
                     "effect": "NoSchedule"}],
}


def reclaim_policy(tier: str) -> str:
    # A deleted claim in prod keeps its volume until someone decides: data is never lost to a typo.
    return "Retain" if tier == "prod" else "Delete"


def ebs_values(tier: str, region: str, cluster_name: str) -> dict:
    return {
        "controller": {
            "region": region,
            # Every volume it makes is tagged kubernetes.io/cluster/<cluster>=owned: what outlives a destroy (the
            # volumes of claims no one deleted, and in prod every released one) is found by that tag.
            "k8sTagClusterId": cluster_name,
            "replicaCount": 2 if tier == "prod" else 1,
            **CONTROL_PLANE_SCHEDULING,
            "resources": {"requests": {"cpu": "10m", "memory": "40Mi"}},
        },
        "node": {
            "hostNetwork": True,  # instance metadata with a hop limit of 1
            "tolerateAllTaints": True,
            "resources": {"requests": {"cpu": "10m", "memory": "40Mi"}},
        },
        # The program declares the class itself (below): one place for its parameters.
        "defaultStorageClass": {"enabled": False},
    }


def ebs_storage_class(tier: str) -> dict:
    return {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": EBS_CLASS, "labels": MANAGED_BY, "annotations": DEFAULT_CLASS_ANNOTATION},
        "provisioner": "ebs.csi.aws.com",
        "parameters": {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"},
        "reclaimPolicy": reclaim_policy(tier),
        # Bind where the pod lands: an EBS volume lives in one zone.
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }


def local_path_objects(tier: str) -> list[dict]:
    """local-path-provisioner: its namespace, identity, permissions, configuration, deployment and class."""
    labels = {"app.kubernetes.io/name": "local-path-provisioner", **MANAGED_BY}
    name = "local-path-provisioner"
    config = ('{"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["' + LOCAL_DIRECTORY
              + '"]}]}')
    setup = ("#!/bin/sh\nset -eu\nmkdir -m 0777 -p \"$VOL_DIR\"\n")
    teardown = ("#!/bin/sh\nset -eu\nrm -rf \"$VOL_DIR\"\n")
    helper_pod = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: helper-pod\nspec:\n  priorityClassName: "
                  "system-node-critical\n  tolerations:\n    - operator: Exists\n  containers:\n    - name: "
                  f"helper-pod\n      image: {versions.HELPER_IMAGE}\n      resources:\n        requests:\n"
                  "          cpu: 10m\n          memory: 16Mi\n")
    return [
        # The helper pods mount host paths.
        namespace(LOCAL_NAMESPACE, pod_security="privileged"),
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": name, "namespace": LOCAL_NAMESPACE, "labels": labels}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": name, "labels": labels},
         "rules": [
             {"apiGroups": [""], "resources": ["nodes", "persistentvolumeclaims", "configmaps", "pods", "pods/log"],
              "verbs": ["get", "list", "watch"]},
             {"apiGroups": [""], "resources": ["persistentvolumes", "pods"],
              "verbs": ["get", "list", "watch", "create", "patch", "update", "delete"]},
             {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
             {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": ["get", "list", "watch"]},
         ]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": name, "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": LOCAL_NAMESPACE}]},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "local-path-config", "namespace": LOCAL_NAMESPACE, "labels": labels},
         "data": {"config.json": config, "setup": setup, "teardown": teardown, "helperPod.yaml": helper_pod}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": name, "namespace": LOCAL_NAMESPACE, "labels": labels},
         "spec": {
             "replicas": 1,
             "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
             "template": {
                 "metadata": {"labels": labels},
                 "spec": {
                     "serviceAccountName": name,
                     **CONTROL_PLANE_SCHEDULING,
                     "containers": [{
                         "name": name,
                         "image": versions.LOCAL_PATH_PROVISIONER_IMAGE,
                         "command": ["local-path-provisioner", "--debug", "start", "--config",
                                     "/etc/config/config.json"],
                         "env": [{"name": "POD_NAMESPACE",
                                  "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                                 {"name": "CONFIG_MOUNT_PATH", "value": "/etc/config/"}],
                         "resources": {"requests": {"cpu": "10m", "memory": "32Mi"},
                                       "limits": {"memory": "128Mi"}},
                         "volumeMounts": [{"name": "config", "mountPath": "/etc/config/"}],
                     }],
                     "volumes": [{"name": "config", "configMap": {"name": "local-path-config"}}],
                 },
             },
         }},
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
         "metadata": {"name": LOCAL_CLASS, "labels": labels, "annotations": DEFAULT_CLASS_ANNOTATION},
         "provisioner": "rancher.io/local-path",
         "reclaimPolicy": reclaim_policy(tier),
         "volumeBindingMode": "WaitForFirstConsumer"},
    ]
