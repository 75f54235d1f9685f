from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from home import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("instances/", include("instances.urls")),
    path("queries/", include("queries.urls")),
    path("executions/", include("executions.urls")),
    path("schedules/", include("schedules.urls")),
    path("guides/", include("guides.urls")),
    path("brands/", include("brands.urls")),
    path("runsets/", include("runsets.urls")),
    path("dashboards/", include("dashboards.urls")),
]

if settings.AMC_SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("recomamp.sandbox.urls")))
