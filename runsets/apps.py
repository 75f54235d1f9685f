from django.apps import AppConfig


class RunSetsConfig(AppConfig):
    name = "runsets"
    verbose_name = "Run sets"

    def ready(self):
        from . import receivers  # noqa: F401 - connects the execution_finished receiver
