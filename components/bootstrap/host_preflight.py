"""Checks every host before anything changes on it: one read-only `<host>-preflight` command per host.

The hosts it returns carry their preflight in `ready_after`, so whatever runs on a host next waits for it. With
`compare_identities` (bare metal), a host also waits until its identity was compared with the hosts listed before
it (see preflight.IdentityLedger); a clash stops the update with the hosts named.

The comparison is one chain of outputs, a link per host: link i admits host i's report into the ledger the link
before it filled. Each link keeps only its own host's preflight as a dependency, so a host's later steps wait for
the earlier hosts by value (the link resolves only after theirs) without an edge to each of them: dependency
edges, state size and plan time grow linearly with the inventory, and adding a host adds one link at the end.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pulumi

from components.bootstrap import preflight
from components.host import Host
from components.remote.runner import HostRunner


class HostIdentityClash(Exception):
    pass


def _admit(ledger: preflight.IdentityLedger, stdout: str) -> preflight.IdentityLedger:
    problems = ledger.admit(preflight.identity(stdout))
    if problems:
        raise HostIdentityClash("hosts are not distinct machines:\n" + "\n".join(f"  - {p}" for p in problems))
    return ledger


async def _settled(output: pulumi.Output):
    return await output.future(with_unknowns=True)


def _value_only(output: pulumi.Output) -> pulumi.Output:
    """The same value (unknown at preview where it is), resolving when it does, without the resources it was
    computed from. Not secret: the ledger holds machine ids and hostnames, which the preflight prints in clear."""
    return pulumi.Output.from_input(_settled(output))


@dataclass(frozen=True)
class HostPreflightArgs:
    tier: str
    hosts: list[Host]
    ssh_private_key: pulumi.Input[str]  # a secret
    load_balancer_ports: dict[str, int] = field(default_factory=dict)  # host name -> port haproxy will take
    compare_identities: bool = False
    container_hosts: bool = False  # hostSystem.containers


class HostPreflight(pulumi.ComponentResource):
    hosts: list[Host]
    artifacts: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: HostPreflightArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:hosts:Preflight", name, None, opts)
        runner = HostRunner(self, args.ssh_private_key)
        self.hosts, self.artifacts = [], {}
        admitted: pulumi.Output = pulumi.Output.from_input(preflight.IdentityLedger())
        for host in args.hosts:
            port = args.load_balancer_ports.get(host.name)
            # Checked against what the machine has (a machine a roll has not reached keeps its old type).
            script = pulumi.Output.from_input(host.machine_capacity).apply(
                lambda capacity, host=host, port=port: preflight.script(
                    dataclasses.replace(host, capacity=capacity or host.capacity), args.tier, port,
                    args.container_hosts))
            reachable = runner.wait_for_ssh(host, list(host.ready_after))
            checked = runner.run(f"{host.name}-preflight", host, script, [*host.ready_after, reachable])
            ready_after = [*host.ready_after, checked]
            if args.compare_identities:
                # Resolves once this host's identity differs from every earlier one; raises otherwise.
                admitted = pulumi.Output.all(_value_only(admitted), checked.stdout).apply(lambda pair: _admit(*pair))
                ready_after.append(admitted.apply(lambda _: None))
            self.hosts.append(dataclasses.replace(host, ready_after=tuple(ready_after), preflight=checked.stdout))
            self.artifacts[f"hosts/{host.name}/preflight.sh"] = script
        self.register_outputs({})
