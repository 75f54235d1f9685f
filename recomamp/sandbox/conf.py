"""Sandbox settings with their defaults. Read on every use, so tests can change them with the settings fixture.

None of these has to be in settings.py; set any of them there (or in a test) to change the default.
"""

from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "SANDBOX_PENDING_SECONDS": 3,  # time an execution waits in PENDING before it may start
    "SANDBOX_RUNNING_SECONDS": 5,  # time it stays RUNNING before its result is published
    "SANDBOX_MAX_RUNNING": 10,  # AMC: 10 concurrent executions per instance, the rest queue as PENDING
    "SANDBOX_ADHOC_DAILY_LIMIT": 30,  # AMC: 30 ad hoc executions per instance per day
    "SANDBOX_ACCESS_TOKEN_SECONDS": 3600,
    "SANDBOX_AUTH_CODE_SECONDS": 300,
    "SANDBOX_LWA_REDIRECT_URIS": [],  # registered redirect URIs; empty: the app's own callback (auth.py)
    "SANDBOX_DOWNLOAD_URL_SECONDS": 600,
    "SANDBOX_ROWS_PER_FILE": 500_000,
    "SANDBOX_RESULTS_PATH": None,  # default: MEDIA_ROOT / "sandbox"
    "SANDBOX_AUTO_DATA_SCALE": 0.02,  # size of the dataset generated when SANDBOX_DATA_PATH is missing
    "SANDBOX_FAULTS": {},
    "SANDBOX_INTERNAL_FAILURE_RATE": 0.0,  # share of executions that end FAILED with AMC's internal error (faults.py)
    "SANDBOX_PUBLISHING_SECONDS": 2,  # time a finished execution reports PUBLISHING before SUCCEEDED
    "SANDBOX_WRAP_WORKFLOW": False,  # GET workflow answers {"workflow": {...}} instead of the flat object
}


def get(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def results_root() -> Path:
    configured = get("SANDBOX_RESULTS_PATH")
    return Path(configured) if configured else Path(settings.MEDIA_ROOT) / "sandbox"


def data_path() -> Path:
    return Path(settings.SANDBOX_DATA_PATH)
