"""Which traffic the cluster's security groups admit. Pure: the AWS component only declares these rules.

Groups: "nodes" (every cluster machine), "control-plane" (control planes, in addition to "nodes"), "api-lb" (the
API load balancer) and "bastion". A rule admits from CIDRs or from another group; nothing is open that is not here.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.settings import Settings

NODES, CONTROL_PLANE, API_LB, BASTION, INGRESS_LB = "nodes", "control-plane", "api-lb", "bastion", "ingress-lb"
API_PORT = 6443
# The ingress controller's fixed NodePorts (addons/ingress/values.py) behind the ingress load balancer's 80 and 443.
INGRESS_PORTS = ((80, 30080), (443, 30443))
ANYWHERE = "0.0.0.0/0"
# What in-cluster Prometheus scrapes on the nodes' own addresses (the monitoring add-on's values; the node-exporter
# chart's default port, on the host network). Pods reach another node's address from their node's (Calico's
# natOutgoing), so these are admitted from the nodes group. tests/aws/test_firewall.py checks them against the
# monitoring values and the charts' defaults.
NODE_EXPORTER_PORT = 9100


@dataclass(frozen=True)
class Rule:
    slug: str  # unique within its group; part of the resource name
    group: str
    direction: str  # "ingress" or "egress"
    protocol: str  # "tcp", "udp", "4" (IP-in-IP) or "-1" (all)
    from_port: int | None
    to_port: int | None
    description: str
    cidr: str | None = None
    peer_group: str | None = None


def _cidr_slug(cidr: str) -> str:
    return cidr.replace(".", "-").replace("/", "-")


def groups(settings: Settings) -> tuple[str, ...]:
    return ((NODES, CONTROL_PLANE, API_LB) + ((BASTION,) if settings.nodes_private else ())
            + ((INGRESS_LB,) if settings.addons.ingress else ()))


def rules(settings: Settings) -> list[Rule]:
    out: list[Rule] = []

    def tcp(slug, group, port_from, port_to, description, direction="ingress", cidr=None, peer=None):
        out.append(Rule(slug, group, direction, "tcp", port_from, port_to, description, cidr, peer))

    # The API: clients reach the load balancer; it and the nodes reach the apiservers.
    for cidr in settings.access.api_allowed_cidrs:
        tcp(f"api-from-{_cidr_slug(cidr)}", API_LB, API_PORT, API_PORT, f"Kubernetes API from allowed network {cidr}",
            cidr=cidr)
    tcp("api-from-nodes", API_LB, API_PORT, API_PORT, "Kubernetes API from cluster nodes (kubelets, joins)",
        peer=NODES)
    tcp("api-to-control-planes", API_LB, API_PORT, API_PORT, "Forward API traffic and health checks to apiservers",
        direction="egress", peer=CONTROL_PLANE)
    tcp("api-from-lb", CONTROL_PLANE, API_PORT, API_PORT, "Kubernetes API and readiness checks from the load balancer",
        peer=API_LB)
    tcp("api-from-nodes", CONTROL_PLANE, API_PORT, API_PORT, "Kubernetes API from nodes via the kubernetes Service",
        peer=NODES)
    tcp("etcd-peers", CONTROL_PLANE, 2379, 2380, "etcd client and peer traffic between control planes only",
        peer=CONTROL_PLANE)

    # Also what lets the API server reach metrics-server's pods where Calico does not encapsulate (CrossSubnet
    # within a subnet, None): they listen on 10250 too (addons/metrics_server/values.py), so no rule of their own,
    # which AWS would refuse as a duplicate (tests/aws/test_firewall.py).
    tcp("kubelet", NODES, 10250, 10250, "kubelet API from control planes and in-cluster scrapers", peer=NODES)
    if settings.addons.monitoring:
        tcp("node-exporter-metrics", NODES, NODE_EXPORTER_PORT, NODE_EXPORTER_PORT,
            "node-exporter metrics for in-cluster Prometheus", peer=NODES)
        tcp("kube-proxy-metrics", NODES, 10249, 10249, "kube-proxy metrics for in-cluster Prometheus", peer=NODES)
        tcp("controller-manager-metrics", CONTROL_PLANE, 10257, 10257,
            "kube-controller-manager metrics for in-cluster Prometheus", peer=NODES)
        tcp("scheduler-metrics", CONTROL_PLANE, 10259, 10259, "kube-scheduler metrics for in-cluster Prometheus",
            peer=NODES)
        tcp("etcd-metrics", CONTROL_PLANE, 2381, 2381, "etcd metrics for in-cluster Prometheus", peer=NODES)
    tcp("calico-typha", NODES, 5473, 5473, "Calico Typha from Felix on every node", peer=NODES)
    encapsulation = settings.network.calico_encapsulation
    if encapsulation.startswith("VXLAN"):
        out.append(Rule("calico-vxlan", NODES, "ingress", "udp", 4789, 4789, "Calico VXLAN pod traffic between nodes",
                        peer_group=NODES))
    if encapsulation.startswith("IPIP"):
        out.append(Rule("calico-ipip", NODES, "ingress", "4", None, None, "Calico IP-in-IP pod traffic between "
                        "nodes", peer_group=NODES))
    if encapsulation.startswith("IPIP") or encapsulation == "None":
        tcp("calico-bgp", NODES, 179, 179, "Calico BGP route exchange between nodes", peer=NODES)
    if encapsulation.endswith("CrossSubnet") or encapsulation == "None":
        pods = settings.network.pod_cidr
        out.append(Rule("pods-unencapsulated", NODES, "ingress", "-1", None, None,
                        f"Unencapsulated pod traffic from the pod network {pods}", cidr=pods))

    if settings.nodes_private:
        tcp("ssh-from-bastion", NODES, 22, 22, "SSH from the bastion only", peer=BASTION)
        for cidr in settings.access.ssh_allowed_cidrs:
            tcp(f"ssh-from-{_cidr_slug(cidr)}", BASTION, 22, 22, f"SSH to the bastion from allowed network {cidr}",
                cidr=cidr)
        tcp("ssh-to-nodes", BASTION, 22, 22, "SSH onward to cluster nodes", direction="egress", peer=NODES)
        tcp("https-out", BASTION, 443, 443, "HTTPS for the bastion's security updates", direction="egress",
            cidr=ANYWHERE)
    else:
        for cidr in settings.access.ssh_allowed_cidrs:
            tcp(f"ssh-from-{_cidr_slug(cidr)}", NODES, 22, 22, f"SSH from allowed network {cidr}", cidr=cidr)

    if settings.addons.ingress:
        # HTTPS (and HTTP, redirected) from the allowed networks and from the nodes (pulling from Harbor).
        for port, node_port in INGRESS_PORTS:
            for cidr in settings.access.api_allowed_cidrs:
                tcp(f"ingress-{port}-from-{_cidr_slug(cidr)}", INGRESS_LB, port, port,
                    f"Ingress port {port} from allowed network {cidr}", cidr=cidr)
            tcp(f"ingress-{port}-from-nodes", INGRESS_LB, port, port, f"Ingress port {port} from cluster nodes",
                peer=NODES)
            tcp(f"ingress-to-nodes-{node_port}", INGRESS_LB, node_port, node_port,
                f"Forward ingress port {port} to the ingress controller's NodePort", direction="egress", peer=NODES)
            tcp(f"ingress-node-port-{node_port}", NODES, node_port, node_port,
                f"Ingress controller NodePort {node_port} from the ingress load balancer", peer=INGRESS_LB)

    out.append(Rule("all-out", NODES, "egress", "-1", None, None,
                    "Outbound for packages, images and AWS APIs (through NAT when private)", cidr=ANYWHERE))
    return out


def needs_source_dest_check_off(settings: Settings) -> bool:
    """Calico sends some pod traffic unencapsulated (CrossSubnet modes, or no encapsulation): the VPC must then
    let instances forward packets whose addresses are not their own."""
    encapsulation = settings.network.calico_encapsulation
    return encapsulation.endswith("CrossSubnet") or encapsulation == "None"
