"""Create the demo user (and, through the demo hooks of each app, its demo data). Safe to run repeatedly."""

from django.core.management.base import BaseCommand

from accounts.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create or refresh the demo user and demo data (idempotent)."

    def handle(self, **options):
        report = seed_demo()
        for line in report:
            self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}"))
