"""The size and time span of one generation run, and SQL helpers shared by the table builders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .datagen_sql import lit, pick
from .schema import column_names

# UTC hour-of-day weights: US evenings (late UTC) are busiest.
HOUR_WEIGHTS = (9, 8, 7, 6, 4, 3, 2, 2, 2, 2, 2, 3, 4, 5, 5, 6, 6, 6, 6, 7, 7, 8, 9, 10)


@dataclass(frozen=True)
class Plan:
    seed: int
    scale: float
    start_date: date
    end_date: date
    months: int
    impressions: int
    sa_impressions: int
    organic_purchases: int
    users: int  # ad-exposed population; shoppers extend it with never-exposed users
    shoppers: int

    @property
    def start(self) -> datetime:
        return datetime.combine(self.start_date, datetime.min.time())

    @property
    def end(self) -> datetime:
        """Exclusive end: midnight after end_date."""
        return datetime.combine(self.end_date + timedelta(days=1), datetime.min.time())

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1


def event_time(plan: Plan, stream: int) -> str:
    """A UTC timestamp inside the period: a uniform day, a weighted hour, a uniform second."""
    hour = pick(f"rnd({stream + 1}, i)", dict(enumerate(HOUR_WEIGHTS)))
    return (
        f"{lit(plan.start)} + to_seconds(CAST(floor(rnd({stream}, i) * {plan.days}) * 86400"
        f" + {hour} * 3600 + floor(rnd({stream + 2}, i) * 3600) AS BIGINT))"
    )


def user_pick(plan: Plan, stream: int) -> str:
    # Skewed towards low indices: a few heavy users and a long tail; about 3% of events are unresolved.
    return (
        f"CASE WHEN rnd({stream}, i) < 0.03 THEN NULL"
        f" ELSE CAST(floor({plan.users} * pow(rnd({stream + 1}, i), 2.0)) AS BIGINT) END"
    )


def copied_from(source: str, target: str, renames: dict[str, str] | None = None) -> dict[str, str]:
    """Expressions copying every column `target` shares with `source` (alias `i`), by name or rename."""
    source_columns = column_names(source)
    copied = {name: f"i.{name}" for name in column_names(target) if name in source_columns}
    copied.update({new: f"i.{old}" for new, old in (renames or {}).items()})
    return copied
