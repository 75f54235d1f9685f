"""Schedule pages: wizard, preview, edit, quick actions, dashboard, history page, exports, ownership, escaping."""

import json
import re
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from schedules.models import Schedule, ScheduleRun

from .test_forms import INVALID_CASES, PARAM_SQL, form_data

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
XSS = '<script>alert("x")</script>'


@pytest.fixture
def clock(monkeypatch):
    """The views' clock, fixed at NOW."""
    monkeypatch.setattr("schedules.views.common.current_time", lambda: NOW)
    return NOW


@pytest.fixture
def owned(user, make_instance, make_workflow):
    return make_workflow(user, sql=PARAM_SQL), make_instance(user)


@pytest.fixture
def make_schedule(user, owned):
    workflow, instance = owned

    def make(owner=None, **fields):
        owner = owner or user
        if owner != user:
            from instances.models import AdvertiserAccount, AMCInstance
            from queries.models import Workflow

            account = AdvertiserAccount.objects.create(owner=owner, entity_id="E2", name="Other", marketplace_id="M")
            fields.setdefault("instance", AMCInstance.objects.create(owner=owner, account=account, instance_id="o1"))
            fields.setdefault("workflow", Workflow.objects.create(owner=owner, name="Theirs", sql=PARAM_SQL))
        defaults = dict(
            owner=owner, workflow=workflow, instance=instance, name="Daily reach", kind=Schedule.Kind.DAILY,
            time_of_day=time(6, 0), timezone="America/New_York", window_rule={"kind": "previous_day"},
            starts_at=datetime(2026, 1, 1, tzinfo=UTC), next_run_at=timezone.now() + timedelta(hours=3),
        )  # fmt: skip
        defaults.update(fields)
        return Schedule.objects.create(**defaults)

    return make


def url(name, schedule=None):
    return reverse(name, args=[schedule.schedule_id] if schedule else [])


# --- Wizard --------------------------------------------------------------------------------------------------------


def test_wizard_starts_at_step_one_and_carries_the_other_steps_as_hidden_inputs(user_client, owned):
    workflow, _ = owned
    response = user_client.get(url("schedule_create") + f"?workflow={workflow.workflow_id}")
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["step"] == 1
    assert 'name="name"' in html and 'type="hidden" name="timezone"' in html
    assert f'<option value="{workflow.workflow_id}" selected>' in html
    assert 'hx-post="/schedules/preview/"' in html


def test_next_stays_on_a_step_with_errors_and_advances_when_it_is_valid(user_client, owned):
    workflow, instance = owned
    data = form_data(workflow, instance, name="", step="1", action="next")
    response = user_client.post(url("schedule_create"), data)
    assert response.context["step"] == 1
    assert set(response.context["form"].errors) == {"name"}
    response = user_client.post(url("schedule_create"), {**data, "name": "Reach", "kind": "weekly"})
    assert response.context["step"] == 2
    # The error of step 2 (no weekday chosen) is not shown until step 2 is submitted.
    assert response.context["form"].errors == {}
    response = user_client.post(url("schedule_create"), {**data, "name": "Reach", "kind": "weekly", "step": "2"})
    assert (response.context["step"], list(response.context["form"].errors)) == (2, ["weekdays"])
    assert Schedule.objects.count() == 0


def test_wizard_creates_the_schedule(user_client, user, owned, clock):
    workflow, instance = owned
    data = form_data(workflow, instance, kind="weekly", step="4", action="save", param_report_date="slot-7d")
    data["weekdays"] = ["0", "2"]
    response = user_client.post(url("schedule_create"), data)
    schedule = Schedule.objects.get()
    assert response.status_code == 302 and response["Location"] == url("schedule_detail", schedule)
    assert (schedule.owner, schedule.workflow, schedule.instance) == (user, workflow, instance)
    assert (schedule.kind, schedule.weekdays, schedule.timezone) == ("weekly", [0, 2], "America/New_York")
    assert schedule.parameters == {"report_date": "slot-7d"}
    assert schedule.next_run_at == datetime(2026, 3, 9, 10, 0, tzinfo=UTC)  # Monday 06:00 EDT
    assert (schedule.run_count, schedule.is_active) == (0, True)


