"""Start a run set from the shell: one query over many windows and instances, optionally waiting for it.

    manage.py backfill --user a@b.c --workflow wf_1234abcd --instance amc1 --instance amc2 \
        --every week --from 2025-10-01 --to 2025-12-31 --param device=Phone --wait

Exits non-zero when a cell failed (with --wait). --drive also runs the dispatcher and the execution follower in
this process, for machines without a worker; it is safe beside running workers (every step claims its rows).
"""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from accounts.models import User
from instances.models import AMCInstance
from queries.models import Workflow
from runsets import dispatch, engine, services, windows
from runsets.forms import parse_parameters
from runsets.models import Cell, RunSet

PERIODS = {"day": "day", "week": "week", "month": "month"}


class Command(BaseCommand):
    help = "Run a saved query for every day, week or month between two dates, on one or more instances."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="owner's e-mail")
        parser.add_argument("--workflow", required=True, help="wf_… id or exact name of a saved query")
        parser.add_argument("--instance", action="append", required=True, help="AMC instance id (repeatable)")
        parser.add_argument("--every", choices=sorted(PERIODS), default="week")
        parser.add_argument("--from", dest="start", type=date.fromisoformat, help="first day (YYYY-MM-DD)")
        parser.add_argument("--to", dest="end", type=date.fromisoformat, help="last day (YYYY-MM-DD)")
        parser.add_argument("--last", type=int, help="instead of --from/--to: the last N complete periods")
        parser.add_argument("--tz", default="UTC")
        parser.add_argument("--lag", type=int, default=2, help="data lag in days (AMC's SLA is 2)")
        parser.add_argument("--param", action="append", default=[], help="k=v (repeatable)")
        parser.add_argument("--max-in-flight", type=int, default=engine.quotas.CONCURRENT_PER_INSTANCE)
        parser.add_argument("--oldest-first", action="store_true")
        parser.add_argument("--wait", action="store_true", help="print progress until every cell is final")
        parser.add_argument("--drive", action="store_true", help="with --wait: dispatch and follow in-process")
        parser.add_argument("--interval", type=float, default=5.0)

    def handle(self, **o):
        user = User.objects.filter(email__iexact=o["user"]).first()
        if user is None:
            raise CommandError(f"No user {o['user']}.")
        workflow = Workflow.objects.filter(owner=user, workflow_id=o["workflow"]).first() or (
            Workflow.objects.filter(owner=user, name=o["workflow"]).first()
        )
        if workflow is None:
            raise CommandError(f"{user.email} has no query {o['workflow']}.")
        instances = []
        for instance_id in o["instance"]:
            instance = AMCInstance.objects.filter(owner=user, instance_id=instance_id).first()
            if instance is None:
                raise CommandError(f"{user.email} has no instance {instance_id}.")
            instances.append(instance)
        try:
            planned = windows.generate(
                period=PERIODS[o["every"]], tz=o["tz"], today=timezone.localdate(), lag_days=o["lag"],
                start=o["start"], end=o["end"], last=o["last"],
            )  # fmt: skip
            run_set = services.create_run_set(
                owner=user, workflow=workflow, instances=instances, planned=planned, period=PERIODS[o["every"]],
                tz=o["tz"], lag_days=o["lag"], parameters=parse_parameters("\n".join(o["param"])),
                max_in_flight=o["max_in_flight"],
                order=RunSet.Order.OLDEST_FIRST if o["oldest_first"] else RunSet.Order.NEWEST_FIRST,
            )  # fmt: skip
        except (windows.WindowError, services.RunSetError) as exc:
            raise CommandError(str(exc)) from None
        except Exception as exc:  # a ValidationError from parse_parameters
            if type(exc).__name__ == "ValidationError":
                raise CommandError("; ".join(exc.messages)) from None
            raise
        self.stdout.write(
            f"{run_set.run_set_id}: {run_set.cells.count()} cells ({len(planned)} windows × {len(instances)} instances)"
        )
        if o["wait"]:
            self._wait(run_set, o["drive"], o["interval"])

    def _wait(self, run_set: RunSet, drive: bool, interval: float) -> None:
        last_line = ""
        while True:
            close_old_connections()
            if drive:
                dispatch.run_cycle()
                engine.follow_once()
            run_set.refresh_from_db()
            progress = services.progress(run_set)
            line = f"{progress.done}/{progress.total} final " + " ".join(
                f"{state}={n}" for state, n in sorted(progress.counts.items())
            )
            if line != last_line:
                self.stdout.write(line)
                self.stdout.flush()
                last_line = line
            if run_set.status != RunSet.Status.RUNNING and not progress.counts.get(Cell.Status.SUBMITTED):
                break
            time.sleep(0 if drive and interval <= 0 else interval)
        failed = progress.counts.get(Cell.Status.FAILED, 0)
        for cell in run_set.cells.filter(status=Cell.Status.FAILED).select_related("instance")[:20]:
            self.stderr.write(f"failed {cell.instance.instance_id} {cell.first_day}: {cell.error}")
        if failed or run_set.status == RunSet.Status.CANCELLED:
            raise CommandError(f"{failed} of {progress.total} cells failed.")
        self.stdout.write(f"done: {progress.counts.get(Cell.Status.SUCCEEDED, 0)} cells succeeded")
