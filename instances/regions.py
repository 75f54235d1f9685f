"""Amazon marketplaces and the advertising API region that serves them."""

MARKETPLACE_REGIONS = {
    # North America
    "ATVPDKIKX0DER": "NA", "A2EUQ1WTGCTBG2": "NA", "A1AM78C64UM0Y8": "NA", "A2Q3Y263D00KWC": "NA",
    # Europe, Middle East, India, Africa
    "A1F83G8C2ARO7P": "EU", "A1PA6795UKMFR9": "EU", "A13V1IB3VIYZZH": "EU", "APJ6JRA9NG5V4": "EU",
    "A1RKKUPIHCS9HS": "EU", "A1805IZSGTT6HS": "EU", "A2NODRKZP88ZB9": "EU", "A1C3SOZRARQ6R3": "EU",
    "A33AVAJ2PDY3EV": "EU", "A2VIGQ35RCS4UG": "EU", "A17E79C6D8DWNP": "EU", "ARBP9OOSHTCHU": "EU",
    "A21TJRUUN4KGV": "EU", "AMEN7PMS3EDWL": "EU", "AE08WJ6YKNBMC": "EU",
    # Far East
    "A1VC38T7YXB528": "FE", "A39IBJ37TRP1C6": "FE", "A19VAU5U5O7RUS": "FE",
}  # fmt: skip


def region_for_marketplace(marketplace_id: str | None, default: str = "NA") -> str:
    return MARKETPLACE_REGIONS.get(marketplace_id or "", default)
