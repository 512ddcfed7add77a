"""Calico through the tigera-operator chart: the Installation that the operator turns into calico-node. Pure.

The IP pool is the kubeadm pod subnet, the encapsulation comes from the settings (the security groups open exactly
what it needs), and the MTU is the host network's minus the encapsulation's overhead.
"""

from __future__ import annotations

from components.settings import Settings

# Bytes each encapsulation adds to a packet (Calico's documented overheads).
OVERHEAD = {"VXLAN": 50, "VXLANCrossSubnet": 50, "IPIP": 20, "IPIPCrossSubnet": 20, "None": 0}
NAMESPACE = "tigera-operator"


def mtu(s: Settings) -> int:
    return s.network.mtu - OVERHEAD[s.network.calico_encapsulation]


def values(s: Settings, endpoint_host: str, endpoint_port: int) -> dict:
    encapsulation = s.network.calico_encapsulation
    return {
        "installation": {
            "enabled": True,
            "cni": {"type": "Calico"},
            "calicoNetwork": {
                # BGP only carries routes for IP-in-IP or unencapsulated pools; VXLAN needs none (no port 179).
                "bgp": "Enabled" if encapsulation.startswith("IPIP") or encapsulation == "None" else "Disabled",
                "mtu": mtu(s),
                # The address kubeadm registered the node with (its internal address): Calico's default, the first
                # interface found, picks a wrong one on a multi-NIC bare-metal host (a storage or management LAN).
                "nodeAddressAutodetectionV4": {"kubernetes": "NodeInternalIP"},
                "ipPools": [{
                    "name": "default-ipv4-ippool",
                    "cidr": s.network.pod_cidr,
                    "encapsulation": encapsulation,
                    "natOutgoing": "Enabled",
                    "nodeSelector": "all()",
                }],
            },
        },
        # The operator talks to the API before pod networking exists: through the load-balanced endpoint.
        "kubernetesServiceEndpoint": {"host": endpoint_host, "port": str(endpoint_port)},
        # Calico's own aggregated API server, flow logs and their UI are not needed to route pods.
        "apiServer": {"enabled": False},
        "goldmane": {"enabled": False},
        "whisker": {"enabled": False},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
    }
