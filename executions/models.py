from django.db import models
from django.db.models import Q

from recomamp.crypto import EncryptedSecret
from recomamp.ids import new_readable_id


class Execution(models.Model):
    """One run of a query on AMC. Three ids: `id` (ours), `execution_id` (exec_…, readable) and
    `amc_execution_id` (AMC's, the only one ever sent to AMC)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to submit"
        SUBMITTING = "submitting", "Submitting"
        QUEUED = "queued", "Queued on AMC"
        RUNNING = "running", "Running"
        PUBLISHING = "publishing", "Publishing on AMC"
        FETCHING = "fetching", "Fetching results"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE_STATUSES = (
        Status.PENDING, Status.SUBMITTING, Status.QUEUED, Status.RUNNING, Status.PUBLISHING, Status.FETCHING,
    )  # fmt: skip
    # AMC holds these and we poll them: AMC's PENDING, RUNNING and PUBLISHING.
    POLLED_STATUSES = (Status.QUEUED, Status.RUNNING, Status.PUBLISHING)
    # Count as running on AMC for its per-instance concurrency (a submission may already be there).
    ON_AMC_STATUSES = (Status.SUBMITTING, *POLLED_STATUSES)
    FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Manual"
        SCHEDULE = "schedule", "Schedule"
        TEST = "test", "Test run"

    execution_id = models.CharField(max_length=32, unique=True, editable=False)
    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="executions")
    workflow = models.ForeignKey(
        "queries.Workflow", null=True, blank=True, on_delete=models.SET_NULL, related_name="executions"
    )
    # The saved version of the query this run sent (queries/versions.py); empty for ad hoc runs.
    query_version = models.ForeignKey(
        "queries.QueryVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="executions"
    )
    instance = models.ForeignKey("instances.AMCInstance", on_delete=models.CASCADE, related_name="executions")
    amc_execution_id = models.CharField("AMC execution id", max_length=128, blank=True, db_index=True)
    amc_workflow_id = models.CharField(
        "AMC workflow id", max_length=64, blank=True, help_text="Saved workflow run; blank for ad hoc."
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    amc_status = models.CharField(max_length=32, blank=True)
    trigger = models.CharField(max_length=16, choices=Trigger, default=Trigger.MANUAL)
    sql_sent = models.TextField(blank=True)
    parameters_sent = models.JSONField(default=dict, blank=True)
    request_body = models.JSONField(default=dict, blank=True, help_text="The JSON body submitted to AMC.")
    time_window_type = models.CharField(max_length=32, default="EXPLICIT")
    time_window_start = models.DateTimeField(null=True, blank=True)
    time_window_end = models.DateTimeField(null=True, blank=True)
    time_window_timezone = models.CharField(max_length=64, default="UTC")
    timeout_seconds = models.PositiveIntegerField(default=21600, help_text="AMC allows 900 to 86400 seconds.")
    # Structured error: kind is the typed error class, line/column point into sql_sent.
    error_kind = models.CharField(max_length=32, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    error_line = models.PositiveIntegerField(null=True, blank=True)
    error_column = models.PositiveIntegerField(null=True, blank=True)
    error_end_line = models.PositiveIntegerField(null=True, blank=True)
    error_end_column = models.PositiveIntegerField(null=True, blank=True)
    # Delivery options chosen at submission (schedules copy theirs here: one path for every trigger).
    snowflake_enabled = models.BooleanField(default=False)
    snowflake_table = models.CharField(max_length=255, blank=True)
    snowflake_schema = models.CharField(max_length=255, blank=True)
    # Timings and polling.
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    submit_attempted_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When a worker should next act on the row: poll AMC, retry a result fetch, resubmit after a 429 or after a
    # submission task that never ran. Nothing else.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    # A worker polling or fetching holds the row until then; a worker that dies lets it go when it expires.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    poll_failures = models.PositiveIntegerField(default=0)
    # Cancel asked while the submission was under way: the submitting worker cancels on AMC once it has the id.
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="execution_owner_created"),
            # The list's status filter, its keyset pages and its capped count (executions/listing.py).
            models.Index(fields=["owner", "status", "-created_at"], name="execution_owner_status_created"),
            # The list's search by query name counts its matches on this index alone (executions/listing.py).
            models.Index(fields=["owner", "workflow", "-created_at"], name="execution_owner_workflow"),
            models.Index(fields=["status", "next_poll_at"], name="execution_poll_queue"),
            models.Index(fields=["workflow", "-created_at"], name="execution_workflow_created"),
            models.Index(fields=["instance", "-created_at"], name="execution_instance_created"),
        ]
        constraints = [
            # One of our executions per AMC execution: recovery can never adopt a run another one already owns.
            models.UniqueConstraint(
                fields=["instance", "amc_execution_id"], condition=~Q(amc_execution_id=""), name="uniq_amc_execution"
            )
        ]

    def __str__(self):
        return self.execution_id

    def save(self, *args, **kwargs):
        if not self.execution_id:
            self.execution_id = new_readable_id(Execution, "execution_id", "exec")
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def failed_transiently(self) -> bool:
        """Failed for a reason that may pass (the rule is `executions.retry.classify`): worth retrying later."""
        from .retry import RETRY, classify

        return self.status == self.Status.FAILED and classify(self.error_kind) == RETRY

    @property
    def duration(self):
        if self.submitted_at and self.finished_at:
            return self.finished_at - self.submitted_at
        return None


def result_upload_path(result, filename):
    return f"results/{result.execution.owner_id}/{result.execution.execution_id}.csv"


class ExecutionResult(models.Model):
    """Metadata of a stored result. The rows live in a CSV file in Django storage, never in a row here."""

    owner_field = "execution__owner"

    execution = models.OneToOneField(Execution, on_delete=models.CASCADE, related_name="result")
    file = models.FileField(upload_to=result_upload_path, max_length=255)
    columns = models.JSONField(default=list, help_text="[{name, type}] in file order.")
    row_count = models.PositiveBigIntegerField(default=0)
    size_bytes = models.PositiveBigIntegerField(default=0)
    source_files = models.PositiveIntegerField(default=1, help_text="Number of AMC download URLs joined.")
    fetched_at = models.DateTimeField(null=True, blank=True)
    fetch_seconds = models.FloatField(null=True, blank=True)

    def __str__(self):
        return f"Result of {self.execution.execution_id}: {self.row_count} rows"


class SnowflakeConfig(models.Model):
    """A user's Snowflake connection. Password and private key are stored encrypted."""

    class AuthMethod(models.TextChoices):
        PASSWORD = "password", "Password"
        KEY_PAIR = "key_pair", "Key pair"

    owner = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="snowflake_config")
    account = models.CharField(max_length=255, help_text="Account identifier, e.g. myorg-myaccount.")
    user = models.CharField(max_length=255)
    auth_method = models.CharField(max_length=16, choices=AuthMethod, default=AuthMethod.PASSWORD)
    password_encrypted = models.TextField(blank=True, editable=False)
    private_key_encrypted = models.TextField(blank=True, editable=False)
    password = EncryptedSecret("password_encrypted")
    private_key = EncryptedSecret("private_key_encrypted")
    role = models.CharField(max_length=255, blank=True)
    warehouse = models.CharField(max_length=255)
    database = models.CharField(max_length=255)
    schema = models.CharField(max_length=255, default="PUBLIC")
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True, blank=True)
    last_test_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Snowflake {self.account} for {self.owner}"


class SnowflakeDelivery(models.Model):
    """Loading one execution's result into one Snowflake table (MERGE, so re-deliveries never duplicate)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Loading"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    owner_field = "execution__owner"

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="snowflake_deliveries")
    table_name = models.CharField(max_length=255)
    schema_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    rows_loaded = models.PositiveBigIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["execution", "schema_name", "table_name"], name="uniq_delivery_per_execution_table"
            )
        ]
        verbose_name_plural = "Snowflake deliveries"

    def __str__(self):
        return f"{self.execution.execution_id} → {self.schema_name + '.' if self.schema_name else ''}{self.table_name}"
