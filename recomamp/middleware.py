"""Content Security Policy: only our own scripts, styles and connections (Django 5.2 has no built-in CSP).

Style elements are allowed only with the request's nonce: CodeMirror 6 injects its own <style> element and reads
the nonce from <meta name="csp-nonce"> (templates/base.html), so no 'unsafe-inline' is needed.
"""

import secrets
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
            "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
            f"frame-ancestors 'none'; form-action {form_targets}"
        )

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy.replace("{nonce}", request.csp_nonce))
        return response
