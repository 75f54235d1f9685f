"""Fan-out by brand: "run on all of this brand's instances" is one run set (one window) across the brand's
active instances, its list parameters bound to the brand's lists; cells run against the sandbox over real HTTP."""

from collections import Counter
from datetime import date

import pytest
from django.urls import reverse

from brands.demo import sandbox_brand_lists
from brands.models import Brand
from executions.models import Execution
from instances.models import AMCInstance
from queries.models import Workflow
from runsets import services
from runsets.models import Cell, RunSet

from .helpers import drain

pytestmark = pytest.mark.django_db(transaction=True)

SQL = """SELECT asin, COUNT(*) AS purchases
FROM amazon_retail_purchases
WHERE asin IN ({{asins}})
GROUP BY asin"""


@pytest.fixture
def brand(connected_user, sandbox_dataset):
    """Northwind with the sandbox's ASINs, linked to two active instances and one inactive one."""
    brand = Brand.objects.create(owner=connected_user, name="Northwind")
    asins = [a for a, _title in sandbox_brand_lists(sandbox_dataset)["Northwind"]["asins"]][:5]
    assert asins
    for asin in asins:
        brand.asins.create(asin=asin)
    found = list(AMCInstance.objects.filter(owner=connected_user).order_by("pk")[:3])
    AMCInstance.objects.filter(pk=found[2].pk).update(status=AMCInstance.Status.INACTIVE)
    brand.instances.add(*found)
    return brand


@pytest.fixture
def workflow(connected_user):
    workflow = Workflow.objects.create(owner=connected_user, name="Purchases by ASIN", sql=SQL)
    workflow.parameters = [{"name": "asins", "type": "asin_list"}]
    workflow.save()
    return workflow


def test_the_brand_page_form_creates_one_run_set_across_the_brands_instances(client, connected_user, brand, workflow):
    client.force_login(connected_user)
    response = client.post(
        reverse("brand_fanout", args=[brand.pk]),
        {"workflow": workflow.workflow_id, "start_date": "2025-12-01", "end_date": "2025-12-14"},
    )
    run_set = RunSet.objects.get()
    assert response.url == reverse("runset_detail", args=[run_set.run_set_id])
    assert run_set.parameters == {"asins": f"brand:{brand.pk}:asins"}  # late-bound: the reference, not the values
    cells = list(run_set.cells.select_related("instance"))
    active = set(brand.instances.filter(status="active").values_list("pk", flat=True))
    assert {c.instance_id for c in cells} == active and len(cells) == 2  # the inactive instance is left out
    assert {(c.first_day.isoformat(), c.last_day.isoformat()) for c in cells} == {("2025-12-01", "2025-12-14")}

    done = drain(run_set)
    assert done.status == RunSet.Status.DONE
    assert Counter(c.status for c in done.cells.all()) == {Cell.Status.SUCCEEDED: 2}
    executions = list(Execution.objects.filter(owner=connected_user))
    assert len(executions) == 2 and {e.instance_id for e in executions} == active
    expected = sorted(brand.asins.values_list("asin", flat=True))
    for execution in executions:
        assert execution.parameters_sent == {"asins": expected}
        assert execution.result.row_count > 0  # the sandbox has purchases of the brand's ASINs

    page = client.get(reverse("brand_detail", args=[brand.pk])).content.decode()
    assert "Starts one run set across the brand" in page


def test_cells_send_the_brands_list_as_it_is_when_they_start(connected_user, brand, workflow):
    run_set = services.create_brand_fan_out(
        brand, workflow=workflow, first_day=date(2025, 12, 1), last_day=date(2025, 12, 7), start=False
    )
    brand.asins.create(asin="B0ZZZZZZZ9")  # added after the set was created, before its cells start
    drain(run_set)
    sent = list(Execution.objects.values_list("parameters_sent", flat=True))
    assert sent == [{"asins": sorted(brand.asins.values_list("asin", flat=True))}] * 2
    assert "B0ZZZZZZZ9" in sent[0]["asins"]


def test_no_active_instance_creates_nothing(client, connected_user, workflow):
    client.force_login(connected_user)
    empty = Brand.objects.create(owner=connected_user, name="Empty")
    response = client.post(
        reverse("brand_fanout", args=[empty.pk]),
        {"workflow": workflow.workflow_id, "start_date": "2025-12-01", "end_date": "2025-12-07"}, follow=True,
    )  # fmt: skip
    assert "has no active instance" in response.content.decode()
    assert not RunSet.objects.exists() and not Execution.objects.exists()


def test_another_users_brand_or_query_is_refused(client, connected_user, other_user, brand, workflow):
    theirs = Workflow.objects.create(owner=other_user, name="Theirs", sql=SQL)
    with pytest.raises(services.RunSetError):
        services.create_brand_fan_out(brand, workflow=theirs, first_day=date(2025, 12, 1),
                                      last_day=date(2025, 12, 7), start=False)  # fmt: skip
    client.force_login(other_user)
    response = client.post(
        reverse("brand_fanout", args=[brand.pk]),
        {"workflow": theirs.workflow_id, "start_date": "2025-12-01", "end_date": "2025-12-07"},
    )
    assert response.status_code == 404 and not RunSet.objects.exists()
