"""Types checked in one pass (executions/results/typecheck.py) are the types of the full classification, and the
DuckDB COPY counts the records as Python's csv module does: pages stay type-identical."""

import csv
import random

import pytest

from executions.results import duckdb_connect, infer_types
from executions.results.ingest import SAMPLE_ROWS, build_sidecar
from executions.results.typecheck import full_types

POOLS = {
    "integer": ["1", "-20", "+3", "0", "9" * 38],
    "decimal": ["2.5", "1e3", ".5", "1" * 39],
    "boolean": ["true", "FALSE"],
    "date": ["2024-01-01", "2024-12-31"],
    "timestamp": ["2024-01-01T10:00:00.000", "2024-01-02 11:30", "2024-01-03T00:00:00Z"],
    "string": ["abc", "1,5", 'say "hi"', "two\nlines", "Ünï"],
}


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def python_count(path) -> int:
    with open(path, encoding="utf-8", newline="") as handle:
        return sum(1 for row in csv.reader(handle) if row) - 1


@pytest.mark.parametrize("seed", range(6))
def test_checked_types_equal_the_full_classification(tmp_path, seed):
    chance = random.Random(seed)
    kinds = list(POOLS)
    header, columns = [], []
    for number in range(14):
        main = kinds[number % len(kinds)]
        # After the sample, some columns get a value of another type (or an empty cell) now and then.
        other = chance.choice([None, "", *kinds])
        header.append(f"col{number}")
        columns.append((main, other))
    rows = []
    for i in range(SAMPLE_ROWS + 600):
        row = []
        for main, other in columns:
            late = i > SAMPLE_ROWS and other is not None and chance.random() < 0.01
            pool = [""] if late and other == "" else POOLS[other] if late else POOLS[main]
            row.append(chance.choice(pool))
        rows.append(row)
    path = tmp_path / "r.csv"
    write_csv(path, header, rows)

    sampled = infer_types(len(header), rows[:SAMPLE_ROWS])
    count, checked = build_sidecar(path, tmp_path / "r.parquet", sampled)

    assert checked != sampled  # some columns were widened beyond the sample
    with duckdb_connect() as con:
        assert checked == full_types(con, tmp_path / "r.parquet", sampled)
    assert count == python_count(path) == len(rows)
