"""Fixtures of the warehouse tests: each engine in turn, synthetic events.

The PostgreSQL server comes from tests/postgres_fixtures.py (a plugin of tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthetic_losses import Year, synthetic_year


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each engine in turn: the contract tests run the same assertions against both."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="session")
def year() -> Year:
    return synthetic_year()
