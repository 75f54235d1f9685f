import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from executions.quotas import CONCURRENT_PER_INSTANCE


def _readable_id() -> str:
    return f"rset_{secrets.token_hex(6)}"


class RunSet(models.Model):
    """One saved query (its SQL fixed at creation) × a list of windows × a list of instances.

    The cells are the product; each runs exactly once through the execution path (see runsets.dispatch).
    """

    class Period(models.TextChoices):
        DAY = "day", "Every day"
        WEEK = "week", "Every ISO week (Monday–Sunday)"
        MONTH = "month", "Every calendar month"
        N_DAYS = "n_days", "Every N days"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"
        DONE = "done", "Done"

    class Order(models.TextChoices):
        NEWEST_FIRST = "newest", "Newest window first"
        OLDEST_FIRST = "oldest", "Oldest window first"

    run_set_id = models.CharField(max_length=32, unique=True, editable=False, default=_readable_id)
    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="run_sets")
    workflow = models.ForeignKey("queries.Workflow", on_delete=models.CASCADE, related_name="run_sets")
    name = models.CharField(max_length=200)
    sql_snapshot = models.TextField(help_text="The query's SQL when the set was created: every cell runs this.")
    parameters = models.JSONField(default=dict, blank=True)
    instance_parameters = models.JSONField(default=dict, blank=True, help_text="{instance pk: {name: value}}")
    # How windows were generated (kept so the page can describe them; the cells hold the windows themselves).
    period = models.CharField(max_length=8, choices=Period, default=Period.WEEK)
    n_days = models.PositiveIntegerField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    lag_days = models.PositiveIntegerField(default=2)
    # The queue.
    status = models.CharField(max_length=16, choices=Status, default=Status.RUNNING)
    order = models.CharField(max_length=8, choices=Order, default=Order.NEWEST_FIRST)
    max_in_flight = models.PositiveIntegerField(
        default=CONCURRENT_PER_INSTANCE,
        validators=[MinValueValidator(1), MaxValueValidator(CONCURRENT_PER_INSTANCE)],
        help_text="Cells running at once per instance (AMC runs 10, shared with schedules and manual runs).",
    )
    rate_per_minute = models.PositiveIntegerField(null=True, blank=True, help_text="Cells started per minute.")
    max_retries = models.PositiveIntegerField(default=2, help_text="Automatic retries of transient AMC failures.")
    snowflake_enabled = models.BooleanField(default=False)
    snowflake_table = models.CharField(max_length=255, blank=True)
    snowflake_schema = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="runset_owner_created")]

    def __str__(self):
        return f"{self.name} ({self.run_set_id})"

    def parameters_for(self, instance_pk: int) -> dict:
        return {**self.parameters, **self.instance_parameters.get(str(instance_pk), {})}


class Cell(models.Model):
    """One (instance, window) of a run set. The unique (run set, instance, window start) is the fence."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        SUBMITTED = "submitted", "Running"
        RETRYING = "retrying", "Waiting to retry"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    OPEN = (Status.PENDING, Status.SUBMITTED, Status.RETRYING)
    FINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    owner_field = "run_set__owner"

    run_set = models.ForeignKey(RunSet, on_delete=models.CASCADE, related_name="cells")
    instance = models.ForeignKey("instances.AMCInstance", on_delete=models.CASCADE, related_name="run_set_cells")
    first_day = models.DateField(help_text="The window's first local day (included).")
    end_day = models.DateField(help_text="The local day after the window's last day (excluded).")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    execution = models.ForeignKey(
        "executions.Execution", null=True, blank=True, on_delete=models.SET_NULL, related_name="run_set_cells"
    )
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    error_line = models.PositiveIntegerField(null=True, blank=True)
    error_column = models.PositiveIntegerField(null=True, blank=True)
    row_count = models.PositiveBigIntegerField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run_set", "instance", "first_day"]
        constraints = [
            models.UniqueConstraint(fields=["run_set", "instance", "first_day"], name="uniq_cell_per_instance_window")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="runset_cell_queue"),
            models.Index(fields=["instance", "status"], name="runset_cell_instance_status"),
        ]

    def __str__(self):
        return f"{self.run_set.run_set_id} {self.instance_id} {self.first_day}"

    @property
    def last_day(self):
        from datetime import timedelta

        return self.end_day - timedelta(days=1)

    @property
    def seconds(self) -> float | None:
        if self.submitted_at and self.finished_at:
            return (self.finished_at - self.submitted_at).total_seconds()
        return None
