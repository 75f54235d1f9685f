"""Write the sandbox's synthetic AMC dataset (DuckDB) to SANDBOX_DATA_PATH, or to --path."""

from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Generate the synthetic AMC data the sandbox runs queries on (replaces the existing file)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="Data size; 1.0 is the full demo dataset.")
        parser.add_argument("--seed", type=int, default=42, help="Same seed, same data.")
        parser.add_argument("--months", type=int, default=13, help="Months of history (AMC keeps 13).")
        parser.add_argument("--end-date", type=date.fromisoformat, default=None, help="Last day (default: today).")
        parser.add_argument("--path", type=Path, default=None, help="Output file (default: SANDBOX_DATA_PATH).")

    def handle(self, *args, scale, seed, months, end_date, path, **options):
        from recomamp.sandbox.engine import generate

        if scale <= 0:
            raise CommandError("--scale must be greater than 0")
        target = path or Path(settings.SANDBOX_DATA_PATH)
        self.stdout.write(f"Generating sandbox data (scale {scale}, seed {seed}) into {target} ...")
        stats = generate(target, scale=scale, seed=seed, end_date=end_date, months=months)
        rows = sum(stats.row_counts.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {rows:,} rows in {len(stats.row_counts)} tables, {stats.start_date} to {stats.end_date}, "
                f"in {stats.seconds:.1f}s."
            )
        )
