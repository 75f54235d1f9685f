"""Which instances a schedule runs on, and the runs one claimed slot makes: one per target instance.

A schedule's own `instance` comes first, then its "also run on" instances (`Schedule.extra_instances`, only the
owner's). The fence is the unique (schedule, scheduled_for, instance) constraint on real runs, so each instance
gets each slot exactly once whatever the race between dispatchers. The claim code calls `target_instance_ids`
once per batch (one query for all the batch's extra instances) and inserts one run per instance and slot
(schedules/claiming.py).
"""

from collections import defaultdict

from .models import Schedule

MISSED_REASON = "Missed while no worker was running; only the latest missed slot runs."


def target_instance_ids(schedules) -> dict[int, list[int]]:
    """{schedule pk: [instance pk, …]} for a batch of schedules: the schedule's instance first, then the extra
    instances that belong to the schedule's owner, without repeats."""
    schedules = list(schedules)
    targets = {s.pk: [s.instance_id] for s in schedules}
    owners = {s.pk: s.owner_id for s in schedules}
    extras = Schedule.extra_instances.through.objects.filter(schedule_id__in=list(targets)).values_list(
        "schedule_id", "amcinstance_id", "amcinstance__owner_id"
    )
    by_schedule = defaultdict(list)
    for schedule_pk, instance_pk, owner_pk in extras.order_by("amcinstance_id"):
        if owner_pk == owners[schedule_pk] and instance_pk not in targets[schedule_pk]:
            by_schedule[schedule_pk].append(instance_pk)
    for schedule_pk, instance_pks in by_schedule.items():
        targets[schedule_pk].extend(instance_pks)
    return targets


def target_instances(schedule: Schedule) -> list:
    """The schedule's target instances as objects, in run order."""
    from instances.models import AMCInstance

    order = target_instance_ids([schedule])[schedule.pk]
    found = AMCInstance.objects.in_bulk(order)
    return [found[pk] for pk in order if pk in found]
