"""DSP impressions, clicks and viewability events, and sponsored-ads traffic."""

from __future__ import annotations

import duckdb

from . import datagen_catalog as catalog
from .datagen_plan import Plan, copied_from, event_time, user_pick
from .datagen_sql import lit, local_time, pick, select_list, time_columns


def create_dsp_impressions(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    creatives = con.execute("SELECT count(*) FROM creatives").fetchone()[0]
    con.execute(f"""
        CREATE TEMP TABLE imp_base AS
        SELECT b.*, {local_time("c.advertiser_timezone", "b.ts_utc")} AS ts_local
        FROM (
            SELECT i AS idx, {user_pick(plan, 1)} AS user_idx,
                   CAST(floor({creatives} * pow(rnd(3, i), 1.25)) AS INTEGER) AS creative_idx,
                   {event_time(plan, 4)} AS ts_utc,
                   CAST(floor(rnd(7, i) * 5) AS INTEGER) AS supply_slot,
                   0.7 + 0.6 * rnd(8, i) AS cost_factor,
                   rnd(9, i) AS r_fee,
                   rnd(10, i) AS r_slot
            FROM range({plan.impressions}) t(i)
        ) b JOIN creatives c USING (creative_idx)
    """)
    supply_microcents = "round(c.cpm_millicents * b.cost_factor * 600)"
    platform_fee = "round(c.cpm_millicents * b.cost_factor * 150)"
    audience_fee = "CASE WHEN b.r_fee < 0.4 THEN round(c.cpm_millicents * b.cost_factor * 100) ELSE 0 END"
    third_party = "round(c.cpm_millicents * b.cost_factor * 30)"
    total_millicents = (
        f"(({supply_microcents}) + ({platform_fee}) + ({audience_fee}) + ({third_party})) / 1000.0"
    )
    expressions = {
        "ad_slot_size": "c.creative_size",
        "advertiser": "c.advertiser",
        "advertiser_id": "c.advertiser_id",
        "advertiser_timezone": "c.advertiser_timezone",
        "app_bundle": "s.app_bundle",
        "audience_fee": audience_fee,
        "bid_price": f"round(({supply_microcents}) * 1.15)",
        "browser_family": "d.browser_family",
        "campaign": "c.campaign",
        "campaign_budget_amount": "c.campaign_budget_amount",
        "campaign_country": "'US'",
        "campaign_end_date": "c.campaign_end",
        "campaign_end_date_utc": "c.campaign_end_utc",
        "campaign_flight_id": "c.campaign_flight_id",
        "campaign_id": "c.campaign_id",
        "campaign_id_string": "c.campaign_id_string",
        "campaign_insertion_order_id": "c.campaign_insertion_order_id",
        "campaign_primary_goal": "c.campaign_primary_goal",
        "campaign_sales_type": "'BILLABLE'",
        "campaign_source": "'DSP'",
        "campaign_start_date": "c.campaign_start",
        "campaign_start_date_utc": "c.campaign_start_utc",
        "campaign_status": "'RUNNING'",
        "city_name": "g.city_name",
        "creative": "c.creative",
        "creative_category": "c.creative_category",
        "creative_duration": "c.creative_duration",
        "creative_id": "c.creative_id",
        "creative_is_link_in": "CASE WHEN c.creative_category = 'Display' THEN 'Y' ELSE 'N' END",
        "creative_size": "c.creative_size",
        "creative_type": "c.creative_type",
        "currency_iso_code": "'USD'",
        "currency_name": "'Dollar (USA)'",
        "deal_id": "CASE WHEN s.deal_name IS NOT NULL THEN 'DEAL-' || s.supply_source_id END",
        "deal_name": "s.deal_name",
        "demand_channel": "s.demand_channel",
        "demand_channel_owner": "CASE WHEN s.is_amazon_owned THEN 'Amazon' ELSE 'Third party' END",
        "device_id": "u.device_id",
        "device_make": "d.device_make",
        "device_model": "d.device_model",
        "device_type": "d.device_type",
        "dma_code": "g.dma_code",
        "entity_id": "c.entity_id",
        "environment_type": "s.environment_type",
        "impression_cost": f"round({total_millicents})",
        "impressions": "1",
        "is_amazon_owned": "s.is_amazon_owned",
        "iso_country_code": "'US'",
        "iso_state_province_code": "g.iso_state_province_code",
        "line_item": "c.line_item",
        "line_item_budget_amount": "c.line_item_budget_amount",
        "line_item_end_date": "c.line_item_end",
        "line_item_end_date_utc": "c.line_item_end_utc",
        "line_item_id": "c.line_item_id",
        "line_item_price_type": "'CPM'",
        "line_item_start_date": "c.line_item_start",
        "line_item_start_date_utc": "c.line_item_start_utc",
        "line_item_status": "'RUNNING'",
        "line_item_type": "c.line_item_type",
        "managed_service_fee": "0",
        "merchant_id": "c.merchant_id",
        "no_3p_trackers": "FALSE",
        "ocm_fee": "0",
        "operating_system": "d.operating_system",
        "os_version": "d.os_version",
        "page_type": "s.page_type",
        "placement_is_view_aware": "s.view_aware",
        "placement_view_rate": "s.view_rate",
        "platform_fee": platform_fee,
        "postal_code": "g.postal_prefix || u.postal_suffix",
        "request_tag": f"md5('imp-' || b.idx || '-' || {plan.seed})",
        "site": "s.site",
        "slot_position": pick("b.r_slot", {"ATF": 55, "BTF": 30, "UNKNOWN": 15}),
        "supply_cost": supply_microcents,
        "supply_source": "s.supply_source",
        "supply_source_id": "s.supply_source_id",
        "supply_source_is_view_aware": "s.view_aware",
        "supply_source_view_rate": "s.view_rate",
        "third_party_fees": third_party,
        "total_cost": total_millicents,
        "user_id": "u.user_id",
        "user_id_type": "u.user_id_type",
        **time_columns("impression", "b.ts_local", "b.ts_utc"),
    }
    con.execute(f"""
        CREATE TABLE dsp_impressions AS
        SELECT {select_list("dsp_impressions", expressions)}
        FROM imp_base b
        JOIN creatives c USING (creative_idx)
        JOIN supply s ON s.category = c.creative_category AND s.slot = b.supply_slot
        LEFT JOIN users u ON u.user_idx = b.user_idx
        LEFT JOIN devices d ON d.device_idx = u.device_idx
        LEFT JOIN geos g ON g.geo_idx = u.geo_idx
        ORDER BY impression_dt_utc, request_tag
    """)
    con.execute("DROP TABLE imp_base")


def create_dsp_clicks(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    expressions = {
        **copied_from("dsp_impressions", "dsp_clicks"),
        **time_columns("click", "i.click_local", "i.click_utc"),
        "clicks": "1",
        "click_cost": "round(i.total_cost * (1.0 + 4.0 * rnd(22, i.request_tag)))",
    }
    con.execute(f"""
        CREATE TABLE dsp_clicks AS
        SELECT {select_list("dsp_clicks", expressions)}
        FROM (
            SELECT i.*, {local_time("i.advertiser_timezone", "i.click_utc")} AS click_local
            FROM (
                SELECT *, impression_dt_utc
                          + to_seconds(CAST(2 + floor(rnd(21, request_tag) * 240) AS BIGINT)) AS click_utc
                FROM dsp_impressions
                WHERE rnd(20, request_tag) < CASE creative_category WHEN 'Video' THEN 0.004 ELSE 0.008 END
            ) i
            WHERE i.click_utc < {lit(plan.end)}
        ) i
        ORDER BY click_dt_utc, request_tag
    """)


def create_dsp_views(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    renames = {
        f"{entity}_{edge}_dt{utc}": f"{entity}_{edge}_date{utc}"
        for entity in ("campaign", "line_item")
        for edge in ("start", "end")
        for utc in ("", "_utc")
    }
    renames["impression_id"] = "request_tag"
    expressions = {
        **copied_from("dsp_impressions", "dsp_views", renames),
        **time_columns("event", "i.view_local", "i.view_utc"),
        "event_type": "i.view_event_type",
        "events": "1",
        "measurable_impressions": "CASE WHEN i.view_event_type = 'MEASURABLE_IMP' THEN 1 ELSE 0 END",
        "viewable_impressions": "CASE WHEN i.view_event_type = 'VIEW' THEN 1 ELSE 0 END",
        "unmeasurable_viewable_impressions": (
            "CASE WHEN i.view_event_type = 'SYNTHETIC_VIEW' THEN 1 ELSE 0 END"
        ),
        "view_definition": "'MRC'",
    }
    event_types = """CASE
        WHEN rnd(30, request_tag) < 0.80 THEN
            CASE WHEN rnd(31, request_tag) < 0.65 THEN ['MEASURABLE_IMP', 'VIEW'] ELSE ['MEASURABLE_IMP'] END
        WHEN rnd(30, request_tag) < 0.95 THEN
            CASE WHEN rnd(31, request_tag) < 0.40 THEN ['UNMEASURABLE_IMP', 'SYNTHETIC_VIEW']
                 ELSE ['UNMEASURABLE_IMP'] END
        ELSE [] END"""
    con.execute(f"""
        CREATE TABLE dsp_views AS
        SELECT {select_list("dsp_views", expressions)}
        FROM (
            SELECT v.*, {local_time("v.advertiser_timezone", "v.view_utc")} AS view_local
            FROM (
                SELECT imp.*, e.view_event_type,
                       impression_dt_utc + to_seconds(CASE
                           WHEN e.view_event_type IN ('VIEW', 'SYNTHETIC_VIEW')
                           THEN CAST(1 + floor(rnd(32, request_tag) * 9) AS BIGINT) ELSE 0 END) AS view_utc
                FROM dsp_impressions imp, unnest({event_types}) AS e(view_event_type)
            ) v
            WHERE v.view_utc < {lit(plan.end)}
        ) i
        ORDER BY event_dt_utc, impression_id, event_type
    """)


def create_sponsored_ads_traffic(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    groups = con.execute("SELECT count(*) FROM ad_groups").fetchone()[0]
    placements = " ".join(
        f"WHEN '{product}' THEN {pick('rnd(57, i)', names)}"
        for product, names in catalog.SA_PLACEMENTS.items()
    )
    con.execute(f"""
        CREATE TEMP TABLE sa_base AS
        SELECT i AS idx, {user_pick(plan, 51)} AS user_idx,
               CAST(floor({groups} * pow(rnd(53, i), 1.2)) AS INTEGER) AS ad_group_idx,
               {event_time(plan, 54)} AS imp_utc,
               CAST(floor(rnd(58, i) * 3) AS INTEGER) AS keyword_no,
               {pick("rnd(59, i)", catalog.SEARCH_TERM_SUFFIXES)} AS term_suffix,
               CAST(floor(rnd(60, i) * 6) AS INTEGER) AS product_slot,
               (CASE g.ad_product_type {placements} END) AS placement,
               rnd(61, i) AS r_video, rnd(62, i) AS r_view
        FROM range({plan.sa_impressions}) t(i)
        JOIN ad_groups g ON g.ad_group_idx = CAST(floor({groups} * pow(rnd(53, i), 1.2)) AS INTEGER)
    """)
    # Every base row is an impression; a share of them also produce a click row a few seconds later.
    con.execute(f"""
        CREATE TEMP TABLE sa_events AS
        SELECT e.*, {local_time("g.advertiser_timezone", "e.ts_utc")} AS ts_local
        FROM (
            SELECT *, 'imp' AS kind, imp_utc AS ts_utc FROM sa_base
            UNION ALL
            SELECT *, 'click' AS kind,
                   imp_utc + to_seconds(CAST(3 + floor(rnd(64, idx) * 120) AS BIGINT)) AS ts_utc
            FROM sa_base WHERE rnd(63, idx) < 0.012
        ) e JOIN ad_groups g USING (ad_group_idx)
        WHERE e.ts_utc < {lit(plan.end)}
    """)
    con.execute("DROP TABLE sa_base")
    is_video = "g.creative_type = 'video' AND e.kind = 'imp'"
    keyword = "list_extract(g.keywords, e.keyword_no + 1)"
    expressions = {
        "ad_group": "g.ad_group",
        "ad_group_end_dt": "g.ad_group_end",
        "ad_group_end_dt_utc": "g.ad_group_end_utc",
        "ad_group_start_dt": "g.ad_group_start",
        "ad_group_start_dt_utc": "g.ad_group_start_utc",
        "ad_group_status": "'ENABLED'",
        "ad_group_type": "upper(g.targeting_mode)",
        "ad_product_type": "g.ad_product_type",
        "advertiser": "g.advertiser",
        "advertiser_timezone": "g.advertiser_timezone",
        "campaign": "g.campaign",
        "campaign_budget_type": "g.campaign_budget_type",
        "campaign_end_date": "CAST(g.campaign_end AS DATE)",
        "campaign_end_date_utc": "CAST(g.campaign_end_utc AS DATE)",
        "campaign_end_dt": "g.campaign_end",
        "campaign_end_dt_utc": "g.campaign_end_utc",
        "campaign_id": "g.campaign_id",
        "campaign_id_string": "g.campaign_id_string",
        "campaign_start_date": "CAST(g.campaign_start AS DATE)",
        "campaign_start_date_utc": "CAST(g.campaign_start_utc AS DATE)",
        "campaign_start_dt": "g.campaign_start",
        "campaign_start_dt_utc": "g.campaign_start_utc",
        "clicks": "CASE WHEN e.kind = 'click' THEN 1 ELSE 0 END",
        "creative": "g.campaign || '_' || p.asin",
        "creative_asin": "p.asin",
        "creative_type": "g.creative_type",
        "currency_iso_code": "'USD'",
        "currency_name": "'Dollar (USA)'",
        "customer_search_term": f"""CASE g.targeting_mode
            WHEN 'keyword' THEN {keyword} || e.term_suffix
            WHEN 'auto' THEN list_extract(g.keywords, ((e.keyword_no + 1) % 3) + 1) || e.term_suffix END""",
        "entity_id": "g.entity_id",
        "event_id": f"md5('sa-' || e.kind || '-' || e.idx || '-' || {plan.seed})",
        "five_sec_views": f"CASE WHEN {is_video} AND e.r_video < 0.6 THEN 1 ELSE 0 END",
        "impressions": "CASE WHEN e.kind = 'imp' THEN 1 ELSE 0 END",
        "line_item": "g.ad_group",
        "line_item_end_date": "g.ad_group_end",
        "line_item_end_date_utc": "g.ad_group_end_utc",
        "line_item_id": "g.ad_group_id",
        "line_item_price_type": """CASE g.ad_product_type WHEN 'sponsored_display' THEN 'VCPM'
            WHEN 'sponsored_television' THEN 'CPM' ELSE 'CPC' END""",
        "line_item_start_date": "g.ad_group_start",
        "line_item_start_date_utc": "g.ad_group_start_utc",
        "line_item_status": "'ENABLED'",
        "marketplace_name": "'AMAZON.COM'",
        "match_type": f"""CASE g.targeting_mode
            WHEN 'keyword' THEN {pick("rnd(65, e.idx)", ["BROAD", "PHRASE", "EXACT"])}
            WHEN 'auto' THEN 'TARGETING_EXPRESSION_PREDEFINED' END""",
        "no_3p_trackers": "FALSE",
        "operating_system": "d.operating_system",
        "os_version": "d.os_version",
        "placement_type": "e.placement",
        "portfolio_id": "g.portfolio_id",
        "portfolio_name": "g.portfolio_name",
        "spend": """CASE
            WHEN e.kind = 'click' AND g.ad_product_type IN ('sponsored_products', 'sponsored_brands')
                THEN round(g.cpc_microcents * (0.6 + 0.8 * rnd(66, e.idx)))
            WHEN e.kind = 'imp' AND g.ad_product_type = 'sponsored_display'
                THEN 450000 + floor(rnd(67, e.idx) * 300000)
            WHEN e.kind = 'imp' AND g.ad_product_type = 'sponsored_television'
                THEN 2000000 + floor(rnd(67, e.idx) * 1500000)
            ELSE 0 END""",
        "targeting": f"""CASE g.targeting_mode WHEN 'keyword' THEN {keyword} WHEN 'auto' THEN 'close-match'
            WHEN 'audience' THEN 'views remarketing' END""",
        "user_id": "u.user_id",
        "user_id_type": "u.user_id_type",
        "video_complete_views": f"CASE WHEN {is_video} AND e.r_video < 0.35 THEN 1 ELSE 0 END",
        "video_first_quartile_views": f"CASE WHEN {is_video} AND e.r_video < 0.75 THEN 1 ELSE 0 END",
        "video_midpoint_views": f"CASE WHEN {is_video} AND e.r_video < 0.55 THEN 1 ELSE 0 END",
        "video_third_quartile_views": f"CASE WHEN {is_video} AND e.r_video < 0.45 THEN 1 ELSE 0 END",
        "video_unmutes": f"CASE WHEN {is_video} AND rnd(68, e.idx) < 0.08 THEN 1 ELSE 0 END",
        "view_definition": "CASE WHEN e.kind = 'imp' THEN 'MRC' END",
        "viewable_impressions": "CASE WHEN e.kind = 'imp' AND e.r_view < 0.7 THEN 1 ELSE 0 END",
        **time_columns("event", "e.ts_local", "e.ts_utc"),
    }
    con.execute(f"""
        CREATE TABLE sponsored_ads_traffic AS
        SELECT {select_list("sponsored_ads_traffic", expressions)}
        FROM sa_events e
        JOIN ad_groups g USING (ad_group_idx)
        JOIN products p ON p.advertiser = g.advertiser AND p.slot = e.product_slot
        LEFT JOIN users u ON u.user_idx = e.user_idx
        LEFT JOIN devices d ON d.device_idx = u.device_idx
        ORDER BY event_dt_utc, event_id
    """)
    con.execute("DROP TABLE sa_events")
