"""Saved workflows and their copies on AMC: created or updated once per instance, tracked by SQL hash."""

import hashlib
import logging

from django.utils import timezone

from recomamp.amc import errors as amc_errors

from .models import WorkflowSync

log = logging.getLogger(__name__)


class WorkflowSyncError(Exception):
    """The workflow cannot be saved on AMC as it is; the message says why."""


def sql_hash(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


# A default meaning "the caller has not read this row" (None means it read that there is none).
NOT_READ = object()


def ensure_workflow_on_amc(client, workflow, instance, *, force: bool = False, sync=NOT_READ) -> WorkflowSync:
    """Create or update the AMC copy of `workflow` on `instance`, under its full readable id.

    Skips the call when the last sync pushed the same SQL, unless `force` (e.g. AMC says it was deleted there).
    `sync`: the workflow's sync row on `instance` (or None) when the caller read it; an up-to-date one costs no query.
    """
    from queries.parameters import input_parameter_declarations, placeholder_names

    if placeholder_names(workflow.sql):
        raise WorkflowSyncError(
            "This query uses {{placeholders}}, which only RecomAMP understands; it runs ad hoc instead of as a "
            "saved AMC workflow. Use CUSTOM_PARAMETER('name') to save it on AMC."
        )
    if sync is NOT_READ or sync is None:
        sync, _ = WorkflowSync.objects.get_or_create(workflow=workflow, instance=instance)
    current = sql_hash(workflow.sql)
    if not force and sync.state == WorkflowSync.State.SYNCED and sync.sql_hash == current:
        return sync
    declarations = input_parameter_declarations(workflow.sql, workflow.parameter_definitions())
    try:
        try:
            client.create_workflow(instance, workflow.workflow_id, workflow.sql, input_parameters=declarations)
        except amc_errors.AMCValidationError as exc:
            if "already exists" not in f"{exc} {exc.details}".lower():
                raise
            client.update_workflow(instance, workflow.workflow_id, workflow.sql, input_parameters=declarations)
    except amc_errors.AMCError as exc:
        # Still gone if AMC had said so and re-creating failed; otherwise a failed sync.
        gone = sync.state == WorkflowSync.State.MISSING
        sync.state, sync.error = (WorkflowSync.State.MISSING if gone else WorkflowSync.State.FAILED), str(exc)
        sync.save(update_fields=["state", "error"])
        raise
    sync.state, sync.sql_hash, sync.synced_at, sync.error = WorkflowSync.State.SYNCED, current, timezone.now(), ""
    sync.save()
    log.info("workflow synced workflow=%s instance=%s", workflow.workflow_id, instance.instance_id)
    return sync


def mark_missing_on_amc(workflow, instance) -> None:
    """AMC answered that the saved workflow does not exist on `instance` (deleted there)."""
    WorkflowSync.objects.filter(workflow=workflow, instance=instance).update(state=WorkflowSync.State.MISSING)
    log.info("workflow missing on AMC workflow=%s instance=%s", workflow.workflow_id, instance.instance_id)


def mark_syncs_outdated(workflow) -> None:
    """After an edit, every AMC copy is stale until the next sync or run."""
    workflow.syncs.filter(state=WorkflowSync.State.SYNCED).exclude(sql_hash=sql_hash(workflow.sql)).update(
        state=WorkflowSync.State.OUTDATED
    )
