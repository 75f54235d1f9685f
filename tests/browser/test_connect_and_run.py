"""As an analyst would click it: sign in, connect Amazon through the consent page, sync instances, run a query
and watch it finish live, then read the results as a table and a chart and download them."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "correct-horse-battery"


def sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()


def test_connect_amazon_and_sync_instances(page, user, amc_sandbox):
    page.goto("/")
    expect(page).to_have_url(re.compile("/accounts/login/"))
    screenshot(page, "01-login")
    sign_in(page, user.email)
    screenshot(page, "02-home")
    page.get_by_role("link", name="Profile", exact=True).click()
    page.get_by_role("button", name="Connect Amazon Ads").click()
    expect(page.get_by_role("heading", name="Allow RecomAMP to access your Amazon Ads data")).to_be_visible()
    screenshot(page, "03-consent")
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text("Amazon Ads connected")).to_be_visible()
    expect(page.get_by_test_id("connection-status")).to_have_text("Connected")
    screenshot(page, "04-profile-connected")
    page.get_by_role("link", name="Instances", exact=True).click()
    page.get_by_role("button", name="Sync from Amazon").click()
    expect(page.get_by_text(re.compile("Synced from Amazon"))).to_be_visible()
    expect(page.get_by_role("link", name="RecomAMP Demo Instance (sandbox)")).to_be_visible()
    screenshot(page, "05-instances")
    assert page.console_errors == []
