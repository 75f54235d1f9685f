from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from queries.catalog_files import CatalogFileError
from queries.catalog_import import DEFAULT_DATASET_DIR, import_schemas


class Command(BaseCommand):
    help = "Import the AMC schema catalog (one YAML file per table) into DataSource and SchemaField."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_DATASET_DIR, help="folder of table files")
        parser.add_argument("--prune", action="store_true", help="delete tables that no file describes any more")

    def handle(self, *args, path: Path, prune: bool, **options):
        try:
            report = import_schemas(path, prune=prune)
        except CatalogFileError as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"Tables: {report.items}. Columns: {report.columns}.")
        if report.stale:
            self.stdout.write(
                self.style.WARNING(
                    f"Kept {len(report.stale)} table(s) no file describes any more (use --prune to delete): "
                    + ", ".join(report.stale)
                )
            )
