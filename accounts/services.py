"""Business rules for users and their Amazon connection."""

from . import throttle

LOGIN_FAILURE_LIMIT = throttle.PAIR_FAILURE_LIMIT
LOGIN_LOCK_SECONDS = throttle.LOCK_SECONDS


def login_is_locked(request, email: str) -> bool:
    return throttle.is_locked(request, email)


def record_failed_login(request, email: str) -> None:
    throttle.record_failure(request, email)


def clear_failed_logins(request, email: str) -> None:
    throttle.clear(request, email)
