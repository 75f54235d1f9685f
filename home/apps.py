from django.apps import AppConfig


class HomeConfig(AppConfig):
    """The top floor: the home dashboard, the health endpoint and the demo, which look at every app."""

    name = "home"
    verbose_name = "Home"
