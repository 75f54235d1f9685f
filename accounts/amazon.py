"""The Amazon Ads connection: OAuth (authorization code + PKCE), token storage and refresh, AMC clients.

Failure classification for refresh follows the earlier system's lessons: an invalid grant (or a token we can no
longer decrypt) needs the user to reconnect, so we mark the connection and stop retrying it; throttling, server
errors and timeouts are transient, so we retry with backoff and keep the connection usable.
"""

import functools
import logging
import os
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recomamp.amc import lwa
from recomamp.amc.client import AMCClient, base_url_for_region
from recomamp.crypto import DecryptionError

from .models import AmazonConnection, User

log = logging.getLogger(__name__)

SESSION_KEY = "amazon_oauth"
OAUTH_MAX_AGE = timedelta(minutes=15)
REFRESH_MARGIN = timedelta(minutes=15)
TRANSIENT_ATTEMPTS = 3
TRANSIENT_BACKOFF_SECONDS = (1.0, 4.0)  # waits between the three attempts inside one refresh
NEXT_CYCLE_AFTER_TRANSIENT = timedelta(minutes=5)


class AmazonConnectionError(Exception):
    """The user's Amazon connection cannot be used; the message tells them what to do."""


class ReauthorizationRequired(AmazonConnectionError):
    """Only the user can fix it (not connected, refresh token revoked or expired): trying again never helps."""


class OAuthError(Exception):
    """The OAuth callback cannot be accepted (state mismatch, denied consent, bad code)."""


@dataclass(frozen=True)
class RefreshOutcome:
    connection_id: int
    result: str  # refreshed | needs_reauth | transient_failure | skipped
    kind: str = ""


# --- OAuth -----------------------------------------------------------------------------------------------------


def begin_authorization(session, redirect_uri: str) -> str:
    """Remember state and PKCE verifier in the session and return the consent URL."""
    verifier, challenge = lwa.make_pkce_pair()
    state = secrets.token_urlsafe(32)
    session[SESSION_KEY] = {"state": state, "verifier": verifier, "started": time.time()}
    return lwa.authorization_url(
        settings.LWA_AUTHORIZE_URL, settings.AMAZON_CLIENT_ID, redirect_uri, state, challenge, scope=settings.LWA_SCOPE
    )


def complete_authorization(user: User, session, params, redirect_uri: str) -> AmazonConnection:
    """Check the callback against the session, exchange the code and store the tokens encrypted."""
    pending = session.pop(SESSION_KEY, None)
    if params.get("error"):
        raise OAuthError(f"Amazon did not grant access ({params.get('error_description') or params['error']}).")
    if not pending or time.time() - pending["started"] > OAUTH_MAX_AGE.total_seconds():
        raise OAuthError("This sign-in link has expired. Start again with “Connect Amazon Ads”.")
    if not secrets.compare_digest(str(params.get("state", "")), pending["state"]):
        raise OAuthError("The sign-in response did not match this browser session. Start again.")
    code = params.get("code")
    if not code:
        raise OAuthError("Amazon's response had no authorization code. Start again.")
    try:
        tokens = lwa.exchange_code(
            settings.LWA_TOKEN_URL,
            settings.AMAZON_CLIENT_ID,
            settings.AMAZON_CLIENT_SECRET,
            code,
            redirect_uri,
            pending["verifier"],
            timeout=settings.AMC_REQUEST_TIMEOUT,
        )
    except lwa.LWAError as exc:
        raise OAuthError(f"Amazon refused the sign-in: {exc}") from None
    connection, _ = AmazonConnection.objects.get_or_create(user=user)
    store_tokens(connection, tokens, timezone.now())
    connection.connected_at = connection.last_refreshed_at
    connection.save()
    log.info("amazon connection established user=%s", user.pk)
    return connection


def disconnect(user: User) -> None:
    forget_reused_clients(user)
    AmazonConnection.objects.filter(user=user).update(
        access_token_encrypted="",
        refresh_token_encrypted="",
        expires_at=None,
        status=AmazonConnection.Status.REVOKED,
        last_error="",
        last_error_kind="",
        updated_at=timezone.now(),
    )


def store_tokens(connection: AmazonConnection, tokens: lwa.TokenSet, now: datetime) -> None:
    connection.access_token = tokens.access_token
    connection.refresh_token = tokens.refresh_token
    connection.token_type = tokens.token_type or "bearer"
    connection.expires_at = now + timedelta(seconds=tokens.expires_in)
    connection.status = AmazonConnection.Status.ACTIVE
    connection.last_refreshed_at = now
    connection.last_error = ""
    connection.last_error_kind = ""
    connection.consecutive_failures = 0
    connection.next_attempt_at = None


# --- Refresh ---------------------------------------------------------------------------------------------------

