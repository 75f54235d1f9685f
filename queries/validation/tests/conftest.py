from pathlib import Path

import pytest

from queries.validation import Catalog, validate

CATALOG_PATH = Path(__file__).with_name("amc_columns.json")


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.from_columns_json(CATALOG_PATH)


@pytest.fixture
def check(catalog):
    """validate() with the test catalog."""

    def run(sql: str, **options):
        return validate(sql, catalog, **options)

    return run
