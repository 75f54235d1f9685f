from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils import timezone

from accounts.models import validate_timezone
from instances.models import AMCInstance
from queries.list_parameters import LIST_TYPES, picker_attrs
from recomamp.bounds import BoundedDateField
from recomamp.display import window_choice_label
from recomamp.ownership import owned_by
from recomamp.widgets import PlainDateInput, PlainHiddenInput, PlainSelect, PlainTextInput, TimeZoneInput

from .models import Execution
from .services import RELATIVE_WINDOWS, SnowflakeTarget, WindowSpec

WINDOW_CHOICES = [
    ("EXPLICIT", "Dates I choose"),
    ("MOST_RECENT_DAY", "Most recent day (AMC)"),
    ("MOST_RECENT_WEEK", "Most recent week (AMC)"),
    ("CURRENT_MONTH", "Current month (AMC)"),
    ("PREVIOUS_MONTH", "Previous month (AMC)"),
]


class RunForm(forms.Form):
    """The run dialog: where, which data, which parameter values, and options."""

    instance = forms.ModelChoiceField(queryset=AMCInstance.objects.none(), empty_label=None)
    window_type = forms.ChoiceField(choices=WINDOW_CHOICES, initial="EXPLICIT", label="Time window")
    start_date = BoundedDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end_date = BoundedDateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Inclusive: the whole day is read."
    )
    timezone = forms.CharField(
        max_length=64, initial="UTC", help_text="IANA zone the dates are read in.", widget=TimeZoneInput
    )
    timeout_minutes = forms.IntegerField(min_value=15, max_value=1440, initial=360, label="Timeout (minutes)")
    snowflake_enabled = forms.BooleanField(required=False, label="Deliver to Snowflake")
    snowflake_table = forms.RegexField(regex=r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$", required=False, label="Table")
    snowflake_schema = forms.RegexField(regex=r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$", required=False, label="Schema")

    def __init__(self, *args, user, parameter_definitions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["instance"].queryset = owned_by(user, AMCInstance).filter(status=AMCInstance.Status.ACTIVE)
        # The preselected (first) instance's reporting time zone, else the user's.
        first = self.fields["instance"].queryset.first()
        self.fields["timezone"].initial = (first and first.timezone) or user.timezone
        # Relative windows in words with their dates; choosing one hides the date pickers (static/js/app.js).
        zone = self.initial.get("timezone") or self.fields["timezone"].initial or "UTC"
        self.fields["window_type"].choices = [(v, window_choice_label(v, label, zone)) for v, label in WINDOW_CHOICES]
        self.fields["window_type"].widget.attrs["data-window-type"] = ""
        today = timezone.localdate()
        # AMC data lands within 48 hours: the default window is the last 7 complete days before that.
        self.fields["end_date"].initial = today - timedelta(days=2)
        self.fields["start_date"].initial = today - timedelta(days=8)
        self.parameter_names = []
        for definition in parameter_definitions:
            name = f"param_{definition.name}"
            self.parameter_names.append((definition.name, name))
            self.fields[name] = _parameter_field(definition)

    def clean_timezone(self):
        value = self.cleaned_data["timezone"].strip()
        validate_timezone(value)
        return value

    def clean(self):
        data = super().clean()
        if data.get("window_type") == "EXPLICIT":
            start, end = data.get("start_date"), data.get("end_date")
            if not start:
                self.add_error("start_date", "Choose the first day to read.")
            if not end:
                self.add_error("end_date", "Choose the last day to read.")
            if start and end and end < start:
                self.add_error("end_date", "The last day must not be before the first day.")
        if data.get("snowflake_enabled") and not data.get("snowflake_table"):
            self.add_error("snowflake_table", "Name the Snowflake table to load into.")
        return data

    def window(self) -> WindowSpec:
        data = self.cleaned_data
        zone = data["timezone"]
        if data["window_type"] in RELATIVE_WINDOWS:
            return WindowSpec(type=data["window_type"], timezone=zone)
        tz = ZoneInfo(zone)
        start = datetime.combine(data["start_date"], time.min, tz)
        end = datetime.combine(data["end_date"] + timedelta(days=1), time.min, tz)
        return WindowSpec("EXPLICIT", start, end, zone)

    def parameters(self) -> dict:
        return {name: self.cleaned_data.get(field) for name, field in self.parameter_names}

    def delivery(self) -> SnowflakeTarget:
        data = self.cleaned_data
        return SnowflakeTarget(
            data["snowflake_enabled"], data.get("snowflake_table", ""), data.get("snowflake_schema", "")
        )


def _parameter_field(definition) -> forms.Field:
    label = definition.label or definition.name.replace("_", " ").capitalize()
    common = {"label": label, "required": False, "initial": definition.default}
    if definition.type == "date":
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if definition.type == "timestamp":
        return forms.CharField(widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "3600"}), **common)
    if definition.type == "integer":
        return forms.CharField(widget=forms.NumberInput(), **common)
    if definition.type in LIST_TYPES:
        initial = ", ".join(definition.default) if isinstance(definition.default, list) else definition.default
        common["initial"] = initial
        attrs = {"rows": 2, **picker_attrs(definition)}  # a brand's list can fill it (brands/)
        hint = "Comma-separated" + (", or a brand's list chosen below." if "data-list-picker" in attrs else ".")
        return forms.CharField(widget=forms.Textarea(attrs=attrs), help_text=hint, **common)
    return forms.CharField(**common)


class ExecutionFilterForm(forms.Form):
    """The executions list's filters; its widgets render in Python (recomamp/widgets.py), the same HTML."""

    q = forms.CharField(required=False, label="Search", widget=PlainTextInput)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Execution.Status.choices], widget=PlainSelect
    )
    trigger = forms.ChoiceField(
        required=False, choices=[("", "Any trigger"), *Execution.Trigger.choices], widget=PlainSelect
    )
    instance = forms.ModelChoiceField(
        queryset=AMCInstance.objects.none(), required=False, empty_label="Any instance", widget=PlainSelect
    )
    workflow = forms.CharField(required=False, widget=PlainHiddenInput)
    created_from = BoundedDateField(required=False, widget=PlainDateInput(attrs={"type": "date"}), label="From")
    created_to = BoundedDateField(required=False, widget=PlainDateInput(attrs={"type": "date"}), label="To")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instance"].iterator = OneQueryChoices  # before the queryset, which hands the widget its choices
        # Only what the choice's label (AMCInstance.__str__) reads: the whole rows cost more than the list's page.
        self.fields["instance"].queryset = owned_by(user, AMCInstance).only("name", "instance_id")


class OneQueryChoices(ModelChoiceIterator):
    """Choices read with one plain query. Django's iterator() opens a server-side cursor: three round trips
    (DECLARE, FETCH, CLOSE) for a user's handful of instances."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)