REAUTH_MESSAGES = {
    "invalid_grant": "Amazon no longer accepts this login (the grant was revoked or expired). Reconnect Amazon Ads.",
    "client": "Amazon rejected the refresh request for this application. Reconnect Amazon Ads.",
    "decryption": "The stored Amazon token cannot be read (the encryption key changed). Reconnect Amazon Ads.",
}


def refresh_connection(
    connection_id: int, *, now: datetime | None = None, sleep: Callable[[float], None] = time.sleep
) -> RefreshOutcome:
    """Refresh one connection's access token, classifying any failure. Never raises for LWA failures.

    The row is locked for the duration so two workers never refresh the same connection at once.
    """
    with transaction.atomic():
        connection = (
            AmazonConnection.objects.select_for_update(skip_locked=True)
            .filter(pk=connection_id, status=AmazonConnection.Status.ACTIVE)
            .first()
        )
        if connection is None:
            return RefreshOutcome(connection_id, "skipped")
        try:
            refresh_token = connection.refresh_token
        except DecryptionError:
            refresh_token = None
        if not refresh_token:
            _mark_needs_reauth(connection, "decryption", now or timezone.now())
            return RefreshOutcome(connection_id, "needs_reauth", "decryption")
        error = None
        for attempt in range(TRANSIENT_ATTEMPTS):
            try:
                tokens = lwa.refresh(
                    settings.LWA_TOKEN_URL,
                    settings.AMAZON_CLIENT_ID,
                    settings.AMAZON_CLIENT_SECRET,
                    refresh_token,
                    timeout=settings.AMC_REQUEST_TIMEOUT,
                )
            except lwa.LWAError as exc:
                error = exc
                if _reauth_kind(exc):
                    break
                if attempt < TRANSIENT_ATTEMPTS - 1:
                    delay = TRANSIENT_BACKOFF_SECONDS[attempt]
                    sleep(max(delay, exc.retry_after or 0) if exc.kind == "throttled" else delay)
                continue
            store_tokens(connection, tokens, now or timezone.now())
            connection.save()
            log.info("amazon token refreshed connection=%s", connection_id)
            return RefreshOutcome(connection_id, "refreshed")
        now = now or timezone.now()
        kind = _reauth_kind(error)
        if kind:
            _mark_needs_reauth(connection, kind, now, detail=str(error))
            return RefreshOutcome(connection_id, "needs_reauth", kind)
        connection.last_error = f"Temporary problem refreshing the Amazon token ({error.kind}): {error}"
        connection.last_error_kind = error.kind
        connection.last_error_at = now
        connection.consecutive_failures += 1
        connection.next_attempt_at = now + NEXT_CYCLE_AFTER_TRANSIENT
        connection.save()
        log.warning("amazon token refresh failed transiently connection=%s kind=%s", connection_id, error.kind)
        return RefreshOutcome(connection_id, "transient_failure", error.kind)


def _reauth_kind(error: lwa.LWAError) -> str:
    """'invalid_grant' or 'client' when only the user can fix it; '' when trying again later may help.

    A garbled answer (bad_response) counts as transient: it says nothing about the grant itself.
    """
    if error.reauth_required:
        return "invalid_grant"
    return "client" if error.kind == "client" else ""


def _mark_needs_reauth(connection: AmazonConnection, kind: str, now: datetime, detail: str = "") -> None:
    connection.status = AmazonConnection.Status.NEEDS_REAUTH
    connection.last_error = REAUTH_MESSAGES[kind] + (f" ({detail})" if detail else "")
    connection.last_error_kind = kind
    connection.last_error_at = now
    connection.consecutive_failures += 1
    connection.next_attempt_at = None
    connection.save()
    log.warning("amazon connection needs re-authentication connection=%s kind=%s", connection.pk, kind)


def connections_due_for_refresh(now: datetime):
    return AmazonConnection.objects.filter(
        status=AmazonConnection.Status.ACTIVE, expires_at__lte=now + REFRESH_MARGIN
    ).exclude(next_attempt_at__gt=now)


def refresh_due_connections(*, now: datetime | None = None, sleep=time.sleep) -> list[RefreshOutcome]:
    now = now or timezone.now()
    ids = list(connections_due_for_refresh(now).values_list("pk", flat=True))
    return [refresh_connection(pk, now=now, sleep=sleep) for pk in ids]


# --- AMC clients -----------------------------------------------------------------------------------------------


_refresh_locks: dict[int, threading.Lock] = {}
_refresh_locks_guard = threading.Lock()


def _refresh_lock(connection_id: int) -> threading.Lock:
    """One lock per connection and process: concurrent requests of a process share one refresh."""
    with _refresh_locks_guard:
        return _refresh_locks.setdefault(connection_id, threading.Lock())


