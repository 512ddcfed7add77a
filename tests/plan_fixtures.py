"""Plans of the shipped stacks, built once per test session (each plan runs the real program under mocks)."""

import tempfile
from functools import lru_cache
from pathlib import Path

from tests.helpers import write_stack
from tools.plan import build_plan
from tools.scale_benchmark import stack_document as sized_document


@lru_cache(maxsize=None)
def shipped_plan(stack: str):
    return build_plan(stack)


@lru_cache(maxsize=None)
def scaled_plan(stack: str, workers: int):
    """The shipped `stack` (prod or metal) with `workers` workers (tools/scale_benchmark.py), without the policy run:
    the 300-worker plans take tens of seconds each, and several tests read the same ones."""
    with tempfile.TemporaryDirectory() as directory:
        return build_plan("custom", write_stack(Path(directory), sized_document(stack, workers), f"{stack}{workers}"),
                          check_policies=False)


def of_type(result, type_token: str) -> list[dict]:
    return [r for r in result.document["resources"] if r["type"] == type_token]


INSTANCE = "aws:ec2/instance:Instance"
TARGET_ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment"
