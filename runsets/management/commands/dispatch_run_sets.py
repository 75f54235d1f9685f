"""Run the run-set queue from the shell: once, or every --interval seconds until stopped.

Safe beside the django-q2 workers and other copies of itself: cells are claimed with SKIP LOCKED under a
per-instance advisory lock, and a cell with a live execution is never started again.
"""

from recomamp.cycle_command import CycleCommand
from runsets.dispatch import run_cycle


class Command(CycleCommand):
    help = "Start due run-set cells within each instance's budget (every --interval seconds, or once with --once)."
    what = "run-set cycle"

    def cycle(self) -> dict:
        return run_cycle()
