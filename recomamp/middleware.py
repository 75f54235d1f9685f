"""Content Security Policy: only our own scripts, styles and connections (Django 5.2 has no built-in CSP)."""

from urllib.parse import urlsplit

from django.conf import settings


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # Connecting Amazon posts a form that redirects to the LWA consent page, which form-action must allow.
        form_targets = " ".join(filter(None, ["'self'", _origin(settings.LWA_AUTHORIZE_URL)]))
        self.policy = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
            f"frame-ancestors 'none'; form-action {form_targets}"
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
