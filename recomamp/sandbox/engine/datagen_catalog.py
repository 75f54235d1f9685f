"""The small, fixed advertising catalog behind the synthetic data: advertisers, DSP campaigns with their line
items and creatives, sponsored-ads campaigns with ad groups and keywords, and the products (ASINs) they sell.

Names are invented. Ids come from a seeded `random.Random`, so the same seed always yields the same catalog.
Each function returns rows (dicts) that `datagen` loads into temporary DuckDB tables.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Advertiser:
    name: str
    brand: str
    timezone: str
    product_nouns: tuple[str, ...]
    keywords: tuple[str, ...]


ADVERTISERS = (
    Advertiser(
        "Northwind Outdoor",
        "Northwind",
        "America/New_York",
        ("Trail Backpack", "Rain Shell", "Camp Stove", "Hiking Poles", "Sleeping Bag", "Water Filter"),
        ("hiking backpack", "rain jacket", "camping stove", "trekking poles", "sleeping bag", "water filter"),
    ),
    Advertiser(
        "Contoso Home",
        "Contoso",
        "America/Los_Angeles",
        ("Air Purifier", "Robot Vacuum", "Coffee Grinder", "Smart Kettle", "Desk Lamp", "Blender"),
        ("air purifier", "robot vacuum", "coffee grinder", "electric kettle", "led desk lamp", "blender"),
    ),
)
OTHER_BRANDS = ("Fabrikam", "Tailspin", "Litware", "Adatum")

# (campaign label, goal, creative category, line item types)
DSP_CAMPAIGN_PLANS = (
    ("Awareness_STV", "REACH", "Video", ("AAP_VIDEO_CPM", "AAP_VIDEO_CPM")),
    ("Consideration_Display", "DPVR", "Display", ("AAP_DISPLAY", "AAP_MOBILE", "AAP")),
    ("Retargeting_Display", "ROAS", "Display", ("AAP_DISPLAY", "AAP_MOBILE")),
)
# (ad product, campaign label, creative type, budget type, targeting mode)
SA_CAMPAIGN_PLANS = (
    ("sponsored_products", "SP_Keywords", "static_image", "DAILY_BUDGET", "keyword"),
    ("sponsored_products", "SP_Auto", "static_image", "DAILY_BUDGET", "auto"),
    ("sponsored_brands", "SB_Video", "video", "DAILY_BUDGET", "keyword"),
    ("sponsored_display", "SD_Remarketing", "static_image", "DAILY_BUDGET", "audience"),
    ("sponsored_television", "STV_Brand", "video", "LIFETIME_BUDGET", "none"),
)


def _local_and_utc(day: datetime, tz: str) -> tuple[datetime, datetime]:
    local = day.replace(tzinfo=None)
    utc = day.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC).replace(tzinfo=None)
    return local, utc


def _flight(period_start: datetime, period_end: datetime, tz: str, rng: random.Random) -> dict:
    start = period_start - timedelta(days=rng.randint(5, 40))
    end = period_end + timedelta(days=rng.randint(20, 90))
    start_local, start_utc = _local_and_utc(start, tz)
    end_local, end_utc = _local_and_utc(end, tz)
    return {"start": start_local, "start_utc": start_utc, "end": end_local, "end_utc": end_utc}


def _id(rng: random.Random, digits: int) -> int:
    return rng.randint(10 ** (digits - 1), 10**digits - 1)


def products(rng: random.Random) -> list[dict]:
    """ASINs: six per advertiser brand (grouped under three parent ASINs) plus some other brands' items."""
    rows = []
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"

    def asin() -> str:
        return "B0" + "".join(rng.choice(alphabet) for _ in range(8))

    for adv in ADVERTISERS:
        parents = [asin() for _ in range(3)]
        for i, noun in enumerate(adv.product_nouns):
            rows.append(
                {
                    "asin": asin(),
                    "asin_parent": parents[i // 2],
                    "asin_brand": adv.brand,
                    "asin_name": f"{adv.brand} {noun}",
                    "unit_price": round(rng.uniform(12, 240), 2),
                    "advertiser": adv.name,
                    "slot": i,
                }
            )
    for brand in OTHER_BRANDS:
        for i, noun in enumerate(("Phone Case", "Notebook", "Snack Box")):
            code = asin()
            rows.append(
                {
                    "asin": code,
                    "asin_parent": code,
                    "asin_brand": brand,
                    "asin_name": f"{brand} {noun}",
                    "unit_price": round(rng.uniform(5, 60), 2),
                    "advertiser": None,
                    "slot": i,
                }
            )
    for idx, row in enumerate(rows):
        row["product_idx"] = idx
    return rows


def dsp_creatives(rng: random.Random, period_start: datetime, period_end: datetime) -> list[dict]:
    """One denormalised row per DSP creative, carrying its line item, campaign and advertiser."""
    rows = []
    for adv in ADVERTISERS:
        advertiser_id = _id(rng, 15)
        entity_id = "ENTITY" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(12))
        for label, goal, category, li_types in DSP_CAMPAIGN_PLANS:
            campaign_id = _id(rng, 18)
            flight = _flight(period_start, period_end, adv.timezone, rng)
            campaign = {
                "advertiser": adv.name,
                "advertiser_id": advertiser_id,
                "advertiser_timezone": adv.timezone,
                "entity_id": entity_id,
                "campaign": f"{adv.brand}_{label}_US",
                "campaign_id": campaign_id,
                "campaign_id_string": str(campaign_id),
                "campaign_primary_goal": goal,
                "campaign_budget_amount": rng.randint(20, 200) * 1_000 * 100_000,
                "campaign_flight_id": _id(rng, 15),
                "campaign_insertion_order_id": str(_id(rng, 9)),
                "campaign_start": flight["start"],
                "campaign_start_utc": flight["start_utc"],
                "campaign_end": flight["end"],
                "campaign_end_utc": flight["end_utc"],
                "merchant_id": _id(rng, 10),
                "creative_category": category,
            }
            for li_type in li_types:
                line_item_id = _id(rng, 16)
                li_flight = _flight(period_start, period_end, adv.timezone, rng)
                line_item = {
                    "line_item": f"{adv.brand} - {label.split('_')[1].upper()} - {li_type}",
                    "line_item_id": line_item_id,
                    "line_item_type": li_type,
                    "line_item_budget_amount": rng.randint(5, 60) * 1_000 * 100_000,
                    "line_item_start": li_flight["start"],
                    "line_item_start_utc": li_flight["start_utc"],
                    "line_item_end": li_flight["end"],
                    "line_item_end_utc": li_flight["end_utc"],
                    "cpm_millicents": rng.randint(250, 1800)
                    if category == "Video"
                    else rng.randint(150, 700),
                }
                sizes = ("1920x1080", "1280x720") if category == "Video" else ("300x250", "728x90", "320x50")
                for size in sizes:
                    creative_id = _id(rng, 18)
                    rows.append(
                        {
                            **campaign,
                            **line_item,
                            "creative": f"{adv.brand}_{label}_{size}",
                            "creative_id": creative_id,
                            "creative_size": size,
                            "creative_type": "Streaming TV Video"
                            if category == "Video"
                            else "Standard Display",
                            "creative_duration": rng.choice((15, 30)) if category == "Video" else None,
                        }
                    )
    for idx, row in enumerate(rows):
        row["creative_idx"] = idx
    return rows


