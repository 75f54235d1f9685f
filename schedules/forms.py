"""The schedule wizard's form (the dashboard's and history's filter forms are in `filters.py`).

One form serves the wizard, the edit page and the live preview. Its fields are grouped in four steps (`STEPS`);
the wizard shows one step at a time and carries the others as hidden inputs, so the form is always complete.
Timing, window and parameter rules live in `presets`, `windows` and `planning`: `clean()` builds an unsaved
Schedule and lets them judge it, turning each `ScheduleTimingError` into an error on the form field at fault.
"""

import re
from dataclasses import dataclass
from datetime import datetime, time

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from brands import lists as brand_lists
from instances.models import AMCInstance
from queries.list_parameters import picker_attrs
from queries.models import Workflow
from queries.parameters import run_parameter_definitions
from queries.validation.parameters import ParameterDefinition, ParameterError, coerce_value
from recomamp.bounds import BoundedDateField
from recomamp.ownership import owned_by
from recomamp.widgets import TimeZoneInput

from . import planning, presets, saving, timing, windows, wizard_data
from .models import Schedule
from .timing import ScheduleTimingError

SNOWFLAKE_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$"
MAX_RECIPIENTS = 20
PARAMETER_PREFIX = "param_"
DYNAMIC_TYPES = ("date", "timestamp", "string")  # parameter types a date expression can fill
WEEKDAY_CHOICES = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
MONTH_DAY_CHOICES = [(day, str(day)) for day in range(1, 32)] + [(presets.LAST_DAY_OF_MONTH, "Last day")]
WINDOW_CHOICES = [
    (windows.WindowKind.PREVIOUS_DAY, "Previous day"),
    (windows.WindowKind.LAST_N_DAYS, "Last N days"),
    (windows.WindowKind.PREVIOUS_WEEK_MON, "Previous week (Mon–Sun)"),
    (windows.WindowKind.PREVIOUS_WEEK_SUN, "Previous week (Sun–Sat)"),
    (windows.WindowKind.PREVIOUS_MONTH, "Previous month"),
    (windows.WindowKind.MONTH_TO_DATE, "Month to date"),
    (windows.WindowKind.SAME_AS_INTERVAL, "Same as the interval"),
    (windows.WindowKind.FIXED, "Fixed dates"),
]
TIMING_FIELDS = (
    "kind", "time_of_day", "interval_days", "weekdays", "month_days", "cron_expression", "timezone",
    "start_date", "end_date",
)  # fmt: skip
DELIVERY_FIELDS = (
    "notify_on_success", "notify_on_failure", "notification_emails", "attach_csv", "snowflake_enabled",
    "snowflake_table", "snowflake_schema", "max_retries", "retry_delay_minutes", "failure_threshold", "cost_limit",
    "overlap_policy",
)  # fmt: skip
WINDOW_FIELDS = ("window_kind", "window_n_days", "window_fixed_start", "window_fixed_end", "lag_days")
# ScheduleTimingError names a model field; this is the form field that shows the message.
FORM_FIELD_FOR = {"starts_at": "start_date", "ends_at": "end_date", "window_rule": "window_kind"}


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    fields: tuple[str, ...]


