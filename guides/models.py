"""Build guides: multi-step AMC analyses imported from guides/content/, with each user's progress and favourites."""

from django.db import models


class Guide(models.Model):
    """One analysis, written as data in guides/content/<slug>.yaml (the file wins over admin edits)."""

    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=100, db_index=True)
    summary = models.TextField(help_text="One paragraph shown in the guide list (plain text).")
    why = models.TextField(help_text="Why the analysis matters (Markdown).")
    tables = models.JSONField(default=list, blank=True, help_text="AMC tables the guide needs.")
    tags = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    source_file = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "title"]

    def __str__(self):
        return self.title


class GuideStep(models.Model):
    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveIntegerField(help_text="1-based order within the guide.")
    title = models.CharField(max_length=200)
    narrative = models.TextField(help_text="What this step does and why (Markdown).")
    sql = models.TextField()
    parameters = models.JSONField(default=list, blank=True, help_text="[{name, type, default, label, required}]")
    tables = models.JSONField(default=list, blank=True)
    reading = models.TextField(help_text="How to read the result (Markdown).")
    pitfalls = models.JSONField(default=list, blank=True, help_text="Pitfalls, one Markdown string each.")

    class Meta:
        ordering = ["guide", "number"]
        constraints = [models.UniqueConstraint(fields=["guide", "number"], name="uniq_step_number_per_guide")]

    def __str__(self):
        return f"{self.guide.slug} #{self.number}: {self.title}"


class GuideMetric(models.Model):
    """A glossary entry: a metric or term the guide's results use."""

    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="metrics")
    term = models.CharField(max_length=120)
    definition = models.TextField()
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["guide", "position"]
        constraints = [models.UniqueConstraint(fields=["guide", "term"], name="uniq_metric_term_per_guide")]

    def __str__(self):
        return f"{self.guide.slug}: {self.term}"


class GuideProgress(models.Model):
    """One user's progress on one step: done or not, and the last execution run from it."""

    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="guide_progress")
    step = models.ForeignKey(GuideStep, on_delete=models.CASCADE, related_name="progress")
    done_at = models.DateTimeField(null=True, blank=True)
    last_execution = models.ForeignKey(
        "executions.Execution", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the user last ran from this step, so the step reopens as they left it.
    last_sql = models.TextField(blank=True)
    last_values = models.JSONField(default=dict, blank=True, help_text="{parameter: value as entered}")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "step"], name="uniq_progress_per_user_step")]

    def __str__(self):
        return f"{self.owner_id} on {self.step}"


class GuideFavourite(models.Model):
    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="guide_favourites")
    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "guide"], name="uniq_favourite_per_user_guide")]

    def __str__(self):
        return f"{self.owner_id} ♥ {self.guide.slug}"
