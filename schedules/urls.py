from django.urls import path

from . import views

urlpatterns = [
    path("", views.schedule_list, name="schedule_list"),
    path("<str:schedule_id>/", views.schedule_detail, name="schedule_detail"),
]
