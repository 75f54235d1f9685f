"""Every guide step passes the SQL validator and returns rows on sandbox data above AMC's 100-person threshold.

The synthetic data is generated deterministically; the engine call is the one the sandbox API makes for an
execution (recomamp/sandbox/engine_bridge.py), with the placeholders filled by queries.parameters exactly
as a run from the step page fills them.
"""

from datetime import date, datetime

import pytest

from guides.files import read_guides
from queries.catalog_dirs import read_dataset
from queries.catalog_import import DEFAULT_DATASET_DIR

from .sandbox_check import check_step, dataset_catalog

GUIDES = read_guides()
STEPS = [(guide, step) for guide in GUIDES for step in guide.steps]
# A quarter of data: long enough for conversions to clear the threshold, as an analyst would be told to run them.
WINDOW = (datetime(2025, 10, 1), datetime(2026, 1, 1))


@pytest.fixture(scope="module")
def guide_dataset(tmp_path_factory):
    from recomamp.sandbox.engine import generate

    path = tmp_path_factory.mktemp("guides-data") / "amc.duckdb"
    generate(path, scale=0.25, seed=11, end_date=date(2025, 12, 31))
    return path


@pytest.fixture(scope="module")
def catalog():
    return dataset_catalog(read_dataset(DEFAULT_DATASET_DIR))


def test_there_are_enough_steps_to_check():
    assert len(GUIDES) >= 12 and len(STEPS) >= 36


@pytest.mark.parametrize("guide, step", STEPS, ids=[f"{g.slug}-{s.number}" for g, s in STEPS])
def test_step_query_is_valid_and_returns_rows_above_the_threshold(guide, step, catalog, guide_dataset):
    outcome = check_step(guide, step, catalog, guide_dataset, *WINDOW)
    assert outcome.problems == []
    assert outcome.rows > 0, f"{guide.slug} step {step.number}: every row was under the threshold"
