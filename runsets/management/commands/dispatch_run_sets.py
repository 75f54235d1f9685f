"""Run the run-set queue from the shell: once, or every --interval seconds until stopped.

Safe beside the django-q2 workers and other copies of itself: cells are claimed with SKIP LOCKED under a
per-instance advisory lock, and a cell with a live execution is never started again.
"""

import logging
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from runsets.dispatch import run_cycle

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Start due run-set cells within each instance's budget (every --interval seconds, or once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one cycle and exit")
        parser.add_argument("--interval", type=float, default=60.0)

    def handle(self, once, interval, **options):
        while True:
            close_old_connections()
            try:
                summary = run_cycle()
            except Exception:
                if once:
                    raise
                log.exception("run-set cycle failed; retrying in %s s", interval)
            else:
                self.stdout.write(" ".join(f"{key}={value}" for key, value in summary.items()), ending="\n")
                self.stdout.flush()
            if once:
                return
            time.sleep(interval)
