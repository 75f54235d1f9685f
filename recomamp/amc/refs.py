"""Typed references to AMC accounts and instances.

AMC identifies an instance by its own id (e.g. ``amc1alal2aa``) and needs the owning account's entity id and
marketplace in headers. Our database has different ids (UUID primary keys). The client only accepts these
small value objects, or objects that can produce one through ``amc_ref()``, so our ids cannot reach AMC by
accident: a bare string or UUID is rejected with ``TypeError``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


def _require_text(owner: str, field: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{owner}.{field} must be a non-empty string, got {value!r}")


def _looks_like_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class AccountRef:
    """An AMC account: the entity id sent as the advertiser header, and its marketplace."""

    entity_id: str
    marketplace_id: str
    region: str | None = None

    def __post_init__(self) -> None:
        _require_text("AccountRef", "entity_id", self.entity_id)
        _require_text("AccountRef", "marketplace_id", self.marketplace_id)


@dataclass(frozen=True)
class InstanceRef:
    """An AMC instance as AMC knows it, with the account headers every call on it needs."""

    instance_id: str
    entity_id: str
    marketplace_id: str
    region: str | None = None

    def __post_init__(self) -> None:
        _require_text("InstanceRef", "instance_id", self.instance_id)
        _require_text("InstanceRef", "entity_id", self.entity_id)
        _require_text("InstanceRef", "marketplace_id", self.marketplace_id)
        # AMC instance ids are short lowercase codes; a UUID here is almost surely our own primary key.
        if _looks_like_uuid(self.instance_id):
            raise ValueError(
                f"InstanceRef.instance_id {self.instance_id!r} looks like an internal UUID, not an AMC instance id"
            )

    @property
    def account(self) -> AccountRef:
        return AccountRef(self.entity_id, self.marketplace_id, self.region)


def as_instance_ref(value: object) -> InstanceRef:
    """Return the InstanceRef for ``value`` (an InstanceRef or an object with ``amc_ref()``)."""
    if isinstance(value, InstanceRef):
        return value
    ref = _call_amc_ref(value, "an AMC instance")
    if not isinstance(ref, InstanceRef):
        raise TypeError(f"{type(value).__name__}.amc_ref() returned {type(ref).__name__}, expected InstanceRef")
    return ref


def as_account_ref(value: object) -> AccountRef:
    """Return the AccountRef for ``value``: an AccountRef, an InstanceRef, or an object with ``amc_ref()``."""
    if isinstance(value, AccountRef):
        return value
    if isinstance(value, InstanceRef):
        return value.account
    ref = _call_amc_ref(value, "an AMC account")
    if isinstance(ref, AccountRef):
        return ref
    if isinstance(ref, InstanceRef):
        return ref.account
    raise TypeError(f"{type(value).__name__}.amc_ref() returned {type(ref).__name__}, expected AccountRef")


def _call_amc_ref(value: object, what: str) -> object:
    # Plain ids are refused outright: they are exactly the mistake this module exists to prevent.
    if isinstance(value, (str, bytes, int, uuid.UUID)):
        raise TypeError(
            f"Expected {what} reference (InstanceRef/AccountRef or a model with amc_ref()), "
            f"got a bare {type(value).__name__}; build a ref so AMC's ids and headers travel together"
        )
    amc_ref = getattr(value, "amc_ref", None)
    if not callable(amc_ref):
        raise TypeError(f"Expected {what} reference, got {type(value).__name__} without amc_ref()")
    return amc_ref()
