from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from queries.catalog_files import CatalogFileError
from queries.catalog_import import DEFAULT_LIBRARY_DIR, import_library


class Command(BaseCommand):
    help = "Import the shared query library (one YAML file per template) into QueryTemplate."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_LIBRARY_DIR, help="folder of template files")
        parser.add_argument(
            "--prune", action="store_true", help="delete shared templates that no file describes any more"
        )

    def handle(self, *args, path: Path, prune: bool, **options):
        try:
            report = import_library(path, prune=prune)
        except CatalogFileError as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"Templates: {report.items}.")
        if report.stale:
            self.stdout.write(
                self.style.WARNING(
                    f"Kept {len(report.stale)} shared template(s) no file describes any more "
                    "(use --prune to delete): " + ", ".join(report.stale)
                )
            )
