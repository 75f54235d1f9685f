from django.urls import path

from . import views

urlpatterns = [
    path("", views.runset_list, name="runset_list"),
    path("new/", views.runset_create, name="runset_create"),
    path("brand/<int:brand_id>/", views.brand_fanout, name="brand_fanout"),
    path("<str:run_set_id>/", views.runset_detail, name="runset_detail"),
    path("<str:run_set_id>/grid/", views.runset_grid, name="runset_grid"),
    path("<str:run_set_id>/pause/", views.runset_pause, name="runset_pause"),
    path("<str:run_set_id>/resume/", views.runset_resume, name="runset_resume"),
    path("<str:run_set_id>/cancel/", views.runset_cancel, name="runset_cancel"),
    path("<str:run_set_id>/retry/", views.runset_retry, name="runset_retry"),
    path("<str:run_set_id>/extend/", views.runset_extend, name="runset_extend"),
    path("<str:run_set_id>/results/", views.runset_results, name="runset_results"),
    path("<str:run_set_id>/download.<str:fmt>", views.runset_download, name="runset_download"),
]
