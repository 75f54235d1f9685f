from django.apps import AppConfig


class ExecutionsConfig(AppConfig):
    name = "executions"

    def ready(self):
        from . import receivers  # noqa: F401 - connects the execution_finished receivers
