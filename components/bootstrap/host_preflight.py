"""Checks every host before anything changes on it: one read-only `<host>-preflight` command per host.

The hosts it returns carry their preflight in `ready_after`, so whatever runs on a host next waits for it. With
`compare_identities` (bare metal), a host also waits until its identity was compared with the hosts listed before
it (see preflight.identity_problems); a clash stops the update with the hosts named.
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


def _verify(stdouts: list[str]) -> None:
    problems = preflight.identity_problems([preflight.identity(out) for out in stdouts])
    if problems:
        raise HostIdentityClash("hosts are not distinct machines:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class HostPreflightArgs:
    tier: str
    hosts: list[Host]
    ssh_private_key: pulumi.Input[str]  # a secret
    load_balancer_ports: dict[str, int] = field(default_factory=dict)  # host name -> port haproxy will take
    compare_identities: bool = False


class HostPreflight(pulumi.ComponentResource):
    hosts: list[Host]
    artifacts: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: HostPreflightArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:hosts:Preflight", name, None, opts)
        run = HostRunner(self, args.ssh_private_key).run
        self.hosts, self.artifacts, reports = [], {}, []
        for host in args.hosts:
            script = preflight.script(host, args.tier, args.load_balancer_ports.get(host.name))
            checked = run(f"{host.name}-preflight", host, script, list(host.ready_after))
            ready_after = [*host.ready_after, checked]
            if args.compare_identities:
                reports.append(checked.stdout)
                # Resolves to nothing once this host's identity differs from every earlier one; raises otherwise.
                ready_after.append(pulumi.Output.all(*reports).apply(_verify))
            self.hosts.append(dataclasses.replace(host, ready_after=tuple(ready_after)))
            self.artifacts[f"hosts/{host.name}/preflight.sh"] = pulumi.Output.from_input(script)
        self.register_outputs({})