def sa_ad_groups(rng: random.Random, period_start: datetime, period_end: datetime) -> list[dict]:
    """One denormalised row per sponsored-ads ad group, with its campaign and targeting keywords."""
    rows = []
    for adv in ADVERTISERS:
        entity_id = "ENTITY" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(12))
        portfolio_id = _id(rng, 14)
        for product_type, label, creative_type, budget_type, targeting_mode in SA_CAMPAIGN_PLANS:
            campaign_id = _id(rng, 15)
            flight = _flight(period_start, period_end, adv.timezone, rng)
            for group_no in (1, 2):
                ag_flight = _flight(period_start, period_end, adv.timezone, rng)
                keywords = list(adv.keywords[(group_no - 1) * 3 : (group_no - 1) * 3 + 3])
                rows.append(
                    {
                        "advertiser": adv.name,
                        "advertiser_timezone": adv.timezone,
                        "entity_id": entity_id,
                        "ad_product_type": product_type,
                        "campaign": f"{adv.brand}_{label}_US",
                        "campaign_id": campaign_id,
                        # Sponsored ads carry a separate console id in campaign_id_string.
                        "campaign_id_string": str(_id(rng, 15)),
                        "campaign_budget_type": budget_type,
                        "campaign_start": flight["start"],
                        "campaign_start_utc": flight["start_utc"],
                        "campaign_end": flight["end"],
                        "campaign_end_utc": flight["end_utc"],
                        "ad_group": f"{label}_{adv.brand}_Group{group_no}",
                        "ad_group_id": _id(rng, 15),
                        "ad_group_start": ag_flight["start"],
                        "ad_group_start_utc": ag_flight["start_utc"],
                        "ad_group_end": ag_flight["end"],
                        "ad_group_end_utc": ag_flight["end_utc"],
                        "creative_type": creative_type,
                        "keywords": keywords,
                        "targeting_mode": targeting_mode,
                        "portfolio_id": portfolio_id,
                        "portfolio_name": f"{adv.brand} Always On",
                        "cpc_microcents": rng.randint(40, 180) * 1_000_000,
                    }
                )
    for idx, row in enumerate(rows):
        row["ad_group_idx"] = idx
    return rows


