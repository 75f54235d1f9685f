"""Dashboards over a run set run against the sandbox: KPIs and deltas equal the cells' own numbers, additivity,
exports, snapshots and share links (signed, expiring, revocable) over HTTP."""

import csv
import io
from collections import defaultdict
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboards import data, sharing
from dashboards.models import Dashboard, ShareLink
from instances.models import AMCInstance
from queries.models import Workflow
from runsets import services
from runsets.tests.helpers import SQL, drain, weeks

pytestmark = pytest.mark.django_db(transaction=True)


def test_change_reads_no_change_within_tolerance_and_colours_by_direction():
    assert data.change(100.0, 100.01, False)["tone"] == "flat"
    assert data.change(110.0, 100.0, False) == {"delta": 10.0, "pct": 10.0, "tone": "good"}
    assert data.change(90.0, 100.0, True)["tone"] == "good"  # spend falling reads green
    assert data.change(110.0, 100.0, True)["tone"] == "bad"
    assert data.change(None, 1.0, False) is None
    assert data.guess_kind("reach") == data.NON_ADDITIVE and data.guess_kind("impressions") == data.ADDITIVE
    assert data.guess_kind("cost_per_acquisition") == data.NON_ADDITIVE and data.guess_down_is_good("total_spend")


@pytest.fixture
def run_set(connected_user):
    workflow = Workflow.objects.create(owner=connected_user, name="Reach by campaign", sql=SQL)
    instances = list(AMCInstance.objects.filter(owner=connected_user).order_by("pk"))[:2]
    return drain(
        services.create_run_set(
            owner=connected_user, workflow=workflow, instances=instances, planned=weeks(4), start=False
        )
    )


def expected_totals(run_set):
    """impressions per (window, campaign) summed over instances, straight from the cells' CSV files."""
    totals = defaultdict(float)
    for cell in run_set.cells.select_related("execution__result"):
        with cell.execution.result.file.open("rb") as handle:
            for row in csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8")):
                totals[(cell.first_day.isoformat(), row["campaign"])] += int(row["impressions"])
    return totals


def test_dashboard_numbers_equal_the_cells(run_set):
    dashboard = Dashboard.objects.create(
        owner=run_set.owner, name="Weekly", run_set=run_set, metrics=["impressions", "reach"], dimension="campaign",
        split="instance",
    )  # fmt: skip
    computed = data.compute(dashboard)
    assert len(computed["windows"]) == 4
    totals = expected_totals(run_set)
    impressions, reach = computed["metrics"]
    per_window = defaultdict(float)
    for (window, _campaign), n in totals.items():
        per_window[window] += n
    assert impressions["total"] == [per_window[w] for w in computed["windows"]]
    latest, previous = computed["windows"][-1], computed["windows"][-2]
    kpi = impressions["kpi"]
    assert kpi["value"] == per_window[latest] and kpi["previous"] == per_window[previous]
    assert kpi["vs_previous"]["delta"] == per_window[latest] - per_window[previous]
    assert kpi["vs_previous"]["pct"] == pytest.approx(100 * (per_window[latest] / per_window[previous] - 1))
    assert len(impressions["series"]) == 2  # one line per instance
    # Reach is a distinct count: never summed over campaigns, instances or windows.
    assert reach["kind"] == data.NON_ADDITIVE and set(reach["total"]) == {None} and reach["kpi"]["value"] is None
    for row in impressions["breakdown"]:  # per campaign, summed over instances; absent is n/a, not 0
        assert row["current"] == totals.get((latest, row["value"]))
        assert row["previous"] == totals.get((previous, row["value"]))
    Dashboard.objects.filter(pk=dashboard.pk).update(split="dimension", top_n=1)
    dashboard.refresh_from_db()
    top = data.compute(dashboard)["metrics"][0]
    assert [s["name"] for s in top["series"]][-1] == data.OTHER and len(top["series"]) == 2
    for i, window in enumerate(computed["windows"]):  # the top value + Other add up to the window's total
        assert sum(s["values"][i] or 0 for s in top["series"]) == pytest.approx(per_window[window])
    filtered = data.compute(dashboard, start=computed["windows"][1], end=computed["windows"][2])
    assert filtered["windows"] == computed["windows"][1:3]


def test_dashboard_pages_exports_snapshot_and_share_link(run_set, client):
    owner = run_set.owner
    client.force_login(owner)
    create = reverse("dashboard_create") + f"?run_set={run_set.run_set_id}"
    form = client.get(create)
    assert form.status_code == 200
    response = client.post(create, {"name": "Weekly report", "metrics": ["impressions", "reach"],
                                    "dimension": "campaign", "split": "dimension", "top_n": 2,
                                    "non_additive": ["reach"]})  # fmt: skip
    assert response.status_code == 302
    dashboard = Dashboard.objects.get(owner=owner)
    assert dashboard.kinds == {"impressions": "additive", "reach": "non_additive"}
    page = client.get(reverse("dashboard_detail", args=[dashboard.dashboard_id]) + "?sort=delta&dir=asc")
    assert page.status_code == 200 and b'data-testid="kpi-value"' in page.content and b"<svg" in page.content
    breakdown = client.get(reverse("dashboard_breakdown_csv", args=[dashboard.dashboard_id])).content.decode()
    assert breakdown.splitlines()[0] == "metric,campaign,current,previous,delta,delta_pct"
    svg = client.get(reverse("dashboard_chart_svg", args=[dashboard.dashboard_id, 0]))
    assert svg["Content-Type"] == "image/svg+xml" and svg.content.startswith(b"<svg")
    client.post(reverse("dashboard_snapshot", args=[dashboard.dashboard_id]))
    snapshot = dashboard.snapshots.get()
    assert snapshot.data["metrics"][0]["name"] == "impressions"
    client.post(reverse("dashboard_share", args=[dashboard.dashboard_id]), {"days": 3})
    link = ShareLink.objects.get(dashboard=dashboard)
    url = reverse("dashboard_shared", args=[sharing.token_for(link)])
    anonymous = Client()
    shared = anonymous.get(url)
    assert shared.status_code == 200 and b"Weekly report" in shared.content
    assert b"/runsets/" not in shared.content and b"/dashboards/dash_" not in shared.content  # nothing else
    assert anonymous.get(url[:-3] + "xx/").status_code == 404  # a tampered token
    assert anonymous.get(reverse("dashboard_detail", args=[dashboard.dashboard_id])).status_code == 302
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert anonymous.get(url).status_code == 404  # expired
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() + timedelta(days=1))
    assert anonymous.get(url).status_code == 200
    client.post(reverse("dashboard_share_revoke", args=[link.pk]))
    assert anonymous.get(url).status_code == 404  # revoked
