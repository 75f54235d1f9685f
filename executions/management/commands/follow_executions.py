"""Follow executions from the shell (polling, result fetching, recovery) every few seconds until stopped.

The django-q2 cluster does the same every minute (`follow-executions`); this command is for operators and the
worker tests. Safe beside workers: every step claims its rows.
"""

import logging
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from executions.following import follow_executions

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Poll AMC for running executions, fetch results and repair stuck submissions."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true")
        parser.add_argument("--interval", type=float, default=5.0)

    def handle(self, once, interval, **options):
        while True:
            close_old_connections()
            try:
                summary = follow_executions()
            except Exception:
                if once:
                    raise
                log.exception("follow cycle failed; retrying in %s s", interval)
            else:
                if any(summary.values()):
                    self.stdout.write(" ".join(f"{key}={value}" for key, value in summary.items()))
                    self.stdout.flush()
            if once:
                return
            time.sleep(interval)
