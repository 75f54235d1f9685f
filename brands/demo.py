"""Demo brands: the sandbox's two advertisers with the ASINs and campaigns its synthetic data contains, so a
query filled from a brand's list returns rows (called from home/demo.py)."""

from pathlib import Path

from .models import Brand, BrandAsin, BrandCampaign

DEMO_BRANDS = {"Northwind": "Northwind Outdoor", "Contoso": "Contoso Home"}  # brand -> sandbox advertiser
SA_TYPES = {"sponsored_products": "SP", "sponsored_brands": "SB", "sponsored_display": "SD"}


def sandbox_brand_lists(path: Path) -> dict[str, dict]:
    """Per demo brand: [(asin, title)] and [(campaign id, name, type)] read from the sandbox data file."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as db:
        asins = db.execute(
            "SELECT DISTINCT asin_brand, asin, asin_name FROM amazon_retail_purchases ORDER BY 2"
        ).fetchall()
        dsp = db.execute(
            "SELECT DISTINCT advertiser, campaign_id_string, campaign, 'DSP' FROM dsp_impressions ORDER BY 2"
        ).fetchall()
        sa = db.execute(
            "SELECT DISTINCT advertiser, campaign_id_string, campaign, ad_product_type "
            "FROM sponsored_ads_traffic ORDER BY 2"
        ).fetchall()
    lists = {name: {"asins": [], "campaigns": []} for name in DEMO_BRANDS}
    for brand, asin, title in asins:
        if brand in lists:
            lists[brand]["asins"].append((asin, title))
    for advertiser, campaign_id, name, kind in dsp + sa:
        brand = next((b for b, a in DEMO_BRANDS.items() if a == advertiser), None)
        kind = SA_TYPES.get(kind, kind if kind == "DSP" else None)
        if brand and kind:
            lists[brand]["campaigns"].append((campaign_id, name, kind))
    return lists


def ensure_demo_brands(user, path: Path, instances) -> str:
    if not path.exists():
        return "demo brands skipped (no sandbox data)"
    created = 0
    for name, data in sandbox_brand_lists(path).items():
        brand, new = Brand.objects.get_or_create(
            owner=user, name=name, defaults={"description": f"Demo brand: {DEMO_BRANDS[name]} in the AMC sandbox."}
        )
        created += new
        brand.instances.add(*instances)
        BrandAsin.objects.bulk_create(
            [BrandAsin(brand=brand, asin=a, title=t, marketplace="ATVPDKIKX0DER") for a, t in data["asins"]],
            ignore_conflicts=True,
        )
        BrandCampaign.objects.bulk_create(
            [BrandCampaign(brand=brand, campaign_id=c, name=n, type=k) for c, n, k in data["campaigns"]],
            ignore_conflicts=True,
        )
    return f"demo brands: {created} created"
