"""`lock_run`: the run submit_run submits, locked and read with everything it needs in one statement."""

import threading

import pytest
from django.db import connections, transaction

from queries.models import Workflow
from queries.versions import record_version
from schedules.locked_run import lock_run
from schedules.models import ScheduleRun
from schedules.tests.test_dispatch import at, no_submission, schedule  # noqa: F401 (fixtures)
from schedules.tests.test_guards import claimed_run


@pytest.mark.django_db
def test_one_statement_reads_the_run_with_its_relations_and_latest_version(schedule, django_assert_num_queries):  # noqa: F811
    s = schedule(next_run_at=at("2026-01-10T06:00"))
    record_version(s.workflow)
    Workflow.objects.filter(pk=s.workflow_id).update(sql=s.workflow.sql + " -- edited")
    s.workflow.refresh_from_db()
    newest = record_version(s.workflow)
    run_pk = claimed_run(s, at("2026-01-10T06:00:05"))
    with transaction.atomic(), django_assert_num_queries(1):
        locked = lock_run(run_pk)
        seen = (locked.run.pk, locked.schedule.pk, locked.schedule.workflow.sql, locked.schedule.owner.email,
                locked.run.instance.account.entity_id, locked.latest_version.number, locked.previous_open)  # fmt: skip
    assert seen == (run_pk, s.pk, s.workflow.sql, s.owner.email, s.instance.account.entity_id, newest.number, False)
    assert locked.latest_version.sql == s.workflow.sql


@pytest.mark.django_db
def test_a_query_without_versions_and_an_open_earlier_run(schedule, no_submission):  # noqa: F811
    s = schedule(next_run_at=at("2026-01-10T06:00"))
    first = claimed_run(s, at("2026-01-10T06:00:05"))
    ScheduleRun.objects.filter(pk=first).update(status=ScheduleRun.Status.SUBMITTED)
    second = claimed_run(s, at("2026-01-11T06:00:05"))
    with transaction.atomic():
        locked = lock_run(second)
    assert (locked.latest_version, locked.previous_open) == (None, True)
    with transaction.atomic():
        assert lock_run(first) is None  # submitted already: not submittable


@pytest.mark.django_db(transaction=True)  # a test's own transaction would satisfy it
def test_lock_run_needs_a_transaction(schedule):  # noqa: F811
    run_pk = claimed_run(schedule(next_run_at=at("2026-01-10T06:00")), at("2026-01-10T06:00:05"))
    with pytest.raises(RuntimeError, match="needs a transaction"):
        lock_run(run_pk)


@pytest.mark.django_db(transaction=True)
def test_a_run_another_worker_holds_is_skipped_not_waited_for(schedule):  # noqa: F811
    run_pk = claimed_run(schedule(next_run_at=at("2026-01-10T06:00")), at("2026-01-10T06:00:05"))
    held, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                assert lock_run(run_pk) is not None
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    worker = threading.Thread(target=other_worker)
    worker.start()
    try:
        assert held.wait(10)
        with transaction.atomic():
            assert lock_run(run_pk) is None  # SKIP LOCKED: returns at once
    finally:
        release.set()
        worker.join(10)
    with transaction.atomic():
        assert lock_run(run_pk).run.pk == run_pk  # free again once the other transaction ended