# (device_type, device_make, device_model, operating_system, os_version, browser_family, weight)
DEVICES = (
    ("Phone", "Apple", "iPhone 15", "iOS", "17.5", "Mobile Safari", 22),
    ("Phone", "Samsung", "Galaxy S23", "Android", "14", "Chrome Mobile", 18),
    ("Phone", "Google", "Pixel 8", "Android", "14", "Chrome Mobile", 6),
    ("PC", "Unknown", "Desktop", "Windows", "11", "Chrome", 14),
    ("PC", "Apple", "Macintosh", "Mac OS X", "14.4", "Safari", 8),
    ("Tablet", "Apple", "iPad", "iOS", "17.4", "Mobile Safari", 7),
    ("Tablet", "Amazon", "Fire HD 10", "Fire OS", "8", "Silk", 5),
    ("TV", "Amazon", "Fire TV Stick 4K", "Fire OS", "7", "Unknown", 10),
    ("TV", "Roku", "Roku Ultra", "Roku OS", "12", "Unknown", 6),
    ("ConnectedDevice", "Amazon", "Echo Show 8", "Fire OS", "7", "Silk", 4),
)

# (iso_state_province_code, dma_code, city_name, postal prefix, weight)
GEOS = (
    ("US-NY", "501", "New York", "100", 14),
    ("US-CA", "803", "Los Angeles", "900", 12),
    ("US-IL", "602", "Chicago", "606", 8),
    ("US-TX", "623", "Dallas", "752", 7),
    ("US-PA", "504", "Philadelphia", "191", 5),
    ("US-TX", "618", "Houston", "770", 6),
    ("US-GA", "524", "Atlanta", "303", 5),
    ("US-WA", "819", "Seattle", "981", 5),
    ("US-MA", "506", "Boston", "021", 4),
    ("US-FL", "528", "Miami", "331", 5),
    ("US-CO", "751", "Denver", "802", 4),
    ("US-AZ", "753", "Phoenix", "850", 4),
)

# Supply per creative category. (supply_source, site, app_bundle, page_type, environment_type,
# is_amazon_owned, demand_channel, view-aware, view rate, deal name)
SUPPLY = {
    "Display": (
        ("AMAZON.COM", "amazon.com", None, "Detail", "Web", True, "Amazon O&O", True, 0.72, None),
        ("AMAZON.COM", "amazon.com", None, "Search", "Web", True, "Amazon O&O", True, 0.66, None),
        ("IMDB", "imdb.com", None, "Other", "Web", True, "Amazon O&O", True, 0.61, None),
        (
            "PUBMATIC WEB DISPLAY",
            "news-daily.example",
            None,
            "Other",
            "Web",
            False,
            "Third-party exchange",
            False,
            0.54,
            None,
        ),
        (
            "MAGNITE APP DISPLAY",
            None,
            "com.example.weather",
            "Other",
            "App",
            False,
            "Third-party exchange",
            False,
            0.49,
            "Weather App PMP",
        ),
    ),
    "Video": (
        ("PRIME VIDEO", None, "com.amazon.avod", "Other", "App", True, "Amazon O&O", True, 0.95, None),
        ("FIRE TV", None, "com.amazon.firetv", "Other", "App", True, "Amazon O&O", True, 0.93, None),
        ("TWITCH WEB VIDEO", "twitch.tv", None, "Other", "Web", True, "Amazon O&O", True, 0.81, None),
        (
            "FREEWHEEL CTV",
            None,
            "com.example.streaming",
            "Other",
            "App",
            False,
            "Third-party exchange",
            False,
            0.88,
            "Sports Streaming PMP",
        ),
        (
            "INDEX EXCHANGE WEB VIDEO",
            "video-hub.example",
            None,
            "Other",
            "Web",
            False,
            "Third-party exchange",
            False,
            0.62,
            None,
        ),
    ),
}

# Placement names by sponsored-ads product.
SA_PLACEMENTS = {
    "sponsored_products": ("Top of Search on-Amazon", "Detail Page on-Amazon", "Other on-Amazon"),
    "sponsored_brands": ("Top of Search on-Amazon", "Other on-Amazon"),
    "sponsored_display": ("Detail Page on-Amazon", "Off-Amazon"),
    "sponsored_television": ("Streaming TV",),
}
SEARCH_TERM_SUFFIXES = ("", " sale", " best", " for women", " 2 pack")
