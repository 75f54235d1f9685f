"""Follow executions from the shell (polling, result fetching, recovery) every few seconds until stopped.

The django-q2 cluster does the same every minute (`follow-executions`); this command is for operators and the
worker tests. Safe beside workers: every step claims its rows.
"""

from executions.following import follow_executions
from recomamp.cycle_command import CycleCommand


class Command(CycleCommand):
    help = "Poll AMC for running executions, fetch results and repair stuck submissions."
    default_interval = 5.0
    what = "follow cycle"
    quiet_when_idle = True

    def cycle(self) -> dict:
        return follow_executions()
