"""The sandbox finishes an execution in one transaction: a connection dropped between running the query and
recording its outcome leaves nothing behind, and the next poll finishes the execution (it used to stay RUNNING
for SANDBOX_FINISH_CLAIM_SECONDS, ten minutes, behind a claim nobody held).

The session is really terminated (`pg_terminate_backend` from a second connection) at that exact point: right
after the engine returns, inside the finishing transaction of the live server's request thread.
"""

import pytest

from recomamp.sandbox import engine_bridge
from recomamp.sandbox.models import SandboxExecution
from tests.db_sessions import backend_pid, terminate

pytestmark = pytest.mark.django_db(transaction=True)

SQL = "SELECT campaign, COUNT(*) AS impressions FROM dsp_impressions GROUP BY campaign"


def test_a_connection_dropped_while_finishing_is_finished_by_the_next_poll(sandbox, clock, monkeypatch):
    runs = []
    real_run = engine_bridge.run

    def run_then_lose_the_connection(execution):
        result = real_run(execution)
        runs.append(execution.pk)
        if len(runs) == 1:
            terminate(backend_pid())  # this request's session, holding the execution's row lock
        return result

    monkeypatch.setattr(engine_bridge, "run", run_then_lose_the_connection)
    execution_id = sandbox.run_adhoc(SQL)["workflowExecutionId"]
    clock.advance(30)  # pending 10 s + running 20 s: due to finish

    dropped = sandbox.reporting("GET", f"/workflowExecutions/{execution_id}")
    assert dropped.status_code >= 500  # this poll lost its database connection
    row = SandboxExecution.objects.get(execution_id=execution_id)
    assert (row.status, row.result_files, row.finish_claimed_at) == ("RUNNING", [], None)  # rolled back, unclaimed

    assert sandbox.status(execution_id) == "SUCCEEDED"  # the very next poll, with the clock not moved
    row.refresh_from_db()
    assert row.row_count > 0 and row.result_files
    assert len(runs) == 2  # the query ran again; the first outcome was never recorded
    urls = sandbox.reporting("GET", f"/workflowExecutions/{execution_id}/downloadUrls").json()["downloadUrls"]
    assert len(urls) == len(row.result_files)
