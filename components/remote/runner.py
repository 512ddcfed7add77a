"""Runs rendered scripts on hosts over SSH as `remote.Command` resources, the same way for every component.

Scripts travel on stdin to `bash -s` run as root (through sudo when the SSH user is not root), never on the command
line (error messages repeat the command line).
Phases that carry secrets send a secret stdin, log nothing and keep their stdout secret.
"""

from __future__ import annotations

import shlex

import pulumi
from pulumi_command import local, remote

from components.host import Host
from components.remote.ssh_read import wait_for_ssh_command

# The provider retries a failed dial whatever failed (pulumi-command's connection.go): a wrong host key or a refused key
# as long as a port that is not open yet, 100 ms apart growing to 5 s. So the steps dial as often as a host that is
# up needs (the provider's default, 10: 11 tries within about 12 s), and a machine that is still booting gets its
# minutes from the wait before its first step (wait_for_ssh), which tells the two apart.
DIAL_ERROR_LIMIT = 10
PER_DIAL_TIMEOUT_S = 15
# A step that runs when a node leaves may find its host dead: it gives up after about a minute, not an hour.
LEAVING_DIAL_ERROR_LIMIT = 4
# As root: directly when the SSH user is root (a minimal Debian host has no sudo), else through sudo.
RUN_AS_ROOT = 'if [ "$(id -u)" = 0 ]; then exec bash -s; else exec sudo bash -s; fi'
WAIT_SCRIPT_VARIABLE = "K8S_PLATFORM_WAIT_FOR_SSH"


def as_root_on_delete(script: pulumi.Input[str]) -> pulumi.Output[str]:
    """A delete command running `script` as root (as RUN_AS_ROOT does). A delete has no stdin of its own, so the
    script goes on the command line: it must carry no secret."""
    return pulumi.Output.from_input(script).apply(
        lambda text: f'script={shlex.quote(text)}; if [ "$(id -u)" = 0 ]; then exec bash -c "$script"; '
                     f'else exec sudo bash -c "$script"; fi')


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

    def wait_for_ssh(self, host: Host, depends_on: list) -> local.Command:
        """`<host>-reachable`, on the machine running Pulumi: waits for the host's SSH server as long as its
        ssh_patience allows, and fails at once on a host key other than the pinned one or a refused key
        (wait-for-ssh.sh). The key goes on stdin; the script, which carries none, in the environment (a failure's
        message repeats the command line, which stays one line)."""
        bastion = host.bastion
        hops = [host.ssh.address, host.ssh.host_key]
        if bastion is not None:
            hops += [bastion.address, bastion.host_key]
        script = pulumi.Output.all(*hops).apply(lambda v: wait_for_ssh_command(
            host.name, v[0], host.ssh.port, host.ssh.user, v[1],
            (v[2], bastion.port, bastion.user, v[3]) if bastion is not None else None,
            host.ssh_patience.answer_seconds, host.ssh_patience.key_seconds))
        return local.Command(
            f"{host.name}-reachable", create=f'exec /bin/bash -c "${WAIT_SCRIPT_VARIABLE}"',
            environment={WAIT_SCRIPT_VARIABLE: script}, stdin=self.key, add_previous_output_in_env=False,
            logging=local.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(parent=self.parent, depends_on=[d for d in depends_on if d is not None]))

    def on_delete(self, resource_name: str, host: Host, script: pulumi.Input[str], depends_on: list,
                  dial_error_limit: int = DIAL_ERROR_LIMIT) -> remote.Command:
        """A step that runs only when its resource is deleted (a node leaving the settings)."""
        return remote.Command(
            resource_name, connection=self.connection(host, dial_error_limit), delete=as_root_on_delete(script),
            add_previous_output_in_env=False, logging=remote.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(parent=self.parent, depends_on=[d for d in depends_on if d is not None]))

    def run(self, resource_name: str, host: Host, stdin: pulumi.Input[str], depends_on: list,
            secret: bool = False, delete: pulumi.Input[str] | None = None,
            delete_before_replace: bool = False, ignore_changes: list[str] | None = None) -> remote.Command:
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
                                        delete_before_replace=delete_before_replace or None,
                                        ignore_changes=ignore_changes),
        )


