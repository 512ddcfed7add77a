"""Runs rendered scripts on hosts over SSH as `remote.Command` resources, the same way for every component.

Scripts travel on stdin to `sudo bash -s`, never on the command line (error messages repeat the command line).
Phases that carry secrets send a secret stdin, log nothing and keep their stdout secret.
"""

from __future__ import annotations

import shlex

import pulumi
from pulumi_command import remote

from components.host import Host

# A fresh VM refuses SSH for a minute or two while it boots; the provider's default (10 dials) gives up after
# seconds. Refused dials fail fast, so 300 of them cover several minutes.
DIAL_ERROR_LIMIT = 300
PER_DIAL_TIMEOUT_S = 15
# A step that runs when a node leaves may find its host dead: it gives up after about a minute, not an hour.
LEAVING_DIAL_ERROR_LIMIT = 4
RUN_AS_ROOT = "sudo bash -s"


def as_root_on_delete(script: pulumi.Input[str]) -> pulumi.Output[str]:
    """A delete command running `script` as root. A delete has no stdin of its own, so the script goes on the command
    line: it must carry no secret."""
    return pulumi.Output.from_input(script).apply(lambda text: f"sudo bash -c {shlex.quote(text)}")


class HostRunner:
    def __init__(self, parent: pulumi.Resource, ssh_private_key: pulumi.Input[str]):
        self.parent = parent
        self.key = pulumi.Output.secret(ssh_private_key)

    def connection(self, host: Host, dial_error_limit: int = DIAL_ERROR_LIMIT) -> remote.ConnectionArgs:
        proxy = None
        if host.bastion is not None:
            proxy = remote.ProxyConnectionArgs(
                host=host.bastion.address, user=host.bastion.user, port=host.bastion.port, private_key=self.key,
                host_key=host.bastion.host_key, dial_error_limit=DIAL_ERROR_LIMIT,
                per_dial_timeout=PER_DIAL_TIMEOUT_S)
        return remote.ConnectionArgs(
            host=host.ssh.address, user=host.ssh.user, port=host.ssh.port, private_key=self.key,
            host_key=host.ssh.host_key, dial_error_limit=dial_error_limit, per_dial_timeout=PER_DIAL_TIMEOUT_S,
            proxy=proxy)

    def on_delete(self, resource_name: str, host: Host, script: pulumi.Input[str], depends_on: list,
                  dial_error_limit: int = DIAL_ERROR_LIMIT) -> remote.Command:
        """A step that runs only when its resource is deleted (a node leaving the settings)."""
        return remote.Command(
            resource_name, connection=self.connection(host, dial_error_limit), delete=as_root_on_delete(script),
            add_previous_output_in_env=False, logging=remote.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(parent=self.parent, depends_on=[d for d in depends_on if d is not None]))

    def run(self, resource_name: str, host: Host, stdin: pulumi.Input[str], depends_on: list,
            secret: bool = False, delete: pulumi.Input[str] | None = None,
            delete_before_replace: bool = False) -> remote.Command:
        # `delete`, when given, is a script run as root when the resource is deleted (as_root_on_delete).
        return remote.Command(
            resource_name,
            connection=self.connection(host),
            create=RUN_AS_ROOT,
            stdin=pulumi.Output.secret(stdin) if secret else stdin,
            delete=None if delete is None else as_root_on_delete(delete),
            # The default sends the previous stdout back to the host as an environment variable.
            add_previous_output_in_env=False,
            logging=remote.Logging.NONE if secret else remote.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(parent=self.parent, depends_on=[d for d in depends_on if d is not None],
                                        additional_secret_outputs=["stdout"] if secret else None,
                                        delete_before_replace=delete_before_replace or None),
        )


