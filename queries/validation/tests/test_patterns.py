"""Realistic AMC queries written after the instructional-query patterns are clean."""

import pytest

from .helpers import problems

DELIVERY_SUMMARY = """
-- 1. spend, impressions and reach per advertiser and campaign
SELECT
  advertiser,
  campaign,
  SUM(total_cost) / 100000.0 AS spend,
  SUM(impressions) AS impressions,
  COUNT(DISTINCT user_id) AS reach
FROM dsp_impressions
WHERE ARRAY_CONTAINS(CUSTOM_PARAMETER('campaign_ids'), campaign_id_string)
   OR CUSTOM_PARAMETER('campaign_ids') IS NULL
   OR CARDINALITY(CUSTOM_PARAMETER('campaign_ids')) = 0
GROUP BY 1, 2
"""

FREQUENCY_DISTRIBUTION = """
-- 2. how many users saw the ads 1, 2, ... 10+ times
WITH per_user AS (
  SELECT advertiser, user_id, SUM(impressions) AS impressions
  FROM dsp_impressions
  WHERE user_id IS NOT NULL
  GROUP BY advertiser, user_id
), buckets AS (
  SELECT
    advertiser,
    IF(impressions < 10, CONCAT('frequency_', CAST(impressions AS VARCHAR)), 'frequency_10+') AS bucket,
    COUNT(DISTINCT user_id) AS users,
    SUM(impressions) AS impressions
  FROM per_user
  GROUP BY 1, 2
)
SELECT
  advertiser,
  bucket,
  users,
  impressions,
  users / SUM(users) OVER (PARTITION BY advertiser) AS share_of_reach,
  CAST(BUILT_IN_PARAMETER('TIME_WINDOW_START') AS DATE) AS window_start,
  CAST(BUILT_IN_PARAMETER('TIME_WINDOW_END') AS DATE) AS window_end
FROM buckets
"""

FREQUENCY_VS_CONVERSIONS = """
-- 3. purchase rate by impression frequency
WITH exposed AS (
  SELECT user_id, SUM(impressions) AS impressions
  FROM dsp_impressions
  WHERE user_id IS NOT NULL
  GROUP BY 1
), purchasers AS (
  SELECT user_id, SUM(purchases) AS purchases
  FROM amazon_attributed_events_by_traffic_time
  WHERE user_id IS NOT NULL AND ad_product_type IS NULL
  GROUP BY 1
)
SELECT
  CASE WHEN e.impressions >= 10 THEN 10 ELSE e.impressions END AS frequency,
  COUNT(DISTINCT e.user_id) AS users,
  COUNT(DISTINCT IF(p.purchases > 0, p.user_id, NULL)) AS purchasing_users,
  SUM(COALESCE(p.purchases, 0)) AS purchases
FROM exposed e
LEFT JOIN purchasers p ON e.user_id = p.user_id
GROUP BY 1
"""

PATH_TO_CONVERSION = """
-- 4. ordered campaign paths before purchase
WITH touches AS (
  SELECT user_id, campaign, MIN(impression_dt) AS first_seen
  FROM dsp_impressions
  WHERE user_id IS NOT NULL
  GROUP BY 1, 2
), ranked AS (
  SELECT user_id, campaign, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY first_seen) AS step
  FROM touches
), paths AS (
  SELECT user_id, ARRAY_SORT(COLLECT(DISTINCT NAMED_ROW('step', step, 'campaign', campaign))) AS path
  FROM ranked
  GROUP BY user_id
), buyers AS (
  SELECT user_id, SUM(purchases) AS purchases
  FROM amazon_attributed_events_by_traffic_time
  WHERE purchases > 0
  GROUP BY 1
)
SELECT
  p.path,
  COUNT(DISTINCT p.user_id) AS reach,
  COUNT(DISTINCT b.user_id) AS purchasers,
  COUNT(DISTINCT b.user_id) / COUNT(DISTINCT p.user_id) AS purchase_rate
FROM paths p
LEFT JOIN buyers b ON p.user_id = b.user_id
GROUP BY 1
"""

TIME_TO_CONVERSION = """
-- 5. time from the ad to the purchase
SELECT
  advertiser,
  campaign,
  CASE
    WHEN SECONDS_BETWEEN(traffic_event_dt, conversion_event_dt) < 60 THEN '1. < 1 minute'
    WHEN SECONDS_BETWEEN(traffic_event_dt, conversion_event_dt) < 3600 THEN '2. < 1 hour'
    WHEN SECONDS_BETWEEN(traffic_event_dt, conversion_event_dt) < 86400 THEN '3. < 1 day'
    ELSE '4. 1 day or more'
  END AS time_bucket,
  SUM(purchases) AS purchases,
  SUM(total_purchases) AS total_purchases
FROM amazon_attributed_events_by_conversion_time
GROUP BY 1, 2, 3
"""

TWO_CHANNEL_OVERLAP = """
-- 6. sponsored products x DSP exposure overlap
WITH sp AS (
  SELECT user_id, MIN(event_dt) AS first_sp
  FROM sponsored_ads_traffic
  WHERE ad_product_type = 'sponsored_products' AND user_id IS NOT NULL
  GROUP BY 1
), dsp AS (
  SELECT user_id, MIN(impression_dt) AS first_dsp
  FROM dsp_impressions
  WHERE user_id IS NOT NULL
  GROUP BY 1
), exposure AS (
  SELECT
    COALESCE(sp.user_id, dsp.user_id) AS user_id,
    CASE
      WHEN sp.user_id IS NOT NULL AND dsp.user_id IS NOT NULL THEN 'both'
      WHEN sp.user_id IS NOT NULL THEN 'sp only'
      ELSE 'dsp only'
    END AS exposure_group
  FROM sp
  FULL OUTER JOIN dsp ON sp.user_id = dsp.user_id
)
SELECT exposure_group, COUNT(DISTINCT user_id) AS users
FROM exposure
GROUP BY exposure_group
"""