class ConnectionTokenProvider:
    """Gives the AMC client a valid access token for a user, refreshing only when it is near expiry or refused.

    "Near expiry" is a minute for hour-long tokens, a tenth of the lifetime for short-lived ones: a fixed minute
    would refresh a four-second token before every call. The token is kept until then, so calls in between
    neither read the database nor ask LWA.
    """

    EARLY_REFRESH = timedelta(seconds=60)

    def __init__(self, user: User):
        self.user = user
        self._token: str | None = None  # the token last handed out
        self._good_until: datetime | None = None

    def _connection(self) -> AmazonConnection:
        connection = AmazonConnection.objects.filter(user=self.user).first()
        if connection is None or not connection.has_tokens:
            raise ReauthorizationRequired("Amazon Ads is not connected. Connect it on your profile page.")
        if connection.status != AmazonConnection.Status.ACTIVE:
            raise ReauthorizationRequired(connection.last_error or "Reconnect Amazon Ads on your profile page.")
        return connection

    def _usable_until(self, connection: AmazonConnection) -> datetime | None:
        if not connection.expires_at:
            return None
        margin = self.EARLY_REFRESH
        if connection.last_refreshed_at:
            margin = min(margin, (connection.expires_at - connection.last_refreshed_at) / 10)
        return connection.expires_at - margin

    def _stored_token(self, connection: AmazonConnection) -> str | None:
        """The stored token if it is still good to use, else None."""
        until = self._usable_until(connection)
        if until is not None and until <= timezone.now():
            return None
        try:
            token = connection.access_token
        except DecryptionError:
            return None
        self._token, self._good_until = token, until
        return token

    def access_token(self) -> str:
        if self._token and (self._good_until is None or timezone.now() < self._good_until):
            return self._token
        return self._stored_token(self._connection()) or self.refresh_access_token()

    def refresh_access_token(self) -> str:
        """A new token; if another request of this process got one while we waited, that one is used."""
        refused = self._token
        connection = self._connection()
        with _refresh_lock(connection.pk):
            connection = self._connection()
            token = self._stored_token(connection)
            if token and token != refused:
                return token
            outcome = refresh_connection(connection.pk)
            connection.refresh_from_db()
            if outcome.result == "skipped":  # another worker holds the row and is refreshing right now
                with transaction.atomic():
                    connection = AmazonConnection.objects.select_for_update().get(pk=connection.pk)
            if connection.status != AmazonConnection.Status.ACTIVE:
                raise ReauthorizationRequired(connection.last_error)
            if outcome.result == "transient_failure":
                raise AmazonConnectionError(connection.last_error)
            self._token, self._good_until = connection.access_token, self._usable_until(connection)
            return self._token

    def __repr__(self) -> str:
        return f"ConnectionTokenProvider(user={self.user.pk})"


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context per process: creating it is the most expensive part of opening a client."""
    return httpx.create_ssl_context()


def amc_client_for(user: User, region: str = "NA", **kwargs) -> AMCClient:
    """An AMC client speaking for `user` in `region` (base URLs come from settings)."""
    kwargs.setdefault("verify", shared_ssl_context())
    return AMCClient(
        base_url_for_region(region, settings.AMC_API_BASE_URLS),
        settings.AMAZON_CLIENT_ID,
        ConnectionTokenProvider(user),
        timeout=settings.AMC_REQUEST_TIMEOUT,
        max_attempts=settings.AMC_MAX_ATTEMPTS,
        **kwargs,
    )


# A worker process submits many executions for few owners: one client per (thread, owner, region) spares the
# connection row read, the token decryption and the client set-up on every submission. It is kept REUSE_SECONDS
# at most, so a disconnect in another process reaches submissions that soon (at once in this process).
REUSE_SECONDS = 30.0
_reused = threading.local()


def _drop_inherited_clients() -> None:
    """A forked child must never talk on its parent's sockets: it starts without kept clients."""
    _reused.__dict__.pop("clients", None)


os.register_at_fork(after_in_child=_drop_inherited_clients)


def reused_client_for(user: User, region: str = "NA") -> AMCClient:
    """`amc_client_for`, kept for this thread; the caller must not close it."""
    clients = _reused.__dict__.setdefault("clients", {})
    key = (user.pk, region, base_url_for_region(region, settings.AMC_API_BASE_URLS))
    client, since = clients.get(key, (None, 0.0))
    if client is None or time.monotonic() - since > REUSE_SECONDS:
        if client is not None:
            client.close()
        client, since = amc_client_for(user, region), time.monotonic()
        clients[key] = (client, since)
    return client


def forget_reused_clients(user: User | None = None) -> None:
    """Close this thread's kept clients of `user` (after a disconnect, the next call reads the connection again),
    or all of them."""
    clients = _reused.__dict__.get("clients", {})
    for key in [key for key in clients if user is None or key[0] == user.pk]:
        clients.pop(key)[0].close()
