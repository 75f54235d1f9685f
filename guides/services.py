"""Business rules of the build guides: what a user sees, their favourites and their progress per step."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from queries.models import Workflow
from queries.parameters import definitions_from_json, run_parameter_definitions
from queries.versions import record_version
from queries.workflow_services import definitions_to_json

from .models import Guide, GuideFavourite, GuideProgress, GuideStep


def guides_for(user) -> QuerySet:
    """Every guide with this user's favourite flag and count of steps done."""
    return Guide.objects.annotate(
        is_favourite=Exists(GuideFavourite.objects.filter(owner=user, guide=OuterRef("pk"))),
        step_count=Count("steps", distinct=True),
        done_count=Count(
            "steps__progress",
            filter=Q(steps__progress__owner=user, steps__progress__done_at__isnull=False),
            distinct=True,
        ),
    )


def filter_guides(user, *, q: str = "", category: str = "", favourites: bool = False) -> QuerySet:
    guides = guides_for(user)
    if q:
        guides = guides.filter(
            Q(title__icontains=q) | Q(summary__icontains=q) | Q(tags__icontains=q) | Q(steps__title__icontains=q)
        ).distinct()
    if category:
        guides = guides.filter(category=category)
    if favourites:
        guides = guides.filter(is_favourite=True)
    return guides


def toggle_favourite(user, guide: Guide) -> bool:
    """Flip the favourite; returns whether it is now a favourite."""
    deleted, _ = GuideFavourite.objects.filter(owner=user, guide=guide).delete()
    if not deleted:
        GuideFavourite.objects.get_or_create(owner=user, guide=guide)
    return not deleted


def progress_by_step(user, guide: Guide) -> dict[int, GuideProgress]:
    rows = GuideProgress.objects.filter(owner=user, step__guide=guide).select_related("last_execution", "step")
    return {row.step.number: row for row in rows}


def _progress(user, step: GuideStep) -> GuideProgress:
    progress, _ = GuideProgress.objects.get_or_create(owner=user, step=step)
    return progress


def set_done(user, step: GuideStep, done: bool) -> GuideProgress:
    progress = _progress(user, step)
    progress.done_at = timezone.now() if done else None
    progress.save(update_fields=["done_at", "updated_at"])
    return progress


def record_run(user, step: GuideStep, execution, *, sql: str, values: dict) -> GuideProgress:
    """The step's last result is the user's latest execution started from it, with the SQL and values used."""
    progress = _progress(user, step)
    progress.last_execution, progress.last_sql, progress.last_values = execution, sql, values
    progress.save(update_fields=["last_execution", "last_sql", "last_values", "updated_at"])
    return progress


def workbench_initial(progress: GuideProgress | None) -> dict:
    """Run form values from the user's last run of the step: its parameters, instance and window."""
    execution = progress.last_execution if progress else None
    if execution is None:
        return {}
    initial = {f"param_{name}": value for name, value in progress.last_values.items() if value not in (None, "")}
    initial.update(instance=execution.instance_id, timezone=execution.time_window_timezone)
    if execution.time_window_type == "EXPLICIT" and execution.time_window_start and execution.time_window_end:
        zone = ZoneInfo(execution.time_window_timezone)
        initial["start_date"] = execution.time_window_start.astimezone(zone).date()
        initial["end_date"] = (execution.time_window_end.astimezone(zone) - timedelta(days=1)).date()
    else:
        initial["window_type"] = execution.time_window_type
    return initial


def step_definitions(step: GuideStep, sql: str):
    """Typed parameters of the SQL as edited: the step's definitions, guessed types for new placeholders."""
    return run_parameter_definitions(sql, definitions_from_json(step.parameters))


def save_step_as_query(user, step: GuideStep, *, sql: str, values: dict, name: str = "") -> Workflow:
    """The user's own saved query from a step, with the values they entered as parameter defaults."""
    definitions = step_definitions(step, sql)
    with transaction.atomic():
        workflow = Workflow.objects.create(
            owner=user,
            name=(name or f"{step.guide.title}: {step.title}")[:200],
            description=f"From the build guide '{step.guide.title}', step {step.number}.",
            sql=sql,
            parameters=definitions_to_json(definitions, values),
            tags=["guide", step.guide.slug],
        )
        record_version(workflow, user=user, note=f"From the guide {step.guide.title}, step {step.number}")
    return workflow


RESULT_PREVIEW_ROWS = 50


def last_result_page(progress: GuideProgress | None):
    """The first rows of the step's last result, for reading it next to the narrative (None if there is none)."""
    from executions.results.reader import ResultReadError, read_page

    execution = progress.last_execution if progress else None
    result = getattr(execution, "result", None) if execution else None
    if result is None:
        return None
    try:
        return read_page(result, page=1, page_size=RESULT_PREVIEW_ROWS)
    except ResultReadError:
        return None
