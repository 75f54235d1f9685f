from django import forms

from .data import ADDITIVE, NON_ADDITIVE
from .models import Dashboard


class DashboardForm(forms.Form):
    name = forms.CharField(max_length=200)
    metrics = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    dimension = forms.ChoiceField(required=False)
    split = forms.ChoiceField(choices=Dashboard.Split.choices, initial=Dashboard.Split.NONE)
    top_n = forms.IntegerField(min_value=1, max_value=20, initial=5, label="Top N")
    non_additive = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, required=False, label="Not additive (never summed)",
        help_text="Distinct counts, rates and averages. Pre-filled from the catalog and the column names.",
    )  # fmt: skip
    down_is_good = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, required=False, label="A fall is good (spend, cost per acquisition)"
    )

    def __init__(self, *args, metrics, dimensions, **kwargs):
        super().__init__(*args, **kwargs)
        metric_choices = [(m, m) for m in metrics]
        self.fields["metrics"].choices = metric_choices
        self.fields["non_additive"].choices = metric_choices
        self.fields["down_is_good"].choices = metric_choices
        self.fields["dimension"].choices = [("", "(none)")] + [(d, d) for d in dimensions]

    def clean(self):
        data = super().clean()
        if data.get("split") == Dashboard.Split.DIMENSION and not data.get("dimension"):
            self.add_error("dimension", "Choose the dimension to split by.")
        return data

    def kinds(self) -> dict:
        chosen = set(self.cleaned_data.get("non_additive") or [])
        return {m: (NON_ADDITIVE if m in chosen else ADDITIVE) for m, _l in self.fields["metrics"].choices}
