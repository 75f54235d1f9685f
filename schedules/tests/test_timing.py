"""Cron evaluation in zones, the DST policy, validation, descriptions and the schedule_preview command.

Transitions used (all real, 2026):
  America/New_York  spring 03-08 02:00 EST -> 03:00 EDT   fall 11-01 02:00 EDT -> 01:00 EST
  Europe/London     spring 03-29 01:00 GMT -> 02:00 BST   fall 10-25 02:00 BST -> 01:00 GMT
  Australia/Sydney  spring 10-04 02:00 AEST -> 03:00 AEDT fall 04-05 03:00 AEDT -> 02:00 AEST
  Europe/Riga       fall 10-25 04:00 EEST -> 03:00 EET
"""

from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from django.core.management import CommandError, call_command

from schedules import timing
from schedules.management.commands.schedule_preview import format_slot, parse_instant
from schedules.timing import ScheduleTimingError


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local(slot: datetime, tz: str) -> datetime:
    return slot.astimezone(ZoneInfo(tz))


def slots_on_local_day(cron: str, tz: str, day: date) -> list[datetime]:
    """All slots whose local date is `day`."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(tz)).astimezone(UTC)
    slots = timing.slots_between(cron, tz, start - timedelta(hours=3), start + timedelta(hours=30), limit=5000)
    return [slot for slot in slots if local(slot, tz).date() == day]


# --- plain evaluation ---------------------------------------------------------------------------------


def test_daily_time_is_evaluated_in_the_schedules_zone():
    slot = timing.next_cron_slot("0 6 * * *", "Asia/Kolkata", utc(2026, 1, 10, 12))
    assert slot == utc(2026, 1, 11, 0, 30)  # 06:00 IST is 00:30 UTC
    assert slot.tzinfo is UTC


def test_next_run_is_strictly_after_the_given_instant():
    slot = utc(2026, 1, 10, 6)
    assert timing.next_cron_slot("0 6 * * *", "UTC", slot) == slot + timedelta(days=1)
    assert timing.next_cron_slot("0 6 * * *", "UTC", slot - timedelta(microseconds=1)) == slot


def test_local_date_decides_the_weekday():
    # Monday 09:00 in Sydney is still Sunday in UTC.
    slot = timing.next_cron_slot("0 9 * * 1", "Australia/Sydney", utc(2026, 6, 1))
    assert slot == utc(2026, 6, 7, 23)
    assert local(slot, "Australia/Sydney").weekday() == 0


def test_naive_after_is_refused():
    with pytest.raises(ValueError, match="aware"):
        timing.next_cron_slot("0 6 * * *", "UTC", datetime(2026, 1, 1))


def test_upcoming_returns_consecutive_distinct_slots():
    slots = timing.upcoming("0 6 * * 1-5", "Europe/London", utc(2026, 1, 2, 12), 5)  # a Friday
    assert [local(slot, "Europe/London").date() for slot in slots] == [
        date(2026, 1, 5),
        date(2026, 1, 6),
        date(2026, 1, 7),
        date(2026, 1, 8),
        date(2026, 1, 9),
    ]


def test_slots_between_includes_both_bounds_and_respects_the_limit():
    start, end = utc(2026, 1, 1, 6), utc(2026, 1, 4, 6)
    slots = timing.slots_between("0 6 * * *", "UTC", start, end)
    assert slots[0] == start and slots[-1] == end and len(slots) == 4
    assert timing.slots_between("0 6 * * *", "UTC", start, end, limit=2) == slots[:2]
    assert timing.slots_between("0 6 * * *", "UTC", start + timedelta(minutes=1), end - timedelta(minutes=1)) == [
        utc(2026, 1, 2, 6),
        utc(2026, 1, 3, 6),
    ]


# --- DST: fixed daily times ---------------------------------------------------------------------------

SPRING_FORWARD = [
    # zone, cron whose time is skipped, transition day, expected UTC instant (first valid local instant)
    ("America/New_York", "30 2 * * *", date(2026, 3, 8), utc(2026, 3, 8, 7)),  # 03:00 EDT
    ("Europe/London", "30 1 * * *", date(2026, 3, 29), utc(2026, 3, 29, 1)),  # 02:00 BST
    ("Australia/Sydney", "30 2 * * *", date(2026, 10, 4), utc(2026, 10, 3, 16)),  # 03:00 AEDT
]

FALL_BACK = [
    # zone, cron whose time occurs twice, transition day, expected UTC instant (first occurrence)
    ("America/New_York", "30 1 * * *", date(2026, 11, 1), utc(2026, 11, 1, 5, 30)),  # 01:30 EDT
    ("Europe/London", "30 1 * * *", date(2026, 10, 25), utc(2026, 10, 25, 0, 30)),  # 01:30 BST
    ("Australia/Sydney", "30 2 * * *", date(2026, 4, 5), utc(2026, 4, 4, 15, 30)),  # 02:30 AEDT
    ("Europe/Riga", "30 3 * * *", date(2026, 10, 25), utc(2026, 10, 25, 0, 30)),  # 03:30 EEST
]


@pytest.mark.parametrize(("tz", "cron", "day", "expected"), SPRING_FORWARD + FALL_BACK)
def test_daily_time_fires_exactly_once_per_day_across_a_transition(tz, cron, day, expected):
    start = datetime.combine(day - timedelta(days=2), datetime.min.time(), tzinfo=ZoneInfo(tz))
    slots = timing.upcoming(cron, tz, start, 6)
    local_days = [local(slot, tz).date() for slot in slots]
    assert local_days == [day - timedelta(days=2) + timedelta(days=offset) for offset in range(6)]
    assert expected in slots
    assert slots_on_local_day(cron, tz, day) == [expected]


@pytest.mark.parametrize(("tz", "cron", "day", "expected"), SPRING_FORWARD)
def test_skipped_time_fires_at_the_end_of_the_gap(tz, cron, day, expected):
    fired = local(expected, tz)
    wanted_minute = int(cron.split()[0])
    # The reading does not exist that day, so the slot is the first valid time: on the hour, after it.
    assert fired.minute == 0 and fired.hour == int(cron.split()[1]) + 1
    assert local(expected - timedelta(seconds=1), tz).hour == fired.hour - 2  # the hour before was skipped
    # The day after, the normal time is back.
    next_day = timing.next_cron_slot(cron, tz, expected)
    assert (local(next_day, tz).hour, local(next_day, tz).minute) == (int(cron.split()[1]), wanted_minute)


@pytest.mark.parametrize(("tz", "cron", "day", "expected"), FALL_BACK)
def test_repeated_time_fires_at_its_first_occurrence_only(tz, cron, day, expected):
    assert local(expected, tz).fold == 0
    # Asking from between the two occurrences moves on to the next day, not to the second occurrence.
    second_occurrence = expected + timedelta(hours=1)
    assert local(second_occurrence, tz).replace(tzinfo=None) == local(expected, tz).replace(tzinfo=None)
    after_first = timing.next_cron_slot(cron, tz, expected)
    assert local(after_first, tz).date() == day + timedelta(days=1)
    assert timing.next_cron_slot(cron, tz, second_occurrence - timedelta(minutes=1)) == after_first


# --- DST: hourly and finer -----------------------------------------------------------------------------


def test_hourly_cron_fires_in_both_copies_of_the_repeated_hour():
    tz = "America/New_York"
    slots = slots_on_local_day("0 * * * *", tz, date(2026, 11, 1))
    assert len(slots) == 25
    assert utc(2026, 11, 1, 5) in slots and utc(2026, 11, 1, 6) in slots  # 01:00 EDT and 01:00 EST
    assert all(later - earlier == timedelta(hours=1) for earlier, later in zip(slots, slots[1:], strict=False))


def test_hourly_cron_fires_once_for_the_skipped_hour():
    slots = slots_on_local_day("0 * * * *", "America/New_York", date(2026, 3, 8))
    assert len(slots) == 23
    assert utc(2026, 3, 8, 7) in slots  # 03:00 EDT, straight after 01:00 EST
    assert len(set(slots)) == len(slots)


def test_five_minute_cron_keeps_real_time_spacing_across_fall_back():
    slots = slots_on_local_day("*/5 * * * *", "Europe/London", date(2026, 10, 25))
    assert len(slots) == 25 * 12
    assert {later - earlier for earlier, later in zip(slots, slots[1:], strict=False)} == {timedelta(minutes=5)}


def test_skipped_quarter_hours_collapse_into_one_slot():
    slots = slots_on_local_day("*/15 * * * *", "America/New_York", date(2026, 3, 8))
    assert len(slots) == 23 * 4
    around_gap = [slot for slot in slots if utc(2026, 3, 8, 6, 30) <= slot <= utc(2026, 3, 8, 7, 30)]
    # 01:30 EST, 01:45 EST, then 03:00 EDT once (02:00-02:45 do not exist), 03:15, 03:30 EDT.
    expected_minutes_after_0630 = [0, 15, 30, 45, 60]
    assert around_gap == [utc(2026, 3, 8, 6, 30) + timedelta(minutes=m) for m in expected_minutes_after_0630]


def test_search_from_inside_the_repeated_hour_finds_both_copies():
    tz, cron = "America/New_York", "*/15 * * * *"
    # 01:50 EDT: next is 01:00 EST, an hour of real time later but an earlier wall-clock reading.
    assert timing.next_cron_slot(cron, tz, utc(2026, 11, 1, 5, 50)) == utc(2026, 11, 1, 6)
    # 01:10 EST (second copy): next is 01:15 EST, not 01:15 EDT (already past).
    assert timing.next_cron_slot(cron, tz, utc(2026, 11, 1, 6, 10)) == utc(2026, 11, 1, 6, 15)


def test_expression_naming_its_hours_fires_a_repeated_hour_once():
    slots = slots_on_local_day("0 1-3 * * *", "America/New_York", date(2026, 11, 1))
    assert [local(slot, "America/New_York").hour for slot in slots] == [1, 2, 3]
    assert slots[0] == utc(2026, 11, 1, 5)  # 01:00 EDT, the first occurrence


def test_wall_time_to_utc_follows_the_same_policy():
    tz = "Europe/London"
    assert timing.wall_time_to_utc(datetime(2026, 3, 29, 1, 30), tz) == utc(2026, 3, 29, 1)  # skipped
    assert timing.wall_time_to_utc(datetime(2026, 10, 25, 1, 30), tz) == utc(2026, 10, 25, 0, 30)  # repeated
    assert timing.wall_time_to_utc(datetime(2026, 7, 1, 12), tz) == utc(2026, 7, 1, 11)  # plain BST


def policy_by_brute_force(cron: str, tz: str, start: datetime, end: datetime) -> list[datetime]:
    """The DST policy restated minute by minute in UTC, as an independent oracle."""
    zone = ZoneInfo(tz)
    hours = croniter(cron).expanded[1]
    every_hour = hours == ["*"] or len(hours) == 24
    fired, previous_reading, instant = [], None, start
    while instant <= end:
        moment = instant.astimezone(zone)
        reading = moment.replace(tzinfo=None)
        skipped = previous_reading and reading - previous_reading > timedelta(minutes=1)
        gap = [previous_reading + timedelta(minutes=n) for n in range(1, 180)] if skipped else []
        if any(croniter.match(cron, missing) for missing in gap if missing < reading):
            fired.append(instant)  # first valid instant after skipped readings
        elif croniter.match(cron, reading) and (moment.fold == 0 or every_hour):
            fired.append(instant)
        previous_reading, instant = reading, instant + timedelta(minutes=1)
    return fired


@pytest.mark.parametrize(
    ("tz", "start"),
    [
        ("America/New_York", utc(2026, 11, 1)),
        ("Australia/Lord_Howe", utc(2026, 4, 4)),  # 30-minute DST shift
        ("Australia/Lord_Howe", utc(2026, 10, 3)),
        ("America/Santiago", utc(2026, 9, 5, 12)),  # midnight does not exist on 6 September
    ],
)
@pytest.mark.parametrize("cron", ["*/15 * * * *", "10 0-3 * * *"])
def test_slots_match_a_minute_by_minute_oracle(tz, start, cron):
    end = start + timedelta(days=1, hours=12)
    assert timing.slots_between(cron, tz, start, end, limit=500) == policy_by_brute_force(cron, tz, start, end)


# --- validation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("cron", ["", "0 0 * *", "0 0 * * * *", "61 * * * *", "0 25 * * *", "@daily", "H 0 * * *"])
def test_invalid_syntax_is_rejected_on_the_cron_field(cron):
    with pytest.raises(ScheduleTimingError) as caught:
        timing.validate_cron(cron, "UTC")
    assert caught.value.field == "cron_expression"
    assert caught.value.message


@pytest.mark.parametrize("cron", ["0 0 31 2 *", "0 0 30 2 *", "0 12 31 4,6,9,11 *"])
def test_expression_that_never_fires_is_rejected(cron):
    with pytest.raises(ScheduleTimingError, match="never runs") as caught:
        timing.validate_cron(cron, "Europe/Paris")
    assert caught.value.field == "cron_expression"


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "", "America", "zone.tab", "EST+5"])
def test_unknown_time_zone_is_rejected(tz):
    with pytest.raises(ScheduleTimingError, match="Unknown time zone") as caught:
        timing.validate_cron("0 6 * * *", tz)
    assert caught.value.field == "timezone"


def test_rare_but_real_dates_are_accepted():
    timing.validate_cron("0 0 29 2 *", "UTC")  # leap days
    timing.validate_cron("0 9 * * mon-fri", "Europe/Berlin")
    leap_day = timing.next_cron_slot("0 0 29 2 *", "UTC", utc(2026, 3, 1))
    assert leap_day == utc(2028, 2, 29)


# --- descriptions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "text"),
    [
        ("0 6 * * *", "Every day at 06:00"),
        ("30 9 * * 1,3,5", "At 09:30 on Monday, Wednesday and Friday"),
        ("30 9 * * fri,mon,wed", "At 09:30 on Monday, Wednesday and Friday"),
        ("0 10 * * 0,6", "At 10:00 on Saturday and Sunday"),
        ("0 8 1,15 * *", "On day 1 and 15 of each month at 08:00"),
        ("0 8 L * *", "On the last day of each month at 08:00"),
        ("0 8 1,L * *", "On day 1 and the last day of each month at 08:00"),
        ("0 7 * * 1-5", "Every weekday (Mon–Fri) at 07:00"),
        ("0 6,18 * * *", "Every day at 06:00 and 18:00"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("0 * * * *", "Every hour"),
        ("20 * * * *", "Every hour at minute 20"),
        ("0 */6 * * *", "Every 6 hours"),
        ("*/30 * * * 1-5", "Every 30 minutes on weekdays (Mon–Fri)"),
        ("* * * * *", "Every minute"),
    ],
)
def test_describe_cron(cron, text):
    assert timing.describe_cron(cron) == text


@pytest.mark.parametrize("cron", ["0 9 * * 5#2", "0 0 1-7 * 1", "0 0 1 1 *", "0 0 15W * *", "7,19 3,9,15 * * *"])
def test_describe_cron_falls_back_to_the_expression(cron):
    assert timing.describe_cron(cron) == f"Custom schedule (cron: {cron})"


# --- schedule_preview command --------------------------------------------------------------------------


def test_preview_prints_utc_then_local_time_one_slot_per_line():
    out = StringIO()
    call_command(
        "schedule_preview",
        "--cron=30 2 * * *",
        "--tz=America/New_York",
        "--from=2026-03-07T00:00:00Z",
        "--count=3",
        stdout=out,
    )
    assert out.getvalue().splitlines() == [
        "2026-03-07T07:30:00Z  2026-03-07T02:30:00-05:00 (EST)",
        "2026-03-08T07:00:00Z  2026-03-08T03:00:00-04:00 (EDT)",
        "2026-03-09T06:30:00Z  2026-03-09T02:30:00-04:00 (EDT)",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cron=0 0 30 2 *", "--tz=UTC"], "never runs"),
        (["--cron=0 0 *", "--tz=UTC"], "five fields"),
        (["--cron=0 6 * * *", "--tz=Nowhere/City"], "Unknown time zone"),
        (["--cron=0 6 * * *", "--tz=UTC", "--from=last tuesday"], "--from"),
        (["--cron=0 6 * * *", "--tz=UTC", "--count=0"], "--count"),
    ],
)
def test_preview_reports_bad_input_as_a_command_error(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("schedule_preview", *args, stdout=StringIO())


def test_preview_helpers():
    assert parse_instant("2026-03-08") == utc(2026, 3, 8)  # no offset means UTC
    assert parse_instant("2026-03-08T05:00:00+02:00") == utc(2026, 3, 8, 3)
    assert format_slot(utc(2026, 7, 1, 12), "Europe/London") == "2026-07-01T12:00:00Z  2026-07-01T13:00:00+01:00 (BST)"


def test_the_one_file_zone_check_agrees_with_the_full_list_of_zones():
    from zoneinfo import available_timezones

    zones = available_timezones()
    assert all(timing._zone_file(zone) for zone in zones)
    for name in ("posixrules", "zone.tab", "right/UTC", "posix/UTC", "Europe/../UTC", "/usr/share/zoneinfo/UTC", ""):
        assert not timing._zone_file(name) and name not in zones, name
        with pytest.raises(timing.ScheduleTimingError):
            timing.get_zone(name)
