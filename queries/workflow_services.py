"""What the query workspace pages do: listing, creating, copying and retiring saved queries,
their parameter definitions, and what the editor previews, formats and checks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlglot
from django.db import transaction
from django.db.models import F, Q, QuerySet
from sqlglot.errors import SqlglotError

from queries import amc_request
from queries.parameters import PreparedQuery, prepare_query
from recomamp.amc import errors as amc_errors
from recomamp.amc.records import TimeWindow

from .models import DataSource, QueryTemplate, Workflow, WorkflowSync
from .services import mark_syncs_outdated, sql_hash
from .validation import ParameterDefinition, custom_parameter_values, extract_parameters, guess_type
from .validation.limits import sql_limit_problem
from .validation.parsing import AMC
from .validation.sql_text import scan
from .versions import record_version

PAGE_SIZE = 25

# Sort keys accepted in the URL (`?sort=name`, `?sort=-runs`) and the columns behind them.
SORT_FIELDS = {"name": "name", "updated": "updated_at", "last_run": "last_executed_at", "runs": "execution_count"}
DEFAULT_SORT = "-updated"


# --- Listing -----------------------------------------------------------------------------------------------------


def normalize_sort(sort: str) -> str:
    return sort if sort.lstrip("-") in SORT_FIELDS else DEFAULT_SORT


def filter_workflows(queryset: QuerySet[Workflow], *, q: str = "", tag: str = "", status: str = "",
                     sort: str = "") -> QuerySet[Workflow]:  # fmt: skip
    """Search, filter and sort saved queries. Archived ones only show when asked for (status=archived or all)."""
    if q:
        queryset = queryset.filter(Q(name__icontains=q) | Q(description__icontains=q) | Q(workflow_id__icontains=q))
    if tag:
        queryset = queryset.filter(tags__contains=[tag])
    if status == "all":
        pass
    elif status in Workflow.Status.values:
        queryset = queryset.filter(status=status)
    else:
        queryset = queryset.exclude(status=Workflow.Status.ARCHIVED)
    sort = normalize_sort(sort)
    column = F(SORT_FIELDS[sort.lstrip("-")])
    ordering = column.desc(nulls_last=True) if sort.startswith("-") else column.asc(nulls_last=True)
    return queryset.order_by(ordering, "name", "pk")


def visible_templates(user) -> QuerySet[QueryTemplate]:
    """Library entries a user may see: the public ones and their own."""
    return QueryTemplate.objects.filter(Q(is_public=True) | Q(owner=user))


def filter_templates(user, *, q: str = "", category: str = "", tag: str = "") -> QuerySet[QueryTemplate]:
    templates = visible_templates(user)
    if q:
        templates = templates.filter(
            Q(name__icontains=q) | Q(description__icontains=q) | Q(slug__icontains=q) | Q(sql_template__icontains=q)
        )
    if category:
        templates = templates.filter(category=category)
    if tag:
        templates = templates.filter(tags__contains=[tag])
    return templates.order_by("category", "name")


# --- Parameter definitions -----------------------------------------------------------------------------------------


def parameter_definitions(
    sql: str, base: dict[str, ParameterDefinition] | None = None, types: dict[str, str] | None = None
) -> list[ParameterDefinition]:
    """One definition per parameter the SQL uses, in order of appearance.

    The type comes from `types` (what the analyst chose), else the stored definition in `base`, else a guess
    from the name; label, default and required come from `base`.
    """
    base, types = base or {}, types or {}
    result = []
    for ref in extract_parameters(sql):
        stored = base.get(ref.name)
        chosen = types.get(ref.name) or (stored.type if stored else guess_type(ref.name))
        result.append(
            ParameterDefinition(
                name=ref.name,
                type=chosen,
                default=stored.default if stored and stored.type == chosen else None,
                label=stored.label if stored else None,
                required=stored.required if stored else True,
            )
        )
    return result


def json_value(definition: ParameterDefinition, raw: Any) -> Any:
    """The typed, JSON-ready form of an entered value (None when empty); raises ParameterError if invalid."""
    loose = ParameterDefinition(definition.name, definition.type, required=False)
    return custom_parameter_values({definition.name: loose}, {definition.name: raw}).get(definition.name)


def definitions_to_json(definitions: list[ParameterDefinition], values: dict[str, Any]) -> list[dict]:
    """Stored form of definitions whose defaults are the entered values (checked against their types)."""
    return [
        {
            "name": d.name,
            "type": d.type,
            "default": json_value(d, values.get(d.name)),
            "label": d.label or "",
            "required": d.required,
        }
        for d in definitions
    ]


# --- Creating and changing saved queries ---------------------------------------------------------------------------


def create_from_template(owner, template: QueryTemplate, *, name: str, values: dict[str, Any]) -> Workflow:
    """A saved query from a library entry, with the entered values as its parameter defaults."""
    definitions = parameter_definitions(template.sql_template, template.parameter_definitions())
    with transaction.atomic():
        workflow = Workflow.objects.create(
            owner=owner,
            name=name,
            description=template.description,
            sql=template.sql_template,
            parameters=definitions_to_json(definitions, values),
            tags=list(template.tags),
            template=template,
        )
        record_version(workflow, user=owner, note=f"From the library: {template.name}")
    return workflow


def save_workflow(workflow: Workflow, parameters: list[dict], *, user=None, note: str = "") -> Workflow:
    """Store an edit and keep it as a version (none when SQL and parameters are unchanged); every AMC copy
    whose SQL differs is marked as changed since sync."""
    workflow.parameters = parameters
    with transaction.atomic():
        workflow.save()
        mark_syncs_outdated(workflow)
        record_version(workflow, user=user or workflow.owner, note=note)
    return workflow


def copy_name(name: str) -> str:
    max_length = Workflow._meta.get_field("name").max_length
    return f"Copy of {name}"[:max_length]


def duplicate_workflow(workflow: Workflow) -> Workflow:
    """A new draft with the same SQL and parameters, a new wf_ id, no AMC copies, versions or run history."""
    with transaction.atomic():
        copy = Workflow.objects.create(
            owner=workflow.owner,
            name=copy_name(workflow.name),
            description=workflow.description,
            sql=workflow.sql,
            parameters=workflow.parameters,
            tags=list(workflow.tags),
            template=workflow.template,
        )
        record_version(copy, user=workflow.owner, note=f"Copied from {workflow.workflow_id}")
    return copy


def set_archived(workflow: Workflow, archived: bool) -> Workflow:
    workflow.status = Workflow.Status.ARCHIVED if archived else Workflow.Status.DRAFT
    workflow.save(update_fields=["status", "updated_at"])
    return workflow


def delete_workflow(workflow: Workflow) -> None:
    """Deletes the query and its schedules; past executions stay (their workflow link becomes empty)."""
    workflow.delete()


# --- AMC copies ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncRow:
    instance: Any
    sync: WorkflowSync | None
    state: str  # synced / outdated / failed / missing / none
    label: str


def sync_rows(workflow: Workflow, instances) -> list[SyncRow]:
    """Where the workflow stands on each instance (`none`: never saved there)."""
    syncs = {sync.instance_id: sync for sync in workflow.syncs.all()}
    current = sql_hash(workflow.sql)
    rows = []
    for instance in instances:
        sync = syncs.get(instance.pk)
        if sync is None:
            rows.append(SyncRow(instance, None, "none", "Not saved on AMC"))
            continue
        state = sync.state
        if state == WorkflowSync.State.SYNCED and sync.sql_hash != current:
            state = WorkflowSync.State.OUTDATED
        rows.append(SyncRow(instance, sync, state, WorkflowSync.State(state).label))
    return rows


# --- Editor helpers ------------------------------------------------------------------------------------------------


class FormatError(ValueError):
    """The SQL cannot be formatted (it does not parse)."""


_MASK = "__rcp_param_{}__"


def format_sql(sql: str) -> str:
    """Pretty-print a query with sqlglot, keeping `{{placeholders}}` and CUSTOM_PARAMETER calls as written."""
    if sql_limit_problem(sql):
        raise FormatError(sql_limit_problem(sql))
    originals: list[str] = []
    pieces, cursor = [], 0
    for occurrence in scan(sql).occurrences:
        if occurrence.syntax != "placeholder" or occurrence.in_string:
            continue  # placeholders inside quotes survive formatting as part of the literal
        pieces += [sql[cursor : occurrence.start], _MASK.format(len(originals))]
        originals.append(sql[occurrence.start : occurrence.end])
        cursor = occurrence.end
    pieces.append(sql[cursor:])
    try:
        statements = sqlglot.transpile("".join(pieces), read=AMC, write=AMC, pretty=True)
    except SqlglotError:
        raise FormatError("The query does not parse yet; fix the errors shown under the editor first.") from None
    if len(statements) != 1:
        raise FormatError("Only a single query can be formatted.")
    return re.sub(r"__rcp_param_(\d+)__", lambda m: originals[int(m.group(1))], statements[0])


def default_window(today: date, zone: str) -> TimeWindow:
    """The run dialog's default: the 7 complete days ending 2 days ago (AMC data lands within 48 hours)."""
    tz = ZoneInfo(zone)
    end = datetime.combine(today - timedelta(days=1), time.min, tz)
    return TimeWindow("EXPLICIT", end - timedelta(days=7), end, zone)


