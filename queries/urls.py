from django.urls import path

from . import views

urlpatterns = [
    path("data-sources/", views.data_source_list, name="data_source_list"),
    path("data-sources/<slug:schema_id>/", views.data_source_detail, name="data_source_detail"),
    path("library/", views.template_list, name="template_list"),
    path("mine/", views.workflow_list, name="workflow_list"),
    path("mine/<str:workflow_id>/", views.workflow_detail, name="workflow_detail"),
]
