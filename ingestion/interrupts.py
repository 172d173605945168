"""Signals end a command cleanly, and no child process outlives the command that started it.

SIGTERM, SIGINT and SIGHUP raise ``RunInterrupted`` in the main thread, wherever it is: the
stage under way is recorded as ``interrupted`` (``stages.run_stages``), the rest as skipped,
and the command leaves with ``128 + signal``, as a shell reports a death by that signal. A
signal that comes while the first one is being handled is logged and ignored, so that the
recording finishes (it is bounded by the database's connect timeout).

Child processes (dbt) start in a session of their own, so a terminal's Ctrl-C reaches only
us and we stop them in order, with the kernel's parent-death signal set: a `kill -9` of
`shopflow` kills dbt too, because nothing else could. ``stop_process_group`` asks the child to
stop (SIGINT: dbt cancels its queries) and kills it after a grace period.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
RESEND_SECONDS = 0.05
STOP_GRACE_SECONDS = 5.0
"""How long a child asked to stop (SIGINT) may take before it is killed."""

_received: list[int] = []
_previous_unraisablehook: list[Callable[[Any], object]] = [sys.unraisablehook]


class RunInterrupted(BaseException):
    """A signal asked the command to stop. A BaseException, like KeyboardInterrupt, so that
    the many ``except Exception`` of a stage's code do not swallow it."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal_name(signum)}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if _received:
        log.warning("%s received while stopping: already stopping", signal_name(signum))
        return
    _received.append(signum)
    log.warning("%s received: stopping the command", signal_name(signum))
    raise RunInterrupted(signum)


def _on_unraisable(unraisable: Any) -> None:
    """A signal that landed in code whose exceptions Python only prints (a weakref callback
    of the import system, a ``__del__``) would be lost: send it again, so that the handler
    raises it in the next ordinary line of the main thread."""
    if isinstance(unraisable.exc_value, RunInterrupted):
        signum = unraisable.exc_value.signum
        log.debug("%s landed in a callback that swallows exceptions: raised again", signum)
        _received.clear()
        # from another thread, a moment later: sent from here, the handler would run (and
        # raise) inside this hook, whose exceptions are swallowed too
        resend = threading.Timer(RESEND_SECONDS, os.kill, (os.getpid(), signum))
        resend.daemon = True
        resend.start()
        return
    _previous_unraisablehook[0](unraisable)


def install_signal_handlers() -> None:
    """Turn SIGTERM, SIGINT and SIGHUP into ``RunInterrupted`` (main thread only; once)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in HANDLED_SIGNALS:
        signal.signal(signum, _on_signal)
    if sys.unraisablehook is not _on_unraisable:
        _previous_unraisablehook[0] = sys.unraisablehook
        sys.unraisablehook = _on_unraisable


def received_signal() -> int | None:
    """The signal that interrupted this command, if one did."""
    return _received[0] if _received else None


def _dies_with(parent: int) -> Callable[[], None]:
    """What the child runs before exec: the kernel kills it when its parent dies (Linux)."""

    def arm() -> None:
        # not Linux (no prctl): the process group is still stopped by stop_process_group
        with suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl: leave at once
            os._exit(1)

    return arm


def child_process_options() -> dict[str, Any]:
    """``subprocess.Popen`` options for a child that must never outlive us."""
    return {"start_new_session": True, "preexec_fn": _dies_with(os.getpid())}


def stop_process_group(
    process: subprocess.Popen[Any], grace_seconds: float = STOP_GRACE_SECONDS
) -> None:
    """Stop a child started with ``child_process_options`` and everything it started: SIGINT
    to its group, SIGKILL after ``grace_seconds``; returns once it is gone."""
    if process.poll() is not None:
        return
    for signum, wait in ((signal.SIGINT, grace_seconds), (signal.SIGKILL, 30.0)):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            log.info("child %s stopped by %s", process.pid, signal_name(signum))
            return
        except subprocess.TimeoutExpired:
            continue
