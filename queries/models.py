from django.db import models

from recomamp.ids import new_readable_id


class DataSource(models.Model):
    """An AMC table documented in the schema catalog (imported from queries/amc_dataset/)."""

    schema_id = models.SlugField(max_length=120, unique=True)
    name = models.CharField(max_length=200)
    table_name = models.CharField(max_length=200, db_index=True)
    category = models.CharField(max_length=100, db_index=True)
    description = models.TextField(blank=True)
    data_availability = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    examples = models.JSONField(default=list, blank=True, help_text="[{title, description, sql}]")
    is_paid_feature = models.BooleanField(default=False)
    source_file = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "table_name"]

    def __str__(self):
        return self.table_name


class SchemaField(models.Model):
    class Kind(models.TextChoices):
        DIMENSION = "dimension", "Dimension"
        METRIC = "metric", "Metric"

    class Threshold(models.TextChoices):
        NONE = "NONE", "None"
        LOW = "LOW", "Low"
        MEDIUM = "MEDIUM", "Medium"
        HIGH = "HIGH", "High"
        VERY_HIGH = "VERY_HIGH", "Very high"
        INTERNAL = "INTERNAL", "Internal"

    data_source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="fields")
    name = models.CharField(max_length=200)
    data_type = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind)
    threshold = models.CharField(max_length=16, choices=Threshold, default=Threshold.NONE)
    description = models.TextField(blank=True)
    sample_values = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["data_source", "position"]
        constraints = [models.UniqueConstraint(fields=["data_source", "name"], name="uniq_field_per_source")]

    def __str__(self):
        return f"{self.data_source.table_name}.{self.name}"


class QueryTemplate(models.Model):
    """A query library entry: SQL with `{{param}}` placeholders and typed parameter definitions."""

    slug = models.SlugField(max_length=120, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=100, db_index=True)
    tags = models.JSONField(default=list, blank=True)
    sql_template = models.TextField()
    parameters = models.JSONField(default=list, blank=True, help_text="[{name, type, default, label, required}]")
    tables = models.JSONField(default=list, blank=True, help_text="AMC tables the query reads.")
    is_public = models.BooleanField(default=True)
    owner = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.CASCADE, related_name="query_templates"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "name"]

    def __str__(self):
        return self.name

    def parameter_definitions(self):
        """The stored parameter definitions as typed objects, keyed by name."""
        from queries.parameters import definitions_from_json

        return definitions_from_json(self.parameters)


class Workflow(models.Model):
    """A saved query. `workflow_id` (wf_…) is readable and doubles as the AMC workflow id, never truncated."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    workflow_id = models.CharField(max_length=32, unique=True, editable=False)
    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    sql = models.TextField()
    parameters = models.JSONField(default=list, blank=True, help_text="[{name, type, default, label, required}]")
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT)
    template = models.ForeignKey(QueryTemplate, null=True, blank=True, on_delete=models.SET_NULL)
    execution_count = models.PositiveIntegerField(default=0)
    last_executed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["owner", "status", "-updated_at"], name="workflow_owner_status"),
        ]

    def __str__(self):
        return f"{self.name} ({self.workflow_id})"

    def save(self, *args, **kwargs):
        if not self.workflow_id:
            self.workflow_id = new_readable_id(Workflow, "workflow_id", "wf")
        super().save(*args, **kwargs)

    def parameter_definitions(self):
        """The stored parameter definitions as typed objects, keyed by name."""
        from queries.parameters import definitions_from_json

        return definitions_from_json(self.parameters)


class WorkflowSync(models.Model):
    """Where a workflow is saved on AMC: one row per instance, with the SQL version last pushed."""

    class State(models.TextChoices):
        SYNCED = "synced", "Synced"
        OUTDATED = "outdated", "Changed since sync"
        FAILED = "failed", "Sync failed"
        MISSING = "missing", "Deleted on AMC"

    owner_field = "workflow__owner"

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="syncs")
    instance = models.ForeignKey("instances.AMCInstance", on_delete=models.CASCADE, related_name="workflow_syncs")
    state = models.CharField(max_length=16, choices=State, default=State.SYNCED)
    sql_hash = models.CharField(max_length=64, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workflow", "instance"], name="uniq_sync_per_instance")]

    def __str__(self):
        return f"{self.workflow.workflow_id} on {self.instance.instance_id}: {self.state}"


class QueryVersion(models.Model):
    """One saved state of a query: immutable, numbered 1, 2, … per query (queries/versions.py records them)."""

    owner_field = "workflow__owner"

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    sql = models.TextField()
    parameters = models.JSONField(default=list, blank=True, help_text="The query's parameter definitions then.")
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="query_versions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workflow", "-number"]
        constraints = [models.UniqueConstraint(fields=["workflow", "number"], name="uniq_version_per_workflow")]

    def __str__(self):
        return f"{self.workflow.workflow_id} v{self.number}"

    @property
    def label(self) -> str:
        return f"v{self.number}"
