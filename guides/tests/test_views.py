"""The guide pages against the sandbox over real HTTP: browse, favourite, open a step, run it in place, read
its result, mark it done and save it as the user's own query."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from executions import following
from executions.models import Execution
from guides.importer import import_guides
from guides.models import GuideFavourite, GuideProgress
from queries.catalog_import import import_schemas
from queries.models import Workflow

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def guides(db):
    import_guides()


def finish(execution) -> Execution:
    """Advance the execution the way the workers would, until it is final."""
    for _ in range(20):
        execution.refresh_from_db()
        if not execution.is_active:
            return execution
        Execution.objects.filter(pk=execution.pk, next_poll_at__isnull=False).update(next_poll_at=datetime.now(UTC))
        following.advance(execution.pk)
    raise AssertionError(f"execution did not finish: {execution.status}")


def test_list_searches_filters_and_shows_favourites(user_client, user, guides):
    page = user_client.get(reverse("guide_list")).content.decode()
    assert "Reach, frequency and where to cap it" in page and "Privacy thresholds" in page
    found = user_client.get(reverse("guide_list"), {"q": "fire tv"}).context["guides"]
    assert [g.slug for g in found] == ["streaming-tv-incremental-reach"]
    by_category = user_client.get(reverse("guide_list"), {"category": "Conversion & attribution"}).context["guides"]
    assert {g.slug for g in by_category} == {"time-to-conversion", "attribution-model-comparison"}
    user_client.post(reverse("guide_favourite", args=["new-to-brand"]))
    favourites = user_client.get(reverse("guide_list"), {"favourites": "on"}).context["guides"]
    assert [g.slug for g in favourites] == ["new-to-brand"] and favourites[0].is_favourite
    partial = user_client.get(reverse("guide_list"), {"q": "cadence"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Retail purchase cadence" in partial and "<html" not in partial
    user_client.post(reverse("guide_favourite", args=["new-to-brand"]))
    assert not GuideFavourite.objects.filter(owner=user).exists()


def test_guide_page_links_its_data_sources_and_renders_markdown(user_client, guides):
    import_schemas()
    page = user_client.get(reverse("guide_detail", args=["reach-and-frequency"])).content.decode()
    assert reverse("data_source_detail", args=["dsp-impressions"]) in page
    assert "<strong>people</strong>" in page  # Markdown rendered (and sanitised)
    assert "Average frequency" in page  # glossary
    assert page.count(reverse("guide_step", args=["reach-and-frequency", 2])) == 1
    assert user_client.get(reverse("guide_detail", args=["nope"])).status_code == 404
    assert user_client.get(reverse("guide_step", args=["reach-and-frequency", 9])).status_code == 404


def test_step_opens_prefilled_with_parameters_instance_and_window(client, connected_user, demo_instance, guides):
    client.force_login(connected_user)
    response = client.get(reverse("guide_step", args=["reach-and-frequency", 2]))
    form = response.context["run_form"]
    assert "LEAST(impressions, {{max_frequency}})" in response.context["sql"]
    assert form.fields["param_max_frequency"].initial == 6
    assert demo_instance in form.fields["instance"].queryset
    assert form.fields["start_date"].initial and form.fields["end_date"].initial
    editor = client.post(reverse("query_editor"), {"sql": response.context["sql"], "param_max_frequency": "4"})
    assert editor.status_code == 200 and "max_frequency" in editor.content.decode()


def test_run_in_place_read_result_mark_done_and_save(client, connected_user, demo_instance, guides):
    client.force_login(connected_user)
    step_url = reverse("guide_step", args=["reach-and-frequency", 1])
    sql = client.get(step_url).context["sql"]
    posted = {
        "sql": sql, "instance": demo_instance.pk, "window_type": "EXPLICIT", "start_date": "2025-07-01",
        "end_date": "2025-12-31", "timezone": "UTC", "timeout_minutes": "360", "param_min_impressions": "2",
    }  # fmt: skip
    response = client.post(reverse("guide_step_run", args=["reach-and-frequency", 1]), posted)
    assert response.status_code == 302 and response["Location"] == step_url
    progress = GuideProgress.objects.get(owner=connected_user, step__number=1)
    execution = finish(progress.last_execution)
    assert execution.status == Execution.Status.SUCCEEDED, execution.error_message
    assert "impressions >= 2" in execution.sql_sent and execution.result.row_count > 0
    page = client.get(step_url)
    assert page.context["result_page"].total_rows == execution.result.row_count
    assert "Northwind" in page.content.decode() and execution.execution_id in page.content.decode()
    reopened = page.context["run_form"]  # the step reopens with what was run: values, instance and window
    assert reopened["param_min_impressions"].value() == "2" and reopened["instance"].value() == demo_instance.pk
    assert str(reopened["start_date"].value()) == "2025-07-01" and str(reopened["end_date"].value()) == "2025-12-31"
    assert client.get(step_url, {"reset": "1"}).context["run_form"]["param_min_impressions"].value() == 1

    client.post(reverse("guide_step_done", args=["reach-and-frequency", 1]), {"done": "1"})
    progress.refresh_from_db()
    assert progress.done_at is not None
    detail = client.get(reverse("guide_detail", args=["reach-and-frequency"]))
    assert detail.context["guide"].done_count == 1

    saved = client.post(reverse("guide_step_save", args=["reach-and-frequency", 1]), posted)
    workflow = Workflow.objects.get(owner=connected_user)
    assert saved["Location"] == reverse("workflow_edit", args=[workflow.workflow_id])
    assert workflow.sql == sql and workflow.parameters[0]["name"] == "min_impressions"
    assert workflow.parameters[0]["default"] == 2 and workflow.parameters[0]["type"] == "integer"


def test_someone_elses_instance_cannot_be_used(client, other_user, demo_instance, guides):
    client.force_login(other_user)
    posted = {"sql": "SELECT 1", "instance": demo_instance.pk, "window_type": "MOST_RECENT_WEEK", "timezone": "UTC",
              "timeout_minutes": "360"}  # fmt: skip
    response = client.post(reverse("guide_step_run", args=["reach-and-frequency", 1]), posted)
    assert response.status_code == 422
    assert not Execution.objects.exists() and not GuideProgress.objects.exists()
