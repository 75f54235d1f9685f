"""Query versions: every save keeps one (none for a no-op save), a side-by-side diff, restore, scoping, and the
version an execution ran (a real run against the sandbox over HTTP)."""

import pytest
from django.urls import reverse

from executions import services
from executions.models import Execution
from executions.tests.test_execution_flow import SQL, WINDOW, drive
from queries.models import QueryVersion, Workflow
from queries.version_diff import diff_lines
from queries.versions import record_version, restore_version
from queries.workflow_services import create_from_template, duplicate_workflow

SQL_V1 = "SELECT campaign, COUNT(*) AS impressions\nFROM dsp_impressions\nGROUP BY campaign"
SQL_V2 = "SELECT campaign, COUNT(*) AS impressions\nFROM dsp_impressions\nWHERE campaign <> 'x'\nGROUP BY campaign"


def save(client, workflow=None, *, sql=SQL_V1, note="", name="Impressions"):
    url = reverse("workflow_edit", args=[workflow.workflow_id]) if workflow else reverse("query_editor")
    data = {"name": name, "status": "draft", "sql": sql, "action": "save", "note": note}
    if workflow:
        data["editing"] = workflow.workflow_id
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Workflow.objects.get(workflow_id=response["Location"].rstrip("/").split("/")[-2])


@pytest.mark.django_db
def test_each_save_keeps_a_version_with_its_note_and_author_and_a_no_op_save_keeps_none(user_client, user):
    workflow = save(user_client, note="first cut")
    save(user_client, workflow, sql=SQL_V1, name="Renamed only")  # same SQL and parameters: no version
    save(user_client, workflow, sql=SQL_V2, note="drop campaign x")
    versions = list(workflow.versions.order_by("number"))
    assert [(v.number, v.sql, v.note, v.created_by) for v in versions] == [
        (1, SQL_V1, "first cut", user), (2, SQL_V2, "drop campaign x", user)
    ]  # fmt: skip
    assert versions[1].parameters == Workflow.objects.get(pk=workflow.pk).parameters
    page = user_client.get(reverse("workflow_versions", args=[workflow.workflow_id])).content.decode()
    assert "drop campaign x" in page and "v2" in page and "current" in page
    editor = user_client.get(reverse("workflow_edit", args=[workflow.workflow_id])).content.decode()
    assert 'name="note"' in editor and "latest v2" in editor


@pytest.mark.django_db
def test_other_save_paths_keep_a_first_version(user, make_workflow):
    from queries.models import QueryTemplate

    template = QueryTemplate.objects.create(slug="t", name="T", category="C", sql_template=SQL_V1)
    created = create_from_template(user, template, name="From library", values={})
    assert created.versions.get().note == "From the library: T"
    copy = duplicate_workflow(created)
    assert copy.versions.get().sql == SQL_V1 and copy.versions.get().number == 1
    bare = make_workflow(user)  # written directly: no version until something records one
    assert record_version(bare, user=user).number == 1 and record_version(bare, user=user) is None


@pytest.mark.django_db
def test_diff_is_side_by_side_and_escaped(user_client, user):
    workflow = save(user_client, sql="SELECT 1 AS a\nFROM t")
    save(user_client, workflow, sql="SELECT 1 AS a\nFROM t\nWHERE b = '<script>alert(1)</script>'")
    response = user_client.get(reverse("workflow_version_diff", args=[workflow.workflow_id]), {"a": 1, "b": 2})
    html = response.content.decode()
    assert response.status_code == 200 and "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and 'class="diff-insert"' in html
    assert "1 line added or changed, 0 removed" in html


def test_diff_rows_mark_changed_characters_and_fold_long_unchanged_runs():
    old = [f"line {i}" for i in range(20)]
    new = [*old[:10], "line 10 changed", *old[11:]]
    rows = diff_lines(old, new, context=2)
    kinds = [row.kind for row in rows]
    assert kinds == ["fold", "equal", "equal", "replace", "equal", "equal", "fold"]
    assert rows[0].folded == 8 and rows[-1].folded == 7
    replace = rows[3]
    assert (replace.left.number, replace.right.number) == (11, 11)
    assert (" changed", True) in replace.right.segments and all(not changed for _t, changed in replace.left.segments)


