from django.contrib import admin

from .models import Guide, GuideFavourite, GuideMetric, GuideProgress, GuideStep


class GuideStepInline(admin.StackedInline):
    model = GuideStep
    extra = 0
    fields = ["number", "title", "tables"]
    show_change_link = True


class GuideMetricInline(admin.TabularInline):
    model = GuideMetric
    extra = 0


@admin.register(Guide)
class GuideAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "category", "position", "updated_at"]
    list_filter = ["category"]
    search_fields = ["title", "slug", "summary"]
    inlines = [GuideStepInline, GuideMetricInline]


@admin.register(GuideStep)
class GuideStepAdmin(admin.ModelAdmin):
    list_display = ["__str__", "guide", "number", "title"]
    list_filter = ["guide__category"]
    search_fields = ["title", "narrative", "sql", "guide__slug"]
    list_select_related = ["guide"]


@admin.register(GuideMetric)
class GuideMetricAdmin(admin.ModelAdmin):
    list_display = ["term", "guide"]
    search_fields = ["term", "definition", "guide__slug"]
    list_select_related = ["guide"]


@admin.register(GuideProgress)
class GuideProgressAdmin(admin.ModelAdmin):
    list_display = ["owner", "step", "done_at", "last_execution", "updated_at"]
    list_select_related = ["owner", "step__guide", "last_execution"]
    raw_id_fields = ["owner", "step", "last_execution"]


@admin.register(GuideFavourite)
class GuideFavouriteAdmin(admin.ModelAdmin):
    list_display = ["owner", "guide", "created_at"]
    list_select_related = ["owner", "guide"]
    raw_id_fields = ["owner", "guide"]
