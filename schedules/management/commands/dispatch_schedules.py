"""Run the schedule dispatcher from the shell: once, or every minute until stopped.

Safe beside the django-q2 workers and other copies of itself: claims use SKIP LOCKED and the unique slot fence.
"""

import time

from django.core.management.base import BaseCommand

from schedules.services import run_scheduler_cycle


class Command(BaseCommand):
    help = "Claim and submit due schedule slots (every --interval seconds, or once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one cycle and exit")
        parser.add_argument("--interval", type=float, default=60.0)

    def handle(self, once, interval, **options):
        while True:
            summary = run_scheduler_cycle()
            self.stdout.write(" ".join(f"{key}={value}" for key, value in summary.items()))
            if once:
                return
            time.sleep(interval)
