"""schedules.claiming on real PostgreSQL: the batch statement, the fence, and slots shared within a batch."""

from datetime import UTC, datetime, time

import pytest

from schedules import claiming, planning, timing
from schedules.models import Schedule, ScheduleRun

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def schedule(user, make_instance, make_workflow):
    instance, workflow = make_instance(user), make_workflow(user)

    def make(**fields):
        defaults = dict(
            owner=user, workflow=workflow, instance=instance, name=f"s{Schedule.objects.count()}",
            kind=Schedule.Kind.DAILY, time_of_day=time(6, 0), timezone="UTC",
        )  # fmt: skip
        return Schedule.objects.create(**{**defaults, **fields})

    return make


def test_a_slot_that_already_has_a_run_is_advanced_but_not_claimed_again(schedule):
    s = schedule(next_run_at=at("2026-01-10T06:00"))
    existing = ScheduleRun.objects.create(schedule=s, scheduled_for=at("2026-01-10T06:00"))  # another path won
    report = claiming.claim_due_batch(now=at("2026-01-10T06:00:30"))
    assert (report.schedules, report.claimed) == (1, [])  # the fence: nothing inserted, nothing to submit
    assert list(ScheduleRun.objects.values_list("pk", flat=True)) == [existing.pk]
    s.refresh_from_db()
    assert s.next_run_at == at("2026-01-11T06:00")


def test_each_schedule_of_a_batch_gets_its_own_slots(schedule):
    same_a = schedule(next_run_at=at("2026-01-10T06:00"))
    same_b = schedule(next_run_at=at("2026-01-10T06:00"))
    behind = schedule(next_run_at=at("2026-01-08T06:00"))  # same timing, two missed slots
    new_york = schedule(next_run_at=at("2026-01-10T06:00"), timezone="America/New_York", time_of_day=time(1, 0))
    cron = schedule(next_run_at=at("2026-01-10T06:00"), kind=Schedule.Kind.CRON, cron_expression="0 */6 * * *")
    report = claiming.claim_due_batch(now=at("2026-01-10T06:00:30"))
    assert (report.schedules, len(report.claimed), report.skipped) == (5, 5, 2)
    claimed = dict(ScheduleRun.objects.filter(pk__in=report.claimed).values_list("schedule_id", "scheduled_for"))
    assert set(claimed.values()) == {at("2026-01-10T06:00")}
    expected = {
        same_a: at("2026-01-11T06:00"), same_b: at("2026-01-11T06:00"), behind: at("2026-01-11T06:00"),
        new_york: at("2026-01-11T06:00"), cron: at("2026-01-10T12:00"),
    }  # fmt: skip
    for s, following in expected.items():
        s.refresh_from_db()
        assert (s.next_run_at, s.last_run_at) == (following, at("2026-01-10T06:00")), s.name
    skipped = ScheduleRun.objects.filter(schedule=behind, status=ScheduleRun.Status.SKIPPED)
    assert sorted(r.scheduled_for.day for r in skipped) == [8, 9]
    assert all(r.reason == claiming.MISSED_REASON and r.finished_at for r in skipped)


def test_the_last_slot_before_the_end_runs_and_leaves_no_next_run(schedule):
    s = schedule(next_run_at=at("2026-01-10T06:00"), ends_at=at("2026-01-10T12:00"))
    report = claiming.claim_due_batch(now=at("2026-01-10T06:00:30"))
    assert (report.schedules, len(report.claimed)) == (1, 1)
    s.refresh_from_db()
    assert (s.next_run_at, s.last_run_at) == (None, at("2026-01-10T06:00"))


def test_the_cached_cron_parse_gives_every_caller_its_own_position():
    first = timing.parse_cron("0 6 * * *")
    second = timing.parse_cron("0 6 * * *")
    first.set_current(datetime(2026, 1, 1))
    second.set_current(datetime(2030, 6, 1))
    assert first.get_next(datetime) == datetime(2026, 1, 1, 6, 0)
    assert second.get_next(datetime) == datetime(2030, 6, 1, 6, 0)
    assert first.get_next(datetime) == datetime(2026, 1, 2, 6, 0)


def test_planned_batches_claim_every_kind_of_timing_in_one_statement(schedule, monkeypatch):
    classic = []
    monkeypatch.setattr(claiming, "claim_due_batch", lambda **kw: classic.append(kw) or claiming.DispatchReport())
    slot, now = at("2026-01-12T06:00"), at("2026-01-12T06:00:30")  # a Monday
    made = [
        schedule(next_run_at=slot),
        schedule(next_run_at=slot, kind=Schedule.Kind.WEEKLY, weekdays=[0, 3], ends_at=at("2026-06-01T00:00")),
        schedule(next_run_at=slot, kind=Schedule.Kind.MONTHLY, month_days=[12, -1], starts_at=at("2026-01-01T00:00")),
        schedule(next_run_at=slot, kind=Schedule.Kind.INTERVAL, interval_days=3, starts_at=at("2026-01-09T00:00")),
        schedule(next_run_at=slot, kind=Schedule.Kind.CRON, cron_expression="0 6 * * 1-5", time_of_day=None),
    ]
    reports = list(claiming.claim_due(now=now))
    assert [(r.schedules, len(r.claimed)) for r in reports] == [(5, 5), (0, 0)]  # the classic batch finds nothing
    assert len(classic) == 1
    for s in made:
        expected = planning.next_slot(s, slot)
        s.refresh_from_db()
        assert (s.next_run_at, s.last_run_at) == (expected, slot), s.kind


def test_a_schedule_edited_after_planning_is_left_to_the_classic_batches(schedule, monkeypatch):
    schedule(next_run_at=at("2026-01-10T06:00"))
    edited = schedule(next_run_at=at("2026-01-10T06:00"))
    run = claiming._run

    def edit_then_run(statement, params):
        Schedule.objects.filter(pk=edited.pk).update(time_of_day=time(7, 0))  # after the plan was made
        return run(statement, params)

    monkeypatch.setattr(claiming, "_run", edit_then_run)
    reports = list(claiming.claim_due(now=at("2026-01-10T06:00:30")))
    assert [(r.schedules, len(r.claimed)) for r in reports] == [(1, 1), (1, 1)]  # planned, then classic
    edited.refresh_from_db()
    assert (edited.next_run_at, edited.last_run_at) == (at("2026-01-10T07:00"), at("2026-01-10T06:00"))  # new timing
    assert ScheduleRun.objects.filter(status=ScheduleRun.Status.CLAIMED).count() == 2