STEPS = (
    Step(1, "Workflow and instance", ("name", "description", "workflow", "instance", "extra_instances")),
    Step(2, "Interval", (*TIMING_FIELDS, "is_active")),
    Step(3, "Parameters and window", WINDOW_FIELDS),  # plus the workflow's parameter fields
    Step(4, "Notifications, delivery and failures", DELIVERY_FIELDS),
)


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ScheduleForm(forms.Form):
    # Step 1
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    workflow = forms.ModelChoiceField(queryset=Workflow.objects.none(), to_field_name="workflow_id", label="Query")
    instance = forms.ModelChoiceField(queryset=AMCInstance.objects.none(), label="AMC instance")
    extra_instances = forms.ModelMultipleChoiceField(
        queryset=AMCInstance.objects.none(), required=False, widget=forms.CheckboxSelectMultiple, label="Also run on",
        help_text="Each slot runs once on every chosen instance as well.",
    )  # fmt: skip
    # Step 2
    kind = forms.ChoiceField(choices=Schedule.Kind.choices, widget=forms.RadioSelect, label="Repeat")
    time_of_day = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), label="At (local time)"
    )
    interval_days = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Every",
        choices=[("", "—")] + [(n, f"{n} days") for n in presets.INTERVAL_CHOICES],
    )  # fmt: skip
    weekdays = forms.TypedMultipleChoiceField(
        required=False, coerce=int, choices=WEEKDAY_CHOICES, widget=forms.CheckboxSelectMultiple, label="On"
    )
    month_days = forms.TypedMultipleChoiceField(
        required=False, coerce=int, choices=MONTH_DAY_CHOICES, widget=forms.CheckboxSelectMultiple,
        label="On dates",
    )  # fmt: skip
    cron_expression = forms.CharField(
        required=False, max_length=120, label="Cron expression",
        help_text="Five fields: minute hour day-of-month month day-of-week, e.g. 0 6 * * 1-5.",
    )  # fmt: skip
    timezone = forms.CharField(max_length=64, label="Time zone", help_text="IANA name, e.g. America/New_York.",
                               widget=TimeZoneInput)  # fmt: skip
    start_date = BoundedDateField(widget=date_input(), label="Starts on")
    end_date = BoundedDateField(required=False, widget=date_input(), label="Ends on", help_text="Optional; inclusive.")
    is_active = forms.BooleanField(required=False, label="Active", help_text="Paused schedules keep their history.")
    # Step 3
    window_kind = forms.ChoiceField(choices=WINDOW_CHOICES, label="Date window")
    window_n_days = forms.IntegerField(required=False, min_value=1, max_value=windows.MAX_WINDOW_DAYS, label="N days")
    window_fixed_start = BoundedDateField(required=False, widget=date_input(), label="Fixed window from")
    window_fixed_end = BoundedDateField(required=False, widget=date_input(), label="Fixed window to (inclusive)")
    lag_days = forms.IntegerField(
        min_value=0, max_value=windows.MAX_LAG_DAYS, label="Data lag (days)",
        help_text="AMC data lands within 48 hours: windows end this many days before the run.",
    )  # fmt: skip
    # Step 4
    notify_on_success = forms.BooleanField(required=False, label="E-mail when a run succeeds")
    notify_on_failure = forms.BooleanField(required=False, label="E-mail when a run fails")
    notification_emails = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Recipients",
        help_text="E-mail addresses, separated by commas or new lines.",
    )  # fmt: skip
    attach_csv = forms.BooleanField(required=False, label="Attach the results as CSV")
    snowflake_enabled = forms.BooleanField(required=False, label="Deliver results to Snowflake")
    snowflake_table = forms.RegexField(regex=SNOWFLAKE_IDENTIFIER, required=False, label="Snowflake table")
    snowflake_schema = forms.RegexField(regex=SNOWFLAKE_IDENTIFIER, required=False, label="Snowflake schema")
    max_retries = forms.IntegerField(min_value=0, max_value=10, label="Retries after a transient failure")
    retry_delay_minutes = forms.IntegerField(min_value=1, max_value=1440, label="Minutes between retries")
    failure_threshold = forms.IntegerField(min_value=1, max_value=100, label="Pause after N failures in a row")
    cost_limit = forms.DecimalField(
        required=False, min_value=0, max_digits=10, decimal_places=2, label="Cost limit per run",
        help_text="Runs whose estimated cost is higher are skipped. Leave empty for no limit.",
    )  # fmt: skip
    overlap_policy = forms.ChoiceField(choices=Schedule.OverlapPolicy.choices, label="When the previous run is late")

    def __init__(self, data=None, *, user, schedule: Schedule | None = None, now: datetime | None = None,
                 workflow_id: str | None = None, **kwargs):  # fmt: skip
        self.user, self.schedule = user, schedule
        self.now = now or timezone.now()
        kwargs.setdefault(
            "initial", wizard_data.initial_for(schedule) if schedule else self._initial_for_new(workflow_id)
        )
        super().__init__(data, **kwargs)
        self.fields["workflow"].queryset = owned_by(user, Workflow)
        self.fields["instance"].queryset = owned_by(user, AMCInstance).filter(status=AMCInstance.Status.ACTIVE)
        self.fields["extra_instances"].queryset = self.fields["instance"].queryset
        self.fields["snowflake_table"].error_messages["invalid"] = _identifier_error("table")
        self.fields["snowflake_schema"].error_messages["invalid"] = _identifier_error("schema")
        interval = self.initial.get("interval_days")
        if interval and interval not in presets.INTERVAL_CHOICES:  # set outside the wizard (admin): keep it
            self.fields["interval_days"].choices += [(interval, f"{interval} days")]
        self.selected_workflow = self._selected_workflow()
        self.parameter_fields: dict[str, ParameterDefinition] = {}
        for definition in self._parameter_definitions():
            field_name = PARAMETER_PREFIX + definition.name
            self.parameter_fields[field_name] = definition
            self.fields[field_name] = _parameter_field(definition)
            if schedule and definition.name in (schedule.parameters or {}):
                self.initial[field_name] = _as_text(schedule.parameters[definition.name])

    # --- Building -------------------------------------------------------------------------------------------------

    def _initial_for_new(self, workflow_id: str | None) -> dict:
        today = self.now.astimezone(timing.get_zone(_user_zone(self.user))).date()
        instances = list(
            owned_by(self.user, AMCInstance).filter(status=AMCInstance.Status.ACTIVE).values_list("pk", flat=True)[:2]
        )
        return {
            "workflow": workflow_id, "instance": instances[0] if len(instances) == 1 else None,
            "kind": Schedule.Kind.DAILY, "time_of_day": time(6, 0),
            "timezone": _user_zone(self.user), "start_date": today, "is_active": True,
            "window_kind": windows.WindowKind.PREVIOUS_DAY, "lag_days": windows.DEFAULT_LAG_DAYS,
            "max_retries": 2, "retry_delay_minutes": 15, "failure_threshold": 3,
            "overlap_policy": Schedule.OverlapPolicy.SKIP, "notify_on_failure": True,
            "notification_emails": self.user.email,
        }  # fmt: skip

    def _selected_workflow(self) -> Workflow | None:
        workflow_id = self.data.get(self.add_prefix("workflow")) if self.is_bound else self.initial.get("workflow")
        if not workflow_id:
            return None
        return owned_by(self.user, Workflow).filter(workflow_id=workflow_id).first()

    def _parameter_definitions(self) -> list[ParameterDefinition]:
        if self.selected_workflow is None:
            return []
        workflow = self.selected_workflow
        return run_parameter_definitions(workflow.sql, workflow.parameter_definitions())

    def parameter_inputs(self) -> list[forms.BoundField]:
        return [self[name] for name in self.parameter_fields]

    def step_fields(self, step: Step) -> list[str]:
        extra = list(self.parameter_fields) if step.number == 3 else []
        return [*step.fields, *extra]

    def build_schedule(self) -> Schedule:
        """An unsaved Schedule from whatever cleaned data there is (also for a half-filled form's preview)."""
        schedule = Schedule(owner=self.user)
        wizard_data.apply_cleaned_data(schedule, self.cleaned_data, self.parameter_fields)
        return schedule

    def save(self) -> Schedule:
        """Hand the cleaned data to the saving service, which owns the pause/resume rules."""
        schedule = self.schedule or Schedule(owner=self.user)
        was_active = self.schedule.is_active if self.schedule else None
        wizard_data.apply_cleaned_data(schedule, self.cleaned_data, self.parameter_fields)
        extra = self.cleaned_data.get("extra_instances") or []
        return saving.save_schedule(schedule=schedule, was_active=was_active, now=self.now, extra_instances=extra)

    # --- Validation -----------------------------------------------------------------------------------------------

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_timezone(self):
        return self.cleaned_data["timezone"].strip()

    def clean_cron_expression(self):
        return " ".join(self.cleaned_data["cron_expression"].split())

    def clean_notification_emails(self) -> list[str]:
        text = self.cleaned_data["notification_emails"]
        addresses = list(dict.fromkeys(part for part in re.split(r"[\s,;]+", text) if part))
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError(f"'{address}' is not a valid e-mail address.") from None
        if len(addresses) > MAX_RECIPIENTS:
            raise ValidationError(f"Send to at most {MAX_RECIPIENTS} addresses.")
        return addresses

    def clean(self):
        data = super().clean()
        if data.get("snowflake_enabled") and not data.get("snowflake_table") and "snowflake_table" not in self.errors:
            self.add_error("snowflake_table", "Name the Snowflake table to load the results into.")
        wants_mail = data.get("notify_on_success") or data.get("notify_on_failure")
        if wants_mail and not data.get("notification_emails") and "notification_emails" not in self.errors:
            self.add_error("notification_emails", "Add at least one recipient, or turn the e-mails off.")
        self.check_plan()
        return data

    def check_plan(self) -> None:
        """Let the timing, window and parameter rules judge an unsaved schedule built from the form."""
        schedule = self.build_schedule()
        timing_ok = not any(name in self.errors for name in TIMING_FIELDS) and self._check(
            lambda: planning.spec_for(schedule)
        )
        window_ok = not any(name in self.errors for name in WINDOW_FIELDS) and self._check(
            lambda: planning.window_rule_for(schedule)
        )
        if not timing_ok:
            return
        try:
            first = planning.next_slot(schedule, self.now)
        except ScheduleTimingError as err:
            self._add_timing_error(err)
            return
        if first is None and schedule.is_active:
            self.add_error("end_date", "No run falls between now and this end date; move it later or leave it empty.")
        if window_ok:
            self._check_parameters(schedule, first or self.now)

    def _check(self, build) -> bool:
        try:
            build()
        except ScheduleTimingError as err:
            self._add_timing_error(err)
            return False
        return True

    def _check_parameters(self, schedule: Schedule, sample_slot: datetime) -> None:
        try:
            rule = planning.window_rule_for(schedule)
            window = windows.resolve_window(rule, sample_slot, schedule.timezone, planning.interval_days_for(schedule))
        except ScheduleTimingError as err:  # e.g. "same as interval" on a preset without one
            self._add_timing_error(err)
            return
        for field, definition in self.parameter_fields.items():
            if field in self.errors:
                continue
            value = (self.cleaned_data.get(field) or "").strip()
            try:
                if brand_lists.is_reference(value):  # a brand's list, resolved again at every slot
                    brand_lists.resolve(self.user, definition.name, value)
                    continue
                _check_parameter(definition, value, sample_slot, schedule.timezone, window)
            except (ParameterError, ScheduleTimingError) as err:
                self.add_error(field, err.message)

    def _add_timing_error(self, err: ScheduleTimingError) -> None:
        field = FORM_FIELD_FOR.get(err.field, err.field)
        if field == "window_kind":
            field = self._window_field_at_fault()
        if field not in self.fields:
            field = None
        if field is None or field not in self.errors:
            self.add_error(field, err.message)

    def _window_field_at_fault(self) -> str:
        kind = self.cleaned_data.get("window_kind")
        if kind == windows.WindowKind.LAST_N_DAYS:
            return "window_n_days"
        if kind == windows.WindowKind.FIXED:
            return "window_fixed_end" if self.cleaned_data.get("window_fixed_start") else "window_fixed_start"
        return "window_kind"

    def errors_only_for(self, fields) -> None:
        """Forget errors outside `fields` (steps not shown yet must not greet the user with red)."""
        for name in list(self.errors):
            if name not in fields:
                del self.errors[name]


