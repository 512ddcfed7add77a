"""The kubeadm bootstrap: preflight of every host before it changes, host preparation, containerd and the
Kubernetes packages, `kubeadm init` on the first control plane, control-plane joins one at a time, worker joins,
removal of nodes that leave; the kubeadm, kubelet and containerd configuration as data (node_config.py).

Sees hosts only as `Host` records. May import: settings, sizing, the seams, remote and its own modules; never aws,
baremetal or addons.
"""
