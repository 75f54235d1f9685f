"""The schedule wizard, the edit page and their live partials (preview, cron description, parameter fields).

The wizard is one form in four steps. `?step=N` (or the posted `step`) shows step N and carries the other steps'
values as hidden inputs; `?step=all` shows every step at once, which is also what the edit page and a failed
save show. Without JavaScript every button is a plain submit; with htmx the preview and the cron description
refresh as the user types.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import planning, timing
from ..forms import STEPS, TIMING_FIELDS, WINDOW_FIELDS, ScheduleForm, first_error_step
from ..timing import ScheduleTimingError
from . import common
from .common import schedule_for

ALL_STEPS = "all"
PREVIEW_COUNT = 10
TEMPLATE = "schedules/schedule_form.html"


@require_http_methods(["GET", "POST"])
def schedule_create(request):
    return _wizard(request, schedule=None)


@require_http_methods(["GET", "POST"])
def schedule_edit(request, schedule_id):
    return _wizard(request, schedule=schedule_for(request, schedule_id))


def _wizard(request, schedule):
    now = common.current_time()
    default_step = 1 if schedule is None else ALL_STEPS
    preview = None
    if request.method == "GET":
        form = ScheduleForm(user=request.user, schedule=schedule, now=now, workflow_id=request.GET.get("workflow"))
        step = _step(request.GET.get("step"), default_step)
    else:
        form = ScheduleForm(request.POST, user=request.user, schedule=schedule, now=now)
        action = request.POST.get("action", "save")
        step = _step(request.POST.get("step"), default_step)
        if action == "save":
            if form.is_valid():
                saved = form.save()
                messages.success(request, _saved_message(saved, created=schedule is None))
                return redirect("schedule_detail", schedule_id=saved.schedule_id)
            step = ALL_STEPS  # show every error at once
        elif action == "next" and step != ALL_STEPS:
            failing = first_error_step(form)
            if failing is not None and failing <= step:
                step = failing
                form.errors_only_for(_visible_fields(form, step))
            else:  # a step the user has not filled in yet starts without red
                step = min(step + 1, len(STEPS))
                form.errors_only_for(())
        elif action == "back" and step != ALL_STEPS:
            step = max(step - 1, 1)
            form.errors_only_for(())
        elif action == "all":
            step = ALL_STEPS
            form.errors_only_for(())
        elif action == "preview":
            preview = preview_context(form, now)
            form.errors_only_for(_visible_fields(form, step))
        else:
            form.errors_only_for(_visible_fields(form, step))
    _wire_live_updates(form, long_form=step == ALL_STEPS)
    cron_description, cron_error = describe_cron_text(form["cron_expression"].value())
    context = {
        "form": form,
        "schedule": schedule,
        "cron_description": cron_description,
        "cron_error": cron_error,
        "step": step,
        "steps": STEPS,
        "visible": _visible_fields(form, step),
        "step_fields": {s.number: form.step_fields(s) for s in STEPS},
        "is_last_step": step == ALL_STEPS or step == len(STEPS),
        "preview": preview,
    }
    return render(request, TEMPLATE, context)


def _wire_live_updates(form: ScheduleForm, *, long_form: bool) -> None:
    """htmx attributes: the cron description follows typing; in the long form, parameters follow the query."""
    form.fields["cron_expression"].widget.attrs.update({
        "hx-get": reverse("schedule_describe_cron"), "hx-trigger": "input changed delay:400ms",
        "hx-target": "#cron-description", "hx-swap": "outerHTML", "autocomplete": "off",
    })  # fmt: skip
    if long_form:
        form.fields["workflow"].widget.attrs.update({
            "hx-get": reverse("schedule_parameter_fields"), "hx-trigger": "change",
            "hx-target": "#parameter-fields", "hx-swap": "outerHTML",
        })  # fmt: skip


def describe_cron_text(cron: str | None) -> tuple[str, str]:
    """(description, error) for a cron expression; both empty when there is none."""
    cron = " ".join((cron or "").split())
    if not cron:
        return "", ""
    try:
        timing.validate_cron(cron, "UTC")  # whether it ever fires is a calendar question, not a zone one
    except ScheduleTimingError as err:
        return "", err.message
    return timing.describe_cron(cron), ""


def _step(value, default):
    if value == ALL_STEPS:
        return ALL_STEPS
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if 1 <= number <= len(STEPS) else default


def _visible_fields(form: ScheduleForm, step) -> list[str]:
    if step == ALL_STEPS:
        return list(form.fields) + ["__all__"]
    return form.step_fields(STEPS[step - 1])


def _saved_message(schedule, *, created: bool) -> str:
    verb = "Created" if created else "Saved"
    if schedule.next_run_at is None:
        return f"{verb} “{schedule.name}”. It is paused or has no run left, so nothing is planned."
    zone = timing.get_zone(schedule.timezone)
    return f"{verb} “{schedule.name}”. Next run: {schedule.next_run_at.astimezone(zone):%Y-%m-%d %H:%M %Z}."


# --- Live partials -------------------------------------------------------------------------------------------------


def preview_context(form: ScheduleForm, now) -> dict:
    """The next slots with their exact windows, or the timing errors that prevent them. Never saves.

    Timing and window errors block the preview; parameter problems are listed above the slots instead.
    """
    form.is_valid()
    blocking = _messages(form, {*TIMING_FIELDS, *WINDOW_FIELDS, "__all__"})
    if blocking:
        return {"errors": blocking, "plans": []}
    schedule = form.build_schedule()
    try:
        plans = planning.upcoming_plans(schedule, now, PREVIEW_COUNT)
        description = planning.describe(schedule)
    except ScheduleTimingError as err:
        return {"errors": [("", err.message)], "plans": []}
    return {
        "errors": [],
        "warnings": _messages(form, set(form.parameter_fields)),
        "plans": plans,
        "description": description,
        "tz": schedule.timezone,
        "is_active": schedule.is_active,
    }


def _messages(form: ScheduleForm, names: set[str]) -> list[tuple[str, str]]:
    """(field label, message) for the form's errors on `names`."""
    return [
        (form.fields[name].label if name in form.fields else "", message)
        for name, messages_ in form.errors.items()
        if name in names
        for message in messages_
    ]


@require_POST
def schedule_preview(request):
    """htmx: the preview table for the values currently in the form (POSTed, CSRF-checked, nothing saved)."""
    now = common.current_time()
    form = ScheduleForm(request.POST, user=request.user, now=now)
    return render(request, f"{TEMPLATE}#preview", {"preview": preview_context(form, now)})


@require_GET
def schedule_describe_cron(request):
    """htmx: a cron expression in words, or why it is not valid."""
    description, error = describe_cron_text(request.GET.get("cron_expression"))
    return render(request, f"{TEMPLATE}#cron-description", {"cron_description": description, "cron_error": error})


@require_GET
def schedule_parameter_fields(request):
    """htmx: the parameter inputs of the chosen query (the long form swaps them in when the query changes)."""
    form = ScheduleForm(user=request.user, now=common.current_time(), workflow_id=request.GET.get("workflow"))
    return render(request, f"{TEMPLATE}#parameter-fields", {"form": form})
