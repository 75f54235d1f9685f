"""The recurring django-q2 triggers our workers run. They only trigger: business schedules live in our tables.

Created (or corrected) after every `migrate`, so a fresh database has them without a manual step.
"""

from django.db import DEFAULT_DB_ALIAS

# name -> (task path, minutes between runs)
BACKGROUND_TASKS = {
    "refresh-amazon-tokens": ("accounts.tasks.refresh_expiring_tokens", 10),
    "follow-executions": ("executions.tasks.follow_executions_loop", 1),
    "dispatch-schedules": ("schedules.tasks.run_scheduler_cycle", 1),
    "dispatch-run-sets": ("runsets.tasks.run_cycle", 1),
    "recover-snowflake-deliveries": ("executions.tasks.recover_snowflake_deliveries", 1),
}


def ensure_background_schedules(sender=None, using=DEFAULT_DB_ALIAS, **kwargs):
    from django_q.models import Schedule as Trigger  # django-q2's, not schedules.Schedule

    for name, (func, minutes) in BACKGROUND_TASKS.items():
        Trigger.objects.using(using).update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Trigger.MINUTES, "minutes": minutes, "repeats": -1},
        )
    Trigger.objects.using(using).filter(name__in=_retired_names()).delete()


def _retired_names() -> list[str]:
    return []  # names of triggers we stopped using, removed on the next migrate
