import uuid

from django.db import models

from recomamp.amc.refs import InstanceRef


class Region(models.TextChoices):
    NA = "NA", "North America"
    EU = "EU", "Europe"
    FE = "FE", "Far East"


class AdvertiserAccount(models.Model):
    """An AMC account (advertiser entity) reachable through a user's Amazon connection."""

    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="advertiser_accounts")
    entity_id = models.CharField(max_length=64, help_text="AMC's advertiser / entity id, sent as a header.")
    name = models.CharField(max_length=255)
    marketplace_id = models.CharField(max_length=32, blank=True)
    region = models.CharField(max_length=2, choices=Region, default=Region.NA)
    is_active = models.BooleanField(default=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "entity_id"], name="uniq_account_per_owner")]

    def __str__(self):
        return f"{self.name} ({self.entity_id})"


class AMCInstance(models.Model):
    """An AMC instance. `id` is ours; `instance_id` is AMC's and the only one ever sent to AMC."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="amc_instances")
    account = models.ForeignKey(AdvertiserAccount, on_delete=models.CASCADE, related_name="instances")
    instance_id = models.CharField("AMC instance id", max_length=64)
    name = models.CharField(max_length=255)
    instance_type = models.CharField(max_length=32, blank=True, help_text="As reported by AMC, e.g. STANDARD.")
    region = models.CharField(max_length=2, choices=Region, default=Region.NA)
    api_endpoint = models.URLField(blank=True)
    brands = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.ACTIVE)
    amc_status = models.CharField(max_length=32, blank=True, help_text="Status string as reported by AMC.")
    is_sandbox = models.BooleanField(default=False)
    timezone = models.CharField(max_length=64, blank=True, help_text="Reporting time zone; the user's if blank.")
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "AMC instance"
        constraints = [models.UniqueConstraint(fields=["owner", "instance_id"], name="uniq_instance_per_owner")]
        indexes = [models.Index(fields=["owner", "status"], name="instance_owner_status")]

    def __str__(self):
        return f"{self.name} ({self.instance_id})"

    def amc_ref(self) -> InstanceRef:
        """The identifiers AMC needs, and nothing else: the client accepts only this."""
        return InstanceRef(
            instance_id=self.instance_id,
            entity_id=self.account.entity_id,
            marketplace_id=self.account.marketplace_id,
            region=self.region,
        )
