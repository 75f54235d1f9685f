from django.dispatch import receiver

from executions.signals import execution_finished


@receiver(execution_finished, dispatch_uid="schedules-record-run-outcome")
def record_run_outcome(sender, execution_pk, **kwargs):
    from .services import execution_finished as run_execution_finished

    run_execution_finished(execution_pk)
