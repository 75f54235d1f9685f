"""Failed sign-ins are counted per (account, address): a stranger's guesses never lock the owner out."""
# ruff: noqa: S106

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

GOOD = "correct-horse-battery"


def sign_in(email, password, address, **headers):
    return Client(REMOTE_ADDR=address, **headers).post(reverse("login"), {"username": email, "password": password})


def test_five_failures_pause_only_that_account_from_that_address(user, other_user):
    for _ in range(5):
        sign_in(user.email, "wrong", "203.0.113.9")
    assert sign_in(user.email, GOOD, "203.0.113.9").status_code == 429
    assert sign_in(user.email, GOOD, "198.51.100.7").status_code == 302  # the owner, elsewhere
    assert sign_in(other_user.email, GOOD, "203.0.113.9").status_code == 302  # another user, same address


def test_an_address_spraying_many_accounts_hits_the_higher_ceiling(user, monkeypatch):
    from accounts import throttle

    monkeypatch.setattr(throttle, "ADDRESS_FAILURE_LIMIT", 8)
    for index in range(8):
        sign_in(f"guess{index}@example.com", "wrong", "203.0.113.9")
    assert sign_in(user.email, GOOD, "203.0.113.9").status_code == 429
    assert sign_in(user.email, GOOD, "198.51.100.7").status_code == 302


def test_the_client_address_comes_from_the_configured_header_only(user, settings):
    forged = {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    for _ in range(5):  # no proxy configured: a forged header does not change the counted address
        sign_in(user.email, "wrong", "203.0.113.9", **forged)
    assert sign_in(user.email, GOOD, "203.0.113.9").status_code == 429

    settings.CLIENT_IP_HEADER = "X-Forwarded-For"  # behind a proxy: its last entry is the client
    proxied = {"HTTP_X_FORWARDED_FOR": "203.0.113.9, 192.0.2.44"}
    assert sign_in(user.email, GOOD, "10.0.0.2", **proxied).status_code == 302
    for _ in range(5):
        sign_in(user.email, "wrong", "10.0.0.2", **proxied)
    assert sign_in(user.email, GOOD, "10.0.0.3", **proxied).status_code == 429
    assert sign_in(user.email, GOOD, "10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.45").status_code == 302
