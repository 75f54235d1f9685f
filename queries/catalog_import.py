"""Upsert the schema catalog and the query library from their YAML files.

Each import reads and checks every file first, then writes in one transaction, so a bad file leaves the
database exactly as it was. Rows are only saved when a value really changed: re-running an import is a
no-op and keeps ``updated_at``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from .catalog import invalidate_catalog
from .catalog_dirs import read_dataset, read_library
from .catalog_files import CatalogFileError, ColumnSpec, TableSpec, TemplateSpec, load_yaml
from .models import DataSource, QueryTemplate, SchemaField

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_DATASET_DIR = PACKAGE_DIR / "amc_dataset"
DEFAULT_LIBRARY_DIR = PACKAGE_DIR / "library"


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    removed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.removed} removed"


@dataclass
class ImportReport:
    items: Counts = field(default_factory=Counts)
    columns: Counts | None = None  # only for the schema catalog
    stale: list[str] = field(default_factory=list)  # rows no file describes any more (kept unless pruned)


def assign_changes(instance, values: dict) -> list[str]:
    """Set the attributes that differ and return their names."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    return changed


def _source_values(spec: TableSpec, base: Path) -> dict:
    try:
        source_file = str(spec.path.resolve().relative_to(base))
    except ValueError:
        source_file = spec.path.name
    return {
        "name": spec.name,
        "table_name": spec.table_name,
        "category": spec.category,
        "description": spec.description,
        "data_availability": spec.data_availability,
        "tags": spec.tags,
        "examples": spec.examples,
        "is_paid_feature": spec.is_paid_feature,
        "source_file": source_file,
    }


def _field_values(column: ColumnSpec, position: int) -> dict:
    return {
        "data_type": column.data_type,
        "kind": column.kind,
        "threshold": column.threshold,
        "description": column.description,
        "sample_values": column.sample_values,
        "notes": column.notes,
        "position": position,
    }


def _sync_fields(source: DataSource, columns: list[ColumnSpec], counts: Counts) -> None:
    existing = {field.name: field for field in source.fields.all()}
    to_create, to_update, update_names = [], [], set()
    for position, column in enumerate(columns):
        values = _field_values(column, position)
        current = existing.pop(column.name, None)
        if current is None:
            to_create.append(SchemaField(data_source=source, name=column.name, **values))
        elif changed := assign_changes(current, values):
            to_update.append(current)
            update_names.update(changed)
    if existing:
        SchemaField.objects.filter(pk__in=[field.pk for field in existing.values()]).delete()
    SchemaField.objects.bulk_create(to_create)
    if to_update:
        SchemaField.objects.bulk_update(to_update, sorted(update_names))
    counts.created += len(to_create)
    counts.updated += len(to_update)
    counts.removed += len(existing)


def import_schemas(directory: Path = DEFAULT_DATASET_DIR, *, prune: bool = False) -> ImportReport:
    """Create, update (and with ``prune`` delete) DataSource and SchemaField rows to match the files."""
    specs = read_dataset(directory)
    base = directory.resolve()
    report = ImportReport(columns=Counts())
    with transaction.atomic():
        sources = {source.schema_id: source for source in DataSource.objects.select_for_update()}
        for spec in specs:
            values = _source_values(spec, base)
            source = sources.pop(spec.schema_id, None)
            if source is None:
                source = DataSource.objects.create(schema_id=spec.schema_id, **values)
                report.items.created += 1
            elif changed := assign_changes(source, values):
                source.save(update_fields=[*changed, "updated_at"])
                report.items.updated += 1
            _sync_fields(source, spec.columns, report.columns)
        report.stale = sorted(sources)
        if prune and sources:
            report.columns.removed += SchemaField.objects.filter(data_source__in=sources.values()).count()
            DataSource.objects.filter(pk__in=[source.pk for source in sources.values()]).delete()
            report.items.removed += len(sources)
            report.stale = []
        # The editor caches the catalog; drop it once the new rows are committed.
        transaction.on_commit(invalidate_catalog)
    return report


def _template_values(spec: TemplateSpec) -> dict:
    return {
        "name": spec.name,
        "description": spec.description,
        "category": spec.category,
        "tags": spec.tags,
        "sql_template": spec.sql,
        "parameters": [parameter.as_dict() for parameter in spec.parameters],
        "tables": spec.tables,
        "is_public": True,
        "owner": None,
    }


def import_library(directory: Path = DEFAULT_LIBRARY_DIR, *, prune: bool = False) -> ImportReport:
    """Create or update the shared (owner-less) QueryTemplate rows from the library files.

    The files are the source of truth: an admin edit to a library template is overwritten by the next
    import. Templates owned by a user are never touched, and a file whose slug collides with one fails.
    """
    specs = read_library(directory)
    report = ImportReport()
    with transaction.atomic():
        templates = {template.slug: template for template in QueryTemplate.objects.select_for_update()}
        for spec in specs:
            values = _template_values(spec)
            template = templates.pop(spec.slug, None)
            if template is None:
                QueryTemplate.objects.create(slug=spec.slug, **values)
                report.items.created += 1
            elif template.owner_id is not None:
                line = load_yaml(spec.path).key_lines["slug"]
                raise CatalogFileError(spec.path, line, f"slug '{spec.slug}' is already used by a user's own template")
            elif changed := assign_changes(template, values):
                template.save(update_fields=[*changed, "updated_at"])
                report.items.updated += 1
        library_leftovers = [template for template in templates.values() if template.owner_id is None]
        report.stale = sorted(template.slug for template in library_leftovers)
        if prune and library_leftovers:
            QueryTemplate.objects.filter(pk__in=[template.pk for template in library_leftovers]).delete()
            report.items.removed += len(library_leftovers)
            report.stale = []
    return report
