"""The analyst workbench: running the editor's SQL from the editor page (templates/executions/workbench/).

Business rules only; `executions.workbench_views` holds the thin views. A run goes through the one execution
path (`services.start_execution`); what is remembered between runs is a small dict the view keeps in the session.
"""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from instances.models import AMCInstance
from queries.catalog import validator_catalog
from queries.forms import normalize_newlines
from queries.parameters import run_parameter_definitions
from queries.validation import validate
from recomamp.ownership import owned_by

from . import services
from .forms import RunForm
from .models import Execution

BAR_FIELDS = ("instance", "window_type", "start_date", "end_date", "timezone")
PREFIX = "wb"  # the bar's fields live inside the editor's form: a prefix keeps them apart from the run dialog's


class RunBlocked(ValueError):
    """The run cannot start; the message is shown at the run button."""


@dataclass(frozen=True)
class NeedsConfirmation(Exception):  # noqa: N818 - a question to the analyst, not a failure
    """Only warnings stand in the way: the analyst is asked once, then the run goes ahead."""

    warnings: tuple[str, ...]

    def __str__(self):
        return "\n".join(self.warnings)


def active_instances(user):
    return owned_by(user, AMCInstance).filter(status=AMCInstance.Status.ACTIVE)


def default_instance(user, remembered: dict) -> AMCInstance | None:
    """The remembered instance, else the one the user last ran on, else a sandbox one; never a production
    instance picked by its name's place in the alphabet (the bar then asks the analyst to choose)."""
    choices = active_instances(user)
    if pk := remembered.get("instance"):
        if found := choices.filter(pk=pk).first():
            return found
    last = (
        owned_by(user, Execution)
        .filter(instance__in=choices, trigger=Execution.Trigger.MANUAL)
        .order_by("-created_at")
        .values_list("instance", flat=True)
        .first()
    )
    if last:
        return choices.get(pk=last)
    return choices.filter(is_sandbox=True).first()


def bar_initial(user, remembered: dict) -> dict:
    """Initial values of the run bar: what was used last, else the run dialog's defaults."""
    instance = default_instance(user, remembered)
    initial = {"instance": instance.pk if instance else None}
    for name in ("window_type", "start_date", "end_date", "timezone"):
        if remembered.get(name):
            initial[name] = remembered[name]
    if "timezone" not in initial and instance is not None:
        initial["timezone"] = instance.timezone or user.timezone
    return initial


def bar_form(user, remembered: dict) -> RunForm:
    form = RunForm(user=user, prefix=PREFIX, initial=bar_initial(user, remembered))
    form.fields["instance"].empty_label = "Choose an instance"  # no silent production preselection
    form.fields["instance"].widget.choices = form.fields["instance"].choices
    return form


def remembered_from(form: RunForm) -> dict:
    """What the session keeps after a run (JSON-safe)."""
    data = form.cleaned_data
    kept = {"instance": str(data["instance"].pk), "window_type": data["window_type"], "timezone": data["timezone"]}
    for name in ("start_date", "end_date"):
        if isinstance(data.get(name), date):
            kept[name] = data[name].isoformat()
    return kept


def check_sql(sql: str) -> tuple[list, list]:
    """(errors, warnings) of the SQL as the editor shows them."""
    catalog = validator_catalog()
    diagnostics = validate(sql, catalog)
    if not catalog.table_names():  # nothing to check names against (same rule as the editor's panel)
        diagnostics = [d for d in diagnostics if d.code != "unknown-table"]
    errors = [d for d in diagnostics if d.severity == "error"]
    warnings = [d for d in diagnostics if d.severity == "warning"]
    return errors, warnings


def _where(d) -> str:
    return f"Line {d.line}, column {d.column}: {d.message}"


def run_form(user, data, definitions) -> RunForm:
    """The run dialog's form filled from the bar (`wb-` fields) and the editor's parameter values."""
    values = {name: data.get(f"{PREFIX}-{name}", "") for name in BAR_FIELDS}
    values["timeout_minutes"] = "360"
    for d in definitions:
        values[f"param_{d.name}"] = data.get(f"param_{d.name}", "")
    return RunForm(values, user=user, parameter_definitions=definitions)


def start_run(user, data, workflow=None, *, confirmed: bool = False) -> tuple[Execution, dict]:
    """Start the editor's SQL on the bar's instance and window: (execution, what to remember).

    A saved query's run is that query's run (`workflow` set), whether or not its SQL was changed since saving.
    Raises RunBlocked (errors, bad input) or NeedsConfirmation (warnings not yet confirmed); nothing is saved then.
    """
    sql = normalize_newlines(data.get("sql", ""))
    if not sql.strip():
        raise RunBlocked("Write a query first.")
    errors, warnings = check_sql(sql)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise RunBlocked(f"Not run: {_where(errors[0])}{more}")
    if warnings and not confirmed:
        raise NeedsConfirmation(tuple(_where(d) for d in warnings))
    definitions = run_parameter_definitions(sql, workflow.parameter_definitions() if workflow else {})
    form = run_form(user, data, definitions)
    if not form.is_valid():
        field, messages = next(iter(form.errors.items()))
        if field == "instance":
            raise RunBlocked("Choose an instance to run on.")
        label = form.fields[field].label or field.replace("_", " ") if field in form.fields else ""
        raise RunBlocked(f"{label.capitalize()}: {messages[0]}" if label else messages[0])
    try:
        execution = services.start_execution(
            owner=user,
            instance=form.cleaned_data["instance"],
            window=form.window(),
            workflow=workflow,
            sql=sql,
            parameters=form.parameters(),
        )
    except services.ExecutionInputError as exc:
        raise RunBlocked(str(exc)) from None
    return execution, remembered_from(form)


def next_step(execution: Execution) -> str:
    """What happens next, in words, for the live status."""
    status = Execution.Status
    if execution.status == status.PENDING:
        return "Waiting for a worker to submit it to AMC."
    if execution.status == status.SUBMITTING:
        return "Submitting to AMC."
    if execution.status in (status.QUEUED, status.RUNNING):
        when = execution.next_poll_at
        if when and when > timezone.now():
            seconds = max(1, round((when - timezone.now()).total_seconds()))
            return f"AMC is working on it; we ask again in {seconds} s. The results appear here."
        return "AMC is working on it; the results appear here when it finishes."
    if execution.status == status.FETCHING:
        return "AMC has finished; downloading the results."
    return ""


def elapsed_seconds(execution: Execution) -> float:
    end = execution.finished_at or timezone.now()
    return max(0.0, (end - execution.created_at).total_seconds())


def history(user, workflow, limit: int = 20):
    """This query's runs, newest first, with what the history panel shows."""
    return (
        owned_by(user, Execution)
        .filter(workflow=workflow)
        .select_related("instance", "owner", "result", "query_version__workflow")
        .order_by("-created_at")[:limit]
    )
