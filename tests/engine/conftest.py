import pytest

from tests import netns
from tests.engine.harness import ensure_engine_tools


@pytest.fixture(scope="session")
def engine_tools():
    ensure_engine_tools()


@pytest.fixture
def no_network():
    """The network namespace an engine operation without test hosts runs in: loopback only. The stacks name hosts
    in documentation ranges; their SSH reads fail at once there instead of sending packets out of this machine
    (and waiting for a connect timeout)."""
    netns.require()
    lab = netns.Lab("off")
    try:
        lab.add_isolated("engine")
        yield lab.ns("engine")
    finally:
        lab.close()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/engine/" in str(item.fspath):
            item.add_marker(pytest.mark.engine)
