from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from recomamp.ids import new_readable_id


class Schedule(models.Model):
    """A recurring run of a workflow on an instance. Business schedules live here, never in django-q2."""

    class Kind(models.TextChoices):
        DAILY = "daily", "Daily"
        INTERVAL = "interval", "Every N days"
        WEEKLY = "weekly", "Weekly on chosen days"
        MONTHLY = "monthly", "Monthly on chosen dates"
        BUSINESS_DAYS = "business_days", "Business days (Mon-Fri)"
        CRON = "cron", "Custom cron"

    class OverlapPolicy(models.TextChoices):
        SKIP = "skip", "Skip the slot while the previous run is still going"
        QUEUE = "queue", "Queue the slot until the previous run finishes"

    schedule_id = models.CharField(max_length=32, unique=True, editable=False)
    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="schedules")
    workflow = models.ForeignKey("queries.Workflow", on_delete=models.CASCADE, related_name="schedules")
    instance = models.ForeignKey("instances.AMCInstance", on_delete=models.CASCADE, related_name="schedules")
    # "Also run on": each slot makes one run per target instance (schedules.targets).
    extra_instances = models.ManyToManyField(
        "instances.AMCInstance", blank=True, related_name="extra_schedules", verbose_name="also run on"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # When: a preset or a cron expression, always evaluated in `timezone`.
    kind = models.CharField(max_length=16, choices=Kind, default=Kind.DAILY)
    cron_expression = models.CharField(max_length=120, blank=True)
    time_of_day = models.TimeField(null=True, blank=True)
    interval_days = models.PositiveIntegerField(null=True, blank=True)
    weekdays = models.JSONField(default=list, blank=True, help_text="0=Monday … 6=Sunday")
    month_days = models.JSONField(default=list, blank=True, help_text="1-31, or -1 for the last day")
    timezone = models.CharField(max_length=64, default="UTC")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    paused_reason = models.CharField(max_length=255, blank=True)
    paused_by_failures = models.BooleanField(default=False)
    # What: parameter defaults (values or dynamic expressions) and the date-window rule.
    parameters = models.JSONField(default=dict, blank=True)
    window_rule = models.JSONField(default=dict, blank=True, help_text="{kind, n_days, fixed_start, fixed_end}")
    lag_days = models.PositiveIntegerField(default=2, help_text="AMC data availability lag; the SLA is 48 hours.")
    # How: retries, failure handling, cost, overlap.
    max_retries = models.PositiveIntegerField(default=2)
    retry_delay_minutes = models.PositiveIntegerField(default=15)
    failure_threshold = models.PositiveIntegerField(default=3, validators=[MinValueValidator(1)])
    consecutive_failures = models.PositiveIntegerField(default=0)
    cost_limit = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    overlap_policy = models.CharField(max_length=8, choices=OverlapPolicy, default=OverlapPolicy.SKIP)
    # Notifications and delivery.
    notify_on_success = models.BooleanField(default=False)
    notify_on_failure = models.BooleanField(default=True)
    notification_emails = models.JSONField(default=list, blank=True)
    attach_csv = models.BooleanField(default=False)
    snowflake_enabled = models.BooleanField(default=False)
    snowflake_table = models.CharField(max_length=255, blank=True)
    snowflake_schema = models.CharField(max_length=255, blank=True)
    # Timing state and counters (real runs only; test runs never touch these).
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    run_count = models.PositiveIntegerField(default=0)
    success_count = models.PositiveIntegerField(default=0)
    failure_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["next_run_at"], condition=Q(is_active=True), name="schedule_due"),
            models.Index(fields=["owner", "is_active"], name="schedule_owner_active"),
        ]

    def __str__(self):
        return f"{self.name} ({self.schedule_id})"

    def save(self, *args, **kwargs):
        if not self.schedule_id:
            self.schedule_id = new_readable_id(Schedule, "schedule_id", "sched")
        super().save(*args, **kwargs)


class ScheduleRun(models.Model):
    """One slot of a schedule on one of its instances. The unique (schedule, scheduled_for, instance) constraint is
    the exactly-once fence."""

    class Status(models.TextChoices):
        CLAIMED = "claimed", "Claimed"
        SUBMITTED = "submitted", "Submitted"
        RUNNING = "running", "Running"
        RETRYING = "retrying", "Waiting to retry"
        WAITING = "waiting", "Waiting (quota or overlap)"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        CANCELLED = "cancelled", "Cancelled"

    owner_field = "schedule__owner"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="runs")
    instance = models.ForeignKey("instances.AMCInstance", on_delete=models.CASCADE, related_name="schedule_runs")
    scheduled_for = models.DateTimeField(help_text="The slot this run belongs to (UTC).")
    status = models.CharField(max_length=16, choices=Status, default=Status.CLAIMED)
    is_test = models.BooleanField(default=False)
    execution = models.ForeignKey(
        "executions.Execution", null=True, blank=True, on_delete=models.SET_NULL, related_name="schedule_runs"
    )
    attempts = models.PositiveIntegerField(default=0)
    parameters_used = models.JSONField(default=dict, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    window_timezone = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    reason = models.CharField(max_length=255, blank=True, help_text="Why it was skipped, waited or retried.")
    cost_estimate = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    row_count = models.PositiveBigIntegerField(null=True, blank=True)
    claimed_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True, help_text="Set once the run's e-mail was sent.")

    class Meta:
        ordering = ["-scheduled_for"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "scheduled_for", "instance"],
                condition=Q(is_test=False),
                name="uniq_run_per_slot_instance",
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="schedulerun_status_next"),
            models.Index(fields=["schedule", "-scheduled_for"], name="schedulerun_history"),
        ]

    def __str__(self):
        kind = "test run" if self.is_test else "run"
        return f"{self.schedule.schedule_id} {kind} for {self.scheduled_for:%Y-%m-%d %H:%M}Z"

    def save(self, *args, **kwargs):
        if self.instance_id is None and self.schedule_id is not None:  # a single-instance schedule's run
            self.instance_id = Schedule.objects.values_list("instance_id", flat=True).get(pk=self.schedule_id)
        super().save(*args, **kwargs)
