"""Tables of the AMC + Login with Amazon sandbox.

Only the sandbox reads these: they play the part of Amazon's side (advertiser accounts, AMC instances, OAuth
grants, saved workflows, executions). Tokens and authorization codes are stored as SHA-256 hashes only.
"""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

RATE_VALIDATORS = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class Region(models.TextChoices):
    NA = "NA", "North America"
    EU = "EU", "Europe"
    FE = "FE", "Far East"


class SandboxAccount(models.Model):
    """An AMC account ("entity"), as `GET /amc/accounts` lists it."""

    entity_id = models.CharField(max_length=64, unique=True, help_text="Sent by clients as the AdvertiserId header.")
    name = models.CharField(max_length=255)
    marketplace_id = models.CharField(max_length=32)
    region = models.CharField(max_length=2, choices=Region, default=Region.NA)
    refuses_access = models.BooleanField(
        default=False, help_text="Listed, but every call naming it is refused (403), as when a grant lacks it."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity_id"]
        verbose_name = "sandbox account"

    def __str__(self):
        return f"{self.name} ({self.entity_id})"


class SandboxInstance(models.Model):
    class InstanceType(models.TextChoices):
        STANDARD = "STANDARD"
        SANDBOX = "SANDBOX"

    instance_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="instances")
    instance_type = models.CharField(max_length=16, choices=InstanceType, default=InstanceType.STANDARD)
    creation_status = models.CharField(max_length=16, default="COMPLETED")
    advertiser_types = models.JSONField(default=list, blank=True, help_text='e.g. ["DISPLAY", "SPONSORED_ADS"]')
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["instance_id"]
        verbose_name = "sandbox instance"

    def __str__(self):
        return f"{self.name} ({self.instance_id})"


class SandboxFaults(models.Model):
    """Faults injected into API calls on one instance (the SANDBOX_FAULTS setting covers every call).

    Rates are shares of requests in [0, 1]; one random draw per request picks at most one of 429, 5xx,
    timeout or expired token. With a seed, the sequence of draws is reproducible.
    """

    instance = models.OneToOneField(SandboxInstance, on_delete=models.CASCADE, related_name="faults")
    enabled = models.BooleanField(default=True)
    latency_ms = models.PositiveIntegerField(default=0, help_text="Added to every request.")
    throttle_rate = models.FloatField(default=0.0, validators=RATE_VALIDATORS, help_text="Share answered 429.")
    retry_after_seconds = models.PositiveIntegerField(default=1)
    server_error_rate = models.FloatField(default=0.0, validators=RATE_VALIDATORS, help_text="Share answered 5xx.")
    server_error_status = models.PositiveSmallIntegerField(
        default=500, validators=[MinValueValidator(500), MaxValueValidator(599)]
    )
    timeout_rate = models.FloatField(
        default=0.0, validators=RATE_VALIDATORS, help_text="Share that sleeps timeout_seconds, then answers 504."
    )
    timeout_seconds = models.FloatField(default=35.0, validators=[MinValueValidator(0.0)])
    expired_token_rate = models.FloatField(
        default=0.0, validators=RATE_VALIDATORS, help_text="Share answered 401 as if the token had expired."
    )
    seed = models.BigIntegerField(null=True, blank=True, help_text="Makes the random draws reproducible.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "sandbox faults"
        verbose_name_plural = "sandbox faults"

    def __str__(self):
        return f"Faults for {self.instance.instance_id}"


class AuthorizationCode(models.Model):
    """An LWA authorization code: single use, short-lived, bound to client, redirect URI and PKCE challenge."""

    code_hash = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=255)
    redirect_uri = models.URLField(max_length=2000)
    scope = models.CharField(max_length=500, blank=True)
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Authorization code #{self.pk} for {self.client_id}"


class RefreshToken(models.Model):
    """Never expires; reusable until revoked (admin action), which also invalidates its access tokens."""

    token_hash = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=255)
    scope = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Refresh token #{self.pk} for {self.client_id}"


class AccessToken(models.Model):
    token_hash = models.CharField(max_length=64, unique=True)
    refresh_token = models.ForeignKey(RefreshToken, on_delete=models.CASCADE, related_name="access_tokens")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Access token #{self.pk}"


class SandboxWorkflow(models.Model):
    """A saved workflow; `definition` is the Workflow object as the client sent it (known fields only)."""

    instance = models.ForeignKey(SandboxInstance, on_delete=models.CASCADE, related_name="workflows")
    workflow_id = models.CharField(max_length=255)
    sql_query = models.TextField()
    definition = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["workflow_id"]
        constraints = [models.UniqueConstraint(fields=["instance", "workflow_id"], name="sandbox_uniq_workflow")]

    def __str__(self):
        return self.workflow_id


class SandboxExecution(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING"
        RUNNING = "RUNNING"
        SUCCEEDED = "SUCCEEDED"
        FAILED = "FAILED"
        CANCELLED = "CANCELLED"
        REJECTED = "REJECTED"

    ACTIVE = (Status.PENDING, Status.RUNNING)

    execution_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    instance = models.ForeignKey(SandboxInstance, on_delete=models.CASCADE, related_name="executions")
    workflow_id = models.CharField(max_length=255, db_index=True)
    is_adhoc = models.BooleanField(default=True)
    dry_run = models.BooleanField(default=False)
    # The workflow as it was when the execution was created (a later update of a saved workflow must not
    # change what an already submitted execution runs).
    workflow = models.JSONField(default=dict)
    request = models.JSONField(default=dict, help_text="Execution options echoed in responses.")
    parameter_values = models.JSONField(default=dict, blank=True)
    time_window_type = models.CharField(max_length=32)
    time_window_start = models.DateTimeField()
    time_window_end = models.DateTimeField()
    time_window_start_original = models.CharField(max_length=19)
    time_window_end_original = models.CharField(max_length=19)
    time_window_time_zone = models.CharField(max_length=64, default="UTC")
    timeout_seconds = models.PositiveIntegerField(default=21600)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    status_reason = models.TextField(blank=True)
    created_at = models.DateTimeField()
    last_updated_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, help_text="When the RUNNING phase ends.")
    finish_claimed_at = models.DateTimeField(null=True, blank=True, help_text="A process is running the query.")
    result_files = models.JSONField(default=list, blank=True, help_text="CSV file names, in order.")
    row_count = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["instance", "status", "created_at"], name="sandbox_exec_inst_status")]

    def __str__(self):
        return f"{self.execution_id} ({self.status})"
