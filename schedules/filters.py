"""The filter forms of the schedules dashboard and of a schedule's run history."""

from django import forms

from instances.models import AMCInstance
from recomamp.bounds import BoundedDateField
from recomamp.ownership import owned_by

from .forms import date_input
from .models import ScheduleRun


class ScheduleFilterForm(forms.Form):
    STATUS_CHOICES = [
        ("", "Any status"),
        ("active", "Active"),
        ("paused", "Paused"),
        ("paused_by_failures", "Paused by failures"),
        ("failing", "Failing"),
    ]
    q = forms.CharField(
        required=False, label="Search", widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search"})
    )
    status = forms.ChoiceField(
        required=False, choices=STATUS_CHOICES, widget=forms.Select(attrs={"aria-label": "Status"})
    )
    instance = forms.ModelChoiceField(
        queryset=AMCInstance.objects.none(), required=False, empty_label="Any instance",
        widget=forms.Select(attrs={"aria-label": "Instance"}),
    )  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instance"].queryset = owned_by(user, AMCInstance)


class RunFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *ScheduleRun.Status.choices])
    kind = forms.ChoiceField(
        required=False, choices=[("", "Real and test runs"), ("real", "Real runs"), ("test", "Test runs")]
    )
    date_from = BoundedDateField(required=False, widget=date_input(), label="From")
    date_to = BoundedDateField(required=False, widget=date_input(), label="To")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filters(self) -> dict:
        """The valid filters, for `history.filtered_runs`."""
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
