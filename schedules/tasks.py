"""django-q2 tasks of the schedules app (thin: they call services)."""

from . import services


def run_scheduler_cycle() -> dict:
    """Every minute: claim due slots, resume waiting/retrying runs, repair stuck ones."""
    return services.run_scheduler_cycle()
