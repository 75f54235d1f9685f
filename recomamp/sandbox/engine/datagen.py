"""Deterministic synthetic AMC data in a DuckDB file.

Everything random comes from `rnd(stream, key)`, a hash of (stream, key, seed) mapped to [0, 1), so the
data depends only on seed, scale, end date and months. The generator builds a small advertising catalog
(datagen_catalog), a user population, DSP impressions, and derives the other tables from those events:
clicks and viewability events from impressions, sponsored-ads traffic with its own clicks, Amazon-attributed
conversions from a share of all traffic (with lags of up to 14 days), ad-exposed conversions and retail
purchases. Money follows AMC's units: DSP costs in millicents (total_cost, impression_cost, click_cost) or
microcents (fees, supply_cost, bid_price), sponsored-ads spend in microcents, sales in dollars.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from . import datagen_catalog as catalog
from .datagen_conversions import create_attributed_events, create_conversions, create_retail_purchases
from .datagen_plan import Plan
from .datagen_sql import pick
from .datagen_traffic import (
    create_dsp_clicks,
    create_dsp_impressions,
    create_dsp_views,
    create_sponsored_ads_traffic,
)
from .schema import tables

GENERATOR_VERSION = "1"
METADATA_TABLE = "sandbox_metadata"
GENERATED_TABLES = (
    "dsp_impressions",
    "dsp_clicks",
    "dsp_views",
    "sponsored_ads_traffic",
    "amazon_attributed_events_by_conversion_time",
    "amazon_attributed_events_by_traffic_time",
    "conversions",
    "amazon_retail_purchases",
)


@dataclass(frozen=True)
class GenerationStats:
    path: Path
    seed: int
    scale: float
    start_date: date
    end_date: date
    months: int
    row_counts: dict[str, int]
    seconds: float


def months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate_day in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate_day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _make_plan(scale: float, seed: int, end_date: date | None, months: int) -> Plan:
    if scale <= 0:
        raise ValueError("scale must be positive")
    end = end_date or (date.today() - timedelta(days=2))
    users = max(60, round(25_000 * scale))
    return Plan(
        seed=seed,
        scale=scale,
        start_date=months_before(end, months) + timedelta(days=1),
        end_date=end,
        months=months,
        impressions=max(100, round(1_000_000 * scale)),
        sa_impressions=max(60, round(600_000 * scale)),
        organic_purchases=max(20, round(120_000 * scale)),
        users=users,
        shoppers=users + users // 2,
    )


def generate(
    path: str | Path, *, scale: float = 1.0, seed: int = 42, end_date: date | None = None, months: int = 13
) -> GenerationStats:
    """Write a fresh sandbox database to `path` (replacing any file there) and return what was written."""
    began = time.monotonic()
    plan = _make_plan(scale, seed, end_date, months)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(target.name + ".building")
    for leftover in (scratch, Path(str(scratch) + ".wal")):
        leftover.unlink(missing_ok=True)

    con = duckdb.connect(str(scratch))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        con.execute(f"CREATE TEMP MACRO rnd(k, i) AS hash(k, i, {int(seed)}) / 18446744073709551616.0")
        _load_catalog(con, plan)
        _create_users(con, plan)
        create_dsp_impressions(con, plan)
        create_dsp_clicks(con, plan)
        create_dsp_views(con, plan)
        create_sponsored_ads_traffic(con, plan)
        create_attributed_events(con, plan)
        create_conversions(con, plan)
        create_retail_purchases(con, plan)
        _create_empty_tables(con)
        row_counts = {
            name: con.execute(f"SELECT count(*) FROM main.{name}").fetchone()[0] for name in GENERATED_TABLES
        }
        _write_metadata(con, plan, row_counts)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(scratch, target)
    Path(str(target) + ".wal").unlink(missing_ok=True)
    return GenerationStats(
        path=target,
        seed=seed,
        scale=scale,
        start_date=plan.start_date,
        end_date=plan.end_date,
        months=months,
        row_counts=row_counts,
        seconds=round(time.monotonic() - began, 3),
    )


def _load(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict]) -> None:
    con.execute(f"CREATE TEMP TABLE {name} AS SELECT unnest($rows, recursive := true)", {"rows": rows})


def _load_catalog(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    rng = random.Random(plan.seed)
    _load(con, "products", catalog.products(rng))
    _load(con, "creatives", catalog.dsp_creatives(rng, plan.start, plan.end))
    _load(con, "ad_groups", catalog.sa_ad_groups(rng, plan.start, plan.end))
    keys = ("device_type", "device_make", "device_model", "operating_system", "os_version", "browser_family")
    _load(
        con,
        "devices",
        [dict(zip(keys, d[:6], strict=True), device_idx=i) for i, d in enumerate(catalog.DEVICES)],
    )
    keys = ("iso_state_province_code", "dma_code", "city_name", "postal_prefix")
    _load(con, "geos", [dict(zip(keys, g[:4], strict=True), geo_idx=i) for i, g in enumerate(catalog.GEOS)])
    keys = (
        "supply_source",
        "site",
        "app_bundle",
        "page_type",
        "environment_type",
        "is_amazon_owned",
        "demand_channel",
        "view_aware",
        "view_rate",
        "deal_name",
    )
    _load(
        con,
        "supply",
        [
            dict(
                zip(keys, s, strict=True),
                category=category,
                slot=i,
                supply_source_id=1000 + 10 * i + len(category),
            )
            for category, sources in catalog.SUPPLY.items()
            for i, s in enumerate(sources)
        ],
    )


def _create_users(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    device = pick("rnd(102, i)", {i: d[6] for i, d in enumerate(catalog.DEVICES)})
    geo = pick("rnd(103, i)", {i: g[4] for i, g in enumerate(catalog.GEOS)})
    con.execute(f"""
        CREATE TEMP TABLE users AS
        SELECT i AS user_idx,
               md5('user-' || i || '-' || {plan.seed}) AS user_id,
               {pick("rnd(101, i)", {"adUserId": 85, "sisDeviceId": 10, "adBrowserId": 5})} AS user_id_type,
               md5('device-' || i || '-' || {plan.seed}) AS device_id,
               {device} AS device_idx,
               {geo} AS geo_idx,
               lpad(CAST(floor(rnd(104, i) * 100) AS INTEGER)::VARCHAR, 2, '0') AS postal_suffix,
               {pick("rnd(105, i)", [0, 1, 2, 3, 4, 5])} AS favourite_slot
        FROM range({plan.shoppers}) t(i)
    """)


def _create_empty_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Catalog tables the generator does not fill still exist, so queries against them compile and run."""
    for name, columns in tables().items():
        if name not in GENERATED_TABLES:
            body = ", ".join(f"{c.name} {c.duckdb_type}" for c in columns)
            con.execute(f"CREATE TABLE {name} ({body})")


def _write_metadata(con: duckdb.DuckDBPyConnection, plan: Plan, row_counts: dict[str, int]) -> None:
    values = {
        "generator_version": GENERATOR_VERSION,
        "seed": plan.seed,
        "scale": plan.scale,
        "start_date": plan.start_date.isoformat(),
        "end_date": plan.end_date.isoformat(),
        "months": plan.months,
        "users": plan.users,
        "shoppers": plan.shoppers,
        **{f"rows.{name}": count for name, count in row_counts.items()},
    }
    con.execute(f"CREATE TABLE {METADATA_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.executemany(f"INSERT INTO {METADATA_TABLE} VALUES (?, ?)", [(k, str(v)) for k, v in values.items()])
