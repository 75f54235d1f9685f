from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from guides.files import CONTENT_DIR
from guides.importer import import_guides
from queries.catalog_files import CatalogFileError


class Command(BaseCommand):
    help = "Import the build guides (one YAML file per guide) into Guide, GuideStep and GuideMetric."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", type=Path, default=CONTENT_DIR, help="folder of guide files")
        parser.add_argument("--prune", action="store_true", help="delete guides that no file describes any more")

    def handle(self, *args, path: Path, prune: bool, **options):
        try:
            report = import_guides(path, prune=prune)
        except CatalogFileError as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"Guides: {report.items}. Steps and glossary entries: {report.columns}.")
        if report.stale:
            self.stdout.write(
                self.style.WARNING(
                    f"Kept {len(report.stale)} guide(s) no file describes any more (use --prune to delete): "
                    + ", ".join(report.stale)
                )
            )
