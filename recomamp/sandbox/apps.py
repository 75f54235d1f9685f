from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "recomamp.sandbox"
    label = "sandbox"
    verbose_name = "AMC sandbox"
