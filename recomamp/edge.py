"""Bad input stopped at the edge: NUL bytes and oversize values in the path, query string and form fields.

PostgreSQL cannot store a NUL byte and no page needs one, and no field of ours needs more than a query's worth
of text; rejecting both here, before any view runs, answers 400 with an escaped message instead of a 500 deep
in a view, and writes nothing. The policy is described in docs/reliability.md (Security).
"""

from django.http import JsonResponse
from django.shortcuts import render

MAX_PATH_CHARS = 1_000
MAX_QUERY_VALUE_CHARS = 2_000  # search boxes, ids, sort keys, dates: nothing in a query string is longer
MAX_FORM_VALUE_CHARS = 200_000  # the longest form field is a query's SQL (see queries.validation.limits)


def bad_request(request, message: str, status: int = 400):
    """An error page whose message is escaped by the template (never interpolated into raw HTML)."""
    if request.path.startswith("/sandbox/amc/"):  # the sandbox speaks AMC's JSON error shape
        return JsonResponse({"code": str(status), "details": message}, status=status)
    return render(request, "400.html", {"message": message}, status=status)


def _bad_value(items, limit: int) -> str | None:
    for key, values in items:
        for text in (key, *values):
            if "\x00" in text:
                return "The request contains a NUL character, which no field accepts."
            if len(text) > limit:
                return f"A value in the request is longer than {limit:,} characters."
    return None


def problem_with(request) -> str | None:
    if "\x00" in request.path:
        return "The address contains a NUL character."
    if len(request.path) > MAX_PATH_CHARS:
        return f"The address is longer than {MAX_PATH_CHARS:,} characters."
    problem = _bad_value(request.GET.lists(), MAX_QUERY_VALUE_CHARS)
    if problem is None and request.content_type == "application/json":  # the sandbox API's bodies
        if b"\x00" in request.body or b"\\u0000" in request.body:
            problem = "The request contains a NUL character, which no field accepts."
    elif problem is None and request.method == "POST":
        problem = _bad_value(request.POST.lists(), MAX_FORM_VALUE_CHARS)
    return problem


class RejectBadInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = problem_with(request)
        if problem is not None:
            return bad_request(request, problem)
        return self.get_response(request)
