"""Delivery service and settings form: claiming, status changes, retry from the stored result, secrets in the form."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import fakesnow
import pytest
import snowflake.connector
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.files.base import ContentFile
from snowflake.connector import errors as sf_errors

from executions.models import Execution, ExecutionResult, SnowflakeConfig, SnowflakeDelivery
from executions.snowflake import delivery as service
from executions.snowflake.forms import SnowflakeConfigForm

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result:UserWarning"),
]

PASSWORD = "pw-hunter2-secret"
NOW = datetime(2024, 1, 10, 6, tzinfo=UTC)
WEEK_1 = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 8, tzinfo=UTC))
WEEK_2 = (datetime(2024, 1, 8, tzinfo=UTC), datetime(2024, 1, 15, tzinfo=UTC))
COLUMNS = [{"name": "campaign", "type": "string"}, {"name": "impressions", "type": "integer"}]
CSV = "campaign,impressions\nBrand,100\nRetargeting,250\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def fake_snowflake():
    with fakesnow.patch():
        yield


@pytest.fixture
def config(user):
    config = SnowflakeConfig(
        owner=user, account="acme-test", user="LOADER", warehouse="WH", database="ANALYTICS", schema="AMC"
    )
    config.password = PASSWORD
    config.save()
    return config


@pytest.fixture
def make_delivery(user, make_instance):
    instance = make_instance(user)

    def make(window=WEEK_1, csv=CSV, status=Execution.Status.SUCCEEDED, table="reach_by_campaign", schema=""):
        execution = Execution.objects.create(
            owner=user, instance=instance, status=status, time_window_start=window[0], time_window_end=window[1],
            snowflake_enabled=True, snowflake_table=table, snowflake_schema=schema,
        )  # fmt: skip
        result = ExecutionResult(execution=execution, columns=COLUMNS, row_count=csv.count("\n") - 1)
        result.file.save("result.csv", ContentFile(csv.encode()))
        return service.create_delivery(execution)

    return make


def snowflake_rows(table='"ANALYTICS"."AMC"."REACH_BY_CAMPAIGN"'):
    conn = snowflake.connector.connect(account="acme-test", user="LOADER", database="ANALYTICS", schema="AMC")
    cursor = conn.cursor()
    cursor.execute(f'SELECT "CAMPAIGN", "IMPRESSIONS", "AMC_INSTANCE_ID", "TIME_WINDOW_START", "EXECUTION_ID" '
                   f'FROM {table} ORDER BY 1, 4')  # fmt: skip
    return cursor.fetchall()


def refused(*args, **kwargs):
    raise sf_errors.DatabaseError(msg=f"Incorrect username or password was specified ({PASSWORD})", errno=390100)


# --- creating and delivering -------------------------------------------------------------------------------------


def test_create_delivery_only_when_asked_and_only_once(user, make_instance):
    instance = make_instance(user)
    plain = Execution.objects.create(owner=user, instance=instance)
    wanted = Execution.objects.create(owner=user, instance=instance, snowflake_enabled=True, snowflake_table="t")

    assert service.create_delivery(plain) is None
    first = service.create_delivery(wanted)
    assert service.create_delivery(wanted) == first
    assert SnowflakeDelivery.objects.count() == 1
    assert (first.status, first.table_name, first.schema_name) == ("pending", "t", "")


def test_deliver_loads_the_result_and_records_success(config, make_delivery, fake_snowflake):
    delivery = make_delivery()

    service.deliver(delivery.pk, now=NOW)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.rows_loaded, delivery.attempts, delivery.error) == ("succeeded", 2, 1, "")
    assert delivery.started_at == NOW
    assert delivery.finished_at >= delivery.started_at
    execution_id = delivery.execution.execution_id
    assert snowflake_rows() == [
        ("Brand", 100, "amcabc123", datetime(2024, 1, 1), execution_id),
        ("Retargeting", 250, "amcabc123", datetime(2024, 1, 1), execution_id),
    ]


def test_delivered_row_is_not_claimed_again(config, make_delivery, fake_snowflake):
    delivery = make_delivery()
    service.deliver(delivery.pk, now=NOW)

    with mock.patch.object(snowflake.connector, "connect") as connect:
        assert service.deliver(delivery.pk, now=NOW) is None

    connect.assert_not_called()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)


def test_running_delivery_is_left_to_the_worker_that_claimed_it(config, make_delivery):
    delivery = make_delivery()
    SnowflakeDelivery.objects.filter(pk=delivery.pk).update(status="running", attempts=1)

    with mock.patch.object(snowflake.connector, "connect") as connect:
        assert service.deliver(delivery.pk) is None

    connect.assert_not_called()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("running", 1)


def test_schedule_runs_build_a_time_series_and_reruns_update(config, make_delivery, fake_snowflake):
    service.deliver(make_delivery(WEEK_1).pk, now=NOW)
    service.deliver(make_delivery(WEEK_2).pk, now=NOW)
    rerun = make_delivery(WEEK_2, csv="campaign,impressions\nBrand,130\nRetargeting,260\n")
    service.deliver(rerun.pk, now=NOW + timedelta(days=1))

    rows = snowflake_rows()
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("Brand", 100, datetime(2024, 1, 1)),
        ("Brand", 130, datetime(2024, 1, 8)),
        ("Retargeting", 250, datetime(2024, 1, 1)),
        ("Retargeting", 260, datetime(2024, 1, 8)),
    ]
    assert {r[4] for r in rows if r[3] == datetime(2024, 1, 8)} == {rerun.execution.execution_id}


def test_delivery_schema_overrides_the_config_schema(config, make_delivery, fake_snowflake):
    conn = snowflake.connector.connect(account="acme-test", user="LOADER", database="ANALYTICS", schema="AMC")
    conn.cursor().execute('CREATE SCHEMA "ANALYTICS"."REPORTING"')
    delivery = make_delivery(schema="reporting")

    service.deliver(delivery.pk, now=NOW)

    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert len(snowflake_rows('"ANALYTICS"."REPORTING"."REACH_BY_CAMPAIGN"')) == 2


# --- failures and retry ------------------------------------------------------------------------------------------


def test_failure_is_recorded_plainly_and_retry_loads_from_the_stored_result(
    config, make_delivery, fake_snowflake, caplog
):
    delivery = make_delivery()
    executions_before = Execution.objects.count()

    with mock.patch.object(snowflake.connector, "connect", side_effect=refused):
        service.deliver(delivery.pk, now=NOW)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.rows_loaded) == ("failed", 1, 0)
    assert "rejected the credentials" in delivery.error
    assert PASSWORD not in delivery.error
    assert PASSWORD not in caplog.text
    assert "rejected the credentials" in caplog.text

    retried = service.retry_delivery(delivery.pk, now=NOW + timedelta(hours=1))

    assert retried is not None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.rows_loaded, delivery.error) == ("succeeded", 2, 2, "")
    assert delivery.started_at == NOW + timedelta(hours=1)
    assert len(snowflake_rows()) == 2
    assert Execution.objects.count() == executions_before  # nothing was re-run on AMC


def test_retry_only_applies_to_failed_deliveries(config, make_delivery):
    delivery = make_delivery()

    assert service.retry_delivery(delivery.pk) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)


def test_invalid_table_name_fails_without_connecting(config, make_delivery):
    delivery = make_delivery(table="reach; drop table users")

    with mock.patch.object(snowflake.connector, "connect") as connect:
        service.deliver(delivery.pk)

    connect.assert_not_called()
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert "Invalid Snowflake table name" in delivery.error


def test_missing_configuration_fails_with_a_hint(make_delivery):
    delivery = make_delivery()

    service.deliver(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert "No Snowflake connection is set up" in delivery.error


def test_undecryptable_password_asks_to_enter_it_again(config, make_delivery):
    SnowflakeConfig.objects.filter(pk=config.pk).update(password_encrypted="not-a-fernet-token")
    delivery = make_delivery()

    service.deliver(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert "can no longer be decrypted: enter it again" in delivery.error


def test_unfinished_execution_is_not_delivered(config, make_delivery):
    delivery = make_delivery(status=Execution.Status.RUNNING)

    service.deliver(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert "has not succeeded" in delivery.error


def test_stuck_deliveries_become_retryable(config, make_delivery):
    stuck, fresh = make_delivery(WEEK_1), make_delivery(WEEK_2)
    SnowflakeDelivery.objects.filter(pk=stuck.pk).update(status="running", started_at=NOW - timedelta(minutes=1))
    SnowflakeDelivery.objects.filter(pk=fresh.pk).update(status="running", started_at=NOW - timedelta(seconds=2))

    assert service.fail_stuck_deliveries(now=NOW) == [stuck.pk]  # nobody holds its load lock

    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert (stuck.status, fresh.status) == ("failed", "running")
    assert "interrupted" in stuck.error


def test_record_connection_test_remembers_the_outcome(config, fake_snowflake):
    ok, _ = service.record_connection_test(config, now=NOW)
    config.refresh_from_db()
    assert (ok, config.last_test_ok, config.last_tested_at, config.last_test_error) == (True, True, NOW, "")

    with mock.patch.object(snowflake.connector, "connect", side_effect=refused):
        ok, message = service.record_connection_test(config, now=NOW)
    config.refresh_from_db()
    assert (ok, config.last_test_ok, config.last_test_error) == (False, False, message)
    assert PASSWORD not in message


# --- settings form -----------------------------------------------------------------------------------------------


def form_data(**overrides):
    data = dict(
        account="acme-test", user="LOADER", auth_method="password", password="", private_key="", role="",
        warehouse="WH", database="ANALYTICS", schema="AMC",
    )  # fmt: skip
    return data | overrides


def test_form_requires_a_password_on_first_save(user):
    form = SnowflakeConfigForm(form_data(), instance=SnowflakeConfig(owner=user))

    assert not form.is_valid()
    assert "password" in form.errors


def test_form_keeps_the_stored_password_when_left_blank(config):
    form = SnowflakeConfigForm(form_data(warehouse="BIG_WH"), instance=config)
    assert form.is_valid(), form.errors
    form.save()

    config.refresh_from_db()
    assert config.warehouse == "BIG_WH"
    assert config.password == PASSWORD


def test_form_replaces_the_password_when_given(config):
    form = SnowflakeConfigForm(form_data(password="new-secret"), instance=config)
    assert form.is_valid(), form.errors
    form.save()

    config.refresh_from_db()
    assert config.password == "new-secret"
    assert "new-secret" not in config.password_encrypted


def test_form_never_renders_stored_secrets(config):
    html = str(SnowflakeConfigForm(instance=config))

    assert PASSWORD not in html
    assert config.password_encrypted not in html
    assert "Leave blank to keep the stored value." in html


def test_form_switching_to_key_pair_needs_a_readable_key_and_drops_the_password(config):
    bad = SnowflakeConfigForm(form_data(auth_method="key_pair", private_key="not a key"), instance=config)
    assert not bad.is_valid()
    assert "could not be read" in bad.errors["private_key"][0]

    missing = SnowflakeConfigForm(form_data(auth_method="key_pair"), instance=config)
    assert not missing.is_valid()
    assert "private_key" in missing.errors


def pem_of(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_form_refuses_a_key_snowflake_cannot_use(config):
    pem = pem_of(ec.generate_private_key(ec.SECP256R1()))
    form = SnowflakeConfigForm(form_data(auth_method="key_pair", private_key=pem), instance=config)

    assert not form.is_valid()
    assert "needs an RSA private key" in form.errors["private_key"][0]


def test_form_saves_a_key_pair_and_clears_the_password(config):
    pem = pem_of(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    form = SnowflakeConfigForm(form_data(auth_method="key_pair", private_key=pem), instance=config)
    assert form.is_valid(), form.errors
    form.save()

    config.refresh_from_db()
    assert config.private_key == pem.strip()
    assert config.password_encrypted == ""


def test_form_normalises_the_account_and_rejects_bad_identifiers(user):
    form = SnowflakeConfigForm(
        form_data(account=" https://myorg-acct.snowflakecomputing.com/ ", password="x", schema="amc-prod"),
        instance=SnowflakeConfig(owner=user),
    )

    assert not form.is_valid()
    assert form.cleaned_data["account"] == "myorg-acct"
    assert "Invalid Snowflake schema" in form.errors["schema"][0]
