"""Brand business rules beyond importing: discovering what an instance actually advertises, and which query
parameters a brand's lists fill (the fan-out across a brand's instances is a run set: see
runsets.services.create_brand_fan_out)."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from executions.models import Execution
from executions.services import WindowSpec, start_execution
from queries.parameters import run_parameter_definitions

from . import lists
from .models import Brand, BrandAsin, BrandCampaign

# Built-in discovery: the campaigns (DSP and sponsored ads) and advertised ASINs with impressions on an
# instance. One ad hoc execution; its result rows are offered for adding to a brand.
DISCOVERY_SQL = """\
SELECT 'campaign' AS kind, campaign_id_string AS id, campaign AS name, 'DSP' AS type,
       SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY campaign_id_string, campaign
UNION ALL
SELECT 'campaign' AS kind, campaign_id_string AS id, campaign AS name, ad_product_type AS type,
       SUM(impressions) AS impressions
FROM sponsored_ads_traffic
GROUP BY campaign_id_string, campaign, ad_product_type
UNION ALL
SELECT 'asin' AS kind, creative_asin AS id, advertiser AS name, 'ASIN' AS type, SUM(impressions) AS impressions
FROM sponsored_ads_traffic
WHERE creative_asin IS NOT NULL
GROUP BY creative_asin, advertiser
"""
AD_PRODUCT_TYPES = {"sponsored_products": "SP", "sponsored_brands": "SB", "sponsored_display": "SD", "DSP": "DSP"}
DISCOVERY_DAYS = (7, 14, 30, 90)
DISCOVERY_ROWS = 500  # the most seen first (one result page); import bigger lists from a file


@dataclass(frozen=True)
class Discovered:
    kind: str  # "asin" or "campaign"
    id: str
    name: str
    type: str
    impressions: int


def start_discovery(owner, instance, days: int, end_day=None) -> Execution:
    """Queue the discovery query on one instance for the `days` days up to `end_day` (default: yesterday)."""
    zone = owner.timezone or "UTC"
    end_day = (end_day or timezone.localdate() - timedelta(days=2)) + timedelta(days=1)
    end = datetime.combine(end_day, time.min, ZoneInfo(zone))
    window = WindowSpec("EXPLICIT", end - timedelta(days=days), end, zone)
    return start_execution(owner=owner, instance=instance, window=window, sql=DISCOVERY_SQL)


def discovered_rows(execution: Execution) -> list[Discovered]:
    """Rows of a finished discovery execution, most impressions first; campaign types mapped to SP/SB/SD/DSP."""
    from executions.results.reader import read_page

    result = getattr(execution, "result", None)
    if result is None or not result.row_count:
        return []
    names = [c["name"] for c in result.columns]
    if not {"kind", "id", "impressions"} <= set(names):
        return []  # not a discovery result
    page = read_page(result, page=1, page_size=DISCOVERY_ROWS, sort="impressions", descending=True)
    rows = []
    for values in page.rows:
        row = dict(zip(names, values, strict=True))
        kind_type = AD_PRODUCT_TYPES.get(str(row.get("type")), "")
        if row.get("kind") == "campaign" and not kind_type:
            continue  # e.g. Sponsored TV: not one of the brand campaign types
        rows.append(Discovered(str(row["kind"]), str(row["id"]), str(row.get("name") or ""), kind_type or "ASIN",
                               int(row.get("impressions") or 0)))  # fmt: skip
    return rows


def add_discovered(brand: Brand, execution: Execution, chosen: set[str]) -> tuple[int, int]:
    """Add the chosen discovered ids (`asin:B0…`, `campaign:123`) to the brand; existing ones are kept."""
    asins, campaigns = [], []
    for row in discovered_rows(execution):
        if f"{row.kind}:{row.id}" not in chosen:
            continue
        if row.kind == "asin":
            asins.append(BrandAsin(brand=brand, asin=row.id.upper()[:10]))
        else:
            campaigns.append(BrandCampaign(brand=brand, campaign_id=row.id, name=row.name[:500], type=row.type,
                                           instance=execution.instance))  # fmt: skip
    with transaction.atomic():
        BrandAsin.objects.bulk_create(asins, ignore_conflicts=True)
        BrandCampaign.objects.bulk_create(campaigns, ignore_conflicts=True)
        brand.instances.add(execution.instance)
    return len(asins), len(campaigns)


def list_parameter_kinds(workflow) -> dict[str, str]:
    """The query's parameters a brand list can fill: {name: "asins" | "campaigns"} (typed list parameters, or
    names ending in asins / campaign_ids)."""
    kinds = {}
    for definition in run_parameter_definitions(workflow.sql, workflow.parameter_definitions()):
        if definition.type == "asin_list" or definition.name.endswith("asins"):
            kinds[definition.name] = "asins"
        elif definition.type == "campaign_list" or definition.name.endswith("campaign_ids"):
            kinds[definition.name] = "campaigns"
    return kinds


def brand_list_parameters(brand: Brand, workflow) -> dict[str, str]:
    """The query's ASIN and campaign list parameters, each bound to the brand's list (resolved at each run)."""
    return {name: lists.reference(brand, kind) for name, kind in list_parameter_kinds(workflow).items()}
