"""The AMC HTTP client: the only code in RecomAMP that talks to Amazon Marketing Cloud.

Framework-free on purpose (no Django imports): a factory elsewhere picks the base URL and token provider.
Responses come back as the small frozen records of ``records.py``; failures as the typed errors of
``errors.py``.

Retries: 429, 500, 502, 503, 504, timeouts and connection failures are retried with exponential backoff and
jitter, at most ``max_attempts`` tries per call. Requests that create something (new workflow, new execution)
are only retried when AMC cannot have acted on them (429, or a connection that never opened), so a lost answer
never creates a second execution; the caller reconciles those cases by listing. A ``Retry-After`` longer than
``max_delay`` is not slept on: the ``AMCThrottledError`` is raised for the caller to reschedule.
A 401 refreshes the token once and tries again; errors raised by the token provider itself (e.g. an
``LWAError`` for a revoked refresh token) propagate unchanged.
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any, Protocol

import httpx

from .dates import format_amc_timestamp
from .errors import AMCConnectionError, AMCError, AMCResponseError, AMCTimeoutError, error_from_response
from .records import Account, DataSource, DownloadUrls, Execution, Instance, TimeWindow, Workflow
from .refs import AccountRef, InstanceRef, as_account_ref, as_instance_ref
from .wire import decode_json, execution_body, url_path, workflow_body

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class TokenProvider(Protocol):
    """Supplies LWA access tokens; ``refresh_access_token`` gets a new one after AMC answered 401."""

    def access_token(self) -> str: ...

    def refresh_access_token(self) -> str: ...


class StaticTokenProvider:
    """A fixed token, for tests and command-line tools. Refreshing returns the same token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def access_token(self) -> str:
        return self._token

    def refresh_access_token(self) -> str:
        return self._token

    def __repr__(self) -> str:
        return "StaticTokenProvider(<hidden>)"


def base_url_for_region(region: str, urls: Mapping[str, str]) -> str:
    """Pick the base URL for ``region`` (e.g. "NA", "EU", "FE") from ``urls``; region names ignore case."""
    by_region = {name.upper(): url for name, url in urls.items()}
    try:
        return by_region[region.upper()]
    except KeyError:
        known = ", ".join(sorted(by_region)) or "none"
        raise ValueError(f"No AMC base URL for region {region!r} (configured: {known})") from None


# --- The client -------------------------------------------------------------------------------------------


