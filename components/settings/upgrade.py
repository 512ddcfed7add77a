"""`upgrade`: how a Kubernetes version change rolls over the workers. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.settings.reader import Problems, Reader

# Workers drained and upgraded at once, per tier: prod keeps every other worker serving (one at a time); dev and
# lab trade spare capacity for a shorter upgrade. Control planes always go one at a time.
MAX_UNAVAILABLE_WORKERS = {"lab": 3, "dev": 2, "prod": 1}
MAX_UNAVAILABLE_LIMIT = 100


@dataclass(frozen=True)
class UpgradeSettings:
    max_unavailable_workers: int = 1


def read_upgrade(value: Any, tier: str | None, problems: Problems) -> UpgradeSettings:
    r = Reader({} if value is None else value, "upgrade", problems, ["maxUnavailableWorkers"])
    default = MAX_UNAVAILABLE_WORKERS.get(tier or "prod", 1)
    count = r.integer("maxUnavailableWorkers", default, minimum=1, maximum=MAX_UNAVAILABLE_LIMIT)
    return UpgradeSettings(count if isinstance(count, int) else default)
