"""Fixtures for the sandbox tests: tiny engine data, a controllable clock, and an HTTP client with tokens.

The API tests talk to the sandbox over real HTTP (pytest-django's `live_server`). The live server runs in a
thread of this process, so patching `clock.now` moves the sandbox's clock for it too.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from recomamp.sandbox import auth, faults
from recomamp.sandbox import clock as sandbox_clock
from recomamp.sandbox.seed import DEMO_INSTANCE_ID, ensure_sandbox_catalog

CLIENT_ID = "sandbox-test-client"
CLIENT_SECRET = "sandbox-test-secret"
REDIRECT_URI = "http://app.example.test/connect/callback"
DATA_END = date(2024, 12, 31)


@pytest.fixture(scope="session")
def sandbox_data_path(tmp_path_factory):
    from recomamp.sandbox.engine import generate

    path = tmp_path_factory.mktemp("sandbox-data") / "amc.duckdb"
    generate(path, scale=0.002, seed=7, end_date=DATA_END)
    return path


class Clock:
    """The sandbox clock for a test: starts at a fixed instant and moves only when told."""

    def __init__(self, start: datetime):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    fixed = Clock(datetime(2025, 1, 6, 12, 0, 0, tzinfo=UTC))
    monkeypatch.setattr(sandbox_clock, "now", fixed)
    return fixed


@pytest.fixture(autouse=True)
def sandbox_settings(settings, sandbox_data_path, tmp_path):
    settings.SANDBOX_DATA_PATH = sandbox_data_path
    settings.SANDBOX_RESULTS_PATH = tmp_path / "results"
    settings.AMAZON_CLIENT_ID = CLIENT_ID
    settings.AMAZON_CLIENT_SECRET = CLIENT_SECRET
    settings.SANDBOX_LWA_REDIRECT_URIS = [REDIRECT_URI]  # registered for the test client, as with LWA
    settings.SANDBOX_PENDING_SECONDS = 10
    settings.SANDBOX_RUNNING_SECONDS = 20
    settings.SANDBOX_PUBLISHING_SECONDS = 0  # test_executions.py covers PUBLISHING on its own
    settings.SANDBOX_FAULTS = {}
    faults.reset()
    return settings


@dataclass
class Sandbox:
    """An httpx client on the live sandbox with a valid token and the demo instance's account headers."""

    http: httpx.Client
    access_token: str
    refresh_token: str
    entity_id: str
    marketplace_id: str
    instance_id: str

    def headers(self, **overrides) -> dict[str, str]:
        headers = {
            auth.CLIENT_ID_HEADER: CLIENT_ID,
            "Authorization": f"Bearer {self.access_token}",
            auth.ADVERTISER_HEADER: self.entity_id,
            auth.MARKETPLACE_HEADER: self.marketplace_id,
        }
        headers.update(overrides)
        return {name: value for name, value in headers.items() if value is not None}

    def renew_token(self) -> None:
        """A fresh access token, for tests that move the clock past the token's lifetime."""
        self.access_token = auth.refresh_access(CLIENT_ID, self.refresh_token).access_token

    def call(self, method: str, path: str, *, headers: dict | None = None, **kwargs) -> httpx.Response:
        return self.http.request(method, path, headers=headers or self.headers(), **kwargs)

    def reporting(self, method: str, path: str, **kwargs) -> httpx.Response:
        return self.call(method, f"/amc/reporting/{self.instance_id}{path}", **kwargs)

    def run_adhoc(self, sql: str, **body) -> dict:
        body = {"workflow": {"sqlQuery": sql}, **EXPLICIT_2024, **body}
        response = self.reporting("POST", "/workflowExecutions", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def status(self, execution_id: str) -> str:
        response = self.reporting("GET", f"/workflowExecutions/{execution_id}")
        assert response.status_code == 200, response.text
        return response.json()["status"]


EXPLICIT_2024 = {
    "timeWindowType": "EXPLICIT",
    "timeWindowStart": "2024-01-01T00:00:00",
    "timeWindowEnd": "2025-01-01T00:00:00",
}


def issue_tokens() -> auth.IssuedTokens:
    """Tokens made by the same service the token endpoint uses (the LWA tests cover the HTTP flow)."""
    code = auth.issue_authorization_code(CLIENT_ID, REDIRECT_URI, "advertising::campaign_management")
    return auth.exchange_code(CLIENT_ID, code, REDIRECT_URI, "")


@pytest.fixture
def sandbox(live_server, clock):
    instances = {i.instance_id: i for i in ensure_sandbox_catalog()}
    demo = instances[DEMO_INSTANCE_ID]
    tokens = issue_tokens()
    with httpx.Client(base_url=f"{live_server.url}/sandbox", timeout=30) as http:
        yield Sandbox(
            http=http,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            entity_id=demo.account.entity_id,
            marketplace_id=demo.account.marketplace_id,
            instance_id=demo.instance_id,
        )
