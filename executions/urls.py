from django.urls import path

from . import views

urlpatterns = [
    path("", views.execution_list, name="execution_list"),
    path("<str:execution_id>/", views.execution_detail, name="execution_detail"),
]
