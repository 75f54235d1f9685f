from datetime import date, datetime

import duckdb
import pytest

from recomamp.sandbox.engine import GenerationStats, generate

END_DATE = date(2025, 6, 30)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory) -> GenerationStats:
    """A tiny deterministic sandbox database shared by the whole session."""
    return generate(tmp_path_factory.mktemp("amc") / "sandbox.duckdb", scale=0.004, seed=7, end_date=END_DATE)


@pytest.fixture()
def raw(sandbox):
    """A direct read-only DuckDB connection for computing expected values independently of the engine."""
    con = duckdb.connect(str(sandbox.path), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    yield con
    con.close()


@pytest.fixture()
def whole_period(sandbox) -> dict:
    return {
        "db_path": sandbox.path,
        "time_window_start": datetime.combine(sandbox.start_date, datetime.min.time()),
        "time_window_end": datetime(2025, 7, 1),
    }
