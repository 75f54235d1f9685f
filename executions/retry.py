"""Whether a failure is worth trying again: the one rule every retry decision uses.

Schedules (`schedules.services`), run sets (`runsets.dispatch`), `Execution.failed_transiently`, submission
(`executions.services.submit_execution`) and the follower (`lifecycle.apply_amc_status`, which stores AMC's
FAILED reason as a kind) all ask `classify`. docs/reliability.md has the rule as a table.

- RETRY: it may pass if tried later. Throttling (429), AMC's 5xx, timeouts, lost connections, a token refresh
  that failed for a temporary reason, and an execution AMC reports FAILED with an internal error.
- NEVER: the same request fails the same way until a person acts. A connection that needs re-authorisation
  (revoked or expired refresh token), AMC's 401 after a refresh, compile and validation errors, access refused,
  a missing instance or workflow, the daily quota (schedules wait for it instead), anything unknown.
"""

import re
from datetime import timedelta

from accounts.amazon import AmazonConnectionError, ReauthorizationRequired
from recomamp.amc import errors as amc_errors

RETRY = "retry"
NEVER = "never"

# Kinds stored in Execution.error_kind besides the typed AMC error class names.
REAUTH = "reauth"  # the Amazon connection needs the user to reconnect
CONNECTION = "connection"  # refreshing the token failed for a temporary reason
AMC_INTERNAL = "amc_internal"  # AMC reported FAILED because of its own internal error
TIMEOUT = "timeout"  # the execution ran past its timeout on AMC (we cancelled it)

TRANSIENT_ERRORS = (
    amc_errors.AMCThrottledError, amc_errors.AMCServerError, amc_errors.AMCTimeoutError, amc_errors.AMCConnectionError,
)  # fmt: skip
RETRY_KINDS = frozenset({error.__name__ for error in TRANSIENT_ERRORS} | {CONNECTION, AMC_INTERNAL, TIMEOUT})

# AMC's wording for failures on its side ("Internal error", "InternalServerError", "internal failure", …).
_INTERNAL_REASON = re.compile(r"internal[ _]?(server[ _]?)?(error|failure)|service (is )?unavailable", re.I)

DEFAULT_CAP = timedelta(hours=6)


def kind_of(error: BaseException) -> str:
    """The kind stored for an exception: ours for the Amazon connection, the class name for AMC's errors."""
    if isinstance(error, ReauthorizationRequired):
        return REAUTH
    if isinstance(error, AmazonConnectionError):
        return CONNECTION
    return type(error).__name__


def classify(failure: BaseException | str) -> str:
    """RETRY or NEVER for an exception or a stored kind (see the module docstring)."""
    kind = failure if isinstance(failure, str) else kind_of(failure)
    return RETRY if kind in RETRY_KINDS else NEVER


def amc_failure_kind(status: str, reason: str | None) -> str:
    """The kind to store for an execution AMC reports FAILED or REJECTED.

    REJECTED and compile failures are the query's fault; FAILED with an internal error is AMC's.
    """
    reason = reason or ""
    if status == "FAILED" and _INTERNAL_REASON.search(reason) and not amc_errors.compile_position(reason):
        return AMC_INTERNAL
    return status.lower()


def backoff(attempt: int, base: timedelta, *, cap: timedelta = DEFAULT_CAP, retry_after: float | None = None):
    """The wait before attempt `attempt + 1`: `base` doubled per failed attempt, at most `cap`, and never less
    than AMC's Retry-After when it gave one."""
    delay = min(base * 2 ** max(attempt - 1, 0), max(cap, base))
    if retry_after:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay
