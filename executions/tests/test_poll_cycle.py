"""One poll cycle over real HTTP to the sandbox: threads share the due rows, clients and tokens live per cycle."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from executions import polling, services
from executions.models import Execution
from executions.tests.test_lifecycle import running

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stays_running(settings, amc_sandbox):
    settings.SANDBOX_RUNNING_SECONDS = 3600  # so a poll leaves each execution RUNNING and due again later


def due_now(executions) -> datetime:
    now = datetime.now(UTC)
    Execution.objects.filter(pk__in=[e.pk for e in executions]).update(next_poll_at=now, lease_until=None)
    return now


def test_threads_poll_every_due_execution_once_with_one_client_each(connected_user, demo_instance, stays_running):
    executions = [running(connected_user, demo_instance) for _ in range(6)]
    now = due_now(executions)
    clients = polling.CycleClients()
    try:
        assert polling.poll_due(now, max_workers=3, client_factory=clients) == 6
        assert 1 <= clients.opened <= 3  # one per thread that polled, not one per poll
    finally:
        clients.close()
    for execution in Execution.objects.filter(pk__in=[e.pk for e in executions]):
        assert execution.last_polled_at is not None and execution.lease_until is None
        assert execution.status == Execution.Status.RUNNING and execution.poll_failures == 0
        assert execution.next_poll_at > now
    assert polling.poll_due(now, max_workers=3) == 0  # nothing is due twice


@pytest.mark.parametrize("factory", [None, services.default_client], ids=["no factory", "follow_executions' default"])
def test_a_poll_is_two_statements_and_the_token_is_read_once_per_cycle(
    connected_user, demo_instance, stays_running, factory
):
    executions = [running(connected_user, demo_instance) for _ in range(3)]
    now = due_now(executions)
    with CaptureQueriesContext(connection) as queries:
        assert polling.poll_due(now, max_workers=1, client_factory=factory) == 3
    statements = [q["sql"] for q in queries]
    selects = [sql for sql in statements if sql.startswith("SELECT")]
    on_executions = [sql for sql in statements if "executions_execution" in sql]
    assert len([sql for sql in selects if "executions_execution" in sql]) == 1  # the due list only
    claims = [sql for sql in on_executions if sql.startswith("UPDATE") and "RETURNING" in sql]
    assert len(claims) == 3 and len(on_executions) == 1 + 2 * 3  # per poll: claim-and-read, then the status
    assert not [sql for sql in statements if "sql_sent" in sql]  # never the 88-column row
    assert len([sql for sql in selects if "accounts_amazonconnection" in sql]) == 1  # token read once
