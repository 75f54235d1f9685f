"""Leases on executions: a worker doing a step (submitting, polling, fetching) holds the row until `lease_until`
and renews it every EXECUTION_HEARTBEAT_SECONDS while the step runs, so the lease can be short
(EXECUTION_LEASE_SECONDS, 30 s by default) whatever the step takes. A worker that dies stops renewing; its
row is free again within one lease and another worker takes it over.

The value of `lease_until` a holder last wrote is its token: a renewal only matches that value, so a worker that
lost its lease (it stalled past it and someone took over) can never extend the new holder's lease.
"""

import logging
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Q
from django.utils import timezone

from .models import Execution

log = logging.getLogger(__name__)


def length() -> timedelta:
    return timedelta(seconds=settings.EXECUTION_LEASE_SECONDS)


def heartbeat_interval() -> float:
    return float(settings.EXECUTION_HEARTBEAT_SECONDS)


def free(now: datetime) -> Q:
    """Rows no worker holds: never leased, or the holder's lease has run out."""
    return Q(lease_until__isnull=True) | Q(lease_until__lte=now)


def claim(execution_pk: int, now: datetime, *conditions: Q, **filters) -> datetime | None:
    """Take the lease of a free row matching `filters`; returns the lease (the holder's token) or None."""
    until = timezone.now() + length()
    taken = Execution.objects.filter(free(now), *conditions, pk=execution_pk, **filters).update(lease_until=until)
    return until if taken else None


def renew(execution_pk: int, token: datetime) -> datetime | None:
    """Extend a lease we still hold; None when it is no longer ours (released, finished or taken over)."""
    until = timezone.now() + length()
    renewed = Execution.objects.filter(pk=execution_pk, lease_until=token).update(lease_until=until)
    return until if renewed else None


class Heartbeat:
    """Renews one lease from a background thread until stopped (the step itself may block on AMC for minutes)."""

    def __init__(self, execution_pk: int, token: datetime):
        self.execution_pk = execution_pk
        self.token = token
        self.lost = False
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{execution_pk}", daemon=True)

    def start(self) -> "Heartbeat":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(heartbeat_interval()):
                try:
                    token = renew(self.execution_pk, self.token)
                except DatabaseError as exc:  # a dropped connection: reconnect at the next beat
                    log.warning("lease renewal failed execution_pk=%s error=%s", self.execution_pk, exc)
                    connections["default"].close()
                    continue
                if token is None:  # released by the step itself (e.g. a recorded outcome), or taken over
                    self.lost = True
                    log.info("lease no longer held execution_pk=%s", self.execution_pk)
                    return
                self.token = token
                self.beats += 1
        finally:
            connections.close_all()  # this thread's own connections only


@contextmanager
def held(execution_pk: int, token: datetime):
    """Keep the lease `token` alive while the block runs."""
    heartbeat = Heartbeat(execution_pk, token).start()
    try:
        yield heartbeat
    finally:
        heartbeat.stop()
