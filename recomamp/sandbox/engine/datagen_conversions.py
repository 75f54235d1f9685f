"""Amazon-attributed conversions, ad-exposed conversions and retail purchases, all drawn from the traffic
tables: a share of traffic events converts after a lag of up to 14 days (28 for unattributed ones)."""

from __future__ import annotations

import duckdb

from . import datagen_catalog as catalog
from .datagen_plan import Plan, event_time
from .datagen_sql import lit, local_time, pick, select_list, time_columns
from .schema import column_names, columns_of

# Attributed-event metrics computed from the conversion, not copied from the traffic row.
_ATTRIBUTED_BASE_METRICS = {
    "impressions": "CASE WHEN a.is_click THEN 0 ELSE 1 END",
    "clicks": "CASE WHEN a.is_click THEN 1 ELSE 0 END",
    "conversions": "1",
    "purchases": "CASE WHEN a.is_order AND a.promoted THEN 1 ELSE 0 END",
    "units_sold": "CASE WHEN a.is_order AND a.promoted THEN a.units ELSE 0 END",
    "product_sales": "CASE WHEN a.is_order AND a.promoted THEN a.sales ELSE 0 END",
    "total_purchases": "CASE WHEN a.is_order THEN 1 ELSE 0 END",
    "total_units_sold": "CASE WHEN a.is_order THEN a.units ELSE 0 END",
    "total_product_sales": "CASE WHEN a.is_order THEN a.sales ELSE 0 END",
    "brand_halo_purchases": "CASE WHEN a.is_order AND NOT a.promoted THEN 1 ELSE 0 END",
    "brand_halo_units_sold": "CASE WHEN a.is_order AND NOT a.promoted THEN a.units ELSE 0 END",
    "brand_halo_product_sales": "CASE WHEN a.is_order AND NOT a.promoted THEN a.sales ELSE 0 END",
    "detail_page_view": "CASE WHEN a.subtype = 'detailPageView' AND a.promoted THEN 1 ELSE 0 END",
    "total_detail_page_view": "CASE WHEN a.subtype = 'detailPageView' THEN 1 ELSE 0 END",
    "brand_halo_detail_page_view": (
        "CASE WHEN a.subtype = 'detailPageView' AND NOT a.promoted THEN 1 ELSE 0 END"
    ),
    "add_to_cart": "CASE WHEN a.subtype = 'shoppingCart' AND a.promoted THEN 1 ELSE 0 END",
    "total_add_to_cart": "CASE WHEN a.subtype = 'shoppingCart' THEN 1 ELSE 0 END",
    "brand_halo_add_to_cart": "CASE WHEN a.subtype = 'shoppingCart' AND NOT a.promoted THEN 1 ELSE 0 END",
    "combined_sales": "CASE WHEN a.is_order THEN a.sales ELSE 0 END",
}


def _attributed_metric(name: str) -> str | None:
    if name in _ATTRIBUTED_BASE_METRICS:
        return _ATTRIBUTED_BASE_METRICS[name]
    for suffix, flag in (("_clicks", "a.is_click"), ("_views", "NOT a.is_click")):
        base = name.removesuffix(suffix)
        if base != name and _attributed_metric(base) is not None:
            return f"CASE WHEN {flag} THEN {_attributed_metric(base)} ELSE 0 END"
    if name.startswith("new_to_brand_") and _attributed_metric(name.removeprefix("new_to_brand_")):
        base = _attributed_metric(name.removeprefix("new_to_brand_"))
        return f"CASE WHEN a.new_to_brand THEN {base} ELSE 0 END"
    return None


def _conversion_fields(key: str, traffic_utc: str, max_lag_days: int) -> str:
    """Columns describing a conversion drawn for traffic `key`: time, kind, product, units, new-to-brand."""
    lag = f"CAST(60 + floor(pow(rnd(71, {key}), 2.5) * {max_lag_days * 86400 - 120}) AS BIGINT)"
    return f"""
        {traffic_utc} + to_seconds({lag}) AS conv_utc,
        {pick(f"rnd(72, {key})", {"order": 35, "detailPageView": 45, "shoppingCart": 20})} AS subtype,
        rnd(73, {key}) < 0.75 AS promoted,
        CAST(1 + (rnd(74, {key}) < 0.2)::INTEGER + (rnd(74, {key}) < 0.05)::INTEGER AS INTEGER) AS units,
        rnd(75, {key}) < 0.35 AS ntb_draw,
        rnd(76, {key}) AS r_halo"""


