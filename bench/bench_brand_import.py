"""Benchmark importing 100,000 ASINs into a brand (`brands.imports`): time and memory, against its ceilings.

Run from the repository root:  .venv/bin/python bench/bench_brand_import.py [--rows 100000]

Steps are timed separately: decoding + CSV parsing + validation (`imports.parse`), then the upsert
(`imports.apply`, batched INSERT … ON CONFLICT DO UPDATE), first into an empty brand and again as a re-import
where every row is an update. The ceilings are measured in the same run on the same rows: `csv.reader` alone
(the parse ceiling) and PostgreSQL `COPY` into a table of the same shape (the write ceiling).
"""

from __future__ import annotations

import argparse
import csv
import io
import resource
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Table, fresh_database, heading, machine, stopwatch  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with fresh_database("brand_import"):
        from django.db import connection

        from accounts.models import User
        from brands import imports
        from brands.models import Brand

        user = User.objects.create_user(email="bench-brands@example.com")
        brand = Brand.objects.create(owner=user, name="Bench")
        data = asin_file(args.rows)
        heading(f"Importing {args.rows:,} ASINs ({len(data) / 2**20:.1f} MiB CSV) — {machine()}")
        table = Table("step", "seconds", "rows/s", "ratio to its ceiling")

        with stopwatch() as csv_only:
            parsed_rows = sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        with stopwatch() as parse_time:
            parsed = imports.parse(imports.decode(data), filename="bench.csv", kind="asins", user=user)
        assert parsed.ok and len(parsed.rows) == args.rows == parsed_rows - 1
        with stopwatch() as first_apply:
            outcome = imports.apply(brand, parsed)
        assert outcome.created == args.rows
        with stopwatch() as again:
            outcome = imports.apply(brand, imports.parse(imports.decode(data), filename="b", kind="asins"))
        assert outcome.updated == args.rows and brand.asins.count() == args.rows

        with connection.cursor() as cursor, stopwatch() as copy_time:
            cursor.execute("CREATE TEMP TABLE copy_ceiling (LIKE brands_brandasin INCLUDING ALL)")
            with cursor.copy("COPY copy_ceiling (brand_id, asin, title, marketplace, created_at) FROM STDIN") as copy:
                for row in parsed.rows:
                    copy.write_row((brand.pk, row["asin"], row["title"], row["marketplace"], "2026-01-01"))

        def rate(seconds: float) -> str:
            return f"{args.rows / seconds:,.0f}"

        table.row("csv.reader alone (parse ceiling)", f"{csv_only():.2f}", rate(csv_only()), "—")
        table.row("parse + validate (`imports.parse`)", f"{parse_time():.2f}", rate(parse_time()),
                  f"{parse_time() / csv_only():.1f}×")  # fmt: skip
        table.row("PostgreSQL COPY of the same rows (write ceiling)", f"{copy_time():.2f}", rate(copy_time()), "—")
        table.row("upsert into an empty brand (`imports.apply`)", f"{first_apply():.2f}", rate(first_apply()),
                  f"{first_apply() / copy_time():.1f}×")  # fmt: skip
        table.row("re-import: parse + upsert, every row an update", f"{again():.2f}", rate(again()),
                  f"{again() / (csv_only() + copy_time()):.1f}× (csv + COPY)")  # fmt: skip

        brand.asins.all().delete()
        tracemalloc.start()
        imports.apply(brand, imports.parse(imports.decode(data), filename="b", kind="asins"))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\nPeak Python memory of one full import (tracemalloc): {peak / 2**20:.0f} MiB; "
              f"process peak RSS: {rss:.0f} MiB.")  # fmt: skip


if __name__ == "__main__":
    main()
