from django.urls import path

from . import views

urlpatterns = [
    path("", views.schedule_list, name="schedule_list"),
    path("new/", views.schedule_create, name="schedule_create"),
    path("preview/", views.schedule_preview, name="schedule_preview"),
    path("describe-cron/", views.schedule_describe_cron, name="schedule_describe_cron"),
    path("parameter-fields/", views.schedule_parameter_fields, name="schedule_parameter_fields"),
    path("<str:schedule_id>/", views.schedule_detail, name="schedule_detail"),
    path("<str:schedule_id>/edit/", views.schedule_edit, name="schedule_edit"),
    path("<str:schedule_id>/pause/", views.schedule_pause, name="schedule_pause"),
    path("<str:schedule_id>/resume/", views.schedule_resume, name="schedule_resume"),
    path("<str:schedule_id>/run-now/", views.schedule_run_now, name="schedule_run_now"),
    path("<str:schedule_id>/export/", views.schedule_export, name="schedule_export"),
]
