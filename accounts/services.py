"""Business rules for users and their Amazon connection."""

from django.core.cache import cache

LOGIN_FAILURE_LIMIT = 5
LOGIN_LOCK_SECONDS = 300


def _login_keys(request, email: str) -> list[str]:
    address = request.META.get("REMOTE_ADDR", "unknown")
    return [f"login-fail:ip:{address}", f"login-fail:email:{email.strip().lower()}"]


def login_is_locked(request, email: str) -> bool:
    return any((cache.get(key) or 0) >= LOGIN_FAILURE_LIMIT for key in _login_keys(request, email))


def record_failed_login(request, email: str) -> None:
    for key in _login_keys(request, email):
        cache.add(key, 0, LOGIN_LOCK_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, LOGIN_LOCK_SECONDS)


def clear_failed_logins(request, email: str) -> None:
    cache.delete_many(_login_keys(request, email))
