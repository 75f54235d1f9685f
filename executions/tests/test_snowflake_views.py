"""Snowflake settings page, connection test and delivery retry, end to end through the views (fakesnow)."""

from unittest import mock

import pytest
from django.urls import reverse

from executions.models import SnowflakeConfig, SnowflakeDelivery

# Fixtures shared with the delivery tests.
from executions.tests.test_delivery import (  # noqa: F401
    PASSWORD,
    config,
    fake_snowflake,
    make_delivery,
    media,
    refused,
    snowflake_rows,
)  # noqa: F401

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result:UserWarning"),
]


def test_settings_page_saves_encrypted_credentials_and_never_shows_them(user_client, user):
    data = {"account": "https://acme-test.snowflakecomputing.com/", "user": "LOADER", "auth_method": "password",
            "password": PASSWORD, "warehouse": "WH", "database": "ANALYTICS", "schema": "AMC", "role": ""}  # fmt: skip
    response = user_client.post(reverse("snowflake_settings"), data, follow=True)
    assert b"Snowflake settings saved" in response.content
    saved = SnowflakeConfig.objects.get(owner=user)
    assert saved.account == "acme-test" and saved.password == PASSWORD
    assert PASSWORD not in saved.password_encrypted
    assert PASSWORD.encode() not in user_client.get(reverse("snowflake_settings")).content


def test_bad_settings_show_field_errors(user_client, user):
    response = user_client.post(reverse("snowflake_settings"), {"account": "bad account!", "auth_method": "password"})
    assert b"Enter the account identifier" in response.content
    assert not SnowflakeConfig.objects.filter(owner=user).exists()


def test_connection_test_button_reports_the_outcome(user_client, config, fake_snowflake):  # noqa: F811
    response = user_client.post(reverse("snowflake_test"), follow=True)
    assert response.status_code == 200
    config.refresh_from_db()
    assert config.last_test_ok is True
    with mock.patch("snowflake.connector.connect", refused):
        failed = user_client.post(reverse("snowflake_test"), follow=True).content.decode()
    assert "password" in failed.lower() and PASSWORD not in failed


def test_failed_delivery_is_retried_from_the_execution_page(user_client, config, make_delivery, fake_snowflake):  # noqa: F811
    delivery = make_delivery()
    with mock.patch("snowflake.connector.connect", refused):
        from executions.snowflake.delivery import deliver

        deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == SnowflakeDelivery.Status.FAILED
    page = user_client.get(reverse("execution_detail", args=[delivery.execution.execution_id])).content.decode()
    assert "Snowflake delivery" in page and "Retry" in page and PASSWORD not in page
    user_client.post(reverse("snowflake_retry", args=[delivery.pk]))
    delivery.refresh_from_db()
    assert delivery.status == SnowflakeDelivery.Status.SUCCEEDED and delivery.rows_loaded == 2
    assert len(snowflake_rows()) == 2


def test_other_users_cannot_retry_or_test(client, other_user, config, make_delivery):  # noqa: F811
    delivery = make_delivery()
    client.force_login(other_user)
    assert client.post(reverse("snowflake_retry", args=[delivery.pk])).status_code == 404
    assert client.post(reverse("snowflake_test")).status_code == 404
