from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class RecomampConfig(AppConfig):
    name = "recomamp"
    verbose_name = "RecomAMP"

    def ready(self):
        from recomamp.background import ensure_background_schedules

        # This package has no models, so it gets no post_migrate of its own; hook on django_q's, whose table we fill.
        post_migrate.connect(ensure_background_schedules, sender=apps.get_app_config("django_q"))
