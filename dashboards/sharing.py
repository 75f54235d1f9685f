"""Read-only share links: the URL carries the link's id signed with the project's key; expiry and revocation
are checked in the database on every visit, so a revoked or expired link stops working at once."""

from datetime import timedelta

from django.core import signing
from django.utils import timezone

from .models import ShareLink

SALT = "dashboards.share"
MAX_DAYS = 90


def create_link(dashboard, *, days: int = 7, snapshot=None) -> ShareLink:
    days = min(max(1, days), MAX_DAYS)
    return ShareLink.objects.create(
        dashboard=dashboard, snapshot=snapshot, expires_at=timezone.now() + timedelta(days=days)
    )


def token_for(link: ShareLink) -> str:
    return signing.dumps({"l": link.pk, "n": link.nonce}, salt=SALT, compress=True)


def link_for_token(token: str) -> ShareLink | None:
    """The live link a token names, or None (bad signature, unknown, revoked or expired)."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=timedelta(days=MAX_DAYS))
    except signing.BadSignature:
        return None
    link = (
        ShareLink.objects.select_related("dashboard", "snapshot")
        .filter(pk=payload.get("l"), nonce=payload.get("n"), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    return link


def revoke(link: ShareLink) -> None:
    ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
