"""Cluster add-ons, one package each: `values.py` builds its chart values or manifests (pure, no Pulumi, tested
directly) and `component.py` declares it. `install.py` installs them in dependency order; `kube.py` holds what
every component shares (pinned releases, child options), `manifests.py` the plain objects they share.

Sees the cluster only through `install.Cluster` (kubeconfig, API readiness, endpoint, nodes) and the bootstrap's
published facts (node_config's ports). May import: settings, sizing, the seams, remote, bootstrap and its own
modules; never aws or baremetal.
"""
