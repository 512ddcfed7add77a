"""What AWS runs under a machine's name, read at every preview and update (machine_roll plans from it)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.aws import machine_roll

# A machine that exists, whatever its state; a terminated one is gone.
LIVE_STATES = ["pending", "running", "stopping", "stopped"]


def running_machine(name: str, cluster: str, parent: pulumi.Resource) -> pulumi.Output:
    """The machine named `name` as AWS runs it (machine_roll.RunningMachine), or None before it exists: read at every
    preview and update, so the roll is planned from what runs, not from what the state remembers."""
    opts = pulumi.InvokeOptions(parent=parent)
    found = aws.ec2.get_instances_output(instance_tags={"Name": name, "cluster": cluster},
                                         instance_state_names=LIVE_STATES, opts=opts)

    def described(ids: list[str]) -> pulumi.Output:
        if not ids:
            return pulumi.Output.from_input(None)
        instances = [aws.ec2.get_instance_output(instance_id=i, opts=opts) for i in sorted(ids)]
        return pulumi.Output.all(*instances).apply(lambda found: _newest(found))

    return found.ids.apply(described)


def _newest(instances: list) -> machine_roll.RunningMachine:
    newest = max(instances, key=lambda i: (i.launch_time or "", i.id))
    return machine_roll.RunningMachine(machine_roll.MachineSpec(newest.instance_type, newest.ami), len(instances))
