"""The cluster's default StorageClass and what provisions it (see storage/values.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.addons.kube import declare, on_cluster, release
from components.addons.storage import values as storage
from components.settings import Settings


@dataclass(frozen=True)
class StorageArgs:
    settings: Settings
    provider: k8s.Provider
    after: list  # API readiness and pod networking


class Storage(pulumi.ComponentResource):
    class_name: str | None  # the default StorageClass, None when storage is off
    ready: list  # what a workload with persistence must wait for

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:addons:Storage", name, None, opts)
        s = args.settings

        def child(*depends_on) -> pulumi.ResourceOptions:
            return on_cluster(self, args.provider, *depends_on)

        self.class_name, self.ready = None, []
        if not s.addons.storage:
            pass
        elif not s.bare_metal:
            driver = release(f"{name}-ebs-csi", "aws-ebs-csi-driver", "kube-system",
                             storage.ebs_values(s.tier, s.region, s.cluster_name), child(*args.after))
            self.class_name = storage.EBS_CLASS
            self.ready = [declare(f"{name}-class", storage.ebs_storage_class(s.tier), child(driver))]
        elif s.addons.storage_class:
            self.class_name = s.addons.storage_class  # the stack's own class, provisioned outside this program
            self.ready = list(args.after)
        else:
            objects = storage.local_path_objects(s.tier)
            ns = declare(f"{name}-namespace", objects[0], child(*args.after))
            declared = [declare(f"{name}-{o['kind'].lower()}", o, child(ns)) for o in objects[1:]]
            self.class_name = storage.LOCAL_CLASS
            self.ready = declared
        self.register_outputs({"storageClass": self.class_name})