def _check_parameter(definition: ParameterDefinition, value: str, slot: datetime, tz: str, window) -> None:
    """A parameter value is a literal of the parameter's type or a date expression (`slot-7d`)."""
    if not value:
        if definition.required and definition.default in (None, ""):
            raise ParameterError(definition.name, "A value is required: a literal or a date expression.")
        return
    looks_dynamic = windows.is_dynamic_value(value) or _starts_like_expression(value)
    if looks_dynamic and definition.type in DYNAMIC_TYPES:
        windows.resolve_dynamic_value(value, slot, tz, window)  # raises with the expression's grammar
        return
    if looks_dynamic and windows.is_dynamic_value(value):
        raise ParameterError(definition.name, f"Date expressions fill date parameters; this one is {definition.type}.")
    coerce_value(definition, value)


def _starts_like_expression(value: str) -> bool:
    """'slot-7x' or 'today +' were meant as expressions: report them as such rather than as odd literals."""
    head = value.strip().lower()
    bases = ("today", "yesterday", "slot", "window_start", "window_end")
    return any(head == base or head.startswith((base + "-", base + "+", base + " ")) for base in bases)


def _parameter_field(definition: ParameterDefinition) -> forms.CharField:
    label = definition.label or definition.name.replace("_", " ").capitalize()
    hint = f"{definition.type}"
    if definition.type in DYNAMIC_TYPES:
        hint += "; a value or a date expression such as slot-7d, window_start, yesterday"
    if definition.default not in (None, ""):
        hint += f"; empty uses the query's default ({_as_text(definition.default)})"
    widget = forms.TextInput(attrs=picker_attrs(definition))  # ASIN/campaign lists: a brand's list (brands/)
    return forms.CharField(required=False, label=label, help_text=hint, max_length=2000, widget=widget)


def _as_text(value) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _identifier_error(what: str) -> str:
    return f"A Snowflake {what} name starts with a letter or _ and holds only letters, digits, _ and $."


def _user_zone(user) -> str:
    return getattr(user, "timezone", "") or "UTC"


def first_error_step(form: ScheduleForm) -> int | None:
    for step in STEPS:
        if any(name in form.errors for name in form.step_fields(step)):
            return step.number
    return None
