"""The sandbox clock, on its own so every sandbox module can read it without importing the status machine."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """Tests patch this (`clock.now`) to move the sandbox's time without sleeping."""
    return timezone.now()
