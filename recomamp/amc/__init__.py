"""The AMC API client package: the only code that speaks HTTP to Amazon Marketing Cloud and LWA."""

from .client import AMCClient, StaticTokenProvider, TokenProvider, base_url_for_region
from .errors import (
    AMCAuthError,
    AMCConnectionError,
    AMCError,
    AMCForbiddenError,
    AMCNotFoundError,
    AMCQuotaError,
    AMCResponseError,
    AMCServerError,
    AMCThrottledError,
    AMCTimeoutError,
    AMCValidationError,
)
from .records import Account, DataSource, DownloadUrls, Execution, Instance, TimeWindow, Workflow
from .refs import AccountRef, InstanceRef

__all__ = [
    "AMCAuthError",
    "AMCClient",
    "AMCConnectionError",
    "AMCError",
    "AMCForbiddenError",
    "AMCNotFoundError",
    "AMCQuotaError",
    "AMCResponseError",
    "AMCServerError",
    "AMCThrottledError",
    "AMCTimeoutError",
    "AMCValidationError",
    "Account",
    "AccountRef",
    "DataSource",
    "DownloadUrls",
    "Execution",
    "Instance",
    "InstanceRef",
    "StaticTokenProvider",
    "TimeWindow",
    "TokenProvider",
    "Workflow",
    "base_url_for_region",
]
