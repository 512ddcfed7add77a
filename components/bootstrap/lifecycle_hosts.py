"""The control plane that acts for each node (lifecycle_choice.py decides), as a Host whose SSH endpoint follows
the choice, and what that control plane recorded of the join credentials it made (join_credentials.py).

The choice is made from the control planes' certificate reads. A read still unknown in a preview (a machine not
created yet has no address) counts as no answer: the choice never waits on, or is made unknown by, a machine that
does not exist yet, so a preview shows where each step runs.
"""

from __future__ import annotations

from dataclasses import replace

import pulumi

from components.bootstrap import join_credentials, lifecycle_choice
from components.bootstrap.host_reads import read_host
from components.host import Host, SshHop


def _known_or(output: pulumi.Output, fallback) -> pulumi.Output:
    async def value():
        if not await output.is_known():
            return fallback
        return await output.future()
    return pulumi.Output.from_input(value())


def _warned(answered: dict[str, bool]) -> dict[str, bool]:
    """The answers; a first control plane that did not answer while another did is a warning: the steps move."""
    first, *others = answered
    acting = next((name for name in others if answered[name]), None)
    if not answered[first] and acting:
        pulumi.log.warn(f"{first} did not answer: the join credentials, member marks, labels, drains and removals "
                        f"of the nodes it acts for move to {acting} in this update. A node removed from the settings "
                        f"in this same update still leaves through the control plane its last update recorded: "
                        f"remove nodes in the next update (docs/troubleshooting.md, \"Remove a dead node\").")
    return answered


class LifecycleHosts:
    """`reports`: each control plane's certificate read (CertificateReport outputs), by name."""

    def __init__(self, control_planes: list[Host], reports: dict[str, pulumi.Output], key: pulumi.Input[str],
                 parent: pulumi.Resource):
        if len({h.bastion is None for h in control_planes}) > 1:
            raise ValueError("the control planes must all be reached through a bastion, or none of them")
        self.control_planes = control_planes
        self.by_name = {h.name: h for h in control_planes}
        self.key = key
        self.parent = parent
        names = [h.name for h in control_planes]
        answered = [_known_or(reports[n].apply(lambda r: not r.unavailable), False) for n in names]
        self.answered = pulumi.Output.all(*answered).apply(lambda flags: _warned(dict(zip(names, flags))))
        self._records: dict[str, pulumi.Output] = {}
        self._hosts: dict[tuple[str, ...], Host] = {}
        self._choices: dict[tuple[str, ...], pulumi.Output[str]] = {}

    def choice(self, node: str, itself: bool = False) -> pulumi.Output[str]:
        return self._choice(lifecycle_choice.candidates(node, list(self.by_name), itself))

    def _choice(self, preferred: tuple[str, ...]) -> pulumi.Output[str]:
        """One Output per list of candidates (every worker shares the same)."""
        if preferred not in self._choices:
            self._choices[preferred] = self.answered.apply(
                lambda answered: lifecycle_choice.first_answering(preferred, answered))
        return self._choices[preferred]

    def host_for(self, node: str, itself: bool = False) -> Host:
        """The control plane acting for `node`: its name and role are the first candidate's, its SSH endpoint (and
        bastion) the chosen one's. One for the nodes with the same candidates (every worker): their steps share
        it."""
        preferred = lifecycle_choice.candidates(node, list(self.by_name), itself)
        if preferred not in self._hosts:
            self._hosts[preferred] = self._chosen_host(preferred)
        return self._hosts[preferred]

    def _chosen_host(self, preferred: tuple[str, ...]) -> Host:
        choice = self._choice(preferred)
        default = self.by_name[preferred[0]]

        def hop(pick) -> SshHop:
            return SshHop(address=choice.apply(lambda n: pick(self.by_name[n]).address),
                          user=choice.apply(lambda n: pick(self.by_name[n]).user),
                          port=choice.apply(lambda n: pick(self.by_name[n]).port),
                          host_key=choice.apply(lambda n: pick(self.by_name[n]).host_key))
        bastion = hop(lambda h: h.bastion) if default.bastion is not None else None
        return replace(default, ssh=hop(lambda h: h.ssh), bastion=bastion)

    def credential_records(self, node: str) -> pulumi.Output:
        """What the control plane acting for `node` recorded of the credentials it made (join_credentials)."""
        return self.choice(node).apply(self._records_of)

    def _records_of(self, name: str) -> pulumi.Output:
        if name not in self._records:
            self._records[name] = read_host(self.by_name[name], self.key, self.parent,
                                            join_credentials.read_script()).apply(join_credentials.parse_records)
        return self._records[name]
