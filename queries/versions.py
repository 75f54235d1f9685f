"""Query versions: every save of a saved query's SQL or parameters keeps an immutable, numbered version.

`record_version` is the one function every save path calls (the editor, creating from the library or a guide,
duplicating, restoring, the admin, the demo). A save that changes neither the SQL nor the parameters records
nothing. `version_for_run` gives the version an execution runs, recording one first if the query was changed by a
path that kept none (e.g. rows written directly), so an execution's version always matches the SQL it sent.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, QuerySet

from .models import QueryVersion, Workflow
from .services import NOT_READ, mark_syncs_outdated

NOTE_MAX_LENGTH = QueryVersion._meta.get_field("note").max_length


def latest_version(workflow: Workflow) -> QueryVersion | None:
    return workflow.versions.order_by("-number").first()


def _same(version: QueryVersion | None, workflow: Workflow) -> bool:
    return version is not None and version.sql == workflow.sql and version.parameters == workflow.parameters


def record_version(workflow: Workflow, *, user=None, note: str = "") -> QueryVersion | None:
    """Keep the workflow's current SQL and parameters as its next version; None when nothing changed.

    Call after the workflow row is saved. The workflow row is locked while numbering, so two saves at once get
    two numbers instead of a unique-constraint error.
    """
    with transaction.atomic():
        Workflow.objects.select_for_update().filter(pk=workflow.pk).values_list("pk").first()
        latest = latest_version(workflow)
        if _same(latest, workflow):
            return None
        return QueryVersion.objects.create(
            workflow=workflow,
            number=(latest.number if latest else 0) + 1,
            sql=workflow.sql,
            parameters=workflow.parameters,
            note=(note or "").strip()[:NOTE_MAX_LENGTH],
            created_by=user,
        )


def version_for_run(workflow: Workflow, *, user=None, latest=NOT_READ) -> QueryVersion:
    """The version matching the workflow as it is now (recorded first if the last one differs).

    `latest`: the workflow's latest version (or None, there is none) when the caller read it with the workflow.
    """
    latest = latest_version(workflow) if latest is NOT_READ else latest
    if _same(latest, workflow):
        return latest
    return record_version(workflow, user=user, note="Recorded at run time") or latest_version(workflow)


def versions_of(workflow: Workflow) -> QuerySet[QueryVersion]:
    return workflow.versions.select_related("created_by").annotate(run_count=Count("executions")).order_by("-number")


def restore_version(version: QueryVersion, *, user) -> QueryVersion | None:
    """Make an old version current again, as a new version (history is never rewritten).

    None when the query already has that SQL and those parameters.
    """
    workflow = version.workflow
    with transaction.atomic():
        workflow.sql, workflow.parameters = version.sql, version.parameters
        workflow.save(update_fields=["sql", "parameters", "updated_at"])
        mark_syncs_outdated(workflow)
        return record_version(workflow, user=user, note=f"Restored from v{version.number}")
