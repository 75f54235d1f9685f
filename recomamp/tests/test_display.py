"""One way to show numbers, durations, windows and instants; time-zone fields are searchable IANA lists."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

from recomamp.display import day_range, duration, num, relative_bounds, window_words
from recomamp.widgets import PlainDateInput, PlainHiddenInput, PlainSelect, PlainTextInput, TimeZoneInput


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(seconds=10.070437), "10 s"),
        (0.4, "0 s"),
        (125, "2 min 5 s"),
        (timedelta(minutes=3), "3 min"),
        (timedelta(hours=1, minutes=3, seconds=9), "1 h 3 min"),
        (timedelta(days=2, hours=1), "2 d 1 h"),
        (None, ""),
    ],
)
def test_duration_reads_like_people_talk(value, text):
    assert duration(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234567, "1,234,567"),
        (-42, "-42"),
        (1234.5678, "1,234.57"),
        (Decimal("0.000123456"), "0.0001235"),
        (0.5, "0.5"),
        (0.0, "0"),
        ("campaign", "campaign"),
    ],
)
def test_numbers_get_separators_and_sensible_rounding(value, text):
    assert num(value) == text


def test_relative_windows_in_words_with_their_dates():
    moment = datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert window_words("PREVIOUS_MONTH", moment=moment) == "Previous month: Nov 1–30, 2026"
    assert window_words("CURRENT_MONTH", moment=moment) == "Current month: Dec 1–31, 2026"
    assert window_words("MOST_RECENT_WEEK", moment=moment) == "Most recent week: Nov 28 – Dec 4, 2026"
    assert window_words("MOST_RECENT_DAY", moment=moment) == "Most recent day: Dec 4, 2026"
    # In the window's zone: early on Jan 1 in UTC is still Dec 31 in New York.
    assert relative_bounds("MOST_RECENT_DAY", datetime(2026, 1, 1, 2, tzinfo=UTC), "America/New_York") == (
        date(2025, 12, 30),
        date(2025, 12, 30),
    )
    assert day_range(date(2025, 12, 29), date(2026, 1, 4)) == "Dec 29, 2025 – Jan 4, 2026"


def test_an_explicit_window_shows_the_days_read_in_its_zone():
    berlin = ZoneInfo("Europe/Berlin")
    start, end = datetime(2025, 11, 1, tzinfo=berlin), datetime(2025, 12, 1, tzinfo=berlin)
    assert window_words("EXPLICIT", start.astimezone(UTC), end.astimezone(UTC), "Europe/Berlin") == "Nov 1–30, 2025"
    assert window_words("EXPLICIT", datetime(2025, 11, 1, 6, tzinfo=UTC), datetime(2025, 11, 1, 18, tzinfo=UTC)) == (
        "Nov 1, 2025 06:00 – Nov 1, 2025 18:00"
    )


def test_one_date_format_across_the_app_in_the_active_zone():
    instant = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)
    template = Template('{% load display %}{{ d }} · {{ d|date:"DATETIME_FORMAT" }} · {{ d|in_zone:"Asia/Tokyo" }}')
    with timezone.override(ZoneInfo("Europe/Riga")):
        assert template.render(Context({"d": instant})) == "2026-12-06 01:30 · 2026-12-06 01:30 · 2026-12-06 08:30"


def test_time_zone_fields_are_a_searchable_list_of_iana_zones():
    html = TimeZoneInput().render("timezone", "Europe/Riga", attrs={"id": "id_timezone"})
    assert 'list="id_timezone-zones"' in html and '<datalist id="id_timezone-zones">' in html
    assert '<option value="America/New_York">' in html and 'value="Europe/Riga"' in html


@pytest.mark.parametrize(
    "choices, value, attrs",
    [
        ([("", "Any"), ("a", "A <b> & c"), ("b", "B")], "a", {"id": "id_s"}),
        ([("", "Any"), ("a", "A")], None, {"id": "id_s", "disabled": True, "hidden": False, "data-x": 'q"1'}),
        ([("Group <1>", [("1", "One"), ("2", "Two")]), ("3", "Three")], "2", {}),
        ([], "", {"required": True}),
    ],
)
def test_the_plain_select_writes_what_djangos_select_template_writes(choices, value, attrs):
    from django import forms

    assert PlainSelect(choices=choices).render("s", value, attrs) == forms.Select(choices=choices).render(
        "s", value, attrs
    )


@pytest.mark.parametrize(
    "plain, django_widget, value, attrs",
    [
        (PlainTextInput, "TextInput", 'a "b" <c>', {"id": "id_q", "placeholder": "Search…"}),
        (PlainTextInput, "TextInput", None, {"required": True, "disabled": False}),
        (PlainDateInput, "DateInput", date(2026, 3, 1), {"type": "date"}),
        (PlainDateInput, "DateInput", "", {"type": "date", "id": "id_d"}),
        (PlainHiddenInput, "HiddenInput", "wf_1", {}),
    ],
)
def test_the_plain_inputs_write_what_djangos_input_template_writes(plain, django_widget, value, attrs):
    from django import forms

    widget_attrs = {"type": attrs.pop("type")} if "type" in attrs else None
    expected = getattr(forms, django_widget)(attrs=widget_attrs).render("f", value, attrs)
    assert plain(attrs=widget_attrs).render("f", value, attrs) == expected


@pytest.mark.django_db
def test_every_time_zone_field_uses_the_list(user):
    from accounts.forms import ProfileForm
    from executions.forms import RunForm
    from instances.forms import InstanceLabelsForm
    from runsets.forms import RunSetForm
    from schedules.forms import ScheduleForm

    forms = [ProfileForm(), RunForm(user=user), InstanceLabelsForm()]
    forms += [form_class(user=user) for form_class in (RunSetForm, ScheduleForm)]
    for form in forms:
        assert isinstance(form.fields["timezone"].widget, TimeZoneInput), type(form).__name__


@pytest.mark.django_db
def test_pages_show_instants_in_the_users_zone(user_client, user):
    user.timezone = "Asia/Tokyo"
    user.save()
    html = user_client.get("/accounts/profile/").content.decode()
    assert 'value="Asia/Tokyo"' in html and "datalist" in html
