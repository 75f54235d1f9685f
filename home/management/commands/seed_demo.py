"""Create the demo user, catalog, sandbox connection, instances and queries. Safe to run repeatedly."""

from django.core.management.base import BaseCommand

from home.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create or refresh the demo user and demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--sandbox-scale", type=float, default=1.0, help="size of generated sandbox data (1.0 ≈ 1M impressions)"
        )

    def handle(self, sandbox_scale, **options):
        for line in seed_demo(sandbox_scale=sandbox_scale):
            self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}"))
