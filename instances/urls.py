from django.urls import path

from . import views

urlpatterns = [
    path("", views.instance_list, name="instance_list"),
    path("sync/", views.instance_sync, name="instance_sync"),
    path("<uuid:pk>/", views.instance_detail, name="instance_detail"),
]
