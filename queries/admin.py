from django.contrib import admin

from .models import DataSource, QueryTemplate, QueryVersion, SchemaField, Workflow, WorkflowSync
from .versions import record_version


class SchemaFieldInline(admin.TabularInline):
    model = SchemaField
    extra = 0
    fields = ["position", "name", "data_type", "kind", "threshold", "description"]


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
    list_display = ["table_name", "name", "category", "is_paid_feature", "updated_at"]
    list_filter = ["category", "is_paid_feature"]
    search_fields = ["table_name", "name", "schema_id", "description"]
    inlines = [SchemaFieldInline]


@admin.register(SchemaField)
class SchemaFieldAdmin(admin.ModelAdmin):
    list_display = ["name", "data_source", "data_type", "kind", "threshold"]
    list_filter = ["kind", "threshold", "data_source__category"]
    search_fields = ["name", "description", "data_source__table_name"]
    list_select_related = ["data_source"]
    autocomplete_fields = ["data_source"]


@admin.register(QueryTemplate)
class QueryTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "category", "is_public", "owner", "updated_at"]
    list_filter = ["category", "is_public"]
    search_fields = ["name", "slug", "description", "sql_template"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["owner"]


class WorkflowSyncInline(admin.TabularInline):
    model = WorkflowSync
    extra = 0
    raw_id_fields = ["instance"]
    readonly_fields = ["state", "sql_hash", "synced_at", "error"]


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ["name", "workflow_id", "owner", "status", "execution_count", "last_executed_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["name", "workflow_id", "description", "owner__email"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner", "template"]
    readonly_fields = ["workflow_id", "execution_count", "last_executed_at", "created_at", "updated_at"]
    inlines = [WorkflowSyncInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record_version(obj, user=request.user, note="Edited in the admin")


@admin.register(WorkflowSync)
class WorkflowSyncAdmin(admin.ModelAdmin):
    list_display = ["workflow", "instance", "state", "synced_at"]
    list_filter = ["state"]
    search_fields = ["workflow__workflow_id", "instance__instance_id"]
    raw_id_fields = ["workflow", "instance"]


@admin.register(QueryVersion)
class QueryVersionAdmin(admin.ModelAdmin):
    """Versions are history: readable here, never edited."""

    list_display = ["workflow", "number", "note", "created_by", "created_at"]
    search_fields = ["workflow__workflow_id", "workflow__name", "note"]
    list_select_related = ["workflow", "created_by"]
    raw_id_fields = ["workflow", "created_by"]

    def has_change_permission(self, request, obj=None):
        return False
