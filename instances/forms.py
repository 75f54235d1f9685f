from django import forms

from recomamp.widgets import TimeZoneInput

from .models import AMCInstance


def split_labels(value: str) -> list[str]:
    """'Acme, Acme Kids ,' -> ['Acme', 'Acme Kids'] (order kept, duplicates dropped)."""
    labels = [part.strip() for part in value.split(",")]
    return list(dict.fromkeys(label for label in labels if label))


class LabelsField(forms.CharField):
    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def clean(self, value):
        labels = split_labels(super().clean(value) or "")
        if any(len(label) > 60 for label in labels):
            raise forms.ValidationError("Each label must be at most 60 characters.")
        return labels


class InstanceLabelsForm(forms.ModelForm):
    brands = LabelsField(required=False, help_text="Comma-separated brand names, used to filter instances.")
    tags = LabelsField(required=False, help_text="Comma-separated tags.")

    class Meta:
        model = AMCInstance
        fields = ["brands", "tags", "timezone"]
        help_texts = {"timezone": "Reporting time zone for this instance (IANA); blank uses yours."}
        widgets = {"timezone": TimeZoneInput}

    def clean_timezone(self):
        from accounts.models import validate_timezone

        value = self.cleaned_data["timezone"].strip()
        if value:
            validate_timezone(value)
        return value
