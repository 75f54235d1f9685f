"""A schedule can target several instances: `Schedule.extra_instances` and `ScheduleRun.instance`; the slot fence
becomes (schedule, slot, instance). Existing runs take their schedule's instance."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Q, Subquery


def fill_run_instances(apps, schema_editor):
    Schedule = apps.get_model("schedules", "Schedule")
    ScheduleRun = apps.get_model("schedules", "ScheduleRun")
    ScheduleRun.objects.filter(instance__isnull=True).update(
        instance=Subquery(Schedule.objects.filter(pk=OuterRef("schedule_id")).values("instance_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("instances", "0001_initial"),
        ("schedules", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="schedule",
            name="extra_instances",
            field=models.ManyToManyField(
                blank=True, related_name="extra_schedules", to="instances.amcinstance", verbose_name="also run on"
            ),
        ),
        migrations.AddField(
            model_name="schedulerun",
            name="instance",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="schedule_runs",
                to="instances.amcinstance",
            ),
        ),
        migrations.RunPython(fill_run_instances, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="schedulerun",
            name="instance",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="schedule_runs", to="instances.amcinstance"
            ),
        ),
        migrations.RemoveConstraint(model_name="schedulerun", name="uniq_run_per_slot"),
        migrations.AddConstraint(
            model_name="schedulerun",
            constraint=models.UniqueConstraint(
                condition=Q(is_test=False),
                fields=("schedule", "scheduled_for", "instance"),
                name="uniq_run_per_slot_instance",
            ),
        ),
    ]
