"""The poll lease and the poll schedule are two fields: a held row is left alone until its lease runs out."""

from datetime import UTC, datetime, timedelta

import pytest

from executions import following, lifecycle, polling, services
from executions.models import Execution
from executions.tests.test_execution_flow import SQL, WINDOW, drive, no_sleep_client

pytestmark = pytest.mark.django_db(transaction=True)


def running(connected_user, demo_instance) -> Execution:
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    assert services.submit_execution(execution.pk, client_factory=no_sleep_client()) == "submitted"
    execution.refresh_from_db()
    return execution


def test_a_new_execution_is_due_for_resubmission_only_after_the_task_grace(connected_user, demo_instance):
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    assert execution.next_poll_at - execution.created_at >= lifecycle.SUBMIT_TASK_GRACE - timedelta(seconds=1)
    assert following.resubmit_due_pending(datetime.now(UTC), no_sleep_client()) == 0
    later = execution.next_poll_at + timedelta(seconds=1)
    assert following.resubmit_due_pending(later, no_sleep_client()) == 1


def test_a_leased_row_is_not_polled_until_the_lease_runs_out(connected_user, demo_instance):
    execution = running(connected_user, demo_instance)
    now = datetime.now(UTC)
    Execution.objects.filter(pk=execution.pk).update(next_poll_at=now, lease_until=now + timedelta(minutes=1))
    assert polling.poll_due(now, client_factory=no_sleep_client()) == 0  # another worker holds it
    execution.refresh_from_db()
    assert execution.next_poll_at == now  # the schedule is untouched by the lease
    after_lease = now + timedelta(minutes=1, seconds=1)
    assert polling.poll_due(after_lease, client_factory=no_sleep_client()) == 1
    execution.refresh_from_db()
    assert execution.lease_until is None  # released after the poll
    assert execution.next_poll_at > now
    assert drive(execution).status == Execution.Status.SUCCEEDED


def test_a_fetch_is_claimed_once(connected_user, demo_instance):
    execution = running(connected_user, demo_instance)
    now = datetime.now(UTC)
    Execution.objects.filter(pk=execution.pk).update(
        status=Execution.Status.FETCHING, next_poll_at=now, lease_until=now + timedelta(minutes=5)
    )
    assert following.fetch_results(execution.pk, client_factory=no_sleep_client()) == "not-claimed"
    assert following.take_over_fetches(now + timedelta(minutes=1), no_sleep_client()) == 0  # held, not stalled
