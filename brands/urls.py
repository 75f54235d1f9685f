from django.urls import path

from . import views

urlpatterns = [
    path("", views.brand_list, name="brand_list"),
    path("new/", views.brand_create, name="brand_create"),
    path("picker/", views.brand_picker_brands, name="brand_picker_brands"),
    path("<int:brand_id>/", views.brand_detail, name="brand_detail"),
    path("<int:brand_id>/edit/", views.brand_edit, name="brand_edit"),
    path("<int:brand_id>/remove/", views.brand_items_remove, name="brand_items_remove"),
    path("<int:brand_id>/import/", views.brand_import, name="brand_import"),
    path("<int:brand_id>/discover/", views.brand_discover, name="brand_discover"),
    path("<int:brand_id>/discover/<str:execution_id>/", views.brand_discovered, name="brand_discovered"),
    path("<int:brand_id>/picker/", views.brand_picker_items, name="brand_picker_items"),
]
