"""Login with Amazon over real HTTP: consent page, code exchange with PKCE, refresh grant, error bodies."""

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from recomamp.amc.lwa import make_pkce_pair
from recomamp.sandbox.models import AccessToken, AuthorizationCode, RefreshToken

from .conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lwa(live_server, clock):
    with httpx.Client(base_url=f"{live_server.url}/sandbox", timeout=30) as http:
        yield http


def consent_params(**overrides):
    params = {
        "client_id": CLIENT_ID,
        "scope": "advertising::campaign_management",
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "state": "xyz-123",
    }
    params.update(overrides)
    return params


def decide(http: httpx.Client, decision: str, **overrides) -> dict[str, list[str]]:
    """Open the consent page, press a button, and return the query of the redirect back to the app."""
    params = consent_params(**overrides)
    page = http.get("/ap/oa", params=params)
    assert page.status_code == 200
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = http.post("/ap/oa", data={**params, "decision": decision, "csrfmiddlewaretoken": csrf})
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return parse_qs(urlsplit(location).query)


def token_request(http: httpx.Client, **fields) -> httpx.Response:
    data = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **fields}
    return http.post("/auth/o2/token", data=data)


def get_code(http, **overrides) -> str:
    return decide(http, "allow", **overrides)["code"][0]


def test_consent_page_asks_for_access(lwa):
    page = lwa.get("/ap/oa", params=consent_params())
    assert page.status_code == 200
    assert "Allow RecomAMP to access your Amazon Ads data" in page.text
    assert 'value="allow"' in page.text and 'value="deny"' in page.text


def test_unknown_client_gets_an_error_page_not_a_redirect(lwa):
    page = lwa.get("/ap/oa", params=consent_params(client_id="someone-else"))
    assert page.status_code == 400
    assert "location" not in page.headers


def test_deny_redirects_with_access_denied_and_state(lwa):
    query = decide(lwa, "deny")
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["xyz-123"]
    assert "code" not in query


def test_allow_redirects_with_code_scope_and_state(lwa):
    query = decide(lwa, "allow")
    assert query["state"] == ["xyz-123"]
    assert query["scope"] == ["advertising::campaign_management"]
    assert query["code"][0]
    assert AuthorizationCode.objects.count() == 1
    assert AuthorizationCode.objects.get().code_hash != query["code"][0]  # stored hashed


def test_code_exchange_with_pkce(lwa):
    verifier, challenge = make_pkce_pair()
    code = get_code(lwa, code_challenge=challenge, code_challenge_method="S256")
    response = token_request(
        lwa, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"].startswith("Atza|") and len(body["access_token"]) >= 350
    assert body["refresh_token"].startswith("Atzr|")
    assert response.headers["cache-control"] == "no-store"


def test_wrong_pkce_verifier_is_rejected(lwa):
    _, challenge = make_pkce_pair()
    other_verifier, _ = make_pkce_pair()
    code = get_code(lwa, code_challenge=challenge, code_challenge_method="S256")
    response = token_request(
        lwa, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=other_verifier
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_missing_pkce_verifier_is_rejected(lwa):
    _, challenge = make_pkce_pair()
    code = get_code(lwa, code_challenge=challenge, code_challenge_method="S256")
    response = token_request(lwa, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_code_is_single_use(lwa):
    code = get_code(lwa)
    first = token_request(lwa, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    second = token_request(lwa, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json() == {
        "error": "invalid_grant",
        "error_description": "The request has an invalid parameter : code",
    }


def test_code_expires_after_five_minutes(lwa, clock):
    code = get_code(lwa)
    clock.advance(301)
    response = token_request(lwa, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_redirect_uri_must_match(lwa):
    code = get_code(lwa)
    response = token_request(
        lwa, grant_type="authorization_code", code=code, redirect_uri="http://app.example.test/elsewhere"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "redirect_uri" in response.json()["error_description"]


def test_bad_client_secret_is_invalid_client(lwa):
    code = get_code(lwa)
    response = lwa.post(
        "/auth/o2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT_ID,
            "client_secret": "wrong",
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_refresh_grant_returns_new_access_token_and_same_refresh_token(lwa):
    code = get_code(lwa)
    first = token_request(lwa, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI).json()
    # A JSON body works too, as AWS's own AMC code sends it.
    response = lwa.post(
        "/auth/o2/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["refresh_token"] == first["refresh_token"]
    assert body["access_token"] != first["access_token"]
    again = token_request(lwa, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert again.status_code == 200  # refresh tokens are reusable


def test_refresh_with_unknown_or_revoked_token_is_invalid_grant(lwa, clock):
    code = get_code(lwa)
    tokens = token_request(lwa, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI).json()
    unknown = token_request(lwa, grant_type="refresh_token", refresh_token="Atzr|not-a-token")
    assert unknown.status_code == 400
    assert unknown.json() == {
        "error": "invalid_grant",
        "error_description": "The request has an invalid grant parameter : refresh_token",
    }
    RefreshToken.objects.update(revoked_at=clock())
    revoked = token_request(lwa, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert revoked.status_code == 400
    assert revoked.json()["error"] == "invalid_grant"


def test_missing_and_unsupported_grant_types(lwa):
    missing = token_request(lwa)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    unsupported = token_request(lwa, grant_type="password")
    assert unsupported.status_code == 400 and unsupported.json()["error"] == "unsupported_grant_type"
    no_refresh = token_request(lwa, grant_type="refresh_token")
    assert no_refresh.json() == {
        "error": "invalid_request",
        "error_description": "The request is missing a required parameter : refresh_token",
    }


def test_access_token_lifetime_is_configurable(lwa, settings):
    settings.SANDBOX_ACCESS_TOKEN_SECONDS = 120
    code = get_code(lwa)
    body = token_request(lwa, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI).json()
    assert body["expires_in"] == 120


def test_consent_page_lets_its_form_reach_the_app(lwa):
    page = lwa.get("/ap/oa", params=consent_params())
    assert "form-action 'self' http://app.example.test" in page.headers["content-security-policy"]


@pytest.mark.parametrize("uri", ["https://evil.example/steal", "http://app.example.test/connect/callback/../x", ""])
def test_an_unregistered_redirect_uri_gets_an_error_page_and_no_wider_form_action(lwa, uri):
    page = lwa.get("/ap/oa", params=consent_params(redirect_uri=uri))
    assert page.status_code == 400 and "location" not in page.headers
    assert "evil.example" not in page.headers.get("content-security-policy", "")


def test_without_configuration_only_the_apps_own_callback_is_registered(db, client, settings):
    settings.SANDBOX_LWA_REDIRECT_URIS = []
    params = consent_params(client_id=settings.AMAZON_CLIENT_ID)
    assert client.get("/sandbox/ap/oa", {**params, "redirect_uri": "https://evil.example/cb"}).status_code == 400
    own = client.get("/sandbox/ap/oa", {**params, "redirect_uri": "http://testserver/accounts/amazon/callback/"})
    assert own.status_code == 200
    assert own["Content-Security-Policy"].endswith("form-action 'self' http://testserver; frame-ancestors 'none'")
