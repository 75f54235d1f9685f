"""Benchmark the AMC SQL validator on realistic CTE-based queries of about 50, 150 and 300 lines.

Run from the repository root:  .venv/bin/python bench/bench_validation.py [--quick] [--sizes 20,200,2000]
The live editor validates while the analyst types, so a 300-line query should answer in under 100 ms. The
ceiling measured in the same run is sqlglot parsing the same text with the same dialect: validation cannot be
cheaper than the parse it starts with; the rest is resolution against the catalog and the rules.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlglot  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))

from common import Measure, cli, sizes_for  # noqa: E402

from queries.validation import Catalog, validate  # noqa: E402 (needs the repository on sys.path)
from queries.validation.parsing import AMC  # noqa: E402

CATALOG = ROOT / "queries" / "validation" / "tests" / "amc_columns.json"

# CTE shapes seen in instructional queries; {n} makes each copy's name unique.
CTE_TEMPLATES = [
    """dsp_users_{n} AS (
  -- per-user DSP exposure for the selected campaigns
  SELECT
    advertiser,
    campaign,
    user_id,
    SUM(impressions) AS impressions,
    SUM(total_cost) / 100000.0 AS spend,
    MIN(impression_dt) AS first_seen
  FROM dsp_impressions
  WHERE user_id IS NOT NULL
    AND (ARRAY_CONTAINS(CUSTOM_PARAMETER('dsp_campaigns'), campaign_id_string)
      OR CARDINALITY(CUSTOM_PARAMETER('dsp_campaigns')) = 0)
  GROUP BY 1, 2, 3
)""",
    """sa_users_{n} AS (
  /* sponsored ads exposure with keyword detail */
  SELECT
    user_id,
    ad_product_type,
    SUM(impressions) AS impressions,
    SUM(clicks) AS clicks,
    SUM(spend) / 100000000.0 AS spend,
    MIN(event_dt) AS first_seen
  FROM TABLE(EXTEND_TIME_WINDOW('sponsored_ads_traffic', 'P14D', 'P0D'))
  WHERE user_id IS NOT NULL AND match_type IN ('BROAD', 'PHRASE', 'EXACT')
  GROUP BY 1, 2
)""",
    """buyers_{n} AS (
  SELECT
    user_id,
    SUM(purchases) AS purchases,
    SUM(product_sales) AS sales,
    SUM(IF(SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) <= 7 * 86400, purchases, 0))
      AS purchases_7d,
    MAX(conversion_event_dt) AS last_purchase
  FROM amazon_attributed_events_by_traffic_time
  WHERE user_id IS NOT NULL AND purchases > 0
  GROUP BY 1
)""",
    """ranked_{n} AS (
  SELECT
    d.advertiser,
    d.campaign,
    d.user_id,
    d.impressions,
    CASE
      WHEN d.impressions >= 10 THEN '10+'
      WHEN d.impressions >= 5 THEN '5-9'
      ELSE CONCAT('freq_', CAST(d.impressions AS VARCHAR))
    END AS bucket,
    ROW_NUMBER() OVER (PARTITION BY d.user_id ORDER BY d.first_seen) AS touch_order
  FROM dsp_users_{prev} d
)""",
]

FINAL_SELECT = """SELECT
  r.advertiser,
  r.bucket,
  COUNT(DISTINCT r.user_id) AS users,
  SUM(r.impressions) AS impressions,
  COUNT(DISTINCT b.user_id) AS purchasers,
  SUM(COALESCE(b.purchases, 0)) AS purchases,
  SUM(COALESCE(b.sales, 0)) AS sales,
  CAST(BUILT_IN_PARAMETER('TIME_WINDOW_START') AS DATE) AS window_start
FROM ranked_{last} r
LEFT JOIN buyers_{buyers} b ON r.user_id = b.user_id
WHERE r.touch_order = 1
GROUP BY 1, 2, 8"""


def build_query(target_lines: int) -> str:
    """Add CTEs one at a time (each ranked_ CTE reads the dsp_users_ CTE of its round) until ~target lines."""
    ctes: list[str] = []
    while True:
        round_number = len(ctes) // len(CTE_TEMPLATES)
        template = CTE_TEMPLATES[len(ctes) % len(CTE_TEMPLATES)]
        ctes.append(template.format(n=round_number, prev=round_number))
        sql = "WITH " + ",\n".join(ctes) + "\n" + FINAL_SELECT.format(last=0, buyers=0)
        if len(ctes) >= len(CTE_TEMPLATES) and sql.count("\n") + 1 >= target_lines:
            return sql


SIZES = {"quick": [20, 200, 2000], "full": [20, 200, 2000]}  # lines of SQL (2,000 lines is ~60 KB, under the cap)


def median_ms_of(function, runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def run(sizes: list[int] | None = None, quick: bool = False) -> list[Measure]:
    """validate() against its ceiling, sqlglot parsing the same text with the same dialect (no resolution)."""
    catalog = Catalog.from_columns_json(CATALOG)
    measures = []
    for target in sizes_for(SIZES, sizes, quick):
        sql = build_query(target)
        runs = max(5, (20 if quick else 100) * 200 // max(target, 200))
        errors = [d for d in validate(sql, catalog, declared_parameters={"dsp_campaigns"}) if d.severity == "error"]
        assert not errors, errors
        product = median_ms_of(lambda sql=sql: validate(sql, catalog, declared_parameters={"dsp_campaigns"}), runs)
        ceiling = median_ms_of(lambda sql=sql: sqlglot.parse(sql, dialect=AMC), runs)
        measures.append(Measure.of("SQL validation (validate vs sqlglot parse)", product, ceiling, "ms", target))
        print(f"{sql.count(chr(10)) + 1} lines, {len(sql):,} chars: validate {product:.1f} ms, parse {ceiling:.1f} ms")
    return measures


if __name__ == "__main__":
    cli(run, SIZES, __doc__.splitlines()[0])
