"""Re-encrypt every stored secret with the newest key in FERNET_KEYS, so older keys can then be removed."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from recomamp.crypto import DecryptionError, encrypted_columns, rotate


class Command(BaseCommand):
    help = "Re-encrypt stored tokens and credentials with the newest FERNET_KEYS entry."

    def handle(self, **options):
        rotated = unreadable = 0
        for model in apps.get_models():
            columns = encrypted_columns(model)
            if not columns:
                continue
            with transaction.atomic():
                for obj in model._default_manager.select_for_update().only("pk", *columns):
                    changed = []
                    for column in columns:
                        try:
                            new_value = rotate(getattr(obj, column))
                        except DecryptionError:
                            unreadable += 1
                            self.stderr.write(f"{model._meta.label} {obj.pk}: {column} unreadable, left as is")
                            continue
                        if new_value != getattr(obj, column):
                            setattr(obj, column, new_value)
                            changed.append(column)
                    if changed:
                        obj.save(update_fields=changed)
                        rotated += len(changed)
        self.stdout.write(f"{rotated} secrets re-encrypted with the newest key; {unreadable} unreadable")
