"""Run the schedule dispatcher from the shell: once, or every minute until stopped.

Safe beside the django-q2 workers and other copies of itself: claims use SKIP LOCKED and the unique slot fence.
"""

from recomamp.cycle_command import CycleCommand
from schedules.services import run_scheduler_cycle


class Command(CycleCommand):
    help = "Claim and submit due schedule slots (every --interval seconds, or once with --once)."
    what = "dispatch cycle"

    def cycle(self) -> dict:
        return run_scheduler_cycle()
