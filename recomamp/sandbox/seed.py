"""The sandbox's fixed catalog of AMC accounts and instances.

`ensure_sandbox_catalog()` creates what is missing and leaves existing rows (and admin edits) alone, so it is
safe to call any number of times: from a demo seeding command, a test fixture, or lazily by the API (the
accounts and instances calls run it when the sandbox has no account at all).
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from .models import Region, SandboxAccount, SandboxInstance

DEMO_INSTANCE_ID = "amcdemo0sbx"


@dataclass(frozen=True)
class _Instance:
    instance_id: str
    name: str
    instance_type: str
    advertiser_types: tuple[str, ...]


# The advertiser names match the brands in the synthetic data, so query results read naturally.
CATALOG = (
    (
        {"entity_id": "ENTITY1NWOUTDOOR7Q", "name": "Northwind Outdoor", "marketplace_id": "ATVPDKIKX0DER"},
        Region.NA,
        (
            _Instance(DEMO_INSTANCE_ID, "RecomAMP Demo Instance (sandbox)", "SANDBOX", ("DISPLAY", "SPONSORED_ADS")),
            _Instance("amcnwus0002", "Northwind Outdoor US", "STANDARD", ("DISPLAY", "SPONSORED_ADS")),
        ),
    ),
    (
        {"entity_id": "ENTITY2CONTOSOUK3R", "name": "Contoso Home UK", "marketplace_id": "A1F83G8C2ARO7P"},
        Region.EU,
        (_Instance("amcctuk0003", "Contoso Home UK", "STANDARD", ("SPONSORED_ADS",)),),
    ),
    (
        {"entity_id": "ENTITY3FABRIKAMJP", "name": "Fabrikam Japan", "marketplace_id": "A1VC38T7YXB528"},
        Region.FE,
        (_Instance("amcfbjp0004", "Fabrikam Japan", "STANDARD", ("DISPLAY", "SPONSORED_ADS")),),
    ),
)


def ensure_sandbox_catalog() -> list[SandboxInstance]:
    """Make sure the sandbox accounts and instances exist; return the catalog's instances."""
    instances = []
    for account_fields, region, account_instances in CATALOG:
        account = _get_or_create(
            SandboxAccount, entity_id=account_fields["entity_id"], defaults={**account_fields, "region": region}
        )
        for item in account_instances:
            instances.append(
                _get_or_create(
                    SandboxInstance,
                    instance_id=item.instance_id,
                    defaults={
                        "name": item.name,
                        "account": account,
                        "instance_type": item.instance_type,
                        "advertiser_types": list(item.advertiser_types),
                    },
                )
            )
    return instances


def _get_or_create(model, defaults, **lookup):
    # Two processes seeding at once: the loser of the unique-constraint race reads the winner's row.
    try:
        with transaction.atomic():
            row, _ = model.objects.get_or_create(defaults=defaults, **lookup)
    except IntegrityError:
        row = model.objects.get(**lookup)
    return row
