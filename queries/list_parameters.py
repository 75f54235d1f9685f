"""List parameters: ASIN lists, campaign lists, id and string lists, with their shape rules and size limits.

A list placeholder renders as the comma-separated quoted items only, so `IN ({{asins}})` becomes
`IN ('B0…', 'B0…')`, never nested parentheses. Sizes are bounded (docs/decisions.md, "List parameters"):
AMC documents no query length limit, and a widely repeated one is 65,536 characters, so a list may take at
most MAX_LIST_CHARS of rendered SQL and MAX_ITEMS items, leaving room for the query around it.
"""

import re

LIST_TYPES = ("id_list", "string_list", "asin_list", "campaign_list")
WARN_ITEMS = 1_000  # the picker warns from here: long lists are usually a mistake and slow AMC down
MAX_ITEMS = 4_000  # 4,000 ASINs render to about 56,000 characters
MAX_LIST_CHARS = 56_000

ASIN = re.compile(r"^(B0[A-Z0-9]{8}|\d{9}[\dX])$")  # an ASIN, or an ISBN-10 (a book's ASIN)
CAMPAIGN_ID = re.compile(r"^[A-Za-z0-9_\-.:]{1,64}$")


def normalize(kind: str, items: list[str]) -> list[str]:
    if kind == "asin_list":
        return list(dict.fromkeys(item.upper() for item in items))
    return items


def problem(kind: str, items: list[str]) -> str | None:
    """Why these (already split, non-empty) items cannot be sent, or None."""
    if len(items) > MAX_ITEMS:
        return f"{len(items):,} items is more than the {MAX_ITEMS:,} a list may hold; split the run or the list."
    if sum(len(item) + 4 for item in items) > MAX_LIST_CHARS:
        return f"The list would take more than {MAX_LIST_CHARS:,} characters of SQL; shorten it."
    if kind == "asin_list":
        bad = next((item for item in items if not ASIN.match(item)), None)
        if bad is not None:
            return f"'{bad[:40]}' is not an ASIN (10 characters: B0 and 8 letters or digits, or an ISBN-10)."
    if kind == "campaign_list":
        bad = next((item for item in items if not CAMPAIGN_ID.match(item)), None)
        if bad is not None:
            return f"'{bad[:70]}' is not a campaign id (letters, digits, '_', '-', '.', ':'; at most 64)."
    return None


def picker_attrs(definition) -> dict:
    """Widget attributes that let static/js/brand_picker.js offer a brand's list for this parameter."""
    kind = {"asin_list": "asins", "campaign_list": "campaigns"}.get(definition.type)
    if kind is None:
        return {}
    words = f"{definition.name} {definition.label or ''}".lower()
    attrs = {"data-list-picker": kind, "data-warn": WARN_ITEMS, "data-max": MAX_ITEMS}
    if kind == "campaigns" and (words.startswith("dsp_") or "dsp campaign" in words):
        attrs["data-campaign-type"] = "DSP"
    return attrs
