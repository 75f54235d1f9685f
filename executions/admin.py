from django.contrib import admin

from recomamp.admin_helpers import secret_status

from .models import Execution, ExecutionResult, SnowflakeConfig, SnowflakeDelivery


class ExecutionResultInline(admin.StackedInline):
    model = ExecutionResult
    extra = 0
    readonly_fields = ["file", "columns", "row_count", "size_bytes", "source_files", "fetched_at", "fetch_seconds"]


@admin.register(Execution)
class ExecutionAdmin(admin.ModelAdmin):
    list_display = ["execution_id", "owner", "workflow", "instance", "status", "trigger", "created_at", "finished_at"]
    list_filter = ["status", "trigger", "time_window_type"]
    search_fields = ["execution_id", "amc_execution_id", "workflow__workflow_id", "owner__email"]
    list_select_related = ["owner", "workflow", "instance"]
    raw_id_fields = ["owner", "workflow", "query_version", "instance"]
    readonly_fields = ["execution_id", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [ExecutionResultInline]


@admin.register(ExecutionResult)
class ExecutionResultAdmin(admin.ModelAdmin):
    list_display = ["execution", "row_count", "size_bytes", "source_files", "fetched_at"]
    search_fields = ["execution__execution_id"]
    raw_id_fields = ["execution"]


@admin.register(SnowflakeConfig)
class SnowflakeConfigAdmin(admin.ModelAdmin):
    list_display = ["owner", "account", "user", "auth_method", "warehouse", "database", "schema", "last_test_ok"]
    list_filter = ["auth_method", "last_test_ok"]
    search_fields = ["owner__email", "account", "user"]
    raw_id_fields = ["owner"]
    readonly_fields = ["password_status", "private_key_status", "last_tested_at", "last_test_ok", "last_test_error"]
    exclude = ["password_encrypted", "private_key_encrypted"]

    @admin.display(description="Password")
    def password_status(self, obj):
        return secret_status(obj, "password_encrypted")

    @admin.display(description="Private key")
    def private_key_status(self, obj):
        return secret_status(obj, "private_key_encrypted")


@admin.register(SnowflakeDelivery)
class SnowflakeDeliveryAdmin(admin.ModelAdmin):
    list_display = ["execution", "schema_name", "table_name", "status", "rows_loaded", "attempts", "finished_at"]
    list_filter = ["status"]
    search_fields = ["execution__execution_id", "table_name"]
    raw_id_fields = ["execution"]
