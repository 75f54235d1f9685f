"""Fault injection for tests and benchmarks: latency, 429 with Retry-After, 5xx, timeouts, expired tokens, and
executions that AMC fails with an internal error (`SANDBOX_INTERNAL_FAILURE_RATE`, see `internal_failure`).

Two sources: the `SANDBOX_FAULTS` setting (a dict with the field names of `FaultConfig`, applied to every AMC
API call) and a `SandboxFaults` row per instance (applied to calls on that instance). Faults are decided
before any business logic runs, so an injected failure never leaves a half-done change behind.

With a `seed`, the draws come from a `random.Random` kept per configuration in this process, so a process
that serves the same sequence of requests injects the same faults.
"""

import logging
import random
import threading
import time
from dataclasses import dataclass, fields
from typing import Any

from . import conf
from .responses import ApiError

log = logging.getLogger(__name__)

# Patched by tests so latency and timeouts are observed without waiting.
sleep = time.sleep

_rngs: dict[tuple, random.Random] = {}
_rngs_lock = threading.Lock()


@dataclass(frozen=True)
class FaultConfig:
    latency_ms: int = 0
    throttle_rate: float = 0.0
    retry_after_seconds: int = 1
    server_error_rate: float = 0.0
    server_error_status: int = 500
    timeout_rate: float = 0.0
    timeout_seconds: float = 35.0
    expired_token_rate: float = 0.0
    seed: int | None = None

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> "FaultConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"Unknown SANDBOX_FAULTS keys: {', '.join(sorted(unknown))}")
        return cls(**values)

    @classmethod
    def from_model(cls, row) -> "FaultConfig":
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})

    @property
    def active(self) -> bool:
        rates = self.throttle_rate + self.server_error_rate + self.timeout_rate + self.expired_token_rate
        return self.latency_ms > 0 or rates > 0


def settings_faults() -> FaultConfig:
    return FaultConfig.from_mapping(dict(conf.get("SANDBOX_FAULTS") or {}))


def instance_faults(instance) -> FaultConfig | None:
    if instance is None:
        return None
    row = getattr(instance, "faults", None)  # the reverse one-to-one raises AttributeError when absent
    return FaultConfig.from_model(row) if row is not None and row.enabled else None


def _draw(config: FaultConfig) -> float:
    if config.seed is None:
        return random.random()
    with _rngs_lock:
        rng = _rngs.setdefault(_key(config), random.Random(config.seed))
        return rng.random()


def _key(config: FaultConfig) -> tuple:
    return tuple(getattr(config, f.name) for f in fields(config))


def reset() -> None:
    """Start every seeded sequence again (tests call this between cases)."""
    with _rngs_lock:
        _rngs.clear()


def inject(config: FaultConfig | None) -> None:
    """Sleep for the configured latency, then maybe raise one fault as an `ApiError`."""
    if config is None or not config.active:
        return
    if config.latency_ms:
        sleep(config.latency_ms / 1000)
    draw = _draw(config)
    bands = (
        (config.throttle_rate, _throttled),
        (config.server_error_rate, _server_error),
        (config.timeout_rate, _timed_out),
        (config.expired_token_rate, _expired_token),
    )
    upper = 0.0
    for rate, fault in bands:
        upper += rate
        if draw < upper:
            fault(config)


def _throttled(config: FaultConfig) -> None:
    raise ApiError(429, "Too Many Requests", headers={"Retry-After": str(config.retry_after_seconds)})


def _server_error(config: FaultConfig) -> None:
    raise ApiError(config.server_error_status, "Internal Server Error")


def _timed_out(config: FaultConfig) -> None:
    # Longer than a client's timeout, then what API Gateway answers when its own time runs out.
    # Logged so a test can count timeouts without relying on the server noticing the client hang up.
    log.warning("sandbox fault injected: timeout")
    sleep(config.timeout_seconds)
    raise ApiError(504, "Endpoint request timed out")


def _expired_token(config: FaultConfig) -> None:
    raise ApiError(401, "Unauthorized")


INTERNAL_FAILURE_REASON = "Internal error while running the query."


def internal_failure() -> str | None:
    """AMC's reason for an execution that fails on AMC's side, drawn at `SANDBOX_INTERNAL_FAILURE_RATE` (1.0:
    every execution, so a test can make one fail on demand, then set 0 and see the retry succeed)."""
    rate = float(conf.get("SANDBOX_INTERNAL_FAILURE_RATE") or 0.0)
    return INTERNAL_FAILURE_REASON if rate > 0 and random.random() < rate else None
