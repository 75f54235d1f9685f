"""Form widgets shared by every app."""

from functools import cache
from zoneinfo import available_timezones

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


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


class PlainSelect(forms.Select):
    """forms.Select written out in Python, the same HTML as Django's select.html and select_option.html: the
    template engine takes about 80 µs an option (two includes each), most of a filter form's time on a list page
    (bench/bench_executions_list.py)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        html = [format_html('<select name="{}"{}>', widget["name"], _attrs(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                html.append(format_html('\n  <optgroup label="{}">', group_name))
            html += (
                format_html(
                    '\n  <option value="{}"{}>{}</option>\n', option["value"], _attrs(option["attrs"]), option["label"]
                )
                for option in options
            )
            if group_name:
                html.append("\n  </optgroup>")
        html.append("\n</select>")
        return mark_safe("".join(html))  # noqa: S308 — every part above went through format_html


class PlainInputRender:
    """For forms.Input widgets: Django's input.html written out in Python (about 100 µs through the engine)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else format_html(' value="{}"', widget["value"])
        return format_html(
            '<input type="{}" name="{}"{}{}>', widget["type"], widget["name"], shown, _attrs(widget["attrs"])
        )


class PlainTextInput(PlainInputRender, forms.TextInput):
    pass


class PlainDateInput(PlainInputRender, forms.DateInput):
    pass


class PlainHiddenInput(PlainInputRender, forms.HiddenInput):
    pass


def _attrs(attrs: dict) -> str:
    """Django's attrs.html: ` name="value"`, a bare ` name` for True, nothing for False."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False
        ),
    )
