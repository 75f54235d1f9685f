from django.urls import path

from . import comparison_views, views, workbench_views
from .snowflake import views as snowflake_views

urlpatterns = [
    path("", views.execution_list, name="execution_list"),
    path("run/", views.execution_run, name="execution_run"),
    path("compare/", comparison_views.execution_compare, name="execution_compare"),
    path("workbench/bar/", workbench_views.workbench_bar, name="workbench_bar"),
    path("workbench/run/", workbench_views.workbench_run, name="workbench_run"),
    path("workbench/history/<str:workflow_id>/", workbench_views.workbench_history, name="workbench_history"),
    path("workbench/latest/<str:workflow_id>/", workbench_views.workbench_latest, name="workbench_latest"),
    path("workbench/<str:execution_id>/", workbench_views.workbench_pane, name="workbench_pane"),
    path("workbench/<str:execution_id>/cancel/", workbench_views.workbench_cancel, name="workbench_cancel"),
    path("snowflake/", snowflake_views.snowflake_settings, name="snowflake_settings"),
    path("snowflake/test/", snowflake_views.snowflake_test, name="snowflake_test"),
    path("snowflake/deliveries/<int:delivery_id>/retry/", snowflake_views.snowflake_retry, name="snowflake_retry"),
    path("<str:execution_id>/", views.execution_detail, name="execution_detail"),
    path("<str:execution_id>/status/", views.execution_status, name="execution_status"),
    path("<str:execution_id>/cancel/", views.execution_cancel, name="execution_cancel"),
    path("<str:execution_id>/rerun/", views.execution_rerun, name="execution_rerun"),
    path("<str:execution_id>/results/", views.execution_results, name="execution_results"),
    path("<str:execution_id>/chart/", views.execution_chart, name="execution_chart"),
    path("<str:execution_id>/download.<str:fmt>", views.execution_download, name="execution_download"),
]
