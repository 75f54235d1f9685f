"""Benchmark importing 100,000 ASINs into a brand (`brands.imports`): time and memory, against its ceilings.

Run from the repository root:  .venv/bin/python bench/bench_brand_import.py [--quick] [--sizes 1000,10000,100000]

Steps are timed separately: decoding + CSV parsing + validation (`imports.parse`), then the upsert
(`imports.apply`, batched INSERT … ON CONFLICT DO UPDATE), first into an empty brand and again as a re-import
where every row is an update. The ceilings are measured in the same run on the same rows: `csv.reader` alone
(the parse ceiling) and PostgreSQL `COPY` into a table of the same shape (the write ceiling).
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Measure, cli, fresh_database, heading, machine, sizes_for, stopwatch  # noqa: E402

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


def asin_file(rows: int) -> bytes:
    """A deterministic Excel-style export: BOM, quoted titles with commas."""
    lines = ["asin,title,marketplace"]
    for i in range(rows):
        code, n = [], i
        for _ in range(8):
            n, r = divmod(n, len(ALPHABET))
            code.append(ALPHABET[r])
        lines.append(f'B0{"".join(code)},"Product {i}, size {i % 7}",ATVPDKIKX0DER')
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


SIZES = {"quick": [1_000, 10_000, 100_000], "full": [1_000, 10_000, 100_000]}


def run(sizes: list[int] | None = None, quick: bool = False) -> list[Measure]:
    measures = []
    with fresh_database("brand_import"):
        from accounts.models import User

        user = User.objects.create_user(email="bench-brands@example.com")
        heading(f"Importing ASINs into a brand — {machine()}")
        for rows in sizes_for(SIZES, sizes, quick):
            measures += import_once(user, rows)
    return measures


def import_once(user, rows: int) -> list[Measure]:
    """Parse, upsert and re-import `rows` ASINs into a new brand, each step beside its ceiling."""
    from django.db import connection

    from brands import imports
    from brands.models import Brand

    brand = Brand.objects.create(owner=user, name=f"Bench {rows}")
    data = asin_file(rows)
    with stopwatch() as csv_only:
        parsed_rows = sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    with stopwatch() as parse_time:
        parsed = imports.parse(imports.decode(data), filename="bench.csv", kind="asins", user=user)
    assert parsed.ok and len(parsed.rows) == rows == parsed_rows - 1
    with stopwatch() as first_apply:
        outcome = imports.apply(brand, parsed)
    assert outcome.created == rows
    with stopwatch() as again:
        outcome = imports.apply(brand, imports.parse(imports.decode(data), filename="b", kind="asins"))
    assert outcome.updated == rows and brand.asins.count() == rows

    with connection.cursor() as cursor, stopwatch() as copy_time:
        cursor.execute("CREATE TEMP TABLE copy_ceiling (LIKE brands_brandasin INCLUDING ALL)")
        with cursor.copy("COPY copy_ceiling (brand_id, asin, title, marketplace, created_at) FROM STDIN") as copy:
            for row in parsed.rows:
                copy.write_row((brand.pk, row["asin"], row["title"], row["marketplace"], "2026-01-01"))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE copy_ceiling")
    print(f"{rows:,} ASINs ({len(data) / 2**20:.1f} MiB): csv.reader {csv_only():.3f} s, parse {parse_time():.3f} s, "
          f"COPY {copy_time():.3f} s, upsert {first_apply():.3f} s, re-import {again():.3f} s")  # fmt: skip
    return [
        Measure.of("brand import: parse + validate vs csv.reader", parse_time(), csv_only(), "s", rows),
        Measure.of("brand import: upsert vs COPY", first_apply(), copy_time(), "s", rows),
        Measure.of(
            "brand re-import: parse + upsert vs csv.reader + COPY", again(), csv_only() + copy_time(), "s", rows
        ),
    ]


if __name__ == "__main__":
    cli(run, SIZES, __doc__.splitlines()[0])
