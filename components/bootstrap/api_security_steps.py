"""The control planes' audit and encryption steps (api_security.py), declared for the bootstrap component.

    <cp>-api-server-files       on each control plane before its init or join (and when the policy or key changes)
    <cp>-api-server-config      one control plane after another, once every one has the files and the upgrades
                                ran: flags, policy, the key as one that reads (API server restarted when changed)
    <cp>-api-server-encryption  one after another, once every API server reads the key: the key writes
    <cluster>-secrets-rewrite   once, after the last: every Secret sealed under the current key
Two passes, as upstream's rotation wants: no API server writes with a key (or, when encryption is new, seals at
all) before every API server can read what it writes. The key is a Pulumi secret made once for the stack's life;
`pulumi up --replace` of it rotates it through the same steps (docs/encryption.md, "Rotate the encryption key"). Every step
carries the key, so each is secret.

Where the key comes from: `<cluster>-encryption-key`, a command on the first control plane that prints a new key
from the kernel's random source (encryption-key.sh), its output a Pulumi secret. Not random.RandomBytes, which this
stack used before: the real random provider makes a RandomBytes' resource ID from its value (pulumi-random's
computeRandomBytesID), and IDs are kept in clear, so the key that opens every Secret in etcd and in every etcd
backup sat readable in the state, its backups and `pulumi stack --show-ids`. A command's ID is its name and random
digits. On a stack made before, the step adopts the key the control planes write with (nothing on the hosts
changes), and the RandomBytes leaves the state; docs/encryption.md, "Rotate the encryption key" says why such a stack should
rotate once. The key step runs again only when replaced (a rotation): neither a change of the first control plane's
machine or address nor a new version of the script may make a new key, so its connection and script are left out
of its diff (a `--replace` runs the new ones).
"""

from __future__ import annotations

import pulumi
from pulumi_command import remote

from components.bootstrap import host_steps
from components.host import Host
from components.remote.runner import HostRunner

# What the reviewable copies of the scripts carry where the hosts get the key: not a key (not 32 bytes in base64),
# so a reviewable copy run by hand stops before it writes anything.
PLACEHOLDER_ENCRYPTION_KEY = "the-stack-s-encryption-key-goes-here"


class ApiServerSecurity:
    def __init__(self, name: str, parent: pulumi.Resource, runner: HostRunner, maker: Host):
        """`maker`: the first control plane, where the key is made (or adopted)."""
        self.name = name
        self.runner = runner
        made = runner.run(f"{name}-encryption-key", maker, host_steps.encryption_key(), list(maker.ready_after),
                          secret=True, ignore_changes=["connection", "stdin"])
        self.key = pulumi.Output.secret(made.stdout.apply(lambda text: text.strip()))
        self.files_script = self.key.apply(host_steps.api_server_files)  # the same on every control plane
        self.files: dict[str, remote.Command] = {}

    def files_step(self, host: Host, after: list) -> remote.Command:
        """The audit policy and the key on `host`, before anything makes it a member."""
        self.files[host.name] = self.runner.run(f"{host.name}-api-server-files", host, self.files_script, after,
                                                secret=True)
        return self.files[host.name]

    def config_steps(self, control_planes: list[Host], cluster: pulumi.Output, facts: dict[str, pulumi.Output],
                     after: list, rewrite_on: Host) -> remote.Command:
        """One control plane at a time (each may restart its API server): every one reads the key, then every one
        writes with it; then the rewrite of the Secrets."""
        previous = [*after, *self.files.values()]
        for host in control_planes:
            script = pulumi.Output.all(cluster, facts[host.name], self.key).apply(
                lambda v: host_steps.api_server_config(*v))
            previous = [self.runner.run(f"{host.name}-api-server-config", host, script, previous, secret=True)]
        writes = self.key.apply(host_steps.api_server_encryption)
        for host in control_planes:
            previous = [self.runner.run(f"{host.name}-api-server-encryption", host, writes, previous, secret=True)]
        names = tuple(host.name for host in control_planes)
        return self.runner.run(f"{self.name}-secrets-rewrite", rewrite_on,
                               self.key.apply(lambda key: host_steps.secrets_rewrite(key, names)), previous,
                               secret=True)


def reviewable_files() -> str:
    return host_steps.api_server_files(PLACEHOLDER_ENCRYPTION_KEY)


def reviewable_config(cluster, node) -> str:
    return host_steps.api_server_config(cluster, node, PLACEHOLDER_ENCRYPTION_KEY)


def reviewable_encryption() -> str:
    return host_steps.api_server_encryption(PLACEHOLDER_ENCRYPTION_KEY)
