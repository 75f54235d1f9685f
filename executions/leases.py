"""Leases on executions: a worker doing a step (submitting, polling, fetching) holds the row until `lease_until`
and renews it every EXECUTION_HEARTBEAT_SECONDS while the step runs, so the lease can be short
(EXECUTION_LEASE_SECONDS, 30 s by default) whatever the step takes. A worker that dies stops renewing; its
row is free again within one lease and another worker takes it over.

The value of `lease_until` a holder last wrote is its token: a renewal only matches that value, so a worker that
lost its lease (it stalled past it and someone took over) can never extend the new holder's lease.
"""

import logging
import os
import threading
import time
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


def new_token() -> datetime:
    """A lease taken or renewed now: it runs out one lease length from now, and its value is the holder's token."""
    return timezone.now() + length()


def claim(execution_pk: int, now: datetime, *conditions: Q, **filters) -> datetime | None:
    """Take the lease of a free row matching `filters`; returns the lease (the holder's token) or None."""
    until = new_token()
    taken = Execution.objects.filter(free(now), *conditions, pk=execution_pk, **filters).update(lease_until=until)
    return until if taken else None


def renew(execution_pk: int, token: datetime) -> datetime | None:
    """Extend a lease we still hold; None when it is no longer ours (released, finished or taken over)."""
    until = new_token()
    renewed = Execution.objects.filter(pk=execution_pk, lease_until=token).update(lease_until=until)
    return until if renewed else None


class Heartbeat:
    """One held lease, renewed by the process's `Renewer` until stopped (the step itself may block on AMC for
    minutes). `lost` says the lease is no longer ours; `beats` counts renewals."""

    def __init__(self, execution_pk: int, token: datetime):
        self.execution_pk = execution_pk
        self.token = token
        self.lost = False
        self.beats = 0
        self._stopped = False
        self._beating = threading.Lock()

    def start(self) -> "Heartbeat":
        RENEWER.add(self)
        return self

    def stop(self) -> None:
        """After this returns the lease is never renewed again (a beat under way is waited for)."""
        RENEWER.discard(self)
        with self._beating:
            self._stopped = True

    def beat(self) -> None:
        with self._beating:
            if not self._stopped:
                self._renew()

    def _renew(self) -> None:
        token = renew(self.execution_pk, self.token)
        if token is None:  # released by the step itself (e.g. a recorded outcome), or taken over
            self.lost = True
            RENEWER.discard(self)
            log.info("lease no longer held execution_pk=%s", self.execution_pk)
            return
        self.token = token
        self.beats += 1


class Renewer:
    """One thread per process renews every lease held in it, every EXECUTION_HEARTBEAT_SECONDS.

    A thread per step cost a poll a tenth of a millisecond of CPU (a third of what a poll may cost, see
    docs/benchmarks.md). The thread runs while leases are held and exits, closing its connection, at the first
    beat that finds none; a lease added just after a beat is renewed at the next one, well inside its length.
    """

    def __init__(self):
        self._start_afresh()

    def _start_afresh(self) -> None:
        self._held: set[Heartbeat] = set()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._interval = 0.0  # of the sleep under way

    def add(self, heartbeat: Heartbeat) -> None:
        with self._changed:
            self._held.add(heartbeat)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lease-renewer", daemon=True)
                self._thread.start()
            elif heartbeat_interval() < self._interval:
                self._changed.notify()  # the interval was shortened (tests do): do not sleep out the old one

    def discard(self, heartbeat: Heartbeat) -> None:
        with self._changed:
            self._held.discard(heartbeat)

    def wind_down(self, within: float = 5.0) -> None:
        """When no lease is held, end the thread now (closing its connection) instead of at its next beat.

        For the end of a test, whose database must have no session left, and for a process about to exit."""
        deadline = time.monotonic() + within
        with self._changed:
            thread = self._thread if not self._held else None
        while thread is not None and thread.is_alive() and time.monotonic() < deadline:
            with self._changed:
                self._changed.notify()  # lost if the thread is mid-beat: hence the loop
            thread.join(0.05)

    def _run(self) -> None:
        try:
            while held := self._wait_for_beat():
                for heartbeat in held:
                    try:
                        heartbeat.beat()
                    except DatabaseError as exc:  # a dropped connection: reconnect at the next beat
                        log.warning("lease renewal failed execution_pk=%s error=%s", heartbeat.execution_pk, exc)
                        connections["default"].close()
        finally:
            connections.close_all()  # this thread's own connections only

    def _wait_for_beat(self) -> list[Heartbeat]:
        """Sleep one interval; the leases to renew then, or [] after marking the thread gone when none is held."""
        with self._changed:
            self._interval = heartbeat_interval()
            self._changed.wait(self._interval)
            held = list(self._held)
            if not held:
                self._thread = None
            return held


RENEWER = Renewer()
# A forked worker process inherits the renewer's state but not its thread: it starts with none.
os.register_at_fork(after_in_child=RENEWER._start_afresh)


@contextmanager
def held(execution_pk: int, token: datetime):
    """Keep the lease `token` alive while the block runs."""
    heartbeat = Heartbeat(execution_pk, token).start()
    try:
        yield heartbeat
    finally:
        heartbeat.stop()
