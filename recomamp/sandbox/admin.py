"""Admin for the sandbox. Token and code rows show only their metadata: values are stored as hashes."""

from django.contrib import admin

from . import clock
from .models import (
    AccessToken,
    AuthorizationCode,
    RefreshToken,
    SandboxAccount,
    SandboxExecution,
    SandboxFaults,
    SandboxInstance,
    SandboxWorkflow,
)


class SandboxFaultsInline(admin.StackedInline):
    model = SandboxFaults
    extra = 0


@admin.register(SandboxAccount)
class SandboxAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "entity_id", "marketplace_id", "region", "refuses_access", "created_at"]
    list_filter = ["region", "marketplace_id"]
    search_fields = ["name", "entity_id"]


@admin.register(SandboxInstance)
class SandboxInstanceAdmin(admin.ModelAdmin):
    list_display = ["name", "instance_id", "account", "instance_type", "creation_status", "created_at"]
    list_filter = ["instance_type", "creation_status", "account"]
    search_fields = ["name", "instance_id", "account__entity_id"]
    list_select_related = ["account"]
    inlines = [SandboxFaultsInline]


@admin.register(SandboxFaults)
class SandboxFaultsAdmin(admin.ModelAdmin):
    list_display = [
        "instance",
        "enabled",
        "latency_ms",
        "throttle_rate",
        "server_error_rate",
        "timeout_rate",
        "expired_token_rate",
        "seed",
    ]
    list_filter = ["enabled"]
    search_fields = ["instance__instance_id", "instance__name"]
    list_select_related = ["instance"]


@admin.register(SandboxWorkflow)
class SandboxWorkflowAdmin(admin.ModelAdmin):
    list_display = ["workflow_id", "instance", "created_at", "updated_at"]
    list_filter = ["instance"]
    search_fields = ["workflow_id", "sql_query"]
    list_select_related = ["instance"]


@admin.register(SandboxExecution)
class SandboxExecutionAdmin(admin.ModelAdmin):
    list_display = [
        "execution_id",
        "instance",
        "workflow_id",
        "status",
        "is_adhoc",
        "dry_run",
        "created_at",
        "row_count",
    ]
    list_filter = ["status", "is_adhoc", "dry_run", "instance"]
    search_fields = ["execution_id", "workflow_id", "status_reason"]
    list_select_related = ["instance"]
    readonly_fields = ["execution_id", "finish_claimed_at", "result_files", "row_count"]
    date_hierarchy = "created_at"


class HashedSecretAdmin(admin.ModelAdmin):
    """Codes and tokens: the hash is not shown and nothing can be created here (values are only ever issued)."""

    exclude = ["code_hash", "token_hash"]

    def has_add_permission(self, request):
        return False


@admin.register(AuthorizationCode)
class AuthorizationCodeAdmin(HashedSecretAdmin):
    list_display = ["id", "client_id", "redirect_uri", "code_challenge_method", "created_at", "expires_at", "used_at"]
    list_filter = ["code_challenge_method"]
    search_fields = ["client_id", "redirect_uri"]
    readonly_fields = [
        "client_id",
        "redirect_uri",
        "scope",
        "code_challenge",
        "code_challenge_method",
        "created_at",
        "expires_at",
        "used_at",
    ]


@admin.register(RefreshToken)
class RefreshTokenAdmin(HashedSecretAdmin):
    list_display = ["id", "client_id", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["client_id"]
    readonly_fields = ["client_id", "scope", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @admin.action(description="Revoke (the next refresh answers invalid_grant; its access tokens stop working)")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=clock.now())
        self.message_user(request, f"Revoked {count} refresh token(s).")


@admin.register(AccessToken)
class AccessTokenAdmin(HashedSecretAdmin):
    list_display = ["id", "refresh_token", "created_at", "expires_at"]
    search_fields = ["refresh_token__client_id"]
    readonly_fields = ["refresh_token", "created_at", "expires_at"]
    list_select_related = ["refresh_token"]
