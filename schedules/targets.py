"""Which instances a schedule runs on, and the runs one claimed slot makes: one per target instance.

A schedule's own `instance` comes first, then its "also run on" instances (`Schedule.extra_instances`, only the
owner's). The fence is the unique (schedule, scheduled_for, instance) constraint on real runs, so each instance
gets each slot exactly once whatever the race between dispatchers. The claim statement selects the same targets
in SQL (`extra_targets_sql`, inside schedules/claiming.py's write) and inserts one run per instance and slot.
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


def extra_targets_sql(advanced: str) -> str:
    """SQL of the rows (id, key, instance_id, rank) for the schedules of the CTE `advanced` (id, instance_id,
    owner_id, key): what `target_instance_ids` returns, the schedule's instance with rank 0, then its owner's
    extra instances with rank 1 (ordered by instance pk in the insert)."""
    from instances.models import AMCInstance

    through = Schedule.extra_instances.through._meta.db_table
    # Per schedule of the batch (OFFSET 0 and a scalar owner check keep it so): joined, the planner went through
    # every instance of the owner first, whereas most schedules have no extra instance at all.
    instances = AMCInstance._meta.db_table
    return (
        f"SELECT id, key, instance_id, 0 AS rank FROM {advanced} UNION ALL "
        f"SELECT a.id, a.key, e.amcinstance_id, 1 FROM {advanced} AS a CROSS JOIN LATERAL "
        f"(SELECT amcinstance_id FROM {through} WHERE schedule_id = a.id OFFSET 0) AS e "
        "WHERE e.amcinstance_id <> a.instance_id "
        f"AND (SELECT owner_id FROM {instances} WHERE id = e.amcinstance_id) = a.owner_id"
    )


def target_instances(schedule: Schedule) -> list:
    """The schedule's target instances as objects, in run order."""
    from instances.models import AMCInstance

    order = target_instance_ids([schedule])[schedule.pk]
    found = AMCInstance.objects.in_bulk(order)
    return [found[pk] for pk in order if pk in found]
