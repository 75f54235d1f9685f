"""The sandbox refuses at compile time what AMC refuses at compile time: a column missing from GROUP BY.

Before, it passed the dry run and failed 17 s later with a DuckDB binder message.
"""

import pytest

from accounts.amazon import amc_client_for
from executions import services
from executions.models import Execution
from recomamp.amc.records import TimeWindow

from .test_execution_flow import WINDOW, drive

pytestmark = pytest.mark.django_db(transaction=True)

BAD = "SELECT campaign,\n  advertiser,\n  COUNT(DISTINCT user_id) AS reach\nFROM dsp_impressions\nGROUP BY campaign"


def test_dry_run_on_amc_refuses_a_column_missing_from_group_by(connected_user, demo_instance):
    with amc_client_for(connected_user, demo_instance.region) as client:
        window = TimeWindow("EXPLICIT", WINDOW.start, WINDOW.end, "UTC")
        answer = client.create_adhoc_execution(demo_instance, BAD, window=window, dry_run=True)
    assert answer.status == "REJECTED"  # AMC's answer to a dry run of a query that does not compile
    text = answer.status_reason
    assert "'advertiser' is neither present in the group by" in text and "line 2, column 3" in text
    assert "Binder" not in text and "DuckDB" not in text


def test_a_run_fails_at_compile_with_amc_wording_and_position(connected_user, demo_instance):
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=BAD, window=WINDOW, submit=False
    )
    done = drive(execution)
    assert done.status == Execution.Status.FAILED and done.error_kind == "AMCValidationError"
    assert (done.error_line, done.error_column) == (2, 3)
    assert "neither present in the group by" in done.error_message and "Binder" not in done.error_message


def test_a_workflow_deleted_on_amc_is_shown_as_such_when_it_cannot_be_recreated(connected_user, demo_instance):
    from queries.models import Workflow, WorkflowSync
    from recomamp.amc.errors import AMCServerError
    from recomamp.sandbox.models import SandboxWorkflow

    from .test_execution_flow import SQL

    workflow = Workflow.objects.create(owner=connected_user, name="Reach", sql=SQL)
    run = services.start_execution(owner=connected_user, instance=demo_instance, workflow=workflow, window=WINDOW)
    assert drive(run).status == Execution.Status.SUCCEEDED
    SandboxWorkflow.objects.filter(workflow_id=workflow.workflow_id).delete()  # deleted outside RecomAMP

    def failing_create(execution):
        client = amc_client_for(execution.owner, execution.instance.region, sleep=lambda _: None)

        def create_workflow(*args, **kwargs):
            raise AMCServerError("AMC is down", status_code=503)

        client.create_workflow = create_workflow
        return client

    again = services.start_execution(
        owner=connected_user, instance=demo_instance, workflow=workflow, window=WINDOW, submit=False
    )
    from executions import following

    following.advance(again.pk, client_factory=failing_create)  # the submission meets AMC's 404, then fails
    sync = WorkflowSync.objects.get(workflow=workflow)
    assert sync.state == WorkflowSync.State.MISSING and sync.get_state_display() == "Deleted on AMC"
