"""What a host step that runs again does, by the suffix of its name: the plan diff's words for reviewers. Pure."""

STEP_MEANING = {
    "-init": "the first control plane's init step runs again (it skips what is done, and a cluster that answers "
             "at the endpoint: a new first machine joins it)",
    "-join": "the node's join step runs again (a node that has joined is not joined twice)",
    "-prepare": "host preparation runs again",
    "-install": "containerd and the kubeadm/kubelet packages are installed again (on a node that has joined a version "
                "change waits for the upgrade steps)",
    "-preflight": "the host's preflight checks run again",
    "-registry-trust": "the node's registry trust is written again",
    "-load-balancer": "haproxy/keepalived are configured again (reloaded only if their config changed)",
    "-labels": "the node's labels and taints applied through the API (the ones the settings dropped removed)",
    "-upgrade-kubelet": "new kubelet config (reservations, eviction, maxPods) applied, kubelet restarted node by node",
    "-certificates": "the control plane's certificate step runs: it renews what the read found due (kubeadm certs "
                     "renew all, then its static pods restarted, one control plane at a time), or records that "
                     "nothing is due any more",
    "-kubeconfig": "the admin kubeconfig is read again from the first control plane (its certificate was renewed)",
    "-web-certificates-ca": "the web hosts' certificates are issued again where they expire within 30 days",
}

# What runs as a node's steps are deleted (the node left the settings), in the order Pulumi deletes them.
REMOVAL_MEANING = {
    "-member": "1. the node's mark goes on the control plane: its removal steps may act",
    "-leave": "2. runs as it is deleted: drains the node (5 min, PodDisruptionBudgets hold; cordoned if not Ready), "
              "removes a control plane's etcd member (quorum checked), deletes its Node",
    "-reset": "3. runs as it is deleted, on the host: kubeadm reset and the kubelet disabled, once the cluster has no "
              "Node of its name (a dead host: see docs/troubleshooting.md, \"Remove a dead node\")",
}
