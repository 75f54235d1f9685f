"""What the AMC client returns (small frozen records) and the time window it sends.

Each record keeps AMC's whole object in ``raw``. Single objects are accepted both wrapped, as AMC's spec
writes them (``{"workflowExecution": {...}}``), and flat, as the live API sends executions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .dates import format_amc_timestamp, parse_amc_timestamp, to_zone
from .errors import AMCResponseError

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "REJECTED"})
TIME_WINDOW_TYPES = frozenset(
    {"EXPLICIT", "MOST_RECENT_DAY", "MOST_RECENT_WEEK", "CURRENT_MONTH", "PREVIOUS_MONTH", "ALL"}
)


@dataclass(frozen=True)
class Account:
    account_id: str  # the entity id sent as Amazon-Advertising-API-AdvertiserId
    name: str | None
    marketplace_id: str | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Account:
        return cls(
            account_id=_required_text(data, "accountId", "account"),
            name=_optional_text(data, "accountName"),
            marketplace_id=_optional_text(data, "marketplaceId"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Instance:
    instance_id: str
    name: str | None
    instance_type: str | None  # STANDARD, SANDBOX, ...
    creation_status: str | None
    api_endpoint: str | None
    raw: dict[str, Any] = field(repr=False)

    @property
    def is_sandbox(self) -> bool:
        return self.instance_type == "SANDBOX"

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> Instance:
        data = _unwrap(body, "instance")
        return cls(
            instance_id=_required_text(data, "instanceId", "instance"),
            name=_optional_text(data, "instanceName"),
            instance_type=_optional_text(data, "instanceType"),
            creation_status=_optional_text(data, "creationStatus"),
            api_endpoint=_optional_text(data, "apiEndpoint"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Workflow:
    workflow_id: str
    sql_query: str | None
    input_parameters: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> Workflow:
        data = _unwrap(body, "workflow")
        parameters = data.get("inputParameters") or []
        if not isinstance(parameters, list):
            raise AMCResponseError(f"AMC sent a workflow whose inputParameters is not a list: {parameters!r}")
        return cls(
            workflow_id=_required_text(data, "workflowId", "workflow"),
            sql_query=_optional_text(data, "sqlQuery"),
            input_parameters=parameters,
            raw=dict(data),
        )


@dataclass(frozen=True)
class Execution:
    execution_id: str  # AMC's workflowExecutionId (a UUID), never our own execution id
    workflow_id: str | None
    status: str
    status_reason: str | None
    create_time: datetime | None
    last_updated_time: datetime | None
    time_window_start: datetime | None
    time_window_end: datetime | None
    raw: dict[str, Any] = field(repr=False)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> Execution:
        data = _unwrap(body, "workflowExecution")
        return cls(
            execution_id=_required_text(data, "workflowExecutionId", "execution"),
            workflow_id=_optional_text(data, "workflowId"),
            status=_required_text(data, "status", "execution"),
            status_reason=_optional_text(data, "statusReason"),
            create_time=_optional_time(data, "createTime"),
            last_updated_time=_optional_time(data, "lastUpdatedTime"),
            time_window_start=_optional_time(data, "timeWindowStart"),
            time_window_end=_optional_time(data, "timeWindowEnd"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class DownloadUrls:
    """Pre-signed result links; they expire after about 10 minutes and must be fetched without our token."""

    urls: tuple[str, ...]
    metadata_urls: tuple[str, ...]

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> DownloadUrls:
        if "downloadUrls" not in body:
            raise AMCResponseError("AMC sent no downloadUrls for the execution", status_code=200, details=dict(body))
        return cls(urls=_url_list(body, "downloadUrls"), metadata_urls=_url_list(body, "metadataDownloadUrls"))


@dataclass(frozen=True)
class DataSource:
    data_source_id: str
    description: str | None
    columns: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> DataSource:
        data = _unwrap(body, "dataSource")
        columns = data.get("columns") or []
        if not isinstance(columns, list):
            raise AMCResponseError(f"AMC sent a data source whose columns is not a list: {columns!r}")
        return cls(
            data_source_id=_required_text(data, "dataSourceId", "data source"),
            description=_optional_text(data, "description"),
            columns=columns,
            raw=dict(data),
        )


@dataclass(frozen=True)
class TimeWindow:
    """Which data an execution reads. EXPLICIT needs ``start`` and ``end``; other types take neither.

    ``time_zone`` (IANA name) is sent as ``timeWindowTimeZone``; aware ``start``/``end`` are converted to it
    before formatting, naive ones are taken as wall-clock time in it (see ``dates.format_amc_timestamp``).
    """

    type: str = "EXPLICIT"
    start: datetime | date | None = None
    end: datetime | date | None = None
    time_zone: str | None = None

    def __post_init__(self) -> None:
        if self.type not in TIME_WINDOW_TYPES:
            raise ValueError(f"Unknown time window type {self.type!r}")
        explicit = self.type == "EXPLICIT"
        if explicit and (self.start is None or self.end is None):
            raise ValueError("An EXPLICIT time window needs both start and end")
        if not explicit and (self.start is not None or self.end is not None):
            raise ValueError(f"A {self.type} time window takes no start or end")
        if self.time_zone is not None:
            to_zone(self.time_zone)

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"timeWindowType": self.type}
        if self.type == "EXPLICIT":
            body["timeWindowStart"] = format_amc_timestamp(self.start, self.time_zone)
            body["timeWindowEnd"] = format_amc_timestamp(self.end, self.time_zone)
        if self.time_zone is not None:
            body["timeWindowTimeZone"] = self.time_zone
        return body


def _unwrap(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """AMC's spec wraps single objects (``{"workflowExecution": {...}}``); the live API often does not."""
    inner = body.get(key)
    return inner if isinstance(inner, Mapping) else body


def _required_text(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise AMCResponseError(
            f"AMC sent a {what} without {key!r}; the response does not look like a {what}.",
            status_code=200,
            details=dict(data),
        )
    return value


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _optional_time(data: Mapping[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        return parse_amc_timestamp(value)
    except ValueError:
        raise AMCResponseError(f"AMC sent an unreadable {key}: {value!r}", status_code=200) from None


def _url_list(body: Mapping[str, Any], key: str) -> tuple[str, ...]:
    urls = body.get(key) or []
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        raise AMCResponseError(f"AMC sent {key} that is not a list of links", status_code=200, details=dict(body))
    return tuple(urls)
