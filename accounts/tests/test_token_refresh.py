"""Refresh classification: re-authenticate on invalid grants, retry transient failures, never crash the loop."""

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.utils import timezone

from accounts import amazon
from accounts.models import AmazonConnection
from recomamp.amc import lwa

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(user):
    conn = AmazonConnection(user=user, expires_at=timezone.now() + timedelta(minutes=5))
    conn.access_token = "Atza|old"
    conn.refresh_token = "Atzr|refresh"
    conn.save()
    return conn


class FakeLWA:
    """Stands in for LWA's token endpoint: answers with the queued outcomes in order."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = []

    def __call__(self, token_url, client_id, client_secret, refresh_token, **kwargs):
        self.calls.append(refresh_token)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def tokens(access="Atza|new"):
    return lwa.TokenSet(access_token=access, refresh_token="Atzr|refresh", expires_in=3600, token_type="bearer")


def run_refresh(monkeypatch, fake):
    sleeps = []
    monkeypatch.setattr(lwa, "refresh", fake)
    outcomes = amazon.refresh_due_connections(sleep=sleeps.append)
    return outcomes, sleeps


def test_expiring_token_is_refreshed_and_stored_encrypted(monkeypatch, connection):
    outcomes, sleeps = run_refresh(monkeypatch, FakeLWA(tokens()))
    assert [o.result for o in outcomes] == ["refreshed"]
    connection.refresh_from_db()
    assert connection.access_token == "Atza|new"
    assert "Atza|new" not in connection.access_token_encrypted
    assert connection.expires_at > timezone.now() + timedelta(minutes=55)
    assert sleeps == []


def test_token_far_from_expiry_is_left_alone(monkeypatch, connection):
    connection.expires_at = timezone.now() + timedelta(hours=1)
    connection.save()
    fake = FakeLWA()
    outcomes, _ = run_refresh(monkeypatch, fake)
    assert outcomes == [] and fake.calls == []


@pytest.mark.parametrize(
    "error, kind",
    [
        (lwa.LWAError("revoked", "invalid_grant", status_code=400, error="invalid_grant"), "invalid_grant"),
        (lwa.LWAError("unauthorized", "client", status_code=401, error="unauthorized_client"), "invalid_grant"),
        (lwa.LWAError("bad client", "client", status_code=403, error="invalid_client"), "client"),
    ],
)
def test_invalid_grant_marks_needs_reauth_and_stops_retrying(monkeypatch, connection, error, kind):
    fake = FakeLWA(error)
    outcomes, sleeps = run_refresh(monkeypatch, fake)
    assert [(o.result, o.kind) for o in outcomes] == [("needs_reauth", kind)]
    assert len(fake.calls) == 1 and sleeps == []
    connection.refresh_from_db()
    assert connection.status == AmazonConnection.Status.NEEDS_REAUTH
    assert connection.last_error_kind == kind
    assert "Reconnect Amazon Ads" in connection.last_error
    # The next cycle does not try again.
    again, _ = run_refresh(monkeypatch, FakeLWA())
    assert again == []


@pytest.mark.parametrize("kind", ["server", "throttled", "timeout"])
def test_transient_failures_retry_three_times_with_backoff_and_keep_the_connection(monkeypatch, connection, kind):
    error = lwa.LWAError("try later", kind, status_code=503 if kind == "server" else None, retry_after=2.0)
    fake = FakeLWA(error, error, error)
    outcomes, sleeps = run_refresh(monkeypatch, fake)
    assert [(o.result, o.kind) for o in outcomes] == [("transient_failure", kind)]
    assert len(fake.calls) == 3
    assert sleeps == ([2.0, 4.0] if kind == "throttled" else [1.0, 4.0])
    connection.refresh_from_db()
    assert connection.status == AmazonConnection.Status.ACTIVE
    assert connection.last_error_kind == kind
    assert connection.access_token == "Atza|old"  # still usable until it expires
    assert connection.next_attempt_at > timezone.now()
    # Not retried again before next_attempt_at.
    assert run_refresh(monkeypatch, FakeLWA())[0] == []


def test_transient_failure_then_success_within_one_refresh(monkeypatch, connection):
    fake = FakeLWA(lwa.LWAError("boom", "server", status_code=500), tokens("Atza|second"))
    outcomes, sleeps = run_refresh(monkeypatch, fake)
    assert [o.result for o in outcomes] == ["refreshed"]
    assert sleeps == [1.0]
    connection.refresh_from_db()
    assert connection.access_token == "Atza|second"
    assert connection.consecutive_failures == 0


def test_undecryptable_token_is_treated_like_an_invalid_grant(monkeypatch, settings, connection, other_user):
    healthy = AmazonConnection(user=other_user, expires_at=timezone.now() + timedelta(minutes=1))
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]  # the key that wrote `connection` is gone
    healthy.access_token = "Atza|x"
    healthy.refresh_token = "Atzr|y"
    healthy.save()
    fake = FakeLWA(tokens())
    outcomes, _ = run_refresh(monkeypatch, fake)
    results = {o.connection_id: (o.result, o.kind) for o in outcomes}
    assert results[connection.pk] == ("needs_reauth", "decryption")
    assert results[healthy.pk] == ("refreshed", "")
    connection.refresh_from_db()
    assert connection.status == AmazonConnection.Status.NEEDS_REAUTH
    assert "cannot be read" in connection.last_error


def test_rotate_fernet_keys_lets_the_old_key_go(settings, connection):
    old_keys = list(settings.FERNET_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.FERNET_KEYS = [new_key, *old_keys]
    call_command("rotate_fernet_keys")
    settings.FERNET_KEYS = [new_key]
    connection.refresh_from_db()
    assert connection.access_token == "Atza|old"
    assert connection.refresh_token == "Atzr|refresh"


def test_disconnect_clears_tokens(connection, user):
    amazon.disconnect(user)
    connection.refresh_from_db()
    assert connection.access_token_encrypted == "" and connection.refresh_token_encrypted == ""
    assert connection.status == AmazonConnection.Status.REVOKED
