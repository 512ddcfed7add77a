"""Tags every AWS resource carries. Pure.

cluster, tier, role and pool are what cost reports and the policy pack read; the kubernetes.io/cluster tag is the
one the AWS cloud integrations (EBS CSI, load-balancer controllers) look for.
"""

from __future__ import annotations

from components.settings import Settings

NO_POOL = "none"


def resource_tags(settings: Settings, name: str, role: str, pool: str = NO_POOL) -> dict[str, str]:
    tags = dict(settings.extra_tags)
    tags.update(
        {
            "Name": name,
            "cluster": settings.cluster_name,
            "tier": settings.tier,
            "role": role,
            "pool": pool,
            f"kubernetes.io/cluster/{settings.cluster_name}": "owned",
        }
    )
    return tags
