"""Child processes that end with their parent, whatever ends it.

`serve` starts the web server and qcluster as children. Ctrl-C reaches the whole process group, but a
supervisor, `timeout` or `kill PID` signals `serve` alone; and SIGKILL gives it no chance to clean up. So
each child asks Linux to send it SIGTERM when its parent dies (PR_SET_PDEATHSIG), and `serve` turns
SIGTERM and SIGHUP into the same orderly stop as Ctrl-C. See docs/reliability.md (Security and robustness).
"""

import ctypes
import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1


class Stop(Exception):
    """Raised in the parent by SIGTERM or SIGHUP, to run its cleanup like KeyboardInterrupt does."""


def _raise_stop(signum, frame):
    raise Stop(signal.Signals(signum).name)


def stop_on_termination_signals() -> None:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_stop)


def _die_with_parent(parent_pid: int):
    def prepare():  # runs in the child between fork and exec
        if sys.platform.startswith("linux"):
            try:
                ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
            except (OSError, AttributeError):
                pass
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return prepare


def start(args: list[str]) -> subprocess.Popen:
    # Its own process group, so stopping it reaches qcluster's own children (sentinel, workers) too.
    return subprocess.Popen(  # noqa: PLW1509 (no threads yet)
        args, preexec_fn=_die_with_parent(os.getpid()), start_new_session=True
    )


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def stop_all(processes: list[subprocess.Popen], grace_seconds: float = 10) -> None:
    """SIGTERM (qcluster and runserver both stop cleanly on it), then SIGKILL after the grace period."""
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):  # a second signal must not cut the cleanup
        signal.signal(signum, signal.SIG_IGN)
    for process in processes:
        _signal_group(process, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            pass
        _signal_group(process, signal.SIGKILL)  # whatever of its group is left (a slow qcluster's workers)
        process.wait()
