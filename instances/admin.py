from django.contrib import admin

from .models import AdvertiserAccount, AMCInstance


@admin.register(AdvertiserAccount)
class AdvertiserAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "entity_id", "marketplace_id", "region", "owner", "is_active", "last_synced_at"]
    list_filter = ["region", "is_active"]
    search_fields = ["name", "entity_id", "owner__email"]
    raw_id_fields = ["owner"]


@admin.register(AMCInstance)
class AMCInstanceAdmin(admin.ModelAdmin):
    list_display = ["name", "instance_id", "account", "region", "instance_type", "status", "is_sandbox", "owner"]
    list_filter = ["status", "region", "is_sandbox", "instance_type"]
    search_fields = ["name", "instance_id", "account__name", "account__entity_id", "owner__email"]
    list_select_related = ["account", "owner"]
    raw_id_fields = ["owner", "account"]
    readonly_fields = ["id", "created_at", "updated_at", "last_synced_at"]
