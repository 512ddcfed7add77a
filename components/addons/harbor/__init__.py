"""Harbor, the cluster's registry, behind the ingress, with proxy caches."""
