"""Writes config/<tier>.json, the policy config `pulumi preview --policy-pack-config` takes, from pack.LEVELS.

    cd policies && python -m cluster_policies.write_config
"""

from __future__ import annotations

import json
from pathlib import Path

from cluster_policies.pack import TIER_INDEX, levels_for

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


def config_text(tier: str) -> str:
    return json.dumps({name: level.value for name, level in sorted(levels_for(tier).items())}, indent=2) + "\n"


def main() -> None:
    for tier in TIER_INDEX:
        (CONFIG_DIR / f"{tier}.json").write_text(config_text(tier))


if __name__ == "__main__":
    main()
