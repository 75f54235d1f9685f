"""Form widgets shared by every app."""

from functools import cache
from zoneinfo import available_timezones

from django import forms
from django.utils.html import format_html, format_html_join


@cache
def iana_zones() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


class TimeZoneInput(forms.TextInput):
    """A time-zone field as a searchable list of IANA zones: a text input with a <datalist> the browser filters
    as the user types. The field's own validation (accounts.models.validate_timezone) still decides."""

    def __init__(self, attrs=None):
        super().__init__(
            {"autocomplete": "off", "spellcheck": "false", "placeholder": "e.g. Europe/Berlin", **(attrs or {})}
        )

    def render(self, name, value, attrs=None, renderer=None):
        attrs = dict(attrs or {})
        list_id = f"{attrs.get('id') or 'id_' + name}-zones"
        attrs["list"] = list_id
        options = format_html_join("", '<option value="{}">', ((zone,) for zone in iana_zones()))
        return format_html(
            '{}<datalist id="{}">{}</datalist>', super().render(name, value, attrs, renderer), list_id, options
        )
