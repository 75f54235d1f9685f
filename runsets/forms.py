from django import forms
from django.utils import timezone

from accounts.models import validate_timezone
from brands.services import list_parameter_kinds
from executions.quotas import CONCURRENT_PER_INSTANCE
from instances.models import AMCInstance
from queries.models import Workflow
from recomamp.bounds import BoundedDateField
from recomamp.ownership import owned_by
from recomamp.widgets import TimeZoneInput

from . import windows
from .models import RunSet

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$"


def parse_parameters(text: str) -> dict:
    """`name=value` lines (or --param k=v values) into a dict; a line without '=' is refused."""
    values = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise forms.ValidationError(f"{line!r} is not name=value.")
        values[name.strip()] = value.strip()
    return values


class WindowsForm(forms.Form):
    """The window generator: a period and either a date range or the last N periods."""

    period = forms.ChoiceField(choices=RunSet.Period.choices, initial=RunSet.Period.WEEK)
    n_days = forms.IntegerField(min_value=1, max_value=366, required=False, label="N (for every N days)")
    mode = forms.ChoiceField(
        choices=[("last", "The last N complete periods"), ("range", "Between two dates")], initial="last"
    )
    last = forms.IntegerField(min_value=1, max_value=windows.MAX_WINDOWS, required=False, initial=12, label="N periods")
    start_date = BoundedDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end_date = BoundedDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    timezone = forms.CharField(max_length=64, initial="UTC", widget=TimeZoneInput)
    lag_days = forms.IntegerField(min_value=0, max_value=windows.MAX_LAG_DAYS, initial=2, label="Data lag (days)")

    def clean_timezone(self):
        value = self.cleaned_data["timezone"].strip()
        validate_timezone(value)
        return value

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["windows"] = windows.generate(
                period=data["period"],
                n_days=data.get("n_days"),
                tz=data["timezone"],
                today=timezone.localdate(),
                lag_days=data["lag_days"],
                last=data.get("last") if data["mode"] == "last" else None,
                start=data.get("start_date"),
                end=data.get("end_date"),
            )
        except windows.WindowError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


class RunSetForm(WindowsForm):
    workflow = forms.ModelChoiceField(queryset=Workflow.objects.none(), label="Query", to_field_name="workflow_id")
    instances = forms.ModelMultipleChoiceField(queryset=AMCInstance.objects.none(), widget=forms.CheckboxSelectMultiple)
    name = forms.CharField(max_length=200, required=False)
    parameters = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="One name=value per line."
    )
    order = forms.ChoiceField(choices=RunSet.Order.choices, initial=RunSet.Order.NEWEST_FIRST)
    max_in_flight = forms.IntegerField(
        min_value=1, max_value=CONCURRENT_PER_INSTANCE, initial=CONCURRENT_PER_INSTANCE, label="In flight per instance"
    )
    rate_per_minute = forms.IntegerField(min_value=1, max_value=600, required=False, label="Cells per minute")
    snowflake_table = forms.RegexField(regex=IDENTIFIER, required=False, label="Snowflake table")
    snowflake_schema = forms.RegexField(regex=IDENTIFIER, required=False, label="Snowflake schema")

    field_order = ["workflow", "instances", "name", "period", "n_days", "mode", "last", "start_date", "end_date"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workflow"].queryset = owned_by(user, Workflow).order_by("name")
        self.fields["instances"].queryset = owned_by(user, AMCInstance).filter(status=AMCInstance.Status.ACTIVE)
        self.fields["timezone"].initial = getattr(user, "timezone", "UTC") or "UTC"
        self.list_parameters = self._list_parameters()

    def _list_parameters(self) -> list[tuple[str, str]]:
        """(name, "asins" | "campaigns") of the chosen query's list parameters: the brand picker fills them."""
        chosen = self.data.get("workflow") if self.is_bound else self.initial.get("workflow")
        workflow = self.fields["workflow"].queryset.filter(workflow_id=chosen).first() if chosen else None
        return sorted(list_parameter_kinds(workflow).items()) if workflow else []

    def clean_parameters(self):
        return parse_parameters(self.cleaned_data.get("parameters", ""))

    def clean_instances(self):
        chosen = self.cleaned_data["instances"]
        if len(chosen) > windows.MAX_INSTANCES:
            raise forms.ValidationError(f"Choose at most {windows.MAX_INSTANCES} instances.")
        return chosen


class ExtendForm(WindowsForm):
    instances = forms.ModelMultipleChoiceField(
        queryset=AMCInstance.objects.none(), widget=forms.CheckboxSelectMultiple, required=False,
        label="Add instances",
    )  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instances"].queryset = owned_by(user, AMCInstance).filter(status=AMCInstance.Status.ACTIVE)
