"""Run one query on AMC from the shell, through the same path as the web app (executions.services)."""

import shutil
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from executions import following, services
from executions.models import Execution
from instances.models import AMCInstance
from queries.models import Workflow
from recomamp.bounds import check_date


def _parse_day_or_instant(value: str, zone: ZoneInfo, *, end: bool) -> datetime:
    try:
        parsed = check_date(datetime.fromisoformat(value))
    except ValueError as exc:
        reason = exc if str(exc).startswith("Choose") else "use 2026-01-31 or 2026-01-31T06:00"
        raise CommandError(f"not a usable date or date-time: {value!r} ({reason})") from None
    if len(value) == 10 and end:  # a bare end date means "through the end of that day"
        parsed += timedelta(days=1)
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed


class Command(BaseCommand):
    help = "Run a query on an AMC instance; with --wait, follow it to the end and optionally save the result."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, metavar="EMAIL")
        parser.add_argument("--instance", required=True, metavar="INSTANCE_ID", help="AMC's instance id")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--sql-file", metavar="F")
        source.add_argument("--workflow", metavar="WF_ID")
        parser.add_argument("--start", help="first day (or instant) of the window")
        parser.add_argument("--end", help="last day (inclusive) or end instant of the window")
        parser.add_argument("--tz", default=None, help="zone of --start/--end (default: instance's, else user's)")
        parser.add_argument("--window-type", default="EXPLICIT", choices=["EXPLICIT", *services.RELATIVE_WINDOWS])
        parser.add_argument("--param", action="append", default=[], metavar="K=V")
        parser.add_argument("--timeout", type=int, default=None, help="AMC timeout in seconds (900-86400)")
        parser.add_argument("--wait", action="store_true", help="follow the execution until it finishes")
        parser.add_argument("--poll-seconds", type=float, default=2.0)
        parser.add_argument("--output", metavar="FILE", help="with --wait: write the result CSV here")

    def handle(self, **opts):
        owner = User.objects.filter(email__iexact=opts["user"]).first()
        if owner is None:
            raise CommandError(f"no user with e-mail {opts['user']}")
        instance = (
            AMCInstance.objects.filter(owner=owner, instance_id=opts["instance"]).select_related("account").first()
        )
        if instance is None:
            raise CommandError(f"{opts['user']} has no AMC instance {opts['instance']} (run sync_instances first)")
        workflow, sql = None, None
        if opts["workflow"]:
            workflow = Workflow.objects.filter(owner=owner, workflow_id=opts["workflow"]).first()
            if workflow is None:
                raise CommandError(f"{opts['user']} has no saved query {opts['workflow']}")
        else:
            try:
                with open(opts["sql_file"], encoding="utf-8") as handle:
                    sql = handle.read()
            except OSError as exc:
                raise CommandError(f"cannot read {opts['sql_file']}: {exc.strerror}") from None
            except UnicodeDecodeError:
                raise CommandError(f"cannot read {opts['sql_file']}: it is not UTF-8 text") from None
        try:
            execution = services.start_execution(
                owner=owner,
                instance=instance,
                window=self._window(opts, owner, instance),
                workflow=workflow,
                sql=sql,
                parameters=self._params(opts["param"]),
                timeout_seconds=opts["timeout"],
                submit=False,
            )
        except services.ExecutionInputError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{execution.execution_id} created")
        following.advance(execution.pk)
        if not opts["wait"]:
            execution.refresh_from_db()
            self.stdout.write(f"{execution.execution_id} {execution.status}")
            return
        self._follow(execution, opts)

    def _window(self, opts, owner, instance=None) -> services.WindowSpec:
        tz = opts["tz"] or (instance and instance.timezone) or owner.timezone  # the instance's reporting zone
        try:
            zone = ZoneInfo(tz)
        except Exception:
            raise CommandError(f"unknown time zone {tz!r}") from None
        if opts["window_type"] != "EXPLICIT":
            return services.WindowSpec(opts["window_type"], timezone=tz)
        if not (opts["start"] and opts["end"]):
            raise CommandError("--start and --end are required for an explicit window")
        start = _parse_day_or_instant(opts["start"], zone, end=False)
        end = _parse_day_or_instant(opts["end"], zone, end=True)
        return services.WindowSpec("EXPLICIT", start, end, tz)

    @staticmethod
    def _params(pairs) -> dict:
        values = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise CommandError(f"--param needs NAME=VALUE, got {pair!r}")
            values[key.strip()] = value
        return values

    def _follow(self, execution: Execution, opts) -> None:
        last = None
        while True:
            execution.refresh_from_db()
            if execution.status != last:
                self.stdout.write(f"{execution.execution_id} {execution.status}")
                last = execution.status
            if not execution.is_active:
                break
            time.sleep(opts["poll_seconds"])
            following.advance(execution.pk)
        if execution.status != Execution.Status.SUCCEEDED:
            where = f" (line {execution.error_line}, column {execution.error_column})" if execution.error_line else ""
            raise CommandError(f"{execution.execution_id} {execution.status}: {execution.error_message}{where}")
        result = execution.result
        self.stdout.write(f"{result.row_count} rows")
        if opts["output"]:
            with result.file.open("rb") as source, open(opts["output"], "wb") as target:
                shutil.copyfileobj(source, target)
            self.stdout.write(f"result written to {opts['output']}")
