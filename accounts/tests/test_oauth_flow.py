"""Connecting Amazon Ads end to end: our views, the sandbox's consent page and token endpoint over real HTTP."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.amazon import ConnectionTokenProvider
from accounts.models import AmazonConnection
from recomamp.amc import lwa

pytestmark = pytest.mark.django_db(transaction=True)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _start(user_client, amc_sandbox):
    response = user_client.post(reverse("amazon_connect"))
    assert response.status_code == 302
    consent_url = response["Location"]
    assert consent_url.startswith(f"{amc_sandbox}/ap/oa?")
    return consent_url


def _allow(user_client, consent_url) -> str:
    params = {k: v[0] for k, v in parse_qs(urlsplit(consent_url).query).items()}
    page = user_client.get(_path(consent_url))
    assert page.status_code == 200 and b"Allow RecomAMP" in page.content
    decision = user_client.post(urlsplit(consent_url).path, {**params, "decision": "allow"})
    assert decision.status_code == 302
    return decision["Location"]


def test_connect_stores_encrypted_tokens_and_shows_status(amc_sandbox, user_client, user):
    consent_url = _start(user_client, amc_sandbox)
    query = parse_qs(urlsplit(consent_url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32
    callback = _allow(user_client, consent_url)
    response = user_client.get(_path(callback), follow=True)
    assert b"Amazon Ads connected" in response.content
    connection = AmazonConnection.objects.get(user=user)
    assert connection.status == AmazonConnection.Status.ACTIVE
    assert connection.access_token.startswith("Atza|")
    assert "Atza|" not in connection.access_token_encrypted
    assert connection.access_token not in response.content.decode()
    assert b"Connected" in response.content and b"Disconnect" in response.content
    # The stored token works against AMC (here: the sandbox) through the client's token provider.
    assert ConnectionTokenProvider(user).access_token() == connection.access_token


def test_state_mismatch_is_rejected_and_nothing_is_stored(amc_sandbox, user_client, user):
    callback = _allow(user_client, _start(user_client, amc_sandbox))
    tampered = callback.replace("state=", "state=x")
    response = user_client.get(_path(tampered), follow=True)
    assert b"did not match this browser session" in response.content
    assert not AmazonConnection.objects.filter(user=user).exists()


def test_denied_consent_is_reported(amc_sandbox, user_client, user):
    consent_url = _start(user_client, amc_sandbox)
    params = {k: v[0] for k, v in parse_qs(urlsplit(consent_url).query).items()}
    denied = user_client.post(urlsplit(consent_url).path, {**params, "decision": "deny"})
    response = user_client.get(_path(denied["Location"]), follow=True)
    assert b"did not grant access" in response.content
    assert not AmazonConnection.objects.filter(user=user).exists()


def test_an_authorization_code_works_once(amc_sandbox, user_client):
    verifier, challenge = lwa.make_pkce_pair()
    redirect_uri = "http://testserver/accounts/amazon/callback/"
    consent = lwa.authorization_url(settings.LWA_AUTHORIZE_URL, settings.AMAZON_CLIENT_ID, redirect_uri, "s", challenge)
    code = parse_qs(urlsplit(_allow(user_client, consent)).query)["code"][0]
    args = (settings.LWA_TOKEN_URL, settings.AMAZON_CLIENT_ID, settings.AMAZON_CLIENT_SECRET, code, redirect_uri)
    tokens = lwa.exchange_code(*args, verifier)
    assert tokens.refresh_token.startswith("Atzr|")
    with pytest.raises(lwa.LWAError) as reused:
        lwa.exchange_code(*args, verifier)
    assert reused.value.kind == "invalid_grant" and reused.value.reauth_required


def test_refresh_against_the_sandbox_and_invalid_grant(amc_sandbox, connected_user):
    from accounts import amazon

    connection = AmazonConnection.objects.get(user=connected_user)
    old_access = connection.access_token
    assert amazon.refresh_connection(connection.pk).result == "refreshed"
    connection.refresh_from_db()
    assert connection.access_token != old_access
    connection.refresh_token = "Atzr|revoked-or-made-up"
    connection.save()
    outcome = amazon.refresh_connection(connection.pk)
    assert (outcome.result, outcome.kind) == ("needs_reauth", "invalid_grant")
    connection.refresh_from_db()
    assert connection.status == AmazonConnection.Status.NEEDS_REAUTH


def test_disconnect_button(amc_sandbox, user_client, connected_user):
    response = user_client.post(reverse("amazon_disconnect"), follow=True)
    assert b"disconnected" in response.content
    assert AmazonConnection.objects.get(user=connected_user).has_tokens is False
