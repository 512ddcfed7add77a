"""Which control plane makes a node's join credentials, marks it a member and runs its removal (drain, etcd member,
Node): the first of its candidates that answered this preview's or update's read, so that a lost control plane
stops no join and no removal. Pure.

A node's candidates are the control planes in order without itself: the first control plane for every other node,
then the second...; for the first, the second, then the third... (the only control plane: itself). An upgrade's
drain and uncordon of a node may run on the node itself (the first control plane drains itself). A control plane
answers when the certificate read of this run found it a control plane of the cluster (bootstrap/certificates.py:
SSH answered, its admin.conf and certificates are there). When none answers (a new cluster, the offline plan, every
read unknown in a preview), the first candidate: the choice before this module existed, so that it changes nothing
while every control plane answers.

The choice moves only while the preferred control plane does not answer, and back once it does: the steps that run
there (credentials, member marks, labels) run once more on the new one, which is harmless (each is idempotent, and
the joins they feed find their nodes joined); the removal steps only record where they will run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def candidates(node: str, control_planes: Sequence[str], itself: bool = False) -> tuple[str, ...]:
    """The control planes that may act for `node`, in the order they are preferred; with `itself`, a control plane
    may act for itself (its drain and uncordon in an upgrade: it is not leaving)."""
    if itself:
        return tuple(control_planes)
    others = tuple(name for name in control_planes if name != node)
    return others or tuple(control_planes[:1])


def choose(node: str, control_planes: Sequence[str], answered: Mapping[str, bool], itself: bool = False) -> str:
    """The first candidate that answered; none did: the first candidate."""
    return first_answering(candidates(node, control_planes, itself), answered)


def first_answering(preferred: Sequence[str], answered: Mapping[str, bool]) -> str:
    return next((name for name in preferred if answered.get(name)), preferred[0])
