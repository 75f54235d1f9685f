from django.urls import path

from . import views

urlpatterns = [
    path("", views.guide_list, name="guide_list"),
    path("<slug:slug>/", views.guide_detail, name="guide_detail"),
    path("<slug:slug>/favourite/", views.guide_favourite, name="guide_favourite"),
    path("<slug:slug>/steps/<int:number>/", views.guide_step, name="guide_step"),
    path("<slug:slug>/steps/<int:number>/run/", views.guide_step_run, name="guide_step_run"),
    path("<slug:slug>/steps/<int:number>/done/", views.guide_step_done, name="guide_step_done"),
    path("<slug:slug>/steps/<int:number>/save/", views.guide_step_save, name="guide_step_save"),
]