def create_attributed_events(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    target = "amazon_attributed_events_by_conversion_time"
    computed = {c.name for c in columns_of(target) if _attributed_metric(c.name) is not None}

    def traffic_select(source: str, subtype: str, ts: str, traffic_id: str, where: str) -> str:
        shared = sorted((column_names(target) & column_names(source)) - computed)
        if source == "sponsored_ads_traffic":
            shared.append("creative_asin")  # picks the promoted product
        return f"""
            SELECT {", ".join(shared)}, '{subtype}' AS traffic_event_subtype, {ts} AS traffic_utc,
                   {traffic_id} AS traffic_event_id, {_conversion_fields(traffic_id, ts, 14)}
            FROM {source} WHERE user_id IS NOT NULL AND {where}"""

    dsp_slot = "CAST(hash(line_item_id) % 6 AS INTEGER)"
    con.execute(f"""
        CREATE TEMP TABLE attributed AS
        SELECT t.*, {local_time("t.advertiser_timezone", "t.traffic_utc")} AS traffic_local,
               {local_time("t.advertiser_timezone", "t.conv_utc")} AS conv_local,
               t.traffic_event_subtype = 'AD_CLICK' AS is_click, t.subtype = 'order' AS is_order,
               md5('conv-' || t.traffic_event_id) AS conversion_id
        FROM (
            SELECT *, {dsp_slot} AS promoted_slot
            FROM ({
        traffic_select(
            "dsp_impressions", "AD_IMP", "impression_dt_utc", "request_tag", "rnd(40, request_tag) < 0.012"
        )
    })
            UNION ALL BY NAME
            SELECT *, {dsp_slot} AS promoted_slot
            FROM ({
        traffic_select(
            "dsp_clicks",
            "AD_CLICK",
            "click_dt_utc",
            "md5('click-' || request_tag)",
            "rnd(41, request_tag) < 0.2",
        )
    })
            UNION ALL BY NAME
            SELECT t.*, p.slot AS promoted_slot
            FROM ({
        traffic_select(
            "sponsored_ads_traffic",
            "AD_CLICK",
            "event_dt_utc",
            "event_id",
            "clicks = 1 AND rnd(42, event_id) < 0.12",
        )
    }) t
            JOIN products p ON p.asin = t.creative_asin
            UNION ALL BY NAME
            SELECT t.*, p.slot AS promoted_slot
            FROM ({
        traffic_select(
            "sponsored_ads_traffic",
            "AD_IMP",
            "event_dt_utc",
            "event_id",
            "impressions = 1 AND ad_product_type <> 'sponsored_products' AND rnd(43, event_id) < 0.006",
        )
    }) t
            JOIN products p ON p.asin = t.creative_asin
        ) t
        WHERE t.conv_utc < {lit(plan.end)}
    """)
    # Resolve the converted product: the promoted one, or another item of the same brand (brand halo).
    con.execute("""
        CREATE TEMP TABLE attributed_conv AS
        SELECT a.*, p.asin AS conv_asin, p.unit_price,
               CAST(a.units * p.unit_price AS DECIMAL(38, 4)) AS sales,
               a.is_order AND a.ntb_draw AS new_to_brand
        FROM attributed a
        JOIN products p ON p.advertiser = a.advertiser
         AND p.slot = CASE WHEN a.promoted THEN a.promoted_slot
                           ELSE (a.promoted_slot + 1 + CAST(floor(a.r_halo * 5) AS INTEGER)) % 6 END
    """)
    con.execute("DROP TABLE attributed")
    expressions = {
        **{name: f"a.{name}" for name in column_names(target) if name not in computed},
        **time_columns("traffic_event", "a.traffic_local", "a.traffic_utc"),
        **time_columns("conversion_event", "a.conv_local", "a.conv_utc"),
        "traffic_event_type": "'TRAFFIC'",
        "traffic_event_marketplace_name": "'AMAZON.COM'",
        "conversion_event_category": "CASE WHEN a.is_order THEN 'purchase' ELSE 'website' END",
        "conversion_event_subtype": "a.subtype",
        "conversion_event_type": "'CONVERSION'",
        "conversion_event_type_class": "CASE WHEN a.is_order THEN 'conversion' ELSE 'consideration' END",
        "conversion_event_type_description": _subtype_description("a.subtype"),
        "conversion_event_marketplace_name": "'AMAZON.COM'",
        "tracked_asin": "a.conv_asin",
        "tracked_item": "a.conv_asin",
        "new_to_brand": "a.new_to_brand",
        "purchase_currency": "'USD'",
        "purchase_retail_program": "CASE WHEN a.is_order THEN 'Amazon.com' END",
        "purchase_unit_price": "CASE WHEN a.is_order THEN a.unit_price END",
        "no_3p_trackers": "FALSE",
    }
    for column in columns_of(target):
        if column.name in computed:
            expressions[column.name] = _attributed_metric(column.name)
    # Columns no traffic source has are left out here and get their default (NULL or 0) below.
    present = {r[0] for r in con.execute("DESCRIBE attributed_conv").fetchall()}
    expressions = {k: v for k, v in expressions.items() if not v.startswith("a.") or v[2:] in present}
    for order_column, name in (
        ("conversion_event_dt_utc", target),
        ("traffic_event_dt_utc", "amazon_attributed_events_by_traffic_time"),
    ):
        con.execute(f"""
            CREATE TABLE {name} AS
            SELECT {select_list(target, expressions)}
            FROM attributed_conv a
            ORDER BY {order_column}, traffic_event_id
        """)


def _subtype_description(subtype: str) -> str:
    return f"""CASE {subtype} WHEN 'order' THEN 'Product purchased'
        WHEN 'detailPageView' THEN 'Product detail page viewed'
        WHEN 'shoppingCart' THEN 'Add to Shopping Cart'
        ELSE 'Off-Amazon conversion' END"""


def create_conversions(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    """Ad-exposed conversions: every attributed conversion plus unattributed ones of exposed users,
    some of them off-Amazon events reported through an ad tag."""
    con.execute(f"""
        CREATE TEMP TABLE conv_events AS
        SELECT conversion_id, user_id, user_id_type, conv_utc, subtype, conv_asin, unit_price, units, sales,
               new_to_brand, FALSE AS off_amazon
        FROM attributed_conv
        UNION ALL
        SELECT md5('conv-x-' || x.request_tag), x.user_id, x.user_id_type, x.conv_utc,
               CASE WHEN x.off_amazon THEN '134' ELSE x.subtype END,
               CASE WHEN x.off_amazon THEN NULL ELSE p.asin END, p.unit_price, x.units,
               CAST(x.units * p.unit_price AS DECIMAL(38, 4)),
               x.subtype = 'order' AND x.ntb_draw, x.off_amazon
        FROM (
            SELECT request_tag, user_id, user_id_type, advertiser, rnd(77, request_tag) < 0.3 AS off_amazon,
                   {_conversion_fields("request_tag", "impression_dt_utc", 28)}
            FROM dsp_impressions WHERE user_id IS NOT NULL AND rnd(78, request_tag) < 0.01
        ) x
        JOIN products p ON p.advertiser = x.advertiser AND p.slot = CAST(floor(x.r_halo * 6) AS INTEGER)
        WHERE x.conv_utc < {lit(plan.end)}
    """)
    on_amazon_order = "(NOT c.off_amazon AND c.subtype = 'order')"
    expressions = {
        "combined_sales": f"CASE WHEN {on_amazon_order} OR c.off_amazon THEN c.sales ELSE 0 END",
        "conversion_event_name": "CASE WHEN c.off_amazon THEN 'Newsletter sign-up' END",
        "conversion_event_source_name": "CASE WHEN c.off_amazon THEN 'Amazon Ad Tag' END",
        "conversion_id": "c.conversion_id",
        "conversions": "1",
        "event_category": """CASE WHEN c.off_amazon THEN 'off-Amazon' WHEN c.subtype = 'order' THEN 'purchase'
            ELSE 'website' END""",
        "event_subtype": "c.subtype",
        "event_type": "'CONVERSION'",
        "event_type_class": "CASE WHEN c.subtype = 'order' THEN 'conversion' WHEN c.off_amazon THEN NULL"
        " ELSE 'consideration' END",
        "event_type_description": _subtype_description("c.subtype"),
        "marketplace_name": "CASE WHEN c.off_amazon THEN NULL ELSE 'AMAZON.COM' END",
        "new_to_brand": "c.new_to_brand",
        "no_3p_trackers": "FALSE",
        "off_amazon_conversion_value": "CASE WHEN c.off_amazon THEN c.sales ELSE 0 END",
        "off_amazon_product_sales": "0",
        "purchase_currency": "'USD'",
        "purchase_retail_program": f"CASE WHEN {on_amazon_order} THEN 'Amazon.com' END",
        "purchase_unit_price": f"CASE WHEN {on_amazon_order} THEN c.unit_price END",
        "total_product_sales": f"CASE WHEN {on_amazon_order} THEN c.sales ELSE 0 END",
        "total_units_sold": f"CASE WHEN {on_amazon_order} THEN c.units ELSE 0 END",
        "tracked_asin": "c.conv_asin",
        "tracked_item": "coalesce(c.conv_asin, 'newsletter')",
        "user_id": "c.user_id",
        "user_id_type": "c.user_id_type",
        **time_columns("event", "c.conv_utc", "c.conv_utc"),
    }
    con.execute(f"""
        CREATE TABLE conversions AS
        SELECT {select_list("conversions", expressions)}
        FROM conv_events c
        ORDER BY event_dt_utc, conversion_id
    """)


def create_retail_purchases(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    """Every on-Amazon order of the conversion data plus organic orders from the whole shopper population."""
    products = con.execute("SELECT count(*) FROM products").fetchone()[0]
    brands, per_brand = len(catalog.ADVERTISERS), len(catalog.ADVERTISERS[0].product_nouns)
    con.execute(f"""
        CREATE TEMP TABLE retail AS
        SELECT conversion_id AS key, user_id, user_id_type, conv_utc AS ts_utc, conv_asin AS asin, units
        FROM conv_events WHERE subtype = 'order' AND NOT off_amazon
        UNION ALL
        SELECT 'organic-' || i, u.user_id, u.user_id_type, {event_time(plan, 81)},
               p.asin, CAST(1 + (rnd(85, i) < 0.15)::INTEGER AS INTEGER)
        FROM range({plan.organic_purchases}) t(i)
        JOIN users u ON u.user_idx = CAST(floor(rnd(84, i) * {plan.shoppers}) AS BIGINT)
        -- Half the organic orders are the shopper's favourite item of one of the advertisers' brands.
        JOIN products p ON p.product_idx = CASE
            WHEN rnd(86, i) < 0.5
                THEN u.favourite_slot + {per_brand} * CAST(floor(rnd(87, i) * {brands}) AS INTEGER)
            ELSE CAST(floor(rnd(88, i) * {products}) AS INTEGER) END
    """)
    expressions = {
        "asin": "p.asin",
        "asin_brand": "p.asin_brand",
        "asin_name": "p.asin_name",
        "asin_parent": "p.asin_parent",
        "currency_code": "'USD'",
        "event_id": f"md5('retail-' || r.key || '-' || {plan.seed})",
        "is_business_flag": "rnd(90, r.key) < 0.04",
        "is_gift_flag": "rnd(91, r.key) < 0.06",
        "marketplace_id": "1",
        "marketplace_name": "'AMAZON.COM'",
        "no_3p_trackers": "FALSE",
        "origin_session_id": "md5('session-a-' || r.key)",
        "purchase_id": "md5('purchase-' || r.key)",
        "purchase_order_method": pick(
            "rnd(92, r.key)", {"CART": 70, "ONE_CLICK": 20, "SUBSCRIBE_AND_SAVE": 10}
        ),
        "purchase_order_type": pick("rnd(93, r.key)", {"STANDARD": 92, "PRE_ORDER": 8}),
        "purchase_program_name": pick("rnd(94, r.key)", {"Prime": 65, "Standard": 35}),
        "purchase_session_id": "md5('session-p-' || r.key)",
        "purchase_units_sold": "r.units",
        "unit_price": "p.unit_price",
        "user_id": "r.user_id",
        "user_id_type": "r.user_id_type",
        **time_columns("purchase", "r.ts_utc", "r.ts_utc"),
    }
    con.execute(f"""
        CREATE TABLE amazon_retail_purchases AS
        SELECT {select_list("amazon_retail_purchases", expressions)}
        FROM retail r JOIN products p USING (asin)
        ORDER BY purchase_dt_utc, purchase_id
    """)
