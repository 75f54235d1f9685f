"""The schedule form: what it saves, and every invalid input as a field error (timing rules from presets/timing)."""

from datetime import UTC, datetime, time

import pytest

from schedules.forms import ScheduleForm
from schedules.models import Schedule

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PARAM_SQL = (
    "SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions "
    "WHERE impression_date >= {{report_date}} GROUP BY campaign"
)


@pytest.fixture
def owned(user, make_instance, make_workflow):
    return make_workflow(user, sql=PARAM_SQL), make_instance(user)


def form_data(workflow, instance, **overrides) -> dict:
    data = {
        "name": "Daily reach", "description": "", "workflow": workflow.workflow_id, "instance": str(instance.pk),
        "kind": "daily", "time_of_day": "06:00", "timezone": "America/New_York", "start_date": "2026-03-05",
        "is_active": "on", "window_kind": "previous_day", "lag_days": "2", "notify_on_failure": "on",
        "notification_emails": "analyst@example.com, team@example.com", "max_retries": "2",
        "retry_delay_minutes": "15", "failure_threshold": "3", "overlap_policy": "skip",
        "param_report_date": "window_start",
    }  # fmt: skip
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def make_form(user, data):
    return ScheduleForm(data, user=user, now=NOW)


def test_valid_daily_form_saves_the_schedule_and_its_next_run(user, owned):
    workflow, instance = owned
    form = make_form(user, form_data(workflow, instance, cost_limit="1.50"))
    assert form.is_valid(), form.errors
    schedule = form.save()
    schedule.refresh_from_db()
    assert (schedule.owner, schedule.workflow, schedule.instance) == (user, workflow, instance)
    assert (schedule.kind, schedule.time_of_day, schedule.timezone) == ("daily", time(6, 0), "America/New_York")
    assert schedule.starts_at == datetime(2026, 3, 5, 5, 0, tzinfo=UTC)  # local midnight, EST
    assert schedule.next_run_at == datetime(2026, 3, 5, 11, 0, tzinfo=UTC)
    assert schedule.notification_emails == ["analyst@example.com", "team@example.com"]
    assert schedule.parameters == {"report_date": "window_start"}
    assert schedule.window_rule == {"kind": "previous_day"}
    assert str(schedule.cost_limit) == "1.50"
    assert schedule.cron_expression == "" and schedule.weekdays == []


def test_fields_of_other_presets_are_cleared(user, owned):
    workflow, instance = owned
    data = form_data(workflow, instance, kind="monthly", cron_expression="0 6 * * *", interval_days="7")
    data["month_days"] = ["15", "-1"]
    form = make_form(user, data)
    assert form.is_valid(), form.errors
    schedule = form.save()
    assert schedule.month_days == [-1, 15]
    assert (schedule.cron_expression, schedule.interval_days, schedule.weekdays) == ("", None, [])
    assert schedule.next_run_at == datetime(2026, 3, 15, 10, 0, tzinfo=UTC)  # 06:00 EDT after the switch


def test_end_date_is_inclusive_and_a_paused_schedule_has_no_next_run(user, owned):
    workflow, instance = owned
    form = make_form(user, form_data(workflow, instance, end_date="2026-03-10", is_active=None))
    assert form.is_valid(), form.errors
    schedule = form.save()
    assert schedule.ends_at == datetime(2026, 3, 11, 3, 59, 59, tzinfo=UTC)  # just before local midnight (EDT)
    assert schedule.next_run_at is None and schedule.paused_reason == "Paused by the user."


INVALID_CASES = {
    "invalid cron": ({"kind": "cron", "cron_expression": "every day at six"}, "cron_expression"),
    "never-firing cron": ({"kind": "cron", "cron_expression": "0 0 31 2 *"}, "cron_expression"),
    "unknown timezone": ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    "end before start": ({"end_date": "2026-03-01"}, "end_date"),
    "bad e-mail": ({"notification_emails": "analyst@example.com, not-an-address"}, "notification_emails"),
    "bad snowflake table": ({"snowflake_enabled": "on", "snowflake_table": "1st-table"}, "snowflake_table"),
    "bad snowflake schema": ({"snowflake_schema": "bad schema;"}, "snowflake_schema"),
    "snowflake without table": ({"snowflake_enabled": "on"}, "snowflake_table"),
    "bad dynamic expression": ({"param_report_date": "slot-7x"}, "param_report_date"),
    "date literal that is not a date": ({"param_report_date": "2026-02-30"}, "param_report_date"),
    "weekly without days": ({"kind": "weekly"}, "weekdays"),
    "interval without interval": ({"kind": "interval"}, "interval_days"),
    "last n days without n": ({"window_kind": "last_n_days"}, "window_n_days"),
    "fixed window reversed": (
        {"window_kind": "fixed", "window_fixed_start": "2026-02-10", "window_fixed_end": "2026-02-01"},
        "window_fixed_end",
    ),
    "notifications without recipients": ({"notification_emails": ""}, "notification_emails"),
    "ended schedule": ({"start_date": "2026-01-01", "end_date": "2026-01-31"}, "end_date"),
}


@pytest.mark.parametrize("overrides, field", INVALID_CASES.values(), ids=INVALID_CASES.keys())
def test_invalid_input_is_a_field_error(user, owned, overrides, field):
    workflow, instance = owned
    form = make_form(user, form_data(workflow, instance, **overrides))
    assert not form.is_valid()
    assert field in form.errors, form.errors
    assert Schedule.objects.count() == 0


def test_never_firing_cron_message_says_so(user, owned):
    workflow, instance = owned
    form = make_form(user, form_data(workflow, instance, kind="cron", cron_expression="0 0 31 2 *"))
    assert not form.is_valid()
    assert "never runs" in form.errors["cron_expression"][0]


def test_dynamic_expressions_and_literals_are_accepted(user, owned):
    workflow, instance = owned
    for value in ("slot-7d", "yesterday", "window_end + 1w", "2026-02-01"):
        form = make_form(user, form_data(workflow, instance, param_report_date=value))
        assert form.is_valid(), (value, form.errors)


def test_required_parameter_without_value_is_an_error(user, owned):
    workflow, instance = owned
    form = make_form(user, form_data(workflow, instance, param_report_date=""))
    assert not form.is_valid()
    assert "required" in form.errors["param_report_date"][0]


def test_another_users_workflow_and_instance_are_not_choices(user, other_user, make_instance, make_workflow):
    workflow, instance = make_workflow(other_user), make_instance(other_user, instance_id="amcother")
    form = make_form(user, form_data(workflow, instance))
    assert not form.is_valid()
    assert {"workflow", "instance"} <= set(form.errors)
    assert form.parameter_fields == {}  # the other user's query is not even read for its parameters


def test_edit_form_starts_from_the_schedule(user, owned):
    workflow, instance = owned
    created = make_form(user, form_data(workflow, instance, kind="weekly", weekdays=["0", "4"]))
    assert created.is_valid(), created.errors
    schedule = created.save()
    form = ScheduleForm(user=user, schedule=schedule, now=NOW)
    assert form.initial["workflow"] == workflow.workflow_id
    assert form.initial["weekdays"] == [0, 4]
    assert str(form.initial["start_date"]) == "2026-03-05"
    assert form.initial["param_report_date"] == "window_start"
    assert form.initial["notification_emails"] == "analyst@example.com, team@example.com"
