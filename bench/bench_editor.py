"""Benchmark the SQL editor page's server time against a bare authenticated page, at three catalog sizes.

Run from the repository root:  .venv/bin/python bench/bench_editor.py [--quick] [--runs 30]

The catalog is AMC's (`import_amc_schemas`), then cut to a tenth of its tables or copied ten times (tables
renamed), so the sizes are 0.1×, 1× and 10× the full catalog. Each page is requested in-process with Django's
test `Client` (logged in with `force_login`) with a library-sized query in the editor, so the time is the
server's: middleware, catalog, validation, template. Ceiling: a bare authenticated page (bench/bare_page.py:
base.html through every middleware) in the same run; the target is the editor at ≤ 15 ms.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    Measure,  # noqa: E402
    Table,
    fresh_database,
    heading,
    machine,
    median_ms,
)

SIZES = {"quick": [0.1, 1, 10], "full": [0.1, 1, 10]}  # × the full AMC catalog
SQL = """SELECT campaign, COUNT(DISTINCT user_id) AS reach, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE campaign_id_string IN ('1', '2')
GROUP BY campaign"""


def catalog_at(factor: float, originals: list) -> int:
    """Replace the catalog with `factor` × the full one; returns its number of columns."""
    from queries.catalog import invalidate_catalog
    from queries.models import DataSource, SchemaField

    DataSource.objects.all().delete()
    copies = max(1, int(factor))
    chosen = originals[: max(1, round(len(originals) * factor))] if factor < 1 else originals
    for copy in range(copies):
        for source, fields in chosen:
            suffix = "" if copy == 0 else f"_copy{copy}"
            clone = DataSource.objects.create(
                **{**source, "schema_id": source["schema_id"] + suffix, "table_name": source["table_name"] + suffix}
            )
            SchemaField.objects.bulk_create(SchemaField(**{**f, "data_source": clone}) for f in fields)
    invalidate_catalog()
    return SchemaField.objects.count()


def snapshot() -> list:
    from queries.models import DataSource

    keep = ("schema_id", "name", "table_name", "category", "description", "data_availability", "tags", "examples")
    result = []
    for source in DataSource.objects.prefetch_related("fields"):
        fields = [
            {k: getattr(f, k) for k in ("name", "data_type", "kind", "threshold", "description", "position")}
            for f in source.fields.all()
        ]
        result.append(({k: getattr(source, k) for k in keep}, fields))
    return result


def run(sizes: list[float] | None = None, quick: bool = False, runs: int | None = None) -> list[Measure]:
    runs = runs or (10 if quick else 30)
    with fresh_database("editor"):
        from bare_page import BARE_URL
        from django.core.management import call_command
        from django.test import Client
        from django.test.utils import override_settings

        from accounts.models import User

        heading(f"Editor page ({machine()})")
        call_command("import_amc_schemas", verbosity=0)
        originals = snapshot()
        client = Client()
        client.force_login(User.objects.create_user(email="bench-editor@example.com"))
        table = Table("catalog", "columns", "editor ms (median)", "bare page ms (ceiling)", "ratio", "first ms")
        results = []
        for factor in sorted(sizes or SIZES["quick" if quick else "full"]):
            columns = catalog_at(factor, originals)
            first, response = median_ms(lambda: client.get("/queries/editor/", {"sql": SQL}), 1, warmup=0)
            assert response.status_code == 200, response.status_code  # a sanity check of the setup
            editor, _ = median_ms(lambda: client.get("/queries/editor/", {"sql": SQL}), runs)
            with override_settings(ROOT_URLCONF="bare_page"):
                bare, _ = median_ms(lambda: client.get(BARE_URL), runs)
            measure = Measure.of("editor page server time", editor, bare, "ms", columns)
            results.append(measure)
            table.row(f"{factor}×", f"{columns:,}", f"{editor:.1f}", f"{bare:.1f}", f"{measure.ratio}×", f"{first:.1f}")
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int)
    parser.add_argument("--quick", action="store_true", help="10 requests per size")
    parser.add_argument("--json", help="write the measures to this file")
    args = parser.parse_args()
    results = run(quick=args.quick, runs=args.runs)
    if args.json:
        Path(args.json).write_text(json.dumps([m.as_dict() for m in results], indent=1))


if __name__ == "__main__":
    main()
