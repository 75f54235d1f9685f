"""My queries: list filters, sorting and pages, the query page and its actions, ownership and escaping."""

import pytest
from django.urls import reverse

from accounts.amazon import AmazonConnectionError
from queries.models import Workflow, WorkflowSync
from recomamp.amc import errors as amc_errors

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"


def test_list_full_page_and_htmx_partial(user_client, user, make_workflow):
    make_workflow(user, name="Reach by campaign")
    url = reverse("workflow_list")
    page = user_client.get(url).content.decode()
    assert "<html" in page and "Reach by campaign" in page and 'id="results"' in page
    partial = user_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "Reach by campaign" in partial


def test_list_shows_only_my_queries(user_client, user, other_user, make_workflow):
    make_workflow(other_user, name="Their secret query")
    make_workflow(user, name="Mine")
    html = user_client.get(reverse("workflow_list")).content.decode()
    assert "Mine" in html and "Their secret query" not in html


def test_search_tag_status_and_sort_from_the_url(user_client, user, make_workflow):
    weekly = make_workflow(user, name="Weekly frequency")
    weekly.tags, weekly.execution_count = ["weekly"], 7
    weekly.save()
    old = make_workflow(user, name="Old archived one")
    old.status = Workflow.Status.ARCHIVED
    old.save()
    make_workflow(user, name="Another query")
    url = reverse("workflow_list")

    def names(params):
        return [w.name for w in user_client.get(url, params).context["workflows"]]

    assert names({"q": "frequency"}) == ["Weekly frequency"]
    assert names({"tag": "weekly"}) == ["Weekly frequency"]
    assert names({"status": "archived"}) == ["Old archived one"]
    assert "Old archived one" not in names({})
    assert names({"sort": "name"}) == ["Another query", "Weekly frequency"]
    assert names({"sort": "-runs"})[0] == "Weekly frequency"
    # Header links keep the filters and reverse the current sort.
    html = user_client.get(url, {"q": "e", "sort": "name"}).content.decode()
    assert "?q=e&amp;sort=-name" in html


def test_pagination_keeps_filters(user_client, user, make_workflow):
    for index in range(30):
        make_workflow(user, name=f"Query {index:02d}")
    url = reverse("workflow_list")
    first = user_client.get(url, {"sort": "name"})
    assert len(first.context["workflows"]) == 25
    assert "?sort=name&amp;page=2" in first.content.decode()
    second = user_client.get(url, {"sort": "name", "page": 2}, HTTP_HX_REQUEST="true")
    html = second.content.decode()
    assert "Query 29" in html and "Query 00" not in html and "Page 2 of 2" in html


def test_detail_page_actions_and_sync_states(user_client, user, make_workflow, make_instance):
    workflow = make_workflow(user)
    instance = make_instance(user)
    WorkflowSync.objects.create(workflow=workflow, instance=instance, state="failed", error="AMC said no")
    html = user_client.get(reverse("workflow_detail", args=[workflow.workflow_id])).content.decode()
    assert reverse("execution_run") + f"?workflow={workflow.workflow_id}" in html
    assert reverse("workflow_duplicate", args=[workflow.workflow_id]) in html
    assert "Sync failed" in html and "AMC said no" in html and str(instance.pk) in html


def test_duplicate_archive_and_delete(user_client, user, make_workflow):
    workflow = make_workflow(user, name="Reach")
    response = user_client.post(reverse("workflow_duplicate", args=[workflow.workflow_id]))
    copy = Workflow.objects.exclude(pk=workflow.pk).get()
    assert copy.name == "Copy of Reach" and response["Location"] == reverse("workflow_edit", args=[copy.workflow_id])

    user_client.post(reverse("workflow_archive", args=[workflow.workflow_id]), {"archived": "1"})
    workflow.refresh_from_db()
    assert workflow.status == Workflow.Status.ARCHIVED
    user_client.post(reverse("workflow_archive", args=[workflow.workflow_id]), {"archived": "0"})
    workflow.refresh_from_db()
    assert workflow.status == Workflow.Status.DRAFT

    delete_url = reverse("workflow_delete", args=[workflow.workflow_id])
    confirm = user_client.get(delete_url)
    assert confirm.status_code == 200 and "Delete permanently" in confirm.content.decode()
    assert Workflow.objects.filter(pk=workflow.pk).exists()  # GET only asks
    response = user_client.post(delete_url)
    assert response["Location"] == reverse("workflow_list")
    assert not Workflow.objects.filter(pk=workflow.pk).exists()


def test_actions_need_post(user_client, user, make_workflow):
    workflow = make_workflow(user)
    for name in ("workflow_duplicate", "workflow_archive", "workflow_sync"):
        assert user_client.get(reverse(name, args=[workflow.workflow_id])).status_code == 405


