"""Shared builders for tests: stack configs as the Pulumi runtime would hand them to the program."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import yaml

from components.settings import PROJECT, load_settings
from tools.stack_file import read_stack_file

ROOT = Path(__file__).resolve().parent.parent
PRIVATE_KEY = f"{PROJECT}:sshPrivateKey"


def stack_document(stack: str) -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())


def write_stack(tmp_path: Path, document: dict, name: str = "custom") -> Path:
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=True))
    return path


def edited(stack: str, **changes) -> dict:
    """The shipped stack's document with some settings replaced (None removes a setting)."""
    document = copy.deepcopy(stack_document(stack))
    for key, value in changes.items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if value is None:
            document["config"].pop(full, None)
        else:
            document["config"][full] = value
    return document


def raw_config(stack: str) -> dict[str, str]:
    """Config strings of a shipped stack with the private key set as a secret."""
    config = {}
    for key, value in stack_document(stack)["config"].items():
        config[key] = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    config[PRIVATE_KEY] = "-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----"
    return config


def settings_from_stack_text(tmp_path: Path, text: str, stack: str):
    """Settings as a stack file's text reaches the program: YAML on disk, the offline reader, the loader."""
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(text)
    config = read_stack_file(path)
    return load_settings(config.values, config.secret_keys, stack)
