from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    name = "schedules"

    def ready(self):
        from . import receivers  # noqa: F401 - connects the execution_finished receivers
