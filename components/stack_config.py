"""Reads the stack's config as the Pulumi runtime holds it: every key, and which keys are secrets."""

from __future__ import annotations

import pulumi
import pulumi.runtime.config as runtime_config


def read_stack_config() -> tuple[dict[str, str], frozenset[str]]:
    # The language host hands the program its config (and the secret keys) through these two sources; the
    # explicit map wins, as in pulumi.Config.
    values = dict(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys.update(k for k in values if runtime_config.is_config_secret(k))
    return values, frozenset(secret_keys)


# True while tools/plan runs the program under mocks: the offline plan is never a deployment (its mocks' "update"
# builds nothing), so what only refuses to deploy (components/settings/examples.py) is said there, not raised.
offline_plan = False


def deploying() -> bool:
    """Whether this run creates real resources: a `pulumi up`, not a preview and not the offline plan."""
    return not pulumi.runtime.is_dry_run() and not offline_plan
