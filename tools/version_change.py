"""The Kubernetes version change between two plans (their `kubernetesVersion` output), judged by the versions
module's rule: a minor skip or a downgrade is refused in the plan diff, as the upgrade itself refuses it; so is a
new control plane in the same update. Pure."""

from __future__ import annotations

from components import versions
from components.versions import version_change_refusal

EXIT_REFUSED = 4


def refusal(base: dict, head: dict) -> str | None:
    before, after = _version(base), _version(head)
    if not before or not after:
        return None  # a new stack, or a plan without the output: nothing to compare
    reason = version_change_refusal(before, after)
    added = sorted(set(_control_planes(head)) - set(_control_planes(base)))
    if reason is None and before != after and added:
        # Control planes join before the upgrade runs: the new one would join the cluster at `before` with the
        # packages of `after` (kubeadm refuses a kubelet newer than the control plane), and the upgrade waits for it.
        reason = (f"kubernetesVersion {before} -> {after} and a new control plane ({', '.join(added)}) in one "
                  f"update: add the control plane before or after the upgrade (controlPlane.count on AWS, "
                  f"inventory.hosts on bare metal)")
    return reason


def _control_planes(plan: dict) -> list[str]:
    return [n["name"] for n in (plan.get("outputs") or {}).get("nodes") or []
            if isinstance(n, dict) and n.get("role") == "control-plane"]

UPGRADE_STEP = "-upgrade-kubeadm"
BATCH_SUFFIX = "-upgrade-batch"


def _version(plan: dict) -> str | None:
    value = (plan.get("outputs") or {}).get("kubernetesVersion")
    return value if isinstance(value, str) else None


def upgrade_section(base: dict, head: dict) -> list[str]:
    """The upgrade a version change runs, as ordered steps with the batch plan (markdown lines); nothing when the
    version stays or the change is refused."""
    before, after = _version(base), _version(head)
    if not before or not after or before == after or refusal(base, head):
        return []
    resources = head.get("resources", [])
    nodes = [n["name"] for n in (head.get("outputs") or {}).get("nodes") or [] if isinstance(n, dict)]
    by_urn = {r["urn"]: r["name"] for r in resources}
    waits = {r["name"]: {by_urn.get(u, "") for u in r["dependsOn"]} for r in resources}
    upgraded = [n for n in nodes if f"{n}{UPGRADE_STEP}" in waits]
    # A worker's first step waits for the barrier of the batch before it (or, in the first batch, for the last
    # control plane); a batch is the workers whose steps its barrier waits for.
    barriers = [r["name"] for r in resources if r["name"].endswith(BATCH_SUFFIX)]
    in_batch = {n: b for b in barriers for n in upgraded if f"{n}-upgrade-ready" in waits[b]}
    control_planes = [n for n in upgraded if n not in in_batch]
    groups: dict[str, list[str]] = {}
    for name in upgraded:
        if name in in_batch:
            groups.setdefault(in_batch[name], []).append(name)
    kind = "a patch" if before.rsplit(".", 1)[0] == after.rsplit(".", 1)[0] else "the next minor"
    lines = [f"**Upgrade {before} → {after}** ({kind}), in this order:", "",
             f"1. a guard on `{control_planes[0] if control_planes else '?'}` reads the cluster's version and every "
             f"kubelet's; a skipped minor, a downgrade or a node left behind stops the update here",
             f"2. an etcd snapshot on every control plane (`pre-upgrade-v{before}-to-v{after}.db`)",
             "3. control planes one at a time, each drained, upgraded (kubeadm, containerd, then kubelet and kubectl), "
             "Ready and uncordoned: " + ", ".join(f"`{n}`" for n in control_planes)]
    if groups:
        largest = max(len(g) for g in groups.values())
        plan = "; ".join(f"batch {i}: " + ", ".join(f"`{n}`" for n in group)
                         for i, group in enumerate(groups.values(), start=1))
        lines.append(f"4. workers in {len(groups)} batch(es) of at most {largest}, in parallel within a batch: {plan}")
    if versions.kubernetes_minor(before) < versions.CONTAINERD_2_FROM_MINOR <= versions.kubernetes_minor(after):
        lines.append(f"- on each drained node still on containerd 1.7, containerd {versions.CONTAINERD_VERSION} "
                     f"replaces it before the kubelet moves to {after}")
    return lines + [""]
