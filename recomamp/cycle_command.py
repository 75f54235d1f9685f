"""The shape shared by the worker loops run from the shell (dispatch_schedules, follow_executions,
dispatch_run_sets): one cycle, or one every --interval seconds until stopped, surviving a failed cycle."""

import logging
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

log = logging.getLogger(__name__)


class CycleCommand(BaseCommand):
    default_interval = 60.0
    what = "cycle"  # named in the log when a cycle fails
    quiet_when_idle = False  # print nothing for a cycle that did nothing

    def cycle(self) -> dict:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one cycle and exit")
        parser.add_argument("--interval", type=float, default=self.default_interval)

    def handle(self, once, interval, **options):
        while True:
            close_old_connections()  # a connection the server dropped is replaced before the next cycle
            try:
                summary = self.cycle()
            except Exception:
                if once:
                    raise
                log.exception("%s failed; retrying in %s s", self.what, interval)
            else:
                if any(summary.values()) or not self.quiet_when_idle:
                    self.stdout.write(" ".join(f"{key}={value}" for key, value in summary.items()), ending="\n")
                    self.stdout.flush()
            if once:
                return
            time.sleep(interval)
