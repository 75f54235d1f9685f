"""RecomAMP's own AMC and LWA clients, unchanged, against the sandbox over real HTTP."""

import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from recomamp.amc import (
    AccountRef,
    AMCClient,
    AMCForbiddenError,
    AMCNotFoundError,
    AMCThrottledError,
    AMCValidationError,
    InstanceRef,
    StaticTokenProvider,
    TimeWindow,
)
from recomamp.amc import lwa as lwa_client
from recomamp.sandbox.models import SandboxFaults, SandboxInstance

from .conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI

pytestmark = pytest.mark.django_db(transaction=True)

SQL = "SELECT impression_dt_utc, COUNT(*) AS impressions FROM dsp_impressions GROUP BY impression_dt_utc"
WINDOW = TimeWindow("EXPLICIT", start=datetime(2024, 6, 1), end=datetime(2024, 7, 1))


@pytest.fixture
def client(sandbox):
    amc = AMCClient(
        str(sandbox.http.base_url).rstrip("/"),
        CLIENT_ID,
        StaticTokenProvider(sandbox.access_token),
        max_attempts=2,
        sleep=lambda _seconds: None,
    )
    with amc:
        yield amc


@pytest.fixture
def demo(sandbox):
    return InstanceRef(sandbox.instance_id, sandbox.entity_id, sandbox.marketplace_id)


def test_lwa_client_full_code_flow(sandbox):
    verifier, challenge = lwa_client.make_pkce_pair()
    base = str(sandbox.http.base_url).rstrip("/")
    url = lwa_client.authorization_url(f"{base}/ap/oa", CLIENT_ID, REDIRECT_URI, "st-1", challenge)
    with httpx.Client() as browser:
        page = browser.get(url)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        fields = dict(parse_qs(urlsplit(url).query, keep_blank_values=True))
        form = {k: v[0] for k, v in fields.items()} | {"decision": "allow", "csrfmiddlewaretoken": csrf}
        answer = browser.post(f"{base}/ap/oa", data=form)
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    tokens = lwa_client.exchange_code(f"{base}/auth/o2/token", CLIENT_ID, CLIENT_SECRET, code, REDIRECT_URI, verifier)
    refreshed = lwa_client.refresh(f"{base}/auth/o2/token", CLIENT_ID, CLIENT_SECRET, tokens.refresh_token)
    assert refreshed.refresh_token == tokens.refresh_token
    assert refreshed.access_token != tokens.access_token
    with pytest.raises(lwa_client.LWAError) as error:
        lwa_client.exchange_code(f"{base}/auth/o2/token", CLIENT_ID, CLIENT_SECRET, code, REDIRECT_URI, verifier)
    assert error.value.kind == "invalid_grant"


def test_accounts_instances_and_data_sources(client, sandbox):
    accounts = client.list_accounts()
    assert sandbox.entity_id in {a.account_id for a in accounts}
    instances = client.list_instances(AccountRef(sandbox.entity_id, sandbox.marketplace_id))
    assert sandbox.instance_id in {i.instance_id for i in instances}
    demo = next(i for i in instances if i.instance_id == sandbox.instance_id)
    assert demo.is_sandbox
    ref = InstanceRef(sandbox.instance_id, sandbox.entity_id, sandbox.marketplace_id)
    assert client.get_instance(ref).instance_id == sandbox.instance_id
    assert "dsp_impressions" in {d.data_source_id for d in client.list_data_sources(ref)}


def test_saved_workflow_execution_to_results(client, demo, clock):
    client.create_workflow(demo, "by_hour", SQL)
    assert client.get_workflow(demo, "by_hour").sql_query == SQL
    execution = client.create_saved_execution(
        demo, "by_hour", window=WINDOW, extra={"disableAggregationControls": True}
    )
    assert execution.status == "PENDING"
    with pytest.raises(AMCNotFoundError):
        client.get_download_urls(demo, execution.execution_id)
    clock.advance(30)
    done = client.get_execution(demo, execution.execution_id)
    assert done.is_terminal and done.status == "SUCCEEDED"
    links = client.get_download_urls(demo, execution.execution_id)
    csv_text = httpx.get(links.urls[0]).text
    assert csv_text.startswith("impression_dt_utc,impressions\r\n")
    listed = client.list_executions(demo, workflow_id="by_hour")
    assert [e.execution_id for e in listed] == [execution.execution_id]


def test_client_errors_map_to_typed_errors(client, demo, sandbox):
    with pytest.raises(AMCValidationError) as compile_error:
        client.create_adhoc_execution(demo, "SELECT campaign,\n  COUNT(*) AS n\nFROM nowhere", window=WINDOW)
    assert compile_error.value.line == 3
    with pytest.raises(AMCNotFoundError):
        client.get_execution(demo, "4b6c9a52-0d55-4f9c-9a2e-000000000000")
    with pytest.raises(AMCForbiddenError):
        client.list_workflows(InstanceRef(sandbox.instance_id, "ENTITYSOMEONEELSE", sandbox.marketplace_id))
    SandboxFaults.objects.create(
        instance=SandboxInstance.objects.get(instance_id=demo.instance_id), throttle_rate=1.0, retry_after_seconds=2
    )
    with pytest.raises(AMCThrottledError) as throttled:
        client.list_workflows(demo)
    assert throttled.value.retry_after == 2
