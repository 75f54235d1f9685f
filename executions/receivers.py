"""Follow-up work when an execution finishes, the same for manual, scheduled and test runs."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .signals import execution_finished


@receiver(execution_finished, dispatch_uid="executions-start-deliveries")
def start_deliveries(sender, execution_pk, **kwargs):
    from django_q.tasks import async_task

    from .models import Execution
    from .snowflake.delivery import create_delivery

    execution = Execution.objects.get(pk=execution_pk)
    if execution.status != Execution.Status.SUCCEEDED:
        return
    delivery = create_delivery(execution)
    if delivery is not None:
        transaction.on_commit(lambda: async_task("executions.tasks.deliver_to_snowflake", delivery.pk))


@receiver(post_delete, sender="executions.ExecutionResult", dispatch_uid="executions-delete-result-files")
def delete_result_files(sender, instance, **kwargs):
    """Rows go, files go: the CSV and its Parquet sidecar are removed once the deletion commits."""
    from .results import sidecar_name

    storage, name = instance.file.storage, instance.file.name
    if name:
        transaction.on_commit(lambda: [storage.delete(n) for n in (name, sidecar_name(name)) if storage.exists(n)])
