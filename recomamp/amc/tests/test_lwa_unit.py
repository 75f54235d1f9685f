import base64
import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from recomamp.amc import lwa

TOKEN_URL = "http://127.0.0.1:8765/sandbox/auth/o2/token"
SECRET = "very-secret-client-secret"
REFRESH_TOKEN = "Atzr|refresh-token"


class TokenServer:
    def __init__(self, response):
        self.response = response
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        if isinstance(self.response, type):
            raise self.response("simulated", request=request)
        return self.response

    def form(self):
        return {key: values[0] for key, values in parse_qs(self.requests[0].content.decode()).items()}


def call_refresh(response):
    server = TokenServer(response)
    result = lwa.refresh(TOKEN_URL, "client-1", SECRET, REFRESH_TOKEN, transport=httpx.MockTransport(server))
    return result, server


def refresh_error(response):
    with pytest.raises(lwa.LWAError) as caught:
        call_refresh(response)
    assert SECRET not in str(caught.value) and REFRESH_TOKEN not in str(caught.value)
    return caught.value


# PKCE and the consent URL


def test_pkce_challenge_is_unpadded_base64url_of_sha256_of_verifier():
    verifier, challenge = lwa.make_pkce_pair()
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == expected
    assert "=" not in challenge and len(challenge) == 43
    assert 43 <= len(verifier) <= 128
    assert re.fullmatch(r"[A-Za-z0-9._~-]+", verifier)


def test_pkce_matches_the_rfc_7636_example():
    # The worked example in RFC 7636, appendix B.
    assert lwa.pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_pkce_pairs_are_fresh_each_time():
    assert lwa.make_pkce_pair()[0] != lwa.make_pkce_pair()[0]


def test_authorization_url_carries_every_parameter():
    url = lwa.authorization_url(
        "https://www.amazon.com/ap/oa", "client-1", "https://app.example/callback?x=1", "state-123", "challenge"
    )
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.amazon.com/ap/oa"
    assert query == {
        "client_id": "client-1",
        "scope": "advertising::campaign_management",
        "response_type": "code",
        "redirect_uri": "https://app.example/callback?x=1",
        "state": "state-123",
        "code_challenge": "challenge",
        "code_challenge_method": "S256",
    }


def test_authorization_url_keeps_an_existing_query():
    url = lwa.authorization_url("http://127.0.0.1:8765/sandbox/ap/oa?lang=en", "c", "r", "s", "ch", scope="x y")
    query = parse_qs(urlsplit(url).query)
    assert query["lang"] == ["en"] and query["scope"] == ["x y"]


# Token calls


def test_exchange_code_posts_a_form_and_returns_tokens():
    body = {"access_token": "Atza|new", "refresh_token": "Atzr|new", "token_type": "bearer", "expires_in": 3600}
    server = TokenServer(httpx.Response(200, json=body))

    tokens = lwa.exchange_code(
        TOKEN_URL, "client-1", SECRET, "code-1", "https://app/cb", "verifier-1", transport=httpx.MockTransport(server)
    )

    request = server.requests[0]
    assert request.method == "POST" and str(request.url) == TOKEN_URL
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert server.form() == {
        "grant_type": "authorization_code",
        "code": "code-1",
        "redirect_uri": "https://app/cb",
        "client_id": "client-1",
        "client_secret": SECRET,
        "code_verifier": "verifier-1",
    }
    assert tokens == lwa.TokenSet("Atza|new", "Atzr|new", 3600, "bearer")
    assert "Atza" not in repr(tokens) and "Atzr" not in repr(tokens)


def test_refresh_keeps_the_refresh_token_when_none_comes_back_and_reads_string_expiry():
    tokens, server = call_refresh(httpx.Response(200, json={"access_token": "Atza|2", "expires_in": "3600"}))
    assert server.form()["grant_type"] == "refresh_token"
    assert server.form()["refresh_token"] == REFRESH_TOKEN
    assert (tokens.access_token, tokens.refresh_token, tokens.expires_in) == ("Atza|2", REFRESH_TOKEN, 3600)


# Error classification


@pytest.mark.parametrize(
    ("status", "body", "kind", "reauth"),
    [
        (400, {"error": "invalid_grant", "error_description": "invalid grant parameter : refresh_token"},
         "invalid_grant", True),
        (400, {"error": "invalid_request", "error_description": "missing parameter"}, "client", True),
        (400, {"error": "unsupported_grant_type"}, "client", True),
        (401, {"error": "invalid_client", "error_description": "Client authentication failed"}, "client", True),
        (403, {"error": "access_denied"}, "client", False),
        (500, {"error": "server_error"}, "server", False),
        (503, None, "server", False),
    ],
)  # fmt: skip
def test_error_responses_are_classified(status, body, kind, reauth):
    response = httpx.Response(status, json=body) if body is not None else httpx.Response(status, text="down")
    err = refresh_error(response)
    assert (err.kind, err.reauth_required, err.status_code) == (kind, reauth, status)
    assert err.transient == (kind == "server")
    if body:
        assert err.error == body["error"]
        assert body["error"] in str(err)


def test_invalid_grant_keeps_the_description_and_asks_for_a_new_connection():
    err = refresh_error(httpx.Response(400, json={"error": "invalid_grant", "error_description": "expired"}))
    assert err.error_description == "expired"
    assert "connect their Amazon account again" in str(err)


def test_throttling_carries_retry_after():
    err = refresh_error(httpx.Response(429, json={"error": "throttled"}, headers={"Retry-After": "12"}))
    assert (err.kind, err.retry_after, err.reauth_required, err.transient) == ("throttled", 12.0, False, True)


@pytest.mark.parametrize(
    ("failure", "kind"),
    [(httpx.ReadTimeout, "timeout"), (httpx.ConnectTimeout, "timeout"), (httpx.ConnectError, "server")],
)
def test_transport_failures_are_classified(failure, kind):
    err = refresh_error(failure)
    assert (err.kind, err.reauth_required, err.transient) == (kind, False, True)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>oops</html>"),
        httpx.Response(200, json=["access_token"]),
        httpx.Response(200, json={"refresh_token": "Atzr|x", "expires_in": 3600}),
        httpx.Response(200, json={"access_token": "Atza|x", "expires_in": "soon"}),
    ],
)
def test_unreadable_success_is_a_bad_response(response):
    err = refresh_error(response)
    assert (err.kind, err.reauth_required, err.transient) == ("bad_response", False, False)


def test_exchange_without_a_refresh_token_is_a_bad_response():
    server = TokenServer(httpx.Response(200, json={"access_token": "Atza|x", "expires_in": 3600}))
    with pytest.raises(lwa.LWAError) as caught:
        lwa.exchange_code(TOKEN_URL, "c", SECRET, "code", "r", None, transport=httpx.MockTransport(server))
    assert caught.value.kind == "bad_response"
    assert "code_verifier" not in server.form()


def test_unknown_error_kind_is_refused():
    with pytest.raises(ValueError):
        lwa.LWAError("x", "mystery")
