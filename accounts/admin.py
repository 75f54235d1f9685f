from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from recomamp.admin_helpers import secret_status

from .models import AmazonConnection, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "timezone", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "timezone")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(AmazonConnection)
class AmazonConnectionAdmin(admin.ModelAdmin):
    list_display = ["user", "status", "expires_at", "last_refreshed_at", "last_error_kind", "consecutive_failures"]
    list_filter = ["status", "last_error_kind"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
    readonly_fields = ["access_token_status", "refresh_token_status", "created_at", "updated_at"]
    fields = [
        "user", "status", "access_token_status", "refresh_token_status", "token_type", "scope", "expires_at",
        "connected_at", "last_refreshed_at", "last_error", "last_error_kind", "last_error_at",
        "consecutive_failures", "next_attempt_at", "created_at", "updated_at",
    ]  # fmt: skip

    @admin.display(description="Access token")
    def access_token_status(self, obj):
        return secret_status(obj, "access_token_encrypted")

    @admin.display(description="Refresh token")
    def refresh_token_status(self, obj):
        return secret_status(obj, "refresh_token_encrypted")
