"""Reads of a host's state at every preview and update, made by the machine running Pulumi: a read-only script run
over SSH (ssh-read.sh, through the command provider's `local.run` invoke). They change nothing on the host; what
they find feeds step inputs, so a step runs again only when the read finds something for it to do. A host that
cannot be read prints {"unavailable": ...} rather than failing the update."""

from __future__ import annotations

import pulumi
from pulumi_command import local

from components.host import Host
from components.remote.ssh_read import ssh_read_command


def read_host(host: Host, key: pulumi.Input[str], parent: pulumi.Resource, remote_script: str) -> pulumi.Output:
    """What `remote_script` prints on `host` (an Output[str]; unknown while the host's address is)."""
    bastion = host.bastion
    hops = [host.ssh.address, host.ssh.host_key]
    if bastion is not None:
        hops += [bastion.address, bastion.host_key]
    command = pulumi.Output.all(*hops).apply(lambda v: ssh_read_command(
        v[0], host.ssh.port, host.ssh.user, v[1],
        (v[2], bastion.port, bastion.user, v[3]) if bastion is not None else None, remote_script))
    # The key (stdin) makes the whole result secret; the reads print no secret (dates, names).
    result = local.run_output(command=command, interpreter=["/bin/bash", "-c"], stdin=pulumi.Output.secret(key),
                              add_previous_output_in_env=False, logging=local.Logging.NONE,
                              opts=pulumi.InvokeOutputOptions(parent=parent))
    return pulumi.Output.unsecret(result.stdout)
