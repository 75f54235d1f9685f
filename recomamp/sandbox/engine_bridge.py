"""The sandbox's only door to the SQL engine: the dataset file, compile checks and query runs."""

import fcntl
import functools
import logging
import threading
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from . import conf

log = logging.getLogger(__name__)
_generate_lock = threading.Lock()


def ensure_dataset() -> Path:
    """The DuckDB file at SANDBOX_DATA_PATH; a small one is generated on first use so a fresh machine works."""
    path = conf.data_path()
    if path.exists():
        return path
    from .engine import generate

    path.parent.mkdir(parents=True, exist_ok=True)
    # One generator at a time, across threads and processes; the others wait and then find the file.
    with _generate_lock, open(path.with_name(path.name + ".lock"), "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if not path.exists():
            scale = conf.get("SANDBOX_AUTO_DATA_SCALE")
            log.warning(
                "Sandbox data %s is missing: generating a small dataset (scale %s); "
                "run `manage.py generate_sandbox_data` for the full one",
                path,
                scale,
            )
            generate(path, scale=scale)
    return path


def declared_parameters(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return list(workflow.get("inputParameters") or [])


def parameter_values(workflow: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Values from the execution's parameterValues first, then the declared defaults."""
    values = {p["name"]: p["defaultValue"] for p in declared_parameters(workflow) if p.get("defaultValue") is not None}
    values.update(given)
    return values


class QueryFailed(Exception):
    """The engine refused or failed the query; the text is the execution's status reason."""


def _declared_names(workflow: dict[str, Any], *, saved: bool) -> list[str] | None:
    """Saved workflows must declare every CUSTOM_PARAMETER; an ad hoc query without inputParameters is not
    checked, so its parameterValues can still fill the parameters it uses."""
    if saved or workflow.get("inputParameters"):
        return [p["name"] for p in declared_parameters(workflow)]
    return None


def compile_problem(workflow: dict[str, Any], *, saved: bool) -> str | None:
    """AMC's compile error text for the workflow's SQL ("From line L, column C to ..."), or None if it compiles."""
    declared = _declared_names(workflow, saved=saved)
    return _compile_problem(workflow["sqlQuery"], None if declared is None else tuple(declared))


@functools.lru_cache(maxsize=512)
def _compile_problem(sql: str, declared: tuple[str, ...] | None) -> str | None:
    """Memoised per process: the verdict depends only on the SQL text and the declared parameter names (the
    engine's table schema is fixed, engine/amc_tables.json), and parsing is most of an ad hoc create's CPU."""
    from .engine import CompileError, check

    try:
        check(sql, declared_parameters=declared)
    except CompileError as error:
        return error.amc_text()
    return None


def run(execution) -> Any:
    """Run an execution's query over its time window; returns the engine's QueryResult."""
    from .engine import CompileError, ExecutionError, run_query

    workflow = execution.workflow
    zone = ZoneInfo(execution.time_window_time_zone)
    discriminator = workflow.get("filteredMetricsDiscriminatorColumn")
    keep_all = bool(execution.request.get("disableAggregationControls"))
    try:
        return run_query(
            workflow["sqlQuery"],
            db_path=ensure_dataset(),
            # The engine takes wall-clock times in the window's zone, as AMC's request carries them.
            time_window_start=execution.time_window_start.astimezone(zone).replace(tzinfo=None),
            time_window_end=execution.time_window_end.astimezone(zone).replace(tzinfo=None),
            time_window_timezone=execution.time_window_time_zone,
            parameter_values=parameter_values(workflow, execution.parameter_values),
            declared_parameters=_declared_names(workflow, saved=not execution.is_adhoc),
            # AMC removes rows under the threshold, or blanks and flags them when a discriminator column is named.
            filtered_rows="null_with_flag" if discriminator and not keep_all else "drop",
            filtered_column=discriminator or "filtered",
            min_users=0 if keep_all else None,  # per the output columns' threshold classes
        )
    except CompileError as error:
        raise QueryFailed(compile_failure_text(execution.workflow_id, error.amc_text()))
    except ExecutionError as error:
        raise QueryFailed(f"Workflow execution failed while running the query: {error}")


def compile_failure_text(workflow_id: str, problem: str) -> str:
    return f"Was unable to compile workflow {workflow_id} because it was found to be invalid: {problem}"
