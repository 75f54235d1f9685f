from django import forms

from instances.models import AMCInstance
from queries.list_parameters import LIST_TYPES, picker_attrs
from recomamp.ownership import owned_by

from .models import Workflow
from .validation import ParameterDefinition, ParameterError, coerce_value
from .validation.parameters import PARAMETER_TYPES
from .workflow_services import SORT_FIELDS, json_value

TYPE_LABELS = {
    "date": "Date",
    "timestamp": "Date and time",
    "integer": "Whole number",
    "string": "Text",
    "id_list": "List of ids",
    "string_list": "List of texts",
    "asin_list": "List of ASINs",
    "campaign_list": "List of campaign ids",
}
TYPE_CHOICES = [(name, TYPE_LABELS[name]) for name in PARAMETER_TYPES]

SORT_LABELS = {"name": "Name", "updated": "Last updated", "last_run": "Last executed", "runs": "Executions"}


def _choices(empty_label: str, values) -> list[tuple[str, str]]:
    return [("", empty_label), *((value, value) for value in values)]


class CatalogFilterForm(forms.Form):
    """Search, category and tag, for the data source and library lists."""

    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(attrs={"type": "search"}))
    category = forms.ChoiceField(required=False, widget=forms.Select(attrs={"aria-label": "Category"}))
    tag = forms.ChoiceField(required=False, widget=forms.Select(attrs={"aria-label": "Tag"}))

    def __init__(self, *args, categories=(), tags=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _choices("Any category", categories)
        self.fields["tag"].choices = _choices("Any tag", tags)

    def filters(self) -> dict:
        """The valid filters (an unknown category or tag is ignored rather than an error)."""
        self.is_valid()
        return {name: self.cleaned_data.get(name, "") for name in ("q", "category", "tag")}


class WorkflowFilterForm(forms.Form):
    STATUS_CHOICES = [("", "Drafts and active"), *Workflow.Status.choices, ("all", "All, archived included")]
    SORT_CHOICES = [
        choice for key in SORT_FIELDS for choice in ((key, SORT_LABELS[key]), (f"-{key}", f"{SORT_LABELS[key]} ↓"))
    ]

    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(attrs={"type": "search"}))
    tag = forms.ChoiceField(required=False, widget=forms.Select(attrs={"aria-label": "Tag"}))
    status = forms.ChoiceField(
        required=False, choices=STATUS_CHOICES, widget=forms.Select(attrs={"aria-label": "Status"})
    )
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, widget=forms.Select(attrs={"aria-label": "Sort"}))

    def __init__(self, *args, tags=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = _choices("Any tag", tags)

    def filters(self) -> dict:
        self.is_valid()
        return {name: self.cleaned_data.get(name, "") for name in ("q", "tag", "status", "sort")}


class WorkflowForm(forms.ModelForm):
    """What the editor saves besides the parameters."""

    tags = forms.CharField(required=False, help_text="Comma-separated.")
    note = forms.CharField(
        required=False, max_length=200, label="Version note", help_text="Optional: what this save changes."
    )

    class Meta:
        model = Workflow
        fields = ["name", "description", "tags", "status", "sql"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "sql": forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "sql-input"}),
        }
        labels = {"sql": "SQL"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(self.initial.get("tags"), list):
            self.initial["tags"] = ", ".join(self.initial["tags"])

    def clean_tags(self) -> list[str]:
        tags = [tag.strip() for tag in self.cleaned_data["tags"].split(",")]
        return list(dict.fromkeys(tag for tag in tags if tag))

    def clean_sql(self) -> str:
        # Browsers submit textareas with CRLF; store plain newlines so line numbers and hashes stay stable.
        return normalize_newlines(self.cleaned_data["sql"])


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _value_field(definition: ParameterDefinition) -> forms.Field:
    label = definition.label or definition.name.replace("_", " ").capitalize()
    common = {"label": label, "required": False, "initial": _display(definition.default)}
    if definition.type == "date":
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if definition.type == "timestamp":
        return forms.CharField(widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}), **common)
    if definition.type == "integer":
        return forms.CharField(widget=forms.NumberInput(), **common)
    if definition.type in LIST_TYPES:
        attrs = {"rows": 2, **picker_attrs(definition)}  # the workbench runs with these values: a brand can fill them
        return forms.CharField(
            widget=forms.Textarea(attrs=attrs), help_text="Separate values with commas or new lines.", **common
        )
    return forms.CharField(**common)


class ParameterForm(forms.Form):
    """A value (`param_<name>`) and, when editable, a type (`ptype_<name>`) for each parameter.

    Non-empty values are always checked against their type; `require_values` also rejects missing required ones.
    A parameter absent from the submitted data (it just appeared in the SQL) starts from its default.
    """

    def __init__(self, data=None, *, definitions: list[ParameterDefinition], types_editable: bool = True,
                 require_values: bool = False, **kwargs):  # fmt: skip
        if data is not None:
            data = data.copy()
            for d in definitions:
                data.setdefault(f"param_{d.name}", _display(d.default))
                data.setdefault(f"ptype_{d.name}", d.type)
        super().__init__(data, **kwargs)
        self.definitions = definitions
        self.require_values = require_values
        for d in definitions:
            if types_editable:
                self.fields[f"ptype_{d.name}"] = forms.ChoiceField(
                    choices=TYPE_CHOICES, initial=d.type, required=False, label="Type"
                )
            self.fields[f"param_{d.name}"] = _value_field(d)

    def rows(self):
        """(definition, type field or None, value field) per parameter, for templates."""
        return [
            (d, self[f"ptype_{d.name}"] if f"ptype_{d.name}" in self.fields else None, self[f"param_{d.name}"])
            for d in self.definitions
        ]

    def clean(self):
        data = super().clean()
        for d in self.definitions:
            raw = data.get(f"param_{d.name}")
            try:
                if self.require_values:
                    coerce_value(d, raw)
                else:
                    json_value(d, raw)
            except ParameterError as exc:
                self.add_error(f"param_{d.name}", exc.message)
        return data

    def values(self) -> dict[str, str]:
        """The entered text per parameter name (call after is_valid)."""
        return {d.name: self.cleaned_data.get(f"param_{d.name}", "") for d in self.definitions}


def submitted_types(data) -> dict[str, str]:
    """Parameter types chosen in the editor (`ptype_<name>` fields), ignoring unknown ones."""
    return {
        key.removeprefix("ptype_"): value
        for key, value in data.items()
        if key.startswith("ptype_") and value in PARAMETER_TYPES
    }


class UseTemplateForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name of your query")


class InstanceChoiceForm(forms.Form):
    """Pick one of the user's active instances (sync and "Check with AMC")."""

    instance = forms.ModelChoiceField(queryset=AMCInstance.objects.none(), empty_label=None)
    force = forms.BooleanField(required=False, label="Push again even if unchanged")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instance"].queryset = owned_by(user, AMCInstance).filter(status=AMCInstance.Status.ACTIVE)