@dataclass(frozen=True)
class Preview:
    prepared: PreparedQuery
    body: dict

    @property
    def body_json(self) -> str:
        return json.dumps(self.body, indent=2, ensure_ascii=False)


def preview_request(
    sql: str,
    definitions: list[ParameterDefinition],
    values: dict[str, Any],
    *,
    window: TimeWindow,
    workflow: Workflow | None = None,
) -> Preview:
    """The SQL and JSON body a run would send (raises ParameterError for a bad value).

    Built by the same `amc_request.execution_body` a run uses; the execution's own id, assigned when it runs,
    becomes the ad hoc workflowId.
    """
    prepared = prepare_query(sql, {d.name: d for d in definitions}, values)
    saved = amc_request.runs_saved_workflow(workflow, prepared)
    body = amc_request.execution_body(
        prepared,
        window=window,
        saved_workflow_id=workflow.workflow_id if saved else None,
        adhoc_workflow_id="<execution id, assigned when run>",
    )
    return Preview(prepared, body)


@dataclass(frozen=True)
class AMCCheck:
    """AMC's answer to a dry run."""

    ok: bool
    message: str
    status: str = ""
    line: int | None = None
    column: int | None = None


def dry_run(client, instance, prepared: PreparedQuery, window: TimeWindow) -> AMCCheck:
    """Ask AMC to compile the query without running it; AMC errors become a plain answer."""
    try:
        body = amc_request.execution_body(prepared, window=window, synthetic_data=instance.is_sandbox, dry_run=True)
        execution = client.create_execution(instance, body)
    except amc_errors.AMCValidationError as exc:
        return AMCCheck(False, exc.compile_message or str(exc), line=exc.line, column=exc.column)
    except amc_errors.AMCError as exc:
        return AMCCheck(False, str(exc))
    if execution.status in ("REJECTED", "FAILED"):
        return AMCCheck(False, execution.status_reason or "AMC rejected the query.", status=execution.status)
    return AMCCheck(True, "AMC accepted the query.", status=execution.status)


# --- Loading SQL into the editor -----------------------------------------------------------------------------------


def example_sql(reference: str) -> tuple[DataSource, dict] | None:
    """The example named `schema_id:index` (as in the data source pages' "Open in editor" links)."""
    schema_id, _, index = reference.partition(":")
    source = DataSource.objects.filter(schema_id=schema_id).first()
    if source is None or not (index.isdecimal() and len(index) < 6) or int(index) >= len(source.examples):
        return None
    example = source.examples[int(index)]
    return (source, example) if isinstance(example, dict) and example.get("sql") else None
