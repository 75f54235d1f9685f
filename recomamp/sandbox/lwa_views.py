"""Login with Amazon: the consent page (`/ap/oa`) and the token endpoint (`/auth/o2/token`).

Errors follow OAuth 2: a request whose client or redirect URI cannot be trusted gets an error page, never a
redirect; anything else goes back to the redirect URI with `error=...`. The token endpoint answers
`{"error": ..., "error_description": ...}` (400, or 401 for bad client credentials).
"""

import base64
import binascii
import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import auth

CONSENT_PARAMS = (
    "client_id",
    "scope",
    "response_type",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
)
CHALLENGE_METHODS = ("", "plain", "S256")


def _with_query(uri: str, values: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, v) for k, v in values.items() if v]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _error_page(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "sandbox/consent.html", {"error": message}, status=400)


@login_not_required
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    params = {name: source.get(name, "") for name in CONSENT_PARAMS}
    if not auth.known_client(params["client_id"]):
        return _error_page(request, "The application asking for access is not known (client_id).")
    redirect_uri = params["redirect_uri"]
    if not redirect_uri or not auth.redirect_uri_allowed(redirect_uri, request):
        return _error_page(request, "The return address of the application is missing or not allowed.")

    def back(**values: str) -> HttpResponse:
        return HttpResponseRedirect(_with_query(redirect_uri, {**values, "state": params["state"]}))

    if params["response_type"] != "code":
        return back(error="unsupported_response_type", error_description="response_type must be code")
    if params["code_challenge_method"] not in CHALLENGE_METHODS or (
        params["code_challenge_method"] and not params["code_challenge"]
    ):
        return back(error="invalid_request", error_description="Invalid PKCE code_challenge or method")
    if request.method == "GET":
        page = render(request, "sandbox/consent.html", {"params": params})
        # The site-wide policy limits form targets to our own origin; Allow/Deny end at the app's redirect URI.
        target = urlsplit(redirect_uri)
        page["Content-Security-Policy"] = (
            f"default-src 'self'; form-action 'self' {target.scheme}://{target.netloc}; frame-ancestors 'none'"
        )
        return page
    if request.POST.get("decision") != "allow":
        return back(error="access_denied", error_description="The user denied the request")
    code = auth.issue_authorization_code(
        params["client_id"], redirect_uri, params["scope"], params["code_challenge"], params["code_challenge_method"]
    )
    return back(code=code, scope=params["scope"])


def _token_request_fields(request: HttpRequest) -> dict[str, str]:
    """Form or JSON body (AWS's own code sends JSON); client credentials may also come as HTTP Basic."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise auth.LWAError("invalid_request", "The request body is not valid JSON")
        if not isinstance(body, dict):
            raise auth.LWAError("invalid_request", "The request body must be a JSON object")
        fields = {k: str(v) for k, v in body.items() if v is not None}
    else:
        fields = {k: request.POST.get(k, "") for k in request.POST}
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic" and credentials:
        try:
            client_id, _, secret = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise auth.LWAError("invalid_client", "Client authentication failed", status=401)
        fields.setdefault("client_id", client_id)
        fields.setdefault("client_secret", secret)
    return fields


@csrf_exempt
@login_not_required
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    try:
        fields = _token_request_fields(request)
        grant_type = fields.get("grant_type", "")
        if not grant_type:
            raise auth.LWAError("invalid_request", "The request is missing a required parameter : grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise auth.LWAError(
                "unsupported_grant_type", "The authorization grant type is not supported by the authorization server"
            )
        client_id = fields.get("client_id", "")
        auth.check_client(client_id, fields.get("client_secret", ""))
        if grant_type == "authorization_code":
            issued = auth.exchange_code(
                client_id, fields.get("code", ""), fields.get("redirect_uri", ""), fields.get("code_verifier", "")
            )
        else:
            issued = auth.refresh_access(client_id, fields.get("refresh_token", ""))
        response = JsonResponse(issued.as_json())
    except auth.LWAError as error:
        response = JsonResponse({"error": error.error, "error_description": error.description}, status=error.status)
    response["Cache-Control"] = "no-store"
    return response
