"""Pages show instants in the signed-in user's zone (their profile's IANA zone; UTC when unset or unknown)."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone


class UserTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = getattr(getattr(request, "user", None), "timezone", "") or ""
        try:
            timezone.activate(ZoneInfo(zone)) if zone else timezone.deactivate()
        except (ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