FIRST_SEARCH_TERM = """
-- 13. the first search term of each user who later bought
WITH searches AS (
  SELECT
    user_id,
    customer_search_term,
    RANK() OVER (PARTITION BY user_id ORDER BY event_dt) AS search_rank
  FROM TABLE(EXTEND_TIME_WINDOW('sponsored_ads_traffic', 'P30D', 'P0D'))
  WHERE match_type IN ('BROAD', 'PHRASE', 'EXACT') AND user_id IS NOT NULL
)
SELECT s.customer_search_term, COUNT(DISTINCT s.user_id) AS searchers, SUM(a.purchases) AS purchases
FROM searches s
JOIN amazon_attributed_events_by_traffic_time a ON s.user_id = a.user_id
WHERE s.search_rank = 1
GROUP BY 1
"""

LAST_TOUCH_ATTRIBUTION = """
-- 14. last-touch credit within a 14-day lookback
WITH traffic AS (
  SELECT user_id, campaign_id_string, campaign, impression_dt AS touch_dt
  FROM TABLE(EXTEND_TIME_WINDOW('dsp_impressions', 'P28D', 'P0D'))
  WHERE user_id IS NOT NULL
), conv AS (
  SELECT user_id, conversion_id, event_dt, campaign_id_string
  FROM conversions_with_relevance
  WHERE engagement_scope = 'PROMOTED'
), touches AS (
  SELECT
    c.conversion_id,
    t.campaign,
    ROW_NUMBER() OVER (PARTITION BY c.conversion_id ORDER BY t.touch_dt DESC) AS recency
  FROM conv c
  JOIN traffic t
    ON c.user_id = t.user_id
   AND c.campaign_id_string = t.campaign_id_string
   AND t.touch_dt < c.event_dt
   AND SECONDS_BETWEEN(t.touch_dt, c.event_dt) <= 14 * 86400
)
SELECT campaign, COUNT(DISTINCT conversion_id) AS last_touch_conversions
FROM touches
WHERE recency = 1
GROUP BY campaign
"""

CUSTOM_WINDOW = """
-- 15. nine-day purchases on standard attribution
SELECT
  campaign,
  SUM(IF(SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) <= 9 * 86400, total_purchases, 0))
    AS purchases_9d
FROM amazon_attributed_events_by_traffic_time
WHERE ad_product_type = 'sponsored_products'
GROUP BY campaign
"""

CART_ABANDONERS = """
-- 17. rule-based audience: added to cart, did not buy
WITH carts AS (
  SELECT user_id
  FROM amazon_attributed_events_by_conversion_time_for_audiences
  WHERE conversion_event_subtype = 'shoppingCart'
), buyers AS (
  SELECT user_id
  FROM amazon_attributed_events_by_conversion_time_for_audiences
  WHERE conversion_event_subtype = 'order'
)
SELECT c.user_id
FROM carts c
LEFT JOIN buyers b ON c.user_id = b.user_id
WHERE b.user_id IS NULL
"""

VIEWABILITY = """
-- 18. viewability by campaign
WITH views AS (
  SELECT campaign, SUM(viewable_impressions) AS viewable, SUM(measurable_impressions) AS measurable
  FROM dsp_views
  GROUP BY campaign
), delivered AS (
  SELECT campaign, SUM(impressions) AS impressions
  FROM dsp_impressions
  GROUP BY campaign
)
SELECT d.campaign, d.impressions, v.viewable, v.measurable, v.viewable / NULLIF(v.measurable, 0) AS view_rate
FROM delivered d
LEFT JOIN views v ON d.campaign = v.campaign
"""

PATTERNS = {
    "delivery_summary": DELIVERY_SUMMARY,
    "frequency_distribution": FREQUENCY_DISTRIBUTION,
    "frequency_vs_conversions": FREQUENCY_VS_CONVERSIONS,
    "path_to_conversion": PATH_TO_CONVERSION,
    "time_to_conversion": TIME_TO_CONVERSION,
    "two_channel_overlap": TWO_CHANNEL_OVERLAP,
    "first_search_term": FIRST_SEARCH_TERM,
    "last_touch_attribution": LAST_TOUCH_ATTRIBUTION,
    "custom_window": CUSTOM_WINDOW,
    "cart_abandoners": CART_ABANDONERS,
    "viewability": VIEWABILITY,
}


@pytest.mark.parametrize("name", PATTERNS)
def test_pattern_has_no_errors_or_warnings(check, name):
    sql = PATTERNS[name]
    assert problems(check(sql, declared_parameters={"campaign_ids"}, placeholder_values={})) == []


def test_pattern_turns_invalid_when_it_leaks_user_ids(check):
    leaky = DELIVERY_SUMMARY.replace("  campaign,\n", "  campaign,\n  user_id,\n").replace(
        "GROUP BY 1, 2", "GROUP BY 1, 2, 3"
    )
    found = check(leaky)
    assert [d.code for d in found if d.severity == "error"] == ["user-id-output"]
    assert [d.code for d in found if d.severity == "warning"] == ["groupby-high-threshold"]
