"""Brand list references: a parameter value `brand:<id>:asins` (or `brand:<id>:campaigns[:DSP]`) stands for a
brand's list as it is when the run starts. Schedules store the reference and each slot resolves it, so adding
an ASIN to the brand changes the next run, never history; each execution records the values it sent."""

import re

from queries.validation.parameters import ParameterError
from recomamp.ownership import owned_by

from .models import Brand, BrandCampaign

REFERENCE = re.compile(r"^brand:(\d+):(asins|campaigns)(?::(SP|SB|SD|DSP))?$")


def reference(brand: Brand, kind: str, campaign_type: str = "") -> str:
    return f"brand:{brand.pk}:{kind}" + (f":{campaign_type}" if campaign_type else "")


def is_reference(value) -> bool:
    return isinstance(value, str) and REFERENCE.match(value.strip()) is not None


def brand_values(brand: Brand, kind: str, campaign_type: str | None = None) -> list[str]:
    if kind == "asins":
        return list(brand.asins.order_by("asin").values_list("asin", flat=True))
    campaigns = brand.campaigns.order_by("campaign_id")
    if campaign_type:
        campaigns = campaigns.filter(type=campaign_type)
    return list(campaigns.values_list("campaign_id", flat=True))


def resolve(owner, name: str, value: str) -> list[str]:
    """The brand's current list; ParameterError if the brand is not the owner's or the list is empty."""
    brand_id, kind, campaign_type = REFERENCE.match(value.strip()).groups()
    brand = owned_by(owner, Brand).filter(pk=brand_id).first()
    if brand is None:
        raise ParameterError(name, f"Brand {brand_id} no longer exists; choose another brand's list.")
    values = brand_values(brand, kind, campaign_type)
    if not values:
        what = f"{BrandCampaign.Type(campaign_type).label} campaigns" if campaign_type else kind
        raise ParameterError(name, f"Brand {brand.name} has no {what}; add some or choose another list.")
    return values


def resolve_references(owner, parameters: dict) -> dict:
    """Parameters with every brand list reference replaced by the brand's current values."""
    return {name: resolve(owner, name, v) if is_reference(v) else v for name, v in (parameters or {}).items()}
