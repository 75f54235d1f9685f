"""Upsert the build guides from guides/content/: checked first, written in one transaction, idempotent.

Follows queries/catalog_import.py: rows are saved only when a value really changed, so a second import is a
no-op. Steps are matched by number, so a user's progress survives edits to a step's text or SQL.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from queries.catalog_import import Counts, ImportReport, assign_changes

from .files import CONTENT_DIR, GuideSpec, StepSpec, read_guides
from .models import Guide, GuideMetric, GuideStep


def _guide_values(spec: GuideSpec, base: Path) -> dict:
    try:
        source_file = str(spec.path.resolve().relative_to(base))
    except ValueError:
        source_file = spec.path.name
    return {
        "title": spec.title,
        "category": spec.category,
        "summary": spec.summary,
        "why": spec.why,
        "tables": spec.tables,
        "tags": spec.tags,
        "position": spec.position,
        "source_file": source_file,
    }


def _step_values(step: StepSpec) -> dict:
    return {
        "title": step.title,
        "narrative": step.narrative,
        "sql": step.sql,
        "parameters": [parameter.as_dict() for parameter in step.parameters],
        "tables": step.tables,
        "reading": step.reading,
        "pitfalls": step.pitfalls,
    }


def _sync(model, guide: Guide, key: str, wanted: dict, counts: Counts) -> None:
    """Make guide's child rows of `model` match {key value: field values}."""
    existing = {getattr(row, key): row for row in model.objects.filter(guide=guide)}
    for value, fields in wanted.items():
        row = existing.pop(value, None)
        if row is None:
            model.objects.create(guide=guide, **{key: value}, **fields)
            counts.created += 1
        elif changed := assign_changes(row, fields):
            row.save(update_fields=changed)
            counts.updated += 1
    if existing:
        model.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
        counts.removed += len(existing)


def import_guides(directory: Path = CONTENT_DIR, *, prune: bool = False) -> ImportReport:
    """Create or update Guide, GuideStep and GuideMetric rows to match the files (``prune`` deletes the rest)."""
    specs = read_guides(directory)
    base = directory.resolve()
    report = ImportReport(columns=Counts())  # columns: steps and glossary entries
    with transaction.atomic():
        guides = {guide.slug: guide for guide in Guide.objects.select_for_update()}
        for spec in specs:
            values = _guide_values(spec, base)
            guide = guides.pop(spec.slug, None)
            if guide is None:
                guide = Guide.objects.create(slug=spec.slug, **values)
                report.items.created += 1
            elif changed := assign_changes(guide, values):
                guide.save(update_fields=[*changed, "updated_at"])
                report.items.updated += 1
            steps = {step.number: _step_values(step) for step in spec.steps}
            _sync(GuideStep, guide, "number", steps, report.columns)
            terms = {term: {"definition": text, "position": i} for i, (term, text) in enumerate(spec.glossary)}
            _sync(GuideMetric, guide, "term", terms, report.columns)
        report.stale = sorted(guides)
        if prune and guides:
            Guide.objects.filter(pk__in=[guide.pk for guide in guides.values()]).delete()
            report.items.removed += len(guides)
            report.stale = []
    return report
