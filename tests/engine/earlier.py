"""Parts of the program as an earlier release had them, to make the state a stack of that release has (a test then
runs today's program on it). Each part is a context manager that patches today's program while it runs.

- `randombytes-encryption-key`: until December 2026 the key that encrypts Secrets at rest was a random.RandomBytes
  (`<cluster>-encryption-key`), whose resource ID the real random provider makes from its value, and the control
  planes' files step wrote no mark that their keys came from the stack.
"""

from __future__ import annotations

import contextlib

import pulumi
import pulumi_random as random

from components.bootstrap import api_security, api_security_steps, host_steps


@contextlib.contextmanager
def randombytes_encryption_key():
    today_init = api_security_steps.ApiServerSecurity.__init__
    today_files = host_steps.api_server_files

    def earlier_files(encryption_key: str) -> str:
        return today_files(encryption_key).replace('touch "$ROOT$ENCRYPTION_STACK_MARKER"\n', "")

    def earlier_init(self, name, parent, runner, maker):
        self.name, self.runner = name, runner
        generated = random.RandomBytes(f"{name}-encryption-key", length=api_security.ENCRYPTION_KEY_BYTES,
                                       opts=pulumi.ResourceOptions(parent=parent))
        self.key = pulumi.Output.secret(generated.base64)
        # Bound here: the apply runs after the program's function returned (and this patch is gone).
        self.files_script = self.key.apply(earlier_files)
        self.files = {}

    api_security_steps.ApiServerSecurity.__init__ = earlier_init
    try:
        yield
    finally:
        api_security_steps.ApiServerSecurity.__init__ = today_init


PARTS = {"randombytes-encryption-key": randombytes_encryption_key}
