from django.contrib import admin

from .models import Brand, BrandAsin, BrandCampaign


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "created_at"]
    search_fields = ["name", "owner__email"]
    raw_id_fields = ["owner"]
    filter_horizontal = ["instances"]


@admin.register(BrandAsin)
class BrandAsinAdmin(admin.ModelAdmin):
    list_display = ["asin", "title", "marketplace", "brand"]
    search_fields = ["asin", "title", "brand__name"]
    list_select_related = ["brand"]
    raw_id_fields = ["brand"]


@admin.register(BrandCampaign)
class BrandCampaignAdmin(admin.ModelAdmin):
    list_display = ["campaign_id", "name", "type", "brand", "instance"]
    list_filter = ["type"]
    search_fields = ["campaign_id", "name", "brand__name"]
    list_select_related = ["brand", "instance"]
    raw_id_fields = ["brand", "instance"]
