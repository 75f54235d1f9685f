"""Instances: sync the AMC accounts and instances a user can reach into our tables."""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts.amazon import amc_client_for
from recomamp.amc.refs import AccountRef

from .models import AdvertiserAccount, AMCInstance
from .regions import region_for_marketplace

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    accounts: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.accounts} accounts; instances: {len(self.created)} new, {len(self.updated)} updated, "
            f"{len(self.deactivated)} no longer listed (marked inactive)"
        )


def sync_instances(user, *, client=None) -> SyncReport:
    """List accounts and instances through the AMC client, then upsert them in one transaction.

    Every API call happens before the first write, so a failure half-way saves nothing. Instances that AMC no
    longer lists are marked inactive, never deleted: executions and schedules still point at them.
    """
    client = client or amc_client_for(user)
    listed = []
    with client:
        for account in client.list_accounts():
            marketplace = account.marketplace_id or "ATVPDKIKX0DER"
            instances = client.list_instances(AccountRef(entity_id=account.account_id, marketplace_id=marketplace))
            listed.append((account, marketplace, instances))
    return store_listing(user, listed)


@transaction.atomic
def store_listing(user, listed) -> SyncReport:
    """Upsert [(account record, marketplace, [instance records])] for `user`; unlisted instances go inactive."""
    now = timezone.now()
    report = SyncReport(accounts=len(listed))
    seen_accounts, seen_instances = set(), set()
    for account, marketplace, instances in listed:
        region = region_for_marketplace(marketplace)
        row, _ = AdvertiserAccount.objects.update_or_create(
            owner=user,
            entity_id=account.account_id,
            defaults={
                "name": account.name or account.account_id,
                "marketplace_id": marketplace,
                "region": region,
                "is_active": True,
                "last_synced_at": now,
            },
        )
        seen_accounts.add(row.pk)
        for item in instances:
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
    stale = AMCInstance.objects.filter(owner=user, status=AMCInstance.Status.ACTIVE).exclude(pk__in=seen_instances)
    report.deactivated = list(stale.values_list("instance_id", flat=True))
    stale.update(status=AMCInstance.Status.INACTIVE, updated_at=now)
    AdvertiserAccount.objects.filter(owner=user).exclude(pk__in=seen_accounts).update(is_active=False)
    log.info("instances synced user=%s %s", user.pk, report.summary())
    return report
