"""Reads a Pulumi stack file into the config a Pulumi program would receive, without decrypting anything."""

from __future__ import annotations

import decimal
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from components.settings import PROJECT
from tools.stack_yaml import StackYamlError, load_stack_yaml

SECRET_PLACEHOLDER = "[secret]"


def encrypted_placeholder(ciphertext: object) -> str:
    """What the plan reads for an encrypted value: "[secret <digest of the ciphertext>]". A new value has a new
    ciphertext, so plan diffs see that a secret changed without anything being decrypted."""
    return f"[secret {hashlib.sha256(str(ciphertext).encode()).hexdigest()[:12]}]"
# Secret settings the program requires; the plan never needs their values, so an absent one is stood in for.
REQUIRED_SECRETS = (f"{PROJECT}:sshPrivateKey",)


class StackFileError(Exception):
    pass


@dataclass(frozen=True)
class StackConfig:
    values: dict[str, str]
    secret_keys: frozenset[str]
    notes: tuple[str, ...]


def go_json_float(value: float) -> str:
    """A float as Go's encoding/json writes it (what the CLI hands a program): the shortest digits that read back
    the same, in plain notation between 1e-6 and 1e21 and without a fraction when there is none (3.0 is "3"),
    else as 1e+21 and 1e-7."""
    text = repr(value)
    if value != 0 and not 1e-6 <= abs(value) < 1e21:
        mantissa, _, exponent = text.partition("e")
        mantissa = mantissa[:-2] if mantissa.endswith(".0") else mantissa
        return f"{mantissa}e{exponent[0]}{exponent[1:].lstrip('0') or '0'}"
    return format(decimal.Decimal(text).normalize(), "f")


def _go_json(value: object) -> str:
    """JSON as Go's encoding/json writes a decoded YAML value: keys sorted, no spaces, Go's float notation."""
    if isinstance(value, float):
        return go_json_float(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_go_json(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_go_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _as_config_string(value: object) -> str:
    """The string form the Pulumi CLI passes a program (its config.Value): a string as it is, anything else as the
    JSON Go writes for it (017 in YAML is 15, 3.0 is 3)."""
    if isinstance(value, str):
        return value
    return _go_json(value)


def _without_secure(value: object) -> tuple[object, bool]:
    """A structured value with `secure:` leaves (set with `pulumi config set --secret --path`), those leaves
    replaced by the placeholder; and whether there were any (the CLI then marks the whole key secret)."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return encrypted_placeholder(value["secure"]), True
    if isinstance(value, dict):
        pairs = {k: _without_secure(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(found for _, found in pairs.values())
    if isinstance(value, list):
        items = [_without_secure(v) for v in value]
        return [v for v, _ in items], any(found for _, found in items)
    return value, False


def read_stack_file(path: Path) -> StackConfig:
    try:
        document = load_stack_yaml(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise StackFileError(f"cannot read {path}: {error}") from error
    except StackYamlError as error:
        raise StackFileError(f"{path}:\n" + "\n".join(f"  - {p}" for p in error.problems)) from error
    if not isinstance(document, dict):
        raise StackFileError(f"{path}: must be a mapping with a 'config' key")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path}: 'config' must be a mapping")
    empty = [key for key, value in config.items() if value is None]
    if empty:
        raise StackFileError(f"{path}:\n" + "\n".join(
            f"  - config.{key}: has no value (YAML null); remove the key or give it one" for key in empty))
    values: dict[str, str] = {}
    secrets: set[str] = set()
    notes: list[str] = []
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Encrypted by the stack's secrets provider: the plan keeps it secret and never decrypts it.
            values[key] = encrypted_placeholder(value["secure"])
            secrets.add(key)
        elif isinstance(value, dict) and set(value) == {"value"}:
            values[key] = _as_config_string(value["value"])
        else:
            value, nested_secret = _without_secure(value)
            values[key] = _as_config_string(value)
            if nested_secret:
                secrets.add(key)
    for key in REQUIRED_SECRETS:
        if key not in values:
            values[key] = SECRET_PLACEHOLDER
            secrets.add(key)
            short = key.split(":", 1)[1]
            notes.append(f"{short} is not set in {path.name}; the plan stands in a placeholder, `pulumi up` will "
                         f"require it (pulumi config set --secret {short} < key)")
    return StackConfig(values, frozenset(secrets), tuple(notes))
