"""What the nodes run on: hosts set up for what production nodes must not be (hostSystem), and a cluster the
platform gives no pod network (addons.calico off). Read from the Node components (components/node_records.py)."""

from __future__ import annotations

from cluster_policies import facts

_RELAXED = {"cgroupV1": "still run cgroup v1 (the kubelet told not to refuse it, kubeadm's system check let pass)",
            "containers": "are containers (the kernel, its conntrack table and the clock belong to the machine "
                          "below them)",
            "ignorePreflightErrors": "let kubeadm preflight errors pass"}


def _nodes(resources) -> list:
    return [r for r in resources if r.resource_type == facts.NODE and r.props.get("podNetwork") is not None]


def validate_production_hosts(args, report_violation) -> None:
    if facts.one_tier(args.resources) != "prod":
        return
    relaxed = sorted({item for node in _nodes(args.resources) for item in node.props.get("hostSystemRelaxed") or []})
    if relaxed:
        reasons = "; ".join(f"hosts that {_RELAXED.get(item, item)} (hostSystem.{item})" for item in relaxed)
        report_violation(f"prod nodes are set up for {reasons}: production nodes run on machines of their own, "
                         f"on cgroup v2, and pass every kubeadm preflight check", None)


def validate_pod_network(args, report_violation) -> None:
    if facts.one_tier(args.resources) != "prod":
        return
    if any(node.props.get("podNetwork") == "none" for node in _nodes(args.resources)):
        report_violation("the platform installs no pod network (addons.calico.enabled: false): the nodes turn Ready "
                         "only once your own CNI runs on them, and NetworkPolicies (the platform's own among them: "
                         "only logging and monitoring reach Loki) are enforced only if your CNI enforces them", None)
