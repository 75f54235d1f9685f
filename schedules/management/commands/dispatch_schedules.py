"""Run the schedule dispatcher from the shell: once, or every minute until stopped.

Safe beside the django-q2 workers and other copies of itself: claims use SKIP LOCKED and the unique slot fence.
"""

import logging
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from schedules.services import run_scheduler_cycle

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Claim and submit due schedule slots (every --interval seconds, or once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one cycle and exit")
        parser.add_argument("--interval", type=float, default=60.0)

    def handle(self, once, interval, **options):
        while True:
            close_old_connections()  # a connection the server dropped is replaced before the next cycle
            try:
                summary = run_scheduler_cycle()
            except Exception:
                if once:
                    raise
                log.exception("dispatch cycle failed; retrying in %s s", interval)
            else:
                self.stdout.write(" ".join(f"{key}={value}" for key, value in summary.items()), ending="\n")
                self.stdout.flush()
            if once:
                return
            time.sleep(interval)
