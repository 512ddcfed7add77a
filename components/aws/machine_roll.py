"""Which machines of a pool a `pulumi up` replaces when the pool's machine spec changes. Pure.

A new instance type (or a pinned image) must never replace a pool's machines all at once: replacing a machine takes
its node out of the cluster (drain, etcd member, Node: join-credentials.sh) before the new one joins under its
name, so replacing every control plane at once would leave no member to hand out credentials, and replacing every
worker at once would drain them all together. So each `pulumi up` replaces at most `batch` machines of a pool (one
control plane; `upgrade.maxUnavailableWorkers` workers), the lowest indexes first, and declares every other machine
with the spec it runs, which changes nothing; the next `pulumi up` takes the next ones. A machine whose name has two
instances (a replacement that did not finish) is still being replaced and counts against the batch.

The image: the running machines keep theirs unless `imageId` pins one (Canonical's newest image alone never
replaces a node); a new machine gets the pinned image or the newest.
"""

from __future__ import annotations

from dataclasses import dataclass

from components import sizing
from components.sizing import NodeSize



@dataclass(frozen=True)
class MachineSpec:
    instance_type: str
    image_id: str


@dataclass(frozen=True)
class RunningMachine:
    spec: MachineSpec  # of its most recently launched instance
    instances: int = 1  # two: a replacement that did not finish (the newest is the replacement)


@dataclass(frozen=True)
class RollPlan:
    specs: tuple[MachineSpec, ...]  # what each machine is declared with, by index
    replaced: tuple[int, ...]  # the indexes this update replaces (or goes on replacing)
    waiting: tuple[int, ...]  # out of date, left for a later update


def plan_roll(running: list[RunningMachine | None], instance_type: str, pinned_image: str, newest_image: str,
              batch: int) -> RollPlan:
    """`running[i]` is machine i as it runs, None when it has no instance yet. A batch of 0 replaces nothing (the
    only control plane: no other member could hand its replacement credentials)."""
    if batch < 0:
        raise ValueError("a roll replaces zero or more machines per update")
    specs: list[MachineSpec] = []
    replaced: list[int] = []
    waiting: list[int] = []
    budget = batch - sum(1 for r in running if r is not None and r.instances > 1)
    for index, now in enumerate(running):
        if now is None:
            specs.append(MachineSpec(instance_type, pinned_image or newest_image))
            continue
        wanted = MachineSpec(instance_type, pinned_image or now.spec.image_id)
        if now.instances > 1:
            specs.append(wanted)
            replaced.append(index)
        elif wanted == now.spec:
            specs.append(now.spec)
        elif budget > 0:
            budget -= 1
            specs.append(wanted)
            replaced.append(index)
        else:
            specs.append(now.spec)
            waiting.append(index)
    return RollPlan(tuple(specs), tuple(replaced), tuple(waiting))


def capacity_of(spec: MachineSpec, declared: NodeSize) -> NodeSize:
    """What a machine declared with `spec` has: the pool's capacity once it runs the pool's type, its own type's
    before the roll reaches it (its preflight and kubelet reservations stay those of the machine it is)."""
    known = sizing.INSTANCE_TYPES_BY_NAME.get(spec.instance_type)
    if known is None:
        return declared
    return NodeSize(known.vcpu, known.memory_gib, declared.disk_gib)
