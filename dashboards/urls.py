from django.urls import path

from . import views

urlpatterns = [
    path("new/", views.dashboard_create, name="dashboard_create"),
    path("links/<int:link_id>/revoke/", views.dashboard_share_revoke, name="dashboard_share_revoke"),
    path("shared/<str:token>/", views.dashboard_shared, name="dashboard_shared"),
    path("<str:dashboard_id>/", views.dashboard_detail, name="dashboard_detail"),
    path("<str:dashboard_id>/breakdown.csv", views.dashboard_breakdown_csv, name="dashboard_breakdown_csv"),
    path("<str:dashboard_id>/chart-<int:index>.svg", views.dashboard_chart_svg, name="dashboard_chart_svg"),
    path("<str:dashboard_id>/snapshot/", views.dashboard_snapshot, name="dashboard_snapshot"),
    path("<str:dashboard_id>/share/", views.dashboard_share, name="dashboard_share"),
]
