"""Run every guide step on sandbox data the way an execution does: validator, placeholders, then the engine
with AMC's user threshold. Used by guides/tests/test_guide_queries.py (and handy when writing a guide)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from guides.files import GuideSpec, StepSpec
from queries.parameters import definitions_from_json, prepare_query
from queries.validation import Catalog, ColumnInfo, validate


@dataclass
class StepOutcome:
    guide: str
    step: int
    problems: list[str]
    rows: int
    filtered: int


def dataset_catalog(dataset) -> Catalog:
    """The validator's catalog from the parsed schema files (queries/amc_dataset/)."""
    return Catalog(
        {
            table.table_name: {c.name: ColumnInfo(c.data_type, c.kind, c.threshold) for c in table.columns}
            for table in dataset
        }
    )


def check_step(
    guide: GuideSpec, step: StepSpec, catalog: Catalog, db_path: Path, start: datetime, end: datetime
) -> StepOutcome:
    from recomamp.sandbox.engine import CompileError, ExecutionError, run_query
    from recomamp.sandbox.engine.runner import DEFAULT_MIN_USERS

    definitions = definitions_from_json([parameter.as_dict() for parameter in step.parameters])
    prepared = prepare_query(step.sql, definitions, {})
    problems = [
        f"{d.severity}: {d.message}" for d in validate(prepared.sql, catalog) if d.severity in ("error", "warning")
    ]
    rows = filtered = 0
    try:
        result = run_query(
            prepared.sql, db_path=db_path, time_window_start=start, time_window_end=end, min_users=DEFAULT_MIN_USERS
        )
        rows, filtered = len(result.rows), result.filtered_count
    except (CompileError, ExecutionError) as exc:
        problems.append(f"engine: {exc}")
    return StepOutcome(guide.slug, step.number, problems, rows, filtered)
