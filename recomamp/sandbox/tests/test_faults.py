"""Fault injection: from settings and per instance, decided before any business logic."""

import pytest

from recomamp.sandbox import faults
from recomamp.sandbox.models import SandboxExecution, SandboxFaults, SandboxInstance

pytestmark = pytest.mark.django_db(transaction=True)

SQL = "SELECT campaign, COUNT(*) AS impressions FROM dsp_impressions GROUP BY campaign"


@pytest.fixture
def sleeps(monkeypatch):
    calls = []
    monkeypatch.setattr(faults, "sleep", calls.append)
    return calls


def test_throttling_answers_429_with_retry_after(sandbox, settings):
    settings.SANDBOX_FAULTS = {"throttle_rate": 1.0, "retry_after_seconds": 7}
    response = sandbox.call("GET", "/amc/accounts")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"


def test_server_errors_and_no_state_change(sandbox, settings):
    settings.SANDBOX_FAULTS = {"server_error_rate": 1.0, "server_error_status": 503}
    response = sandbox.reporting("POST", "/workflowExecutions", json={"workflow": {"sqlQuery": SQL}})
    assert response.status_code == 503
    assert response.json()["code"] == "503"
    assert not SandboxExecution.objects.exists()


def test_latency_is_added(sandbox, settings, sleeps):
    settings.SANDBOX_FAULTS = {"latency_ms": 250}
    assert sandbox.call("GET", "/amc/accounts").status_code == 200
    assert sleeps == [0.25]


def test_timeouts_sleep_past_the_configured_time_then_504(sandbox, settings, sleeps):
    settings.SANDBOX_FAULTS = {"timeout_rate": 1.0, "timeout_seconds": 45}
    response = sandbox.call("GET", "/amc/accounts")
    assert sleeps == [45]
    assert response.status_code == 504


def test_expired_token_fault_answers_401(sandbox, settings):
    settings.SANDBOX_FAULTS = {"expired_token_rate": 1.0}
    response = sandbox.call("GET", f"/amc/instances/{sandbox.instance_id}")
    assert response.status_code == 401
    assert response.json() == {"code": "401", "details": "Unauthorized"}


def test_instance_faults_apply_only_to_that_instance(sandbox):
    instance = SandboxInstance.objects.get(instance_id=sandbox.instance_id)
    SandboxFaults.objects.create(instance=instance, throttle_rate=1.0, retry_after_seconds=3)
    assert sandbox.reporting("GET", "/workflows").status_code == 429
    assert sandbox.call("GET", "/amc/accounts").status_code == 200
    SandboxFaults.objects.update(enabled=False)
    assert sandbox.reporting("GET", "/workflows").status_code == 200


def test_seeded_faults_repeat_the_same_sequence(sandbox, settings):
    settings.SANDBOX_FAULTS = {"server_error_rate": 0.5, "seed": 1234}

    def statuses():
        return [sandbox.call("GET", "/amc/accounts").status_code for _ in range(12)]

    first = statuses()
    faults.reset()
    assert statuses() == first
    assert set(first) == {200, 500}  # a half share over twelve draws gives both outcomes with this seed
