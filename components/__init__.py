"""Building blocks of the k8s-platform Pulumi program, one package per layer; data flows one way:

    settings/  (+ sizing.py)   the stack file, parsed and checked once; pure, no Pulumi
    aws/ | baremetal/          machines or inventory hosts, and the API load balancer
    remote/                    how anything runs on a host: the SSH runner, the script renderer, the shell scripts
    bootstrap/                 preflight, then kubeadm host by host and phase by phase
    addons/                    what runs on the cluster: CNI, storage, ingress, registry, monitoring, logging, backups

The seams at the top are what one layer hands the next: `host.py` (the `Host` record and `ApiEndpoint`),
`infrastructure.py` (AWS or bare metal in, checked hosts and an endpoint out), `node_records.py` (the facts the
policy pack reads), `stack_config.py` (the Pulumi runtime's config, handed to the settings) and `versions.py` (every
pinned version). A module imports only its own layer, the layers below it and the seams;
tests/test_import_layers.py holds that.
"""
