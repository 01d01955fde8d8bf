"""Fixtures of the ship tests: the wheel built from the work tree, installed fresh."""

from __future__ import annotations

import pytest

from tests.ship.installed import Installed, build_wheel, install


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The work tree's wheel in a fresh venv (built once per test process)."""
    where = tmp_path_factory.mktemp("installed")
    return install(build_wheel(where), where)