class AMCClient:
    """Synchronous AMC client. Methods take an ``InstanceRef`` (or an object with ``amc_ref()``)."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        tokens: TokenProvider,
        *,
        timeout: float = 30.0,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        max_delay: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"AMC base URL must start with http:// or https://, got {base_url!r}")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        # Keep any path prefix (e.g. http://127.0.0.1:8000/sandbox); API paths are appended to it.
        self.base_url = base_url.rstrip("/")
        self._client_id = client_id
        self._tokens = tokens
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._max_delay = max_delay
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        # Pass a shared SSLContext in `verify`: building one costs ~20 ms of CPU, more than a poll itself.
        self._http = httpx.Client(timeout=timeout, transport=transport, verify=verify)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AMCClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Accounts and instances

    def list_accounts(self) -> list[Account]:
        """AMC accounts the login can see (no advertiser headers on this call)."""
        return [Account.from_api(item) for item in self._collect("/amc/accounts", None, "amcAccounts")]

    def list_instances(self, account: AccountRef | InstanceRef | Any) -> list[Instance]:
        ref = as_account_ref(account)
        return [Instance.from_api(item) for item in self._collect("/amc/instances", ref, "instances")]

    def get_instance(self, instance: InstanceRef | Any) -> Instance:
        ref = as_instance_ref(instance)
        body = self._request("GET", url_path("amc", "instances", ref.instance_id), ref.account)
        return Instance.from_api(body)

    # Workflows (saved queries)

    def create_workflow(
        self,
        instance: InstanceRef | Any,
        workflow_id: str,
        sql_query: str,
        *,
        input_parameters: Iterable[Mapping[str, Any]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Create a saved workflow. ``extra`` adds other Workflow fields by their AMC names."""
        ref = as_instance_ref(instance)
        body = workflow_body(workflow_id, sql_query, input_parameters, extra)
        self._request("POST", self._reporting(ref, "workflows"), ref.account, payload=body, idempotent=False)

    def update_workflow(
        self,
        instance: InstanceRef | Any,
        workflow_id: str,
        sql_query: str,
        *,
        input_parameters: Iterable[Mapping[str, Any]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Replace a saved workflow's whole definition (fields left out are cleared by AMC)."""
        ref = as_instance_ref(instance)
        body = workflow_body(workflow_id, sql_query, input_parameters, extra)
        self._request("PUT", self._reporting(ref, "workflows", workflow_id), ref.account, payload=body)

    def get_workflow(self, instance: InstanceRef | Any, workflow_id: str) -> Workflow:
        ref = as_instance_ref(instance)
        path = self._reporting(ref, "workflows", workflow_id)
        return Workflow.from_api(self._request("GET", path, ref.account))

    def list_workflows(self, instance: InstanceRef | Any) -> list[Workflow]:
        ref = as_instance_ref(instance)
        items = self._collect(self._reporting(ref, "workflows"), ref.account, "workflows")
        return [Workflow.from_api(item) for item in items]

    def delete_workflow(self, instance: InstanceRef | Any, workflow_id: str) -> None:
        ref = as_instance_ref(instance)
        self._request("DELETE", self._reporting(ref, "workflows", workflow_id), ref.account)

    # Workflow executions

    def create_adhoc_execution(
        self,
        instance: InstanceRef | Any,
        sql_query: str,
        *,
        workflow_id: str | None = None,
        input_parameters: Iterable[Mapping[str, Any]] | None = None,
        workflow_extra: Mapping[str, Any] | None = None,
        window: TimeWindow | None = None,
        parameter_values: Mapping[str, Any] | None = None,
        dry_run: bool = False,
        timeout_seconds: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Execution:
        """Run SQL without saving it first; the query travels inside a ``workflow`` object.

        ``workflow_extra`` adds Workflow fields (e.g. filteredMetricsDiscriminatorColumn); ``extra`` adds
        execution fields (e.g. requireSyntheticData), both by their AMC names.
        """
        workflow = workflow_body(workflow_id, sql_query, input_parameters, workflow_extra)
        body = execution_body({"workflow": workflow}, window, parameter_values, dry_run, timeout_seconds, extra)
        return self.create_execution(instance, body)

    def create_saved_execution(
        self,
        instance: InstanceRef | Any,
        workflow_id: str,
        *,
        window: TimeWindow | None = None,
        parameter_values: Mapping[str, Any] | None = None,
        dry_run: bool = False,
        timeout_seconds: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Execution:
        """Run a saved workflow by its AMC workflow id."""
        body = execution_body({"workflowId": workflow_id}, window, parameter_values, dry_run, timeout_seconds, extra)
        return self.create_execution(instance, body)

    def get_execution(
        self, instance: InstanceRef | Any, execution_id: str, *, include_workflow: bool = False
    ) -> Execution:
        ref = as_instance_ref(instance)
        params = {"includeWorkflow": "true"} if include_workflow else None
        path = self._reporting(ref, "workflowExecutions", execution_id)
        return Execution.from_api(self._request("GET", path, ref.account, params=params))

    def list_executions(
        self,
        instance: InstanceRef | Any,
        *,
        min_creation_time: datetime | date | None = None,
        max_creation_time: datetime | date | None = None,
        workflow_id: str | None = None,
        time_zone: str | None = None,
        include_cancelled: bool = False,
        sort_ascending: bool = False,
    ) -> list[Execution]:
        """All executions matching the filters, across every page. AMC needs a workflow id or a start time."""
        if min_creation_time is None and workflow_id is None:
            raise ValueError("list_executions needs min_creation_time or workflow_id")
        ref = as_instance_ref(instance)
        params: dict[str, str] = {}
        if min_creation_time is not None:
            params["minCreationTime"] = format_amc_timestamp(min_creation_time, time_zone)
        if max_creation_time is not None:
            params["maxCreationTime"] = format_amc_timestamp(max_creation_time, time_zone)
        if workflow_id is not None:
            params["workflowId"] = workflow_id
        if time_zone is not None:
            params["timeZone"] = time_zone
        if include_cancelled:
            params["includeCancelled"] = "true"
        if sort_ascending:
            params["sortAscending"] = "true"
        items = self._collect(self._reporting(ref, "workflowExecutions"), ref.account, "executions", params)
        return [Execution.from_api(item) for item in items]

    def cancel_execution(self, instance: InstanceRef | Any, execution_id: str) -> None:
        """Ask AMC to cancel a PENDING or RUNNING execution (AMC answers 400 for finished ones)."""
        ref = as_instance_ref(instance)
        path = self._reporting(ref, "workflowExecutions", execution_id)
        self._request("PUT", path, ref.account, payload={"status": "CANCELLED"})

    def get_download_urls(self, instance: InstanceRef | Any, execution_id: str) -> DownloadUrls:
        """Result links for a SUCCEEDED execution; AMCNotFoundError while results are not ready."""
        ref = as_instance_ref(instance)
        path = self._reporting(ref, "workflowExecutions", execution_id, "downloadUrls")
        return DownloadUrls.from_api(self._request("GET", path, ref.account))

    # Data sources

    def list_data_sources(self, instance: InstanceRef | Any) -> list[DataSource]:
        ref = as_instance_ref(instance)
        items = self._collect(self._reporting(ref, "dataSources"), ref.account, "dataSources")
        return [DataSource.from_api(item) for item in items]

    def get_data_source(self, instance: InstanceRef | Any, data_source_id: str) -> DataSource:
        ref = as_instance_ref(instance)
        path = self._reporting(ref, "dataSources", data_source_id)
        return DataSource.from_api(self._request("GET", path, ref.account))

    # Plumbing

    def create_execution(self, instance: InstanceRef | Any, body: dict[str, Any]) -> Execution:
        """POST an execution body exactly as given (the caller stored it; nothing is rebuilt)."""
        ref = as_instance_ref(instance)
        path = self._reporting(ref, "workflowExecutions")
        return Execution.from_api(self._request("POST", path, ref.account, payload=body, idempotent=False))

    @staticmethod
    def _reporting(ref: InstanceRef, *segments: str) -> str:
        return url_path("amc", "reporting", ref.instance_id, *segments)

    def _headers(self, token: str, account: AccountRef | None) -> dict[str, str]:
        """The one place AMC request headers are built."""
        headers = {
            "Amazon-Advertising-API-ClientId": self._client_id,
            "Authorization": f"Bearer {token}",
        }
        if account is not None:
            headers["Amazon-Advertising-API-AdvertiserId"] = account.entity_id
            headers["Amazon-Advertising-API-MarketplaceId"] = account.marketplace_id
        return headers

    def _collect(
        self, path: str, account: AccountRef | None, key: str, params: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Fetch every page of a list operation by following ``nextToken``."""
        items: list[dict[str, Any]] = []
        seen_tokens: set[str] = set()
        next_token: str | None = None
        while True:
            page_params = dict(params or {})
            if next_token:
                page_params["nextToken"] = next_token
            body = self._request("GET", path, account, params=page_params or None)
            page = body.get(key)
            if not isinstance(page, list) or not all(isinstance(item, dict) for item in page):
                raise AMCResponseError(
                    f"AMC sent an unexpected list response for {path}: no list of objects under {key!r}",
                    status_code=200,
                    details=body,
                )
            items.extend(page)
            next_token = body.get("nextToken") or None
            if next_token is None:
                return items
            if next_token in seen_tokens:
                raise AMCResponseError(f"AMC repeated a page token while listing {path}", status_code=200)
            seen_tokens.add(next_token)

    def _request(
        self,
        method: str,
        path: str,
        account: AccountRef | None,
        *,
        params: Mapping[str, str] | None = None,
        payload: Any = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        url = self.base_url + path
        token = self._tokens.access_token()
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(
                    method, url, headers=self._headers(token, account), params=params, json=payload
                )
            except httpx.TransportError as exc:
                error = self._transport_error(exc, method, path)
                # A connection that never opened cannot have created anything, so even creates may retry.
                retryable = idempotent or isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                logger.debug("AMC %s %s -> %s (attempt %d)", method, path, type(exc).__name__, attempt)
            else:
                logger.debug("AMC %s %s -> %d (attempt %d)", method, path, response.status_code, attempt)
                if response.is_success:
                    return decode_json(response, method, path)
                if response.status_code == 401 and not refreshed:
                    refreshed = True
                    token = self._tokens.refresh_access_token()
                    continue
                error = error_from_response(response)
                status = response.status_code
                retryable = status in RETRY_STATUSES and (idempotent or status == 429)

            if not retryable or attempt >= self._max_attempts:
                raise error
            delay = self._retry_delay(attempt, getattr(error, "retry_after", None))
            if delay is None:
                raise error
            logger.debug("AMC %s %s: retrying in %.2fs", method, path, delay)
            self._sleep(delay)

    def _retry_delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Backoff before the next try, or None when the server asks for a longer wait than we will sleep."""
        if retry_after is not None and retry_after > self._max_delay:
            return None
        step = min(self._max_delay, self._backoff_base * 2 ** (attempt - 1))
        # "Equal jitter": at least half the step, so retries spread out without collapsing to zero.
        backoff = step / 2 + self._rng.random() * step / 2
        return max(retry_after or 0.0, backoff)

    def _transport_error(self, exc: httpx.TransportError, method: str, path: str) -> AMCError:
        if isinstance(exc, httpx.TimeoutException):
            return AMCTimeoutError(f"AMC did not answer within {self._timeout:g} seconds ({method} {path}).")
        host = httpx.URL(self.base_url).host
        return AMCConnectionError(f"Could not reach AMC at {host} ({method} {path}): {type(exc).__name__}.")


# --- Helpers ----------------------------------------------------------------------------------------------
