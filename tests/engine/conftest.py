import pytest

from tests.engine.harness import ensure_engine_tools


@pytest.fixture(scope="session")
def engine_tools():
    ensure_engine_tools()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/engine/" in str(item.fspath):
            item.add_marker(pytest.mark.engine)
