from django.db import transaction
from django.dispatch import receiver

from .engine import execution_finished


@receiver(execution_finished, dispatch_uid="runsets-record-cell-outcome")
def record_cell_outcome(sender, execution_pk, **kwargs):
    from .dispatch import record_outcome

    touched = record_outcome(execution_pk)
    if touched:  # a slot freed up: start the next cells now rather than at the next minute
        from django_q.tasks import async_task

        pks = sorted(set(touched))
        transaction.on_commit(lambda: async_task("runsets.tasks.dispatch_run_sets", pks))
