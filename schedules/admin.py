from django.contrib import admin

from .models import Schedule, ScheduleRun


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = [
        "name", "schedule_id", "owner", "kind", "timezone", "is_active", "next_run_at", "last_run_at",
        "consecutive_failures",
    ]  # fmt: skip
    list_filter = ["is_active", "kind", "paused_by_failures", "overlap_policy"]
    search_fields = ["name", "schedule_id", "workflow__workflow_id", "owner__email"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner", "workflow", "instance", "extra_instances"]
    readonly_fields = ["schedule_id", "run_count", "success_count", "failure_count", "created_at", "updated_at"]


@admin.register(ScheduleRun)
class ScheduleRunAdmin(admin.ModelAdmin):
    list_display = ["schedule", "instance", "scheduled_for", "status", "is_test", "attempts", "execution"]
    list_filter = ["status", "is_test"]
    search_fields = ["schedule__schedule_id", "schedule__name", "execution__execution_id"]
    list_select_related = ["schedule", "instance", "execution"]
    raw_id_fields = ["schedule", "instance", "execution"]
    date_hierarchy = "scheduled_for"