def test_long_form_without_javascript_saves_in_one_post(user_client, owned, clock):
    workflow, instance = owned
    response = user_client.get(url("schedule_create") + "?step=all")
    assert all(f'name="{name}"' in response.content.decode() for name in ("name", "kind", "window_kind", "max_retries"))
    response = user_client.post(url("schedule_create"), form_data(workflow, instance))  # no action: save
    assert response.status_code == 302
    assert Schedule.objects.get().next_run_at == datetime(2026, 3, 5, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize("overrides, field", INVALID_CASES.values(), ids=INVALID_CASES.keys())
def test_invalid_input_shows_a_field_error_and_saves_nothing(user_client, owned, clock, overrides, field):
    workflow, instance = owned
    response = user_client.post(url("schedule_create"), form_data(workflow, instance, action="save", **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert response.context["step"] == "all"  # every error visible at once
    assert 'class="field-error"' in response.content.decode()
    assert Schedule.objects.count() == 0


# --- Preview and live partials -------------------------------------------------------------------------------------


def test_preview_shows_ten_slots_across_the_dst_change(user_client, owned, clock):
    workflow, instance = owned
    response = user_client.post(url("schedule_preview"), form_data(workflow, instance), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    rows = re.findall(r"<tr>\s*<td>(\d+)</td>", html)
    assert rows == [str(n) for n in range(1, 11)]
    # 06:00 in New York is 11:00Z on EST days and 10:00Z from March 8 (EDT).
    assert "Sat 2026-03-07 06:00 EST" in html and "2026-03-07 11:00Z" in html
    assert "Sun 2026-03-08 06:00 EDT" in html and "2026-03-08 10:00Z" in html
    assert "2026-03-14 10:00Z" in html
    # The window of the 2026-03-08 slot: previous day before the 2-day lag = 2026-03-05, local midnights.
    assert "2026-03-05 → 2026-03-05" in html and "<code>2026-03-05T00:00:00</code>" in html
    assert "report_date=2026-03-05" in html  # window_start resolved per slot
    assert Schedule.objects.count() == 0


def test_preview_reports_timing_errors_instead_of_slots(user_client, owned, clock):
    workflow, instance = owned
    data = form_data(workflow, instance, kind="cron", cron_expression="0 0 31 2 *")
    html = user_client.post(url("schedule_preview"), data).content.decode()
    assert "never runs" in html and "preview-table" not in html


def test_preview_button_without_javascript_renders_the_page_with_the_table(user_client, owned, clock):
    workflow, instance = owned
    response = user_client.post(url("schedule_create"), form_data(workflow, instance, step="2", action="preview"))
    assert response.status_code == 200 and response.context["step"] == 2
    assert len(response.context["preview"]["plans"]) == 10
    assert Schedule.objects.count() == 0


def test_preview_needs_post(user_client):
    assert user_client.get(url("schedule_preview")).status_code == 405


def test_cron_description_partial(user_client):
    html = user_client.get(url("schedule_describe_cron"), {"cron_expression": "0 6 * * 1-5"}).content.decode()
    assert "Every weekday (Mon–Fri) at 06:00" in html
    html = user_client.get(url("schedule_describe_cron"), {"cron_expression": "0 0 31 2 *"}).content.decode()
    assert "field-error" in html and "never runs" in html


def test_parameter_fields_partial_follows_the_query(user_client, owned, other_user, make_workflow):
    workflow, _ = owned
    html = user_client.get(url("schedule_parameter_fields"), {"workflow": workflow.workflow_id}).content.decode()
    assert 'name="param_report_date"' in html
    theirs = make_workflow(other_user, sql=PARAM_SQL)
    html = user_client.get(url("schedule_parameter_fields"), {"workflow": theirs.workflow_id}).content.decode()
    assert "param_report_date" not in html


# --- Edit and quick actions ----------------------------------------------------------------------------------------


def test_edit_keeps_counters_and_recomputes_next_run(user_client, make_schedule, owned, clock):
    schedule = make_schedule(run_count=7, success_count=5, failure_count=2, consecutive_failures=1,
                             last_run_at=datetime(2026, 2, 28, 11, tzinfo=UTC))  # fmt: skip
    page = user_client.get(url("schedule_edit", schedule))
    assert page.context["step"] == "all" and page.context["form"]["name"].value() == "Daily reach"
    workflow, instance = owned
    data = form_data(workflow, instance, name="Renamed", time_of_day="08:30", start_date="2026-01-01")
    response = user_client.post(url("schedule_edit", schedule), data)
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.name, schedule.time_of_day) == ("Renamed", time(8, 30))
    assert (schedule.run_count, schedule.success_count, schedule.failure_count) == (7, 5, 2)
    assert schedule.consecutive_failures == 1
    assert schedule.last_run_at == datetime(2026, 2, 28, 11, tzinfo=UTC)
    assert schedule.next_run_at == datetime(2026, 3, 1, 13, 30, tzinfo=UTC)  # today 08:30 EST, after NOW


def test_pause_and_resume(user_client, make_schedule, clock):
    schedule = make_schedule()
    response = user_client.post(url("schedule_pause", schedule), {"next": "/schedules/?view=grid"})
    assert response.status_code == 302 and response["Location"] == "/schedules/?view=grid"
    schedule.refresh_from_db()
    assert (schedule.is_active, schedule.next_run_at, schedule.paused_reason) == (False, None, "Paused by the user.")
    response = user_client.post(url("schedule_resume", schedule), {"next": "https://evil.example/"})
    assert response["Location"] == url("schedule_detail", schedule)  # off-site "next" is ignored
    schedule.refresh_from_db()
    assert schedule.is_active and schedule.paused_reason == ""
    assert schedule.next_run_at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def test_quick_actions_need_post_and_a_csrf_token(user, make_schedule):
    schedule = make_schedule()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(url("schedule_pause", schedule)).status_code == 405
    assert client.post(url("schedule_pause", schedule)).status_code == 403
    schedule.refresh_from_db()
    assert schedule.is_active


def test_run_now_is_a_test_run_that_leaves_timing_alone(user_client, make_schedule, monkeypatch,
                                                        django_capture_on_commit_callbacks):  # fmt: skip
    submitted = []
    monkeypatch.setattr("schedules.services.submit_run", lambda pk, **kw: submitted.append(pk))
    schedule = make_schedule()
    before = schedule.next_run_at
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(url("schedule_run_now", schedule), follow=True)
    run = ScheduleRun.objects.get()
    assert run.is_test and submitted == [run.pk]
    schedule.refresh_from_db()
    assert (schedule.next_run_at, schedule.run_count) == (before, 0)
    text = response.content.decode()
    assert "Test run started" in text and "do not change" in text


# --- Dashboard -----------------------------------------------------------------------------------------------------


def test_dashboard_filters(user_client, make_schedule, make_instance):
    active = make_schedule(name="Active one")
    paused = make_schedule(name="Paused one", is_active=False, next_run_at=None)
    by_failures = make_schedule(name="Broken one", is_active=False, paused_by_failures=True, consecutive_failures=3)
    failing = make_schedule(name="Wobbly one", consecutive_failures=1)
    elsewhere = make_schedule(name="Elsewhere", instance=make_instance(active.owner, instance_id="amcother"))

    def names(**params):
        response = user_client.get(url("schedule_list"), params)
        return {s.name for s in response.context["page"]}

    assert names(status="active") == {"Active one", "Wobbly one", "Elsewhere"}
    assert names(status="paused") == {"Paused one", "Broken one"}
    assert names(status="paused_by_failures") == {by_failures.name}
    assert names(status="failing") == {failing.name, by_failures.name}
    assert names(q="paused") == {paused.name}
    assert names(instance=str(elsewhere.instance.pk)) == {"Elsewhere"}


def test_dashboard_grid_list_and_htmx_partial(user_client, make_schedule):
    schedule = make_schedule()
    ScheduleRun.objects.create(schedule=schedule, scheduled_for=NOW, status=ScheduleRun.Status.FAILED)
    page = user_client.get(url("schedule_list")).content.decode()
    assert "<html" in page and 'id="schedule-table"' in page and "status-failed" in page
    grid = user_client.get(url("schedule_list"), {"view": "grid"}).content.decode()
    assert 'id="schedule-grid"' in grid and 'id="schedule-table"' not in grid
    partial = user_client.get(url("schedule_list"), {"view": "grid"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'id="schedule-results"' in partial and 'id="schedule-grid"' in partial
    assert "Every day at 06:00" in page and "EST" in page  # next run in the schedule's zone
    for action in ("schedule_pause", "schedule_run_now"):
        assert f'action="{url(action, schedule)}"' in page
    assert page.count("csrfmiddlewaretoken") >= 2


def test_dashboard_query_count_does_not_grow_with_schedules(user_client, make_schedule):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert user_client.get(url("schedule_list")).status_code == 200
        return len(queries)

    first = make_schedule()
    ScheduleRun.objects.create(schedule=first, scheduled_for=NOW)
    few = count_queries()
    for n in range(8):
        schedule = make_schedule(name=f"Schedule {n}")
        ScheduleRun.objects.create(schedule=schedule, scheduled_for=NOW, is_test=True)
    assert count_queries() == few


def test_dashboard_query_budget(user_client, make_schedule, django_assert_max_num_queries):
    for n in range(10):
        make_schedule(name=f"Schedule {n}")
    with django_assert_max_num_queries(8):
        user_client.get(url("schedule_list"), {"view": "grid"})


# --- Detail and history --------------------------------------------------------------------------------------------


@pytest.fixture
def history_schedule(make_schedule, user, owned):
    from executions.models import Execution

    workflow, instance = owned
    schedule = make_schedule()
    start = datetime(2026, 2, 20, 11, tzinfo=UTC)
    outcomes = [("succeeded", 10, 100), ("succeeded", 20, 200), ("failed", 30, None), ("skipped", None, None)]
    for day, (status, minutes, rows) in enumerate(outcomes):
        slot = start + timedelta(days=day)
        execution = None
        if minutes:
            execution = Execution.objects.create(
                owner=user, workflow=workflow, instance=instance, status=status, submitted_at=slot,
                finished_at=slot + timedelta(minutes=minutes),
            )  # fmt: skip
        ScheduleRun.objects.create(
            schedule=schedule, scheduled_for=slot, status=status, execution=execution, row_count=rows,
            cost_estimate=Decimal("0.25") if execution else None, window_start=slot - timedelta(days=3),
            window_end=slot - timedelta(days=2), window_timezone="America/New_York",
            reason="Missed while no worker was running" if status == "skipped" else "",
        )  # fmt: skip
    ScheduleRun.objects.create(schedule=schedule, scheduled_for=start, status="succeeded", is_test=True)
    return schedule


def test_detail_shows_summary_metrics_timeline_and_charts(user_client, history_schedule):
    response = user_client.get(url("schedule_detail", history_schedule))
    html = response.content.decode()
    metrics = response.context["metrics"]
    assert (metrics.total, metrics.success_rate) == (5, 75.0)
    assert (metrics.total_rows, metrics.total_cost) == (300, Decimal("0.75"))
    assert metrics.average_label == "20m 00s" and metrics.p95_label == "30m 00s"
    assert "Every day at 06:00" in html and "75.0%" in html
    assert html.count("<svg") == 2 and "<rect" in html and "<polyline" in html
    timeline = response.context["timeline"]
    assert timeline[0].status == "planned" and any(e.is_test for e in timeline)
    assert "Missed while no worker was running" in html


def test_history_filters_are_in_the_url_and_htmx_swaps_the_history_only(user_client, history_schedule):
    params = {"status": "succeeded", "kind": "real"}
    response = user_client.get(url("schedule_detail", history_schedule), params)
    assert [r.status for r in response.context["page"]] == ["succeeded", "succeeded"]
    assert response.context["metrics"].total == 2
    partial = user_client.get(
        url("schedule_detail", history_schedule), {"kind": "test"}, HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="schedule-history",
    ).content.decode()  # fmt: skip
    assert "<html" not in partial and 'id="schedule-history"' in partial and "Timeline" not in partial
    assert "format=csv&amp;kind=test" in partial
    dated = user_client.get(url("schedule_detail", history_schedule), {"date_from": "2026-02-22", "kind": "real"})
    assert [r.scheduled_for.day for r in dated.context["page"]] == [23, 22]


def test_history_paginates(user_client, make_schedule):
    schedule = make_schedule()
    for n in range(30):
        ScheduleRun.objects.create(schedule=schedule, scheduled_for=NOW - timedelta(days=n), status="succeeded")
    first = user_client.get(url("schedule_detail", schedule))
    second = user_client.get(url("schedule_detail", schedule), {"page": 2})
    assert len(first.context["page"]) == 25 and len(second.context["page"]) == 5


def test_missed_run_alert_on_the_detail_page(user_client, make_schedule):
    schedule = make_schedule(next_run_at=timezone.now() - timedelta(hours=1))
    html = user_client.get(url("schedule_detail", schedule)).content.decode()
    assert "Missed run:" in html and "has not started" in html
    healthy = make_schedule(name="On time")
    assert "Missed run:" not in user_client.get(url("schedule_detail", healthy)).content.decode()


def test_export_csv_and_json(user_client, history_schedule):
    response = user_client.get(url("schedule_export", history_schedule), {"format": "csv", "kind": "real"})
    assert response["Content-Type"].startswith("text/csv")
    assert f"{history_schedule.schedule_id}-runs.csv" in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("schedule_id,scheduled_for,status,is_test")
    assert len(lines) == 5 and lines[1].split(",")[2] == "skipped"  # newest first
    response = user_client.get(url("schedule_export", history_schedule), {"format": "json", "status": "succeeded"})
    records = json.loads(b"".join(response.streaming_content))
    # Newest slot first; the test run shares the first slot and was recorded later.
    assert [(r["scheduled_for"][:10], r["is_test"]) for r in records] == [
        ("2026-02-21", False), ("2026-02-20", True), ("2026-02-20", False),
    ]  # fmt: skip
    assert records[0]["duration_seconds"] == 1200.0 and records[0]["row_count"] == 200
    assert user_client.get(url("schedule_export", history_schedule), {"format": "xml"}).status_code == 404


# --- Ownership and escaping ----------------------------------------------------------------------------------------


def test_another_users_schedule_is_a_404_everywhere(user_client, make_schedule, other_user, owned):
    theirs = make_schedule(owner=other_user)
    for name in ("schedule_detail", "schedule_edit", "schedule_export"):
        assert user_client.get(url(name, theirs)).status_code == 404, name
    for name in ("schedule_edit", "schedule_pause", "schedule_resume", "schedule_run_now"):
        assert user_client.post(url(name, theirs), form_data(*owned)).status_code == 404, name
    theirs.refresh_from_db()
    assert theirs.is_active and theirs.name == "Daily reach" and not theirs.runs.exists()
    assert theirs.name not in user_client.get(url("schedule_list")).content.decode()


def test_pages_need_login(client, make_schedule):
    schedule = make_schedule()
    for target in (url("schedule_list"), url("schedule_create"), url("schedule_detail", schedule)):
        assert client.get(target).status_code == 302


def test_schedule_name_is_escaped(user_client, make_schedule):
    schedule = make_schedule(name=XSS, paused_reason=XSS, is_active=False, next_run_at=None)
    ScheduleRun.objects.create(schedule=schedule, scheduled_for=NOW, status="failed", error=XSS)
    for target in (url("schedule_list"), url("schedule_list") + "?view=grid", url("schedule_detail", schedule),
                   url("schedule_edit", schedule)):  # fmt: skip
        html = user_client.get(target).content.decode()
        assert XSS not in html, target
        assert "&lt;script&gt;" in html, target
