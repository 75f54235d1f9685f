"""The submission's fixed SQL: the start's insert, the claim that reads what submitting needs, AMC's answer."""

import pytest
from django.utils import timezone

from executions import lifecycle, services
from executions.models import Execution
from executions.tests.test_execution_flow import SQL, WINDOW
from queries.models import WorkflowSync
from queries.services import sql_hash

pytestmark = pytest.mark.django_db


def test_a_taken_readable_id_is_drawn_again_and_the_query_counted_once(user, make_instance, make_workflow, monkeypatch):
    instance, workflow = make_instance(user), make_workflow(user, sql=SQL)
    Execution.objects.create(execution_id="exec_taken0000000", owner=user, instance=instance)
    drawn = iter(["exec_taken0000000", "exec_taken0000000", "exec_fresh0000000"])
    monkeypatch.setattr(services, "make_readable_id", lambda prefix: next(drawn))
    execution = services.start_execution(owner=user, instance=instance, workflow=workflow, sql=SQL, window=WINDOW,
                                         submit=False)  # fmt: skip
    stored = Execution.objects.get(pk=execution.pk)
    assert stored.execution_id == "exec_fresh0000000" and stored.request_body == execution.request_body
    assert stored.query_version is not None and stored.query_version.sql == SQL
    workflow.refresh_from_db()
    assert workflow.execution_count == 1 and workflow.last_executed_at is not None
    assert not execution._state.adding  # saved, as Model.save leaves it


@pytest.mark.django_db(transaction=True)  # the start's transaction is rolled back, not a savepoint
def test_ten_taken_ids_raise_instead_of_looping(user, make_instance, monkeypatch):
    instance = make_instance(user)
    Execution.objects.create(execution_id="exec_taken0000000", owner=user, instance=instance)
    monkeypatch.setattr(services, "make_readable_id", lambda prefix: "exec_taken0000000")
    with pytest.raises(RuntimeError, match="free exec_ id"):
        services.start_execution(owner=user, instance=instance, sql=SQL, window=WINDOW, submit=False)
    assert Execution.objects.count() == 1


def test_the_claim_reads_the_execution_with_its_relations_and_sync(user, make_instance, make_workflow,
                                                                   django_assert_num_queries):  # fmt: skip
    instance, workflow = make_instance(user), make_workflow(user, sql=SQL)
    execution = Execution.objects.create(owner=user, instance=instance, workflow=workflow)
    sync = WorkflowSync.objects.create(workflow=workflow, instance=instance, sql_hash=sql_hash(SQL))
    now = timezone.now()
    with django_assert_num_queries(1):
        claimed = lifecycle.claim_submission(execution.pk, now, lease_until=now)
        seen = (claimed.execution.status, claimed.execution.owner.email, claimed.execution.workflow.sql,
                claimed.execution.instance.account.entity_id, claimed.sync.pk, claimed.sync.sql_hash)  # fmt: skip
    assert seen == (Execution.Status.SUBMITTING, user.email, SQL, instance.account.entity_id, sync.pk, sql_hash(SQL))
    assert lifecycle.claim_submission(execution.pk, now) is None  # claimed once


def test_an_ad_hoc_claim_has_no_workflow_and_no_sync(user, make_instance):
    execution = Execution.objects.create(owner=user, instance=make_instance(user))
    claimed = lifecycle.claim_submission(execution.pk, timezone.now())
    assert (claimed.execution.workflow, claimed.sync) == (None, None)


def test_a_cancelled_row_is_not_claimed_and_a_late_answer_reports_the_cancel(user, make_instance):
    instance = make_instance(user)
    asked = Execution.objects.create(owner=user, instance=instance, cancel_requested_at=timezone.now())
    assert lifecycle.claim_submission(asked.pk, timezone.now()) is None
    execution = Execution.objects.create(owner=user, instance=instance)
    claimed = lifecycle.claim_submission(execution.pk, timezone.now()).execution
    assert lifecycle.request_cancel(claimed)  # asked while AMC was answering
    assert lifecycle.record_submission(claimed, "amc-1", "PENDING")
    assert claimed.cancel_requested_at is not None  # the answer's update returned it: no extra read
    assert not lifecycle.record_submission(claimed, "amc-2", "PENDING")  # recorded once
    assert Execution.objects.get(pk=execution.pk).amc_execution_id == "amc-1"
