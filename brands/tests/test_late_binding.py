"""A schedule that uses a brand's list resolves it at each slot; each execution records what it sent."""

from datetime import UTC, datetime, time

import pytest

from brands import lists
from brands.models import Brand
from executions.models import Execution
from executions.services import ExecutionInputError, WindowSpec, start_execution
from schedules import services
from schedules.models import Schedule, ScheduleRun

pytestmark = pytest.mark.django_db
SQL = "SELECT tracked_asin FROM amazon_attributed_events_by_conversion_time WHERE tracked_asin IN ({{asins}})"


@pytest.fixture(autouse=True)
def no_submission(monkeypatch):
    monkeypatch.setattr("executions.services.enqueue_submission", lambda pk: None)


@pytest.fixture
def brand(user):
    brand = Brand.objects.create(owner=user, name="Acme")
    brand.asins.create(asin="B0AAAAAAA1")
    return brand


def test_each_slot_resolves_the_brands_current_list_and_history_keeps_what_was_sent(user, brand, make_instance,
                                                                                   make_workflow):  # fmt: skip
    workflow = make_workflow(user, sql=SQL)
    workflow.parameters = [{"name": "asins", "type": "asin_list"}]
    workflow.save()
    schedule = Schedule.objects.create(
        owner=user, workflow=workflow, instance=make_instance(user), name="Daily", kind=Schedule.Kind.DAILY,
        time_of_day=time(6, 0), timezone="UTC", window_rule={"kind": "previous_day"},
        parameters={"asins": lists.reference(brand, "asins")},
    )  # fmt: skip
    first = services.claim_slot_directly(schedule, datetime(2026, 1, 10, 6, tzinfo=UTC))
    assert services.submit_run(first.pk, now=datetime(2026, 1, 10, 6, tzinfo=UTC)) == "submitted"
    ScheduleRun.objects.filter(pk=first.pk).update(status=ScheduleRun.Status.SUCCEEDED)  # the first run is over
    brand.asins.create(asin="B0AAAAAAA2")
    second = services.claim_slot_directly(schedule, datetime(2026, 1, 11, 6, tzinfo=UTC))
    assert services.submit_run(second.pk, now=datetime(2026, 1, 11, 6, tzinfo=UTC)) == "submitted"

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.parameters_used == second.parameters_used == {"asins": f"brand:{brand.pk}:asins"}
    assert first.execution.parameters_sent == {"asins": ["B0AAAAAAA1"]}
    assert "IN ('B0AAAAAAA1')" in first.execution.sql_sent
    assert second.execution.parameters_sent == {"asins": ["B0AAAAAAA1", "B0AAAAAAA2"]}
    assert "IN ('B0AAAAAAA1', 'B0AAAAAAA2')" in second.execution.sql_sent


def test_a_reference_to_another_users_brand_or_an_empty_list_is_refused(user, other_user, make_instance):
    theirs = Brand.objects.create(owner=other_user, name="Theirs")
    theirs.asins.create(asin="B0SECRET01")
    empty = Brand.objects.create(owner=user, name="Empty")
    window = WindowSpec("EXPLICIT", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    instance = make_instance(user)
    for ref, message in ((lists.reference(theirs, "asins"), "no longer exists"),
                         (lists.reference(empty, "asins"), "has no asins")):  # fmt: skip
        with pytest.raises(ExecutionInputError, match=message):
            start_execution(owner=user, instance=instance, window=window, sql=SQL, parameters={"asins": ref})
    assert not Execution.objects.exists()


def test_campaign_references_can_keep_one_campaign_type(user, make_instance):
    brand = Brand.objects.create(owner=user, name="Acme")
    brand.campaigns.create(campaign_id="111", type="SP")
    brand.campaigns.create(campaign_id="222", type="DSP")
    window = WindowSpec("EXPLICIT", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    execution = start_execution(
        owner=user, instance=make_instance(user), window=window,
        sql="SELECT 1 FROM dsp_impressions WHERE campaign_id_string IN ({{campaign_ids}})",
        parameters={"campaign_ids": lists.reference(brand, "campaigns", "DSP")},
    )  # fmt: skip
    assert execution.parameters_sent == {"campaign_ids": ["222"]}


def test_schedule_form_stores_a_brand_reference_and_refuses_someone_elses(user, other_user, brand, make_instance,
                                                                          make_workflow):  # fmt: skip
    from schedules.forms import ScheduleForm
    from schedules.tests.test_forms import NOW, form_data

    workflow = make_workflow(user, sql=SQL)
    workflow.parameters = [{"name": "asins", "type": "asin_list", "label": "ASINs"}]
    workflow.save()
    instance = make_instance(user)
    theirs = Brand.objects.create(owner=other_user, name="Theirs")
    theirs.asins.create(asin="B0SECRET01")
    data = form_data(workflow, instance, param_report_date=None, param_asins=lists.reference(theirs, "asins"))
    refused = ScheduleForm(data, user=user, now=NOW)
    assert not refused.is_valid() and "no longer exists" in refused.errors["param_asins"][0]
    assert 'data-list-picker="asins"' in str(refused["param_asins"])
    form = ScheduleForm({**data, "param_asins": lists.reference(brand, "asins")}, user=user, now=NOW)
    assert form.is_valid(), form.errors
    assert form.save().parameters == {"asins": f"brand:{brand.pk}:asins"}
