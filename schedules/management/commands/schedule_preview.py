"""Print the next slots of a cron expression in a time zone, to check a schedule before saving it."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from recomamp.bounds import date_problem
from schedules import timing
from schedules.timing import ScheduleTimingError

MAX_COUNT = 1000


def parse_instant(text: str) -> datetime:
    """An ISO-8601 date or date-time; a value without an offset is taken as UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--from: '{text}' is not an ISO-8601 date or time (e.g. 2026-03-08T00:00:00Z).") from None
    if date_problem(value):
        raise CommandError(f"--from: {date_problem(value)}")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def format_slot(slot: datetime, tz: str) -> str:
    """'2026-03-08T07:00:00Z  2026-03-08T03:00:00-04:00 (EDT)': the UTC instant, then local time."""
    local = slot.astimezone(timing.get_zone(tz))
    return f"{slot.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}  {local.isoformat()} ({local.tzname()})"


class Command(BaseCommand):
    help = "List the next run times of a cron expression in an IANA time zone (UTC first, then local time)."

    def add_arguments(self, parser):
        parser.add_argument("--cron", required=True, help='Five-field cron expression, e.g. "0 6 * * *".')
        parser.add_argument("--tz", required=True, help="IANA time zone, e.g. Europe/London.")
        parser.add_argument("--from", dest="start", help="List slots after this ISO-8601 instant (default: now).")
        parser.add_argument("--count", type=int, default=10, help=f"How many slots, 1-{MAX_COUNT} (default 10).")

    def handle(self, *args, cron: str, tz: str, start: str | None, count: int, **options):
        if not 1 <= count <= MAX_COUNT:
            raise CommandError(f"--count must be between 1 and {MAX_COUNT}.")
        after = parse_instant(start) if start else datetime.now(UTC)
        try:
            timing.validate_cron(cron, tz)
            slots = timing.upcoming(cron, tz, after, count)
        except ScheduleTimingError as err:
            raise CommandError(err.message) from None
        for slot in slots:
            self.stdout.write(format_slot(slot, tz))
