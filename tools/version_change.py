"""The Kubernetes version change between two plans (their `kubernetesVersion` output), judged by the versions
module's rule: a minor skip or a downgrade is refused in the plan diff, as the upgrade itself refuses it. Pure."""

from __future__ import annotations

from components.versions import version_change_refusal

EXIT_REFUSED = 4


def refusal(base: dict, head: dict) -> str | None:
    before = (base.get("outputs") or {}).get("kubernetesVersion")
    after = (head.get("outputs") or {}).get("kubernetesVersion")
    if not isinstance(before, str) or not isinstance(after, str):
        return None  # a new stack, or a plan without the output: nothing to compare
    return version_change_refusal(before, after)
