"""Runs the command stand-in's remote dial and command once, inside a test's network namespace, and prints what
happened as JSON (tests/engine/test_standins.py):

    ip netns exec NS python -m tests.engine.standin_probe < REQUEST.json

The request holds `connection` (the remote Command's, defaults filled as the provider's Check fills them) and
`command`. The answer: `stdout`, `stderr`, or `error` (the step's failure text), the `statuses` the provider
reported while retrying with their times, and the `elapsed` seconds.
"""

from __future__ import annotations

import json
import sys
import time

from tests.engine.providers.command_standin import CommandFailed, run_remote, with_connection_defaults


def main() -> int:
    request = json.load(sys.stdin)
    started = time.monotonic()
    statuses: list[tuple[float, str]] = []
    answer: dict = {}
    try:
        out, err = run_remote(with_connection_defaults(request["connection"]), request["command"], "", {},
                              lambda text: statuses.append((time.monotonic() - started, text)))
        answer.update(stdout=out, stderr=err)
    except CommandFailed as failure:
        answer["error"] = str(failure)
    answer.update(statuses=statuses, elapsed=time.monotonic() - started)
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
