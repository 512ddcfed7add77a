import os
import subprocess
import sys

import pytest

from tests import netns
from tests.engine.harness import ensure_engine_tools
from tests.helpers import ROOT


@pytest.fixture(scope="session")
def realnode_tools():
    """The real-node tests' builds (tests/realnodes/tools.py, cached outside the checkout) and the engine's; without
    them a real-node test fails under CI and is skipped elsewhere."""
    netns.require()
    ensure_engine_tools()
    done = subprocess.run([sys.executable, "-m", "tests.realnodes.tools"], cwd=ROOT, capture_output=True, text=True,
                          timeout=4 * 3600)
    if done.returncode != 0:
        message = f"tests/realnodes/tools.py failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/realnodes/" in str(item.fspath):
            item.add_marker(pytest.mark.realnodes)
