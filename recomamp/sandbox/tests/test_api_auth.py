"""AMC's header and token checks, over real HTTP."""

import pytest

from recomamp.sandbox import auth
from recomamp.sandbox.models import RefreshToken, SandboxAccount

pytestmark = pytest.mark.django_db(transaction=True)


def test_valid_token_and_headers_are_accepted(sandbox):
    response = sandbox.call("GET", f"/amc/instances/{sandbox.instance_id}")
    assert response.status_code == 200
    assert response.json()["instance"]["instanceId"] == sandbox.instance_id


def test_expired_access_token_gets_401(sandbox, clock):
    clock.advance(3601)
    response = sandbox.call("GET", f"/amc/instances/{sandbox.instance_id}")
    assert response.status_code == 401
    assert response.json() == {"code": "401", "details": "Unauthorized"}


def test_revoked_refresh_token_invalidates_its_access_tokens(sandbox, clock):
    RefreshToken.objects.update(revoked_at=clock())
    response = sandbox.call("GET", f"/amc/instances/{sandbox.instance_id}")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "override",
    [
        {auth.CLIENT_ID_HEADER: None},
        {auth.CLIENT_ID_HEADER: "another-client"},
        {"Authorization": None},
        {"Authorization": "Bearer Atza|unknown"},
        {"Authorization": "Basic abc"},
    ],
)
def test_missing_or_wrong_credentials_get_401(sandbox, override):
    response = sandbox.call("GET", f"/amc/instances/{sandbox.instance_id}", headers=sandbox.headers(**override))
    assert response.status_code == 401
    assert response.json()["code"] == "401"


@pytest.mark.parametrize("header", [auth.ADVERTISER_HEADER, auth.MARKETPLACE_HEADER])
def test_missing_account_header_gets_400(sandbox, header):
    response = sandbox.call("GET", f"/amc/instances/{sandbox.instance_id}", headers=sandbox.headers(**{header: None}))
    assert response.status_code == 400
    assert response.json() == {"code": "400", "details": f"Missing required header {header}."}


def test_wrong_entity_id_gets_403(sandbox):
    other = SandboxAccount.objects.exclude(entity_id=sandbox.entity_id).first()
    headers = sandbox.headers(
        **{auth.ADVERTISER_HEADER: other.entity_id, auth.MARKETPLACE_HEADER: other.marketplace_id}
    )
    response = sandbox.call("GET", f"/amc/reporting/{sandbox.instance_id}/workflows", headers=headers)
    assert response.status_code == 403
    assert response.json() == {"code": "403", "details": "Unauthorized request."}


def test_unknown_entity_or_marketplace_gets_403(sandbox):
    for override in ({auth.ADVERTISER_HEADER: "ENTITYNOPE"}, {auth.MARKETPLACE_HEADER: "A1PA6795UKMFR9"}):
        response = sandbox.call("GET", "/amc/instances", headers=sandbox.headers(**override))
        assert response.status_code == 403


def test_unknown_instance_gets_403(sandbox):
    response = sandbox.call("GET", "/amc/reporting/amcnosuch000/workflows")
    assert response.status_code == 403
    assert response.json()["details"] == "Unauthorized request."


def test_accounts_errors_use_the_message_shape(sandbox):
    response = sandbox.call("GET", "/amc/accounts", headers=sandbox.headers(Authorization=None))
    assert response.status_code == 401
    body = response.json()
    assert body["message"] == "Unauthorized"
    assert body["requestId"]
    assert "code" not in body


def test_wrong_method_gets_405_with_allow(sandbox):
    response = sandbox.call("DELETE", "/amc/accounts")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
