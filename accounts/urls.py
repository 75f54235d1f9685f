from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.RateLimitedLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("amazon/connect/", views.amazon_connect, name="amazon_connect"),
    path("amazon/callback/", views.amazon_callback, name="amazon_callback"),
    path("amazon/disconnect/", views.amazon_disconnect, name="amazon_disconnect"),
]
