"""Plans of the shipped stacks, built once per test session (each plan runs the real program under mocks)."""

from functools import lru_cache

from tools.plan import build_plan


@lru_cache(maxsize=None)
def shipped_plan(stack: str):
    return build_plan(stack)


def of_type(result, type_token: str) -> list[dict]:
    return [r for r in result.document["resources"] if r["type"] == type_token]


INSTANCE = "aws:ec2/instance:Instance"
TARGET_ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment"