@pytest.mark.django_db
def test_restore_makes_an_old_version_current_as_a_new_version(user_client, user):
    workflow = save(user_client, sql=SQL_V1)
    save(user_client, workflow, sql=SQL_V2)
    url = reverse("workflow_version_restore", args=[workflow.workflow_id, 1])
    assert user_client.get(url).status_code == 405  # POST only
    response = user_client.post(url)
    assert response.status_code == 302
    workflow.refresh_from_db()
    assert workflow.sql == SQL_V1
    latest = workflow.versions.order_by("-number").first()
    assert (latest.number, latest.sql, latest.note) == (3, SQL_V1, "Restored from v1")
    assert restore_version(latest, user=user) is None  # already current: nothing new


@pytest.mark.django_db
def test_restore_needs_the_csrf_token(client, user):
    workflow = Workflow.objects.create(owner=user, name="Q", sql=SQL_V1)
    record_version(workflow, user=user)
    workflow.sql = SQL_V2
    workflow.save()
    record_version(workflow, user=user)
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    response = strict.post(reverse("workflow_version_restore", args=[workflow.workflow_id, 1]))
    assert response.status_code == 403
    assert Workflow.objects.get(pk=workflow.pk).sql == SQL_V2


@pytest.mark.django_db
def test_someone_elses_versions_are_404(client, user, other_user):
    workflow = Workflow.objects.create(owner=user, name="Q", sql=SQL_V1)
    record_version(workflow, user=user)
    client.force_login(other_user)
    wid = workflow.workflow_id
    assert client.get(reverse("workflow_versions", args=[wid])).status_code == 404
    assert client.get(reverse("workflow_version", args=[wid, 1])).status_code == 404
    assert client.get(reverse("workflow_version_diff", args=[wid]), {"a": 1, "b": 1}).status_code == 404
    assert client.post(reverse("workflow_version_restore", args=[wid, 1])).status_code == 404
    assert QueryVersion.objects.filter(workflow=workflow).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_execution_records_the_version_it_ran(connected_user, demo_instance, client):
    workflow = Workflow.objects.create(owner=connected_user, name="Reach", sql=SQL)
    first = drive(services.start_execution(owner=connected_user, instance=demo_instance, workflow=workflow,
                                           window=WINDOW, submit=False))  # fmt: skip
    assert first.status == Execution.Status.SUCCEEDED, first.error_message
    assert first.query_version.number == 1 and first.query_version.sql == SQL
    workflow.sql = SQL + "\nHAVING COUNT(*) > 0"
    workflow.save()
    record_version(workflow, user=connected_user, note="having")
    second = services.start_execution(owner=connected_user, instance=demo_instance, workflow=workflow,
                                      window=WINDOW, submit=False)  # fmt: skip
    again = services.rerun_execution(first)  # a re-run runs the query as it is now
    assert second.query_version.number == 2 and again.query_version_id == second.query_version_id
    adhoc = services.start_execution(owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW,
                                     submit=False)  # fmt: skip
    assert adhoc.query_version is None
    client.force_login(connected_user)
    page = client.get(reverse("execution_detail", args=[first.execution_id])).content.decode()
    version_url = reverse("workflow_version", args=[workflow.workflow_id, 1])
    assert 'data-testid="version-badge"' in page and f'href="{version_url}"' in page and ">v1</a>" in page
    detail = client.get(version_url).content.decode()
    assert first.execution_id in detail and second.execution_id not in detail


@pytest.mark.django_db
def test_the_migration_gives_every_existing_query_its_version_1(user):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("queries.migrations.0002_query_versions")
    old = Workflow.objects.create(owner=user, name="Old", sql=SQL_V1, parameters=[{"name": "x", "type": "string"}])
    kept = Workflow.objects.create(owner=user, name="Kept", sql=SQL_V2)
    record_version(kept, user=user, note="already versioned")
    migration.first_versions(apps, None)
    version = old.versions.get()
    assert (version.number, version.sql, version.parameters, version.created_by) == (1, SQL_V1, old.parameters, user)
    assert version.created_at == Workflow.objects.get(pk=old.pk).updated_at
    assert kept.versions.get().note == "already versioned"
