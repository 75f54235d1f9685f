from django import forms

from instances.models import AMCInstance
from queries.models import Workflow
from recomamp.bounds import BoundedDateField
from recomamp.ownership import owned_by

from .models import Brand
from .services import DISCOVERY_DAYS

MAX_UPLOAD_BYTES = 2_000_000  # larger files go through `manage.py import_brand_lists` (docs/operations.md)


class BrandForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = ["name", "description", "instances"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "instances": forms.CheckboxSelectMultiple}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["instances"].queryset = owned_by(user, AMCInstance)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = owned_by(self.user, Brand).filter(name__iexact=name).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("You already have a brand with this name.")
        return name


class ImportForm(forms.Form):
    file = forms.FileField(required=False, help_text="CSV or TSV (Excel exports work: BOM, ';' separators).")
    content = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}), label="…or paste the lines",
                              help_text="First line names the columns: asin,title,marketplace or "
                                        "campaign_id,name,type,instance.")  # fmt: skip
    kind = forms.ChoiceField(choices=[("", "Guess from the header"), ("asins", "ASINs"), ("campaigns", "Campaigns")],
                             required=False)  # fmt: skip

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError("This file is over 2 MB; import it with `manage.py import_brand_lists`.")
            data["raw"], data["filename"] = upload.read(), upload.name
        elif (data.get("content") or "").strip():
            data["raw"], data["filename"] = data["content"].encode(), "pasted"
        else:
            raise forms.ValidationError("Choose a file or paste the lines to import.")
        return data


class DiscoverForm(forms.Form):
    instance = forms.ModelChoiceField(queryset=AMCInstance.objects.none(), empty_label=None)
    days = forms.TypedChoiceField(choices=[(d, f"Last {d} days") for d in DISCOVERY_DAYS], coerce=int, initial=30)
    until = BoundedDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            help_text="Last day read; empty: two days ago (AMC's data delay).")  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instance"].queryset = owned_by(user, AMCInstance).filter(status=AMCInstance.Status.ACTIVE)


class FanOutForm(forms.Form):
    workflow = forms.ModelChoiceField(queryset=Workflow.objects.none(), label="Query", to_field_name="workflow_id")
    start_date = BoundedDateField(widget=forms.DateInput(attrs={"type": "date"}))
    end_date = BoundedDateField(widget=forms.DateInput(attrs={"type": "date"}), help_text="Inclusive.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workflow"].queryset = owned_by(user, Workflow)

    def clean(self):
        data = super().clean()
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            self.add_error("end_date", "The last day must not be before the first day.")
        return data
