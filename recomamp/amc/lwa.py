"""Login with Amazon (LWA): consent URL with PKCE, code exchange and token refresh.

A thin layer that does not retry: every failure is an ``LWAError`` whose ``kind`` tells the caller what to
do (re-authenticate, retry later, fix configuration). Secrets never appear in messages.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from .errors import parse_retry_after

DEFAULT_SCOPE = "advertising::campaign_management"
ERROR_KINDS = frozenset({"invalid_grant", "server", "throttled", "timeout", "bad_response", "client"})


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds from when the token was issued
    token_type: str

    def __repr__(self) -> str:
        return f"TokenSet(token_type={self.token_type!r}, expires_in={self.expires_in}, tokens=<hidden>)"


class LWAError(Exception):
    """A failed LWA token call.

    ``kind`` is one of: ``invalid_grant`` (the code or refresh token is no longer valid), ``client`` (LWA
    refused the request otherwise, e.g. bad client credentials), ``throttled`` (429; see ``retry_after``),
    ``server`` (5xx or no connection), ``timeout``, ``bad_response`` (an answer we cannot read).
    ``reauth_required`` is True when only a new consent by the user can fix it.
    """

    def __init__(
        self,
        message: str,
        kind: str,
        *,
        status_code: int | None = None,
        error: str | None = None,
        error_description: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"Unknown LWA error kind {kind!r}")
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status_code = status_code
        self.error = error
        self.error_description = error_description
        self.retry_after = retry_after

    @property
    def reauth_required(self) -> bool:
        return self.kind == "invalid_grant" or self.status_code in (400, 401)

    @property
    def transient(self) -> bool:
        return self.kind in ("server", "throttled", "timeout")

    def __str__(self) -> str:
        return self.message


def make_pkce_pair() -> tuple[str, str]:
    """Return (code_verifier, code_challenge) for PKCE with the S256 method."""
    verifier = secrets.token_urlsafe(64)  # 86 characters, inside the 43-128 that PKCE allows
    return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    authorize_url: str,
    client_id: str,
    redirect_uri: str,
    state: str,
    code_challenge: str,
    scope: str = DEFAULT_SCOPE,
) -> str:
    """The consent page URL to send the user to; LWA redirects back with ``code`` and ``state``."""
    query = urlencode(
        {
            "client_id": client_id,
            "scope": scope,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )
    separator = "&" if "?" in authorize_url else "?"
    return f"{authorize_url}{separator}{query}"


def exchange_code(
    token_url: str,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 30.0,
) -> TokenSet:
    """Trade a single-use authorization code (valid 5 minutes) for access and refresh tokens."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    if code_verifier:
        form["code_verifier"] = code_verifier
    return _token_request(token_url, form, None, transport, timeout)


def refresh(
    token_url: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 30.0,
) -> TokenSet:
    """Get a new access token. LWA normally returns the same refresh token; we keep ours if it sends none."""
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    return _token_request(token_url, form, refresh_token, transport, timeout)


def _token_request(
    token_url: str,
    form: dict[str, str],
    current_refresh_token: str | None,
    transport: httpx.BaseTransport | None,
    timeout: float,
) -> TokenSet:
    try:
        with httpx.Client(transport=transport, timeout=timeout) as http:
            response = http.post(token_url, data=form, headers={"Accept": "application/json"})
    except httpx.TimeoutException:
        raise LWAError(f"Login with Amazon did not answer within {timeout:g} seconds.", "timeout") from None
    except httpx.TransportError as exc:
        raise LWAError(f"Could not reach Login with Amazon ({type(exc).__name__}).", "server") from None

    if not response.is_success:
        raise _error_from_response(response)
    body = _json_object(response)
    if body is None:
        raise LWAError(
            "Login with Amazon sent a response that is not a JSON object.",
            "bad_response",
            status_code=response.status_code,
        )
    return _token_set(body, current_refresh_token, response.status_code)


def _token_set(body: dict[str, Any], current_refresh_token: str | None, status: int) -> TokenSet:
    access_token = body.get("access_token")
    refresh_token = body.get("refresh_token") or current_refresh_token
    expires_in = _seconds(body.get("expires_in"))
    if not isinstance(access_token, str) or not access_token:
        raise LWAError("Login with Amazon sent no access token.", "bad_response", status_code=status)
    if not isinstance(refresh_token, str) or not refresh_token:
        raise LWAError("Login with Amazon sent no refresh token.", "bad_response", status_code=status)
    if expires_in is None:
        raise LWAError("Login with Amazon sent no usable expires_in.", "bad_response", status_code=status)
    return TokenSet(access_token, refresh_token, expires_in, str(body.get("token_type") or "bearer"))


def _seconds(value: Any) -> int | None:
    # The Ads docs show a number, other LWA docs a string: accept both.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _error_from_response(response: httpx.Response) -> LWAError:
    status = response.status_code
    body = _json_object(response) or {}
    error = body.get("error") if isinstance(body.get("error"), str) else None
    description = body.get("error_description") if isinstance(body.get("error_description"), str) else None
    said = ""
    if error:
        said = f" LWA said: {error}" + (f" ({description})" if description else "")
    details = {"status_code": status, "error": error, "error_description": description}

    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return LWAError(
            f"Login with Amazon is throttling requests (429).{said}",
            "throttled",
            retry_after=retry_after,
            **details,
        )
    if status >= 500:
        return LWAError(f"Login with Amazon had a server error ({status}).{said}", "server", **details)
    if error == "invalid_grant":
        return LWAError(
            f"The Amazon authorization is no longer valid; the user must connect their Amazon account again.{said}",
            "invalid_grant",
            **details,
        )
    if status in (400, 401):
        return LWAError(
            f"Login with Amazon refused the request ({status}); connect the Amazon account again, and check "
            f"the app's client id and secret if it keeps failing.{said}",
            "client",
            **details,
        )
    return LWAError(f"Login with Amazon refused the request ({status}).{said}", "client", **details)


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
