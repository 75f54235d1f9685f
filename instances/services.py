"""Instances: sync the AMC accounts and instances a user can reach into our tables.

Accounts live in one advertising API region each (NA, EU, FE) and are only listed by that region's host, so
discovery asks every region. One account (or region) that refuses or fails never hides the others: what could
be read is stored, and each failure is reported by name with AMC's reason.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts.amazon import amc_client_for
from recomamp.amc.errors import AMCError
from recomamp.amc.records import Account, Instance
from recomamp.amc.refs import AccountRef

from .models import AdvertiserAccount, AMCInstance, Region

log = logging.getLogger(__name__)

# The marketplace assumed for an account AMC lists without one: the region's largest.
DEFAULT_MARKETPLACE = {"NA": "ATVPDKIKX0DER", "EU": "A1F83G8C2ARO7P", "FE": "A1VC38T7YXB528"}


@dataclass(frozen=True)
class AccountListing:
    """One account as read from its region's host, with its instances."""

    account: Account
    region: str
    instances: list[Instance]
    marketplace_id: str = ""

    @property
    def marketplace(self) -> str:
        return self.marketplace_id or self.account.marketplace_id or DEFAULT_MARKETPLACE.get(self.region, "")


@dataclass(frozen=True)
class SyncFailure:
    """An account (or a whole region) that could not be read this time, and AMC's reason."""

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


@dataclass
class SyncReport:
    accounts: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    failures: list[SyncFailure] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{self.accounts} accounts; instances: {len(self.created)} new, {len(self.updated)} updated, "
            f"{len(self.deactivated)} no longer listed (marked inactive)"
        )
        if self.failures:
            text += f"; {len(self.failures)} could not be read (left as they were)"
        return text


class SyncError(Exception):
    """Nothing at all could be read; `report.failures` says why for each account or region."""

    def __init__(self, report: SyncReport):
        self.report = report
        super().__init__("nothing could be read from AMC. " + " ".join(f"{f}." for f in report.failures))


def sync_instances(user, *, client_for: Callable | None = None) -> SyncReport:
    """List accounts and instances on every region's host, then upsert what was read in one transaction.

    Every API call happens before the first write. Instances that AMC no longer lists are marked inactive, never
    deleted (executions and schedules still point at them) - but not those of an account or region that could
    not be read this time: a refusal is no evidence that an instance is gone.
    """
    client_for = client_for or (lambda region: amc_client_for(user, region))
    listed: list[AccountListing] = []
    failures: list[SyncFailure] = []
    unread_accounts: set[str] = set()
    unread_regions: set[str] = set()
    for region in Region.values:
        try:
            with client_for(region) as client:
                for account in client.list_accounts():
                    marketplace = AccountListing(account, region, []).marketplace
                    try:
                        ref = AccountRef(entity_id=account.account_id, marketplace_id=marketplace)
                        listed.append(AccountListing(account, region, client.list_instances(ref)))
                    except AMCError as exc:
                        failures.append(SyncFailure(f"{account.name or account.account_id} ({region})", str(exc)))
                        unread_accounts.add(account.account_id)
        except AMCError as exc:
            failures.append(SyncFailure(f"accounts in {Region(region).label} ({region})", str(exc)))
            unread_regions.add(region)
    for failure in failures:
        log.warning("instance sync could not read user=%s %s", user.pk, failure)
    if failures and not listed:
        raise SyncError(SyncReport(failures=failures))
    report = store_listing(user, listed, unread_accounts=unread_accounts, unread_regions=unread_regions)
    report.failures = failures
    return report


@transaction.atomic
def store_listing(user, listed, *, unread_accounts=(), unread_regions=()) -> SyncReport:
    """Upsert [AccountListing] for `user`; instances no longer listed go inactive, except unread ones."""
    now = timezone.now()
    report = SyncReport(accounts=len(listed))
    seen_accounts, seen_instances = set(), set()
    for listing in listed:
        account, region = listing.account, listing.region
        row, _ = AdvertiserAccount.objects.update_or_create(
            owner=user,
            entity_id=account.account_id,
            defaults={
                "name": account.name or account.account_id,
                "marketplace_id": listing.marketplace,
                "region": region,
                "is_active": True,
                "last_synced_at": now,
            },
        )
        seen_accounts.add(row.pk)
        for item in listing.instances:
            defaults = {
                "account": row,
                "name": item.name or item.instance_id,
                "instance_type": item.instance_type or "",
                "amc_status": item.creation_status or "",
                "api_endpoint": item.api_endpoint or "",
                "region": region,
                "is_sandbox": item.is_sandbox,
                "status": AMCInstance.Status.ACTIVE,
                "last_synced_at": now,
            }
            instance, created = AMCInstance.objects.update_or_create(
                owner=user, instance_id=item.instance_id, defaults=defaults
            )
            (report.created if created else report.updated).append(item.instance_id)
            seen_instances.add(instance.pk)
    stale = (
        AMCInstance.objects.filter(owner=user, status=AMCInstance.Status.ACTIVE)
        .exclude(pk__in=seen_instances)
        .exclude(account__entity_id__in=list(unread_accounts))
        .exclude(region__in=list(unread_regions))
    )
    gone_accounts = (
        AdvertiserAccount.objects.filter(owner=user)
        .exclude(pk__in=seen_accounts)
        .exclude(entity_id__in=list(unread_accounts))
        .exclude(region__in=list(unread_regions))
    )
    report.deactivated = list(stale.values_list("instance_id", flat=True))
    stale.update(status=AMCInstance.Status.INACTIVE, updated_at=now)
    gone_accounts.update(is_active=False)
    log.info("instances synced user=%s %s", user.pk, report.summary())
    return report
