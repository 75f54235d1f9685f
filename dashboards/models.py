import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


def _readable_id() -> str:
    return f"dash_{secrets.token_hex(6)}"


def _nonce() -> str:
    return secrets.token_hex(16)


class Dashboard(models.Model):
    """Saved choices over a time series of results: a run set's cells or a schedule's runs (exactly one)."""

    class Split(models.TextChoices):
        NONE = "none", "Total"
        INSTANCE = "instance", "By instance"
        DIMENSION = "dimension", "By the dimension (top N + other)"

    dashboard_id = models.CharField(max_length=32, unique=True, editable=False, default=_readable_id)
    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="dashboards")
    name = models.CharField(max_length=200)
    run_set = models.ForeignKey(
        "runsets.RunSet", null=True, blank=True, on_delete=models.CASCADE, related_name="dashboards"
    )
    schedule = models.ForeignKey(
        "schedules.Schedule", null=True, blank=True, on_delete=models.CASCADE, related_name="dashboards"
    )
    metrics = models.JSONField(default=list, help_text="Result columns shown as metrics, in order.")
    dimension = models.CharField(max_length=255, blank=True, help_text="Result column broken down (optional).")
    split = models.CharField(max_length=16, choices=Split, default=Split.NONE)
    top_n = models.PositiveIntegerField(default=5)
    kinds = models.JSONField(default=dict, blank=True, help_text="{column: additive | non_additive} overrides.")
    down_is_good = models.JSONField(default=list, blank=True, help_text="Metrics for which a fall reads green.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(run_set__isnull=False, schedule__isnull=True)
                | Q(run_set__isnull=True, schedule__isnull=False),
                name="dashboard_has_one_source",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.dashboard_id})"

    def clean(self):
        if bool(self.run_set_id) == bool(self.schedule_id):
            raise ValidationError("A dashboard reads either a run set or a schedule.")


class Snapshot(models.Model):
    """A frozen copy of a dashboard's computed data (what it showed at that moment)."""

    owner_field = "dashboard__owner"

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="snapshots")
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Snapshot of {self.dashboard_id} at {self.created_at:%Y-%m-%d %H:%M}"


class ShareLink(models.Model):
    """A read-only link to one dashboard (live, or one snapshot). The URL carries a signed id; expiry and
    revocation live here, so revoking takes effect at once."""

    owner_field = "dashboard__owner"

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="share_links")
    snapshot = models.ForeignKey(Snapshot, null=True, blank=True, on_delete=models.CASCADE, related_name="links")
    nonce = models.CharField(max_length=32, default=_nonce, editable=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Share link {self.pk} of {self.dashboard_id}"
