"""Failed sign-ins, counted so that nobody can lock someone else out (docs/reliability.md, Security).

Failures are counted per (account, address) pair: five wrong passwords for one account from one address
pause that pair only, so the owner signing in from elsewhere is never blocked by someone else's guesses.
A separate, much higher ceiling per address slows one address spraying many accounts. Behind a proxy the
client address comes from the header named in CLIENT_IP_HEADER only (never from a header anyone can send
when no proxy is configured).
"""

import hashlib
import ipaddress

from django.conf import settings
from django.core.cache import cache

PAIR_FAILURE_LIMIT = 5
ADDRESS_FAILURE_LIMIT = 100
LOCK_SECONDS = 300


def client_address(request) -> str:
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if header:
        meta_key = "HTTP_" + header.upper().replace("-", "_")
        # The proxy appends the address it saw: the last entry is the one a client cannot forge.
        candidate = request.META.get(meta_key, "").split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR", "unknown")


def _keys(request, email: str) -> tuple[str, str]:
    address = client_address(request)
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"login-fail:pair:{account}:{address}", f"login-fail:ip:{address}"


def is_locked(request, email: str) -> bool:
    pair, address = _keys(request, email)
    values = cache.get_many([pair, address])
    return values.get(pair, 0) >= PAIR_FAILURE_LIMIT or values.get(address, 0) >= ADDRESS_FAILURE_LIMIT


def record_failure(request, email: str) -> None:
    for key in _keys(request, email):
        cache.add(key, 0, LOCK_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, LOCK_SECONDS)


def clear(request, email: str) -> None:
    """A correct password clears its own pair; the address ceiling stays, so one valid account of an
    attacker cannot reset the count of its guesses at others."""
    cache.delete(_keys(request, email)[0])