def test_another_users_workflow_is_404_everywhere(user_client, other_user, make_workflow, make_instance):
    theirs = make_workflow(other_user, name="Theirs")
    for name in ("workflow_detail", "workflow_edit", "workflow_delete"):
        assert user_client.get(reverse(name, args=[theirs.workflow_id])).status_code == 404, name
    for name in ("workflow_edit", "workflow_delete", "workflow_duplicate", "workflow_archive", "workflow_sync"):
        assert user_client.post(reverse(name, args=[theirs.workflow_id])).status_code == 404, name
    assert Workflow.objects.filter(pk=theirs.pk, name="Theirs", status=Workflow.Status.DRAFT).exists()


def test_workflow_names_and_tags_are_escaped(user_client, user, make_workflow):
    workflow = make_workflow(user, name=XSS, sql=f"SELECT 1 AS one -- {XSS}")
    workflow.tags, workflow.description = [XSS], XSS
    workflow.save()
    for url in (reverse("workflow_list"), reverse("workflow_detail", args=[workflow.workflow_id]),
                reverse("workflow_edit", args=[workflow.workflow_id]),
                reverse("workflow_delete", args=[workflow.workflow_id])):  # fmt: skip
        html = user_client.get(url).content.decode()
        assert XSS not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


# --- Sync to AMC with a fake client ---------------------------------------------------------------------------------


class FakeClient:
    def __init__(self, error=None):
        self.error, self.created = error, []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def create_workflow(self, instance, workflow_id, sql, input_parameters=None):
        if self.error:
            raise self.error
        self.created.append((instance.instance_id, workflow_id, sql))


@pytest.fixture
def fake_amc(monkeypatch):
    clients = []

    def install(error=None):
        def factory(user, region):
            if isinstance(error, AmazonConnectionError):
                raise error
            client = FakeClient(error)
            clients.append(client)
            return client

        monkeypatch.setattr("queries.views.workflows.amc_client_for", factory)
        return clients

    return install


def test_sync_saves_the_workflow_on_the_instance(user_client, user, make_workflow, make_instance, fake_amc):
    clients = fake_amc()
    workflow, instance = make_workflow(user), make_instance(user)
    url = reverse("workflow_sync", args=[workflow.workflow_id])
    response = user_client.post(url, {"instance": instance.pk})
    assert response["Location"] == reverse("workflow_detail", args=[workflow.workflow_id])
    assert clients[0].created == [("amcabc123", workflow.workflow_id, workflow.sql)]
    assert WorkflowSync.objects.get(workflow=workflow, instance=instance).state == WorkflowSync.State.SYNCED
    partial = user_client.post(url, {"instance": instance.pk, "force": "on"}, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert "<html" not in html and "Saved on Acme US" in html and "Synced" in html
    assert len(clients[1].created) == 1  # force pushes again even though nothing changed


def test_sync_failures_are_shown_plainly(user_client, user, make_workflow, make_instance, fake_amc):
    workflow, instance = make_workflow(user), make_instance(user)
    url = reverse("workflow_sync", args=[workflow.workflow_id])
    fake_amc(amc_errors.AMCForbiddenError("This login cannot use the instance."))
    html = user_client.post(url, {"instance": instance.pk}, HTTP_HX_REQUEST="true").content.decode()
    assert "This login cannot use the instance." in html and "Sync failed" in html
    assert WorkflowSync.objects.get(workflow=workflow).state == WorkflowSync.State.FAILED

    fake_amc(AmazonConnectionError("Connect your Amazon account first."))
    response = user_client.post(url, {"instance": instance.pk}, follow=True)
    assert "Connect your Amazon account first." in response.content.decode()


def test_sync_refuses_placeholders_and_foreign_instances(user_client, user, other_user, make_workflow,
                                                         make_instance, fake_amc):  # fmt: skip
    clients = fake_amc()
    templated = make_workflow(user, sql="SELECT 1 FROM t WHERE id IN ({{ids}})")
    instance = make_instance(user)
    html = user_client.post(reverse("workflow_sync", args=[templated.workflow_id]), {"instance": instance.pk},
                            HTTP_HX_REQUEST="true").content.decode()  # fmt: skip
    assert "placeholders" in html
    foreign = make_instance(other_user, instance_id="amctheirs", entity_id="ENTITY2")
    html = user_client.post(reverse("workflow_sync", args=[make_workflow(user).workflow_id]), {"instance": foreign.pk},
                            HTTP_HX_REQUEST="true").content.decode()  # fmt: skip
    assert "Choose one of your active instances." in html
    assert all(not client.created for client in clients)
