from django.urls import path

from . import views

urlpatterns = [
    path("", views.instance_list, name="instance_list"),
    path("<uuid:pk>/", views.instance_detail, name="instance_detail"),
]
