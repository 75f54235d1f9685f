"""Login with Amazon grants and tokens, and the header checks AMC makes on every API call.

Codes and tokens are random strings handed out once; only their SHA-256 hashes are stored.
"""

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from . import clock, conf, lookups
from .models import AccessToken, AuthorizationCode, RefreshToken, SandboxAccount, SandboxInstance
from .responses import ApiError

CLIENT_ID_HEADER = "Amazon-Advertising-API-ClientId"
ADVERTISER_HEADER = "Amazon-Advertising-API-AdvertiserId"
MARKETPLACE_HEADER = "Amazon-Advertising-API-MarketplaceId"
UNAUTHORIZED = "Unauthorized"
FORBIDDEN = "Unauthorized request."
REFUSED = "Access to this advertiser account is not permitted for this user."


def hash_token(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- Login with Amazon ------------------------------------------------------------------------------------


class LWAError(Exception):
    """An LWA token error: `{"error": ..., "error_description": ...}` with its HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int

    def as_json(self) -> dict:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
        }


def known_client(client_id: str) -> bool:
    return bool(client_id) and secrets.compare_digest(client_id, settings.AMAZON_CLIENT_ID)


def check_client(client_id: str, client_secret: str) -> None:
    if not (known_client(client_id) and secrets.compare_digest(client_secret, settings.AMAZON_CLIENT_SECRET)):
        raise LWAError("invalid_client", "Client authentication failed", status=401)


def redirect_uri_allowed(uri: str, request: HttpRequest | None = None) -> bool:
    """Like Login with Amazon: only a URI registered for the client. Unless configured, that is the app's own
    callback, on SITE_URL or on the origin the consent page itself was opened on (the app serves both)."""
    allowed = conf.get("SANDBOX_LWA_REDIRECT_URIS")
    if not allowed:
        from django.urls import reverse

        callback = reverse("amazon_callback")
        allowed = [settings.SITE_URL + callback] + ([request.build_absolute_uri(callback)] if request else [])
    return uri in allowed


def issue_authorization_code(
    client_id: str, redirect_uri: str, scope: str, code_challenge: str = "", code_challenge_method: str = ""
) -> str:
    code = "ANsandbox" + secrets.token_urlsafe(24)
    now = clock.now()
    AuthorizationCode.objects.create(
        code_hash=hash_token(code),
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        code_challenge=code_challenge,
        code_challenge_method=(code_challenge_method or "plain") if code_challenge else "",
        created_at=now,
        expires_at=now + timedelta(seconds=conf.get("SANDBOX_AUTH_CODE_SECONDS")),
    )
    return code


def pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    if method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    else:
        computed = verifier
    return secrets.compare_digest(computed, challenge)


def exchange_code(client_id: str, code: str, redirect_uri: str, code_verifier: str) -> IssuedTokens:
    """The authorization_code grant. Any failure leaves the code used: a code is worth one attempt only."""
    if not code:
        raise LWAError("invalid_request", "The request is missing a required parameter : code")
    now = clock.now()
    grant = AuthorizationCode.objects.filter(code_hash=hash_token(code)).first()
    # The conditional update is the single-use guarantee, also when two requests race with the same code.
    if grant is None or not AuthorizationCode.objects.filter(pk=grant.pk, used_at__isnull=True).update(used_at=now):
        raise LWAError("invalid_grant", "The request has an invalid parameter : code")
    if grant.expires_at <= now or grant.client_id != client_id:
        raise LWAError("invalid_grant", "The request has an invalid parameter : code")
    if redirect_uri != grant.redirect_uri:
        raise LWAError("invalid_grant", "The request has an invalid parameter : redirect_uri")
    if grant.code_challenge:
        if not code_verifier:
            raise LWAError("invalid_request", "The request is missing a required parameter : code_verifier")
        if not pkce_matches(code_verifier, grant.code_challenge, grant.code_challenge_method):
            raise LWAError("invalid_grant", "The request has an invalid parameter : code_verifier")
    refresh_value = "Atzr|" + secrets.token_urlsafe(96)
    with transaction.atomic():
        refresh = RefreshToken.objects.create(
            token_hash=hash_token(refresh_value), client_id=client_id, scope=grant.scope, created_at=now
        )
        access_value, lifetime = _new_access_token(refresh)
    return IssuedTokens(access_value, refresh_value, lifetime)


def refresh_access(client_id: str, refresh_value: str) -> IssuedTokens:
    """The refresh_token grant: a new access token and the same refresh token."""
    if not refresh_value:
        raise LWAError("invalid_request", "The request is missing a required parameter : refresh_token")
    refresh = RefreshToken.objects.filter(
        token_hash=hash_token(refresh_value), client_id=client_id, revoked_at__isnull=True
    ).first()
    if refresh is None:
        raise LWAError("invalid_grant", "The request has an invalid grant parameter : refresh_token")
    RefreshToken.objects.filter(pk=refresh.pk).update(last_used_at=clock.now())
    access_value, lifetime = _new_access_token(refresh)
    return IssuedTokens(access_value, refresh_value, lifetime)


def _new_access_token(refresh: RefreshToken) -> tuple[str, int]:
    lifetime = int(conf.get("SANDBOX_ACCESS_TOKEN_SECONDS"))
    # Real access tokens are at least 350 characters; clients must not assume shorter ones.
    value = "Atza|" + secrets.token_urlsafe(300)
    now = clock.now()
    AccessToken.objects.create(
        token_hash=hash_token(value),
        refresh_token=refresh,
        created_at=now,
        expires_at=now + timedelta(seconds=lifetime),
    )
    return value, lifetime


# --- AMC request checks -----------------------------------------------------------------------------------


def authenticate(request: HttpRequest) -> AccessToken:
    """Client id header and a live bearer token, or 401."""
    client_id = request.headers.get(CLIENT_ID_HEADER, "")
    authorization = request.headers.get("Authorization", "")
    scheme, _, value = authorization.partition(" ")
    if not client_id or scheme.lower() != "bearer" or not value.strip():
        raise ApiError(401, UNAUTHORIZED)
    token = lookups.access_token(hash_token(value.strip()))
    if token is None or token.expires_at <= clock.now() or token.refresh_token.client_id != client_id:
        raise ApiError(401, UNAUTHORIZED)
    return token


def account_from_headers(
    request: HttpRequest, region: str = "NA", *, read: SandboxAccount | None = None
) -> SandboxAccount:
    """The AMC account named by the AdvertiserId and MarketplaceId headers: 400 if missing, 403 if unknown.

    An account is served only by its own region's host, and one that refuses access is refused on every call.
    `read`: an account this request already read (the instance's); used when the headers name it.
    """
    entity_id = request.headers.get(ADVERTISER_HEADER, "").strip()
    marketplace_id = request.headers.get(MARKETPLACE_HEADER, "").strip()
    for header, value in ((ADVERTISER_HEADER, entity_id), (MARKETPLACE_HEADER, marketplace_id)):
        if not value:
            raise ApiError(400, f"Missing required header {header}.")
    if read is not None and (read.entity_id, read.marketplace_id) == (entity_id, marketplace_id):
        account = read  # entity_id is unique: the query below would return this same row
    else:
        account = SandboxAccount.objects.filter(entity_id=entity_id, marketplace_id=marketplace_id).first()
    if account is None or account.region != region:
        raise ApiError(403, FORBIDDEN)
    if account.refuses_access:
        raise ApiError(403, REFUSED)
    return account


def check_instance_access(
    request: HttpRequest, instance: SandboxInstance | None, region: str = "NA"
) -> SandboxInstance:
    """An unknown instance and another account's instance look the same to the caller: 403."""
    account = account_from_headers(request, region, read=instance.account if instance is not None else None)
    if instance is None or instance.account_id != account.pk:
        raise ApiError(403, FORBIDDEN)
    return instance
