"""Ctrl-C and SIGTERM stop a job cleanly."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """Make Ctrl-C (SIGINT) and SIGTERM stop a job cleanly, without losing the request.

    Both raise KeyboardInterrupt, so finished work stays recorded, reports are written and
    the exit code is 130. Python raises it wherever the main thread happens to be, which may
    be inside a callback from libvips, where it is ignored: the returned event stays set, and
    the runner stops at the next finished task instead. Outside the main thread signals
    cannot be handled and nothing changes.
    """
    requested = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield requested
        return

    def stop(signum: int, frame: object) -> None:
        requested.set()
        raise KeyboardInterrupt

    previous_hook = sys.unraisablehook

    def unraisable(info: sys.UnraisableHookArgs) -> None:
        # An interrupt swallowed by a C callback: already noted in ``requested``.
        if not isinstance(info.exc_value, KeyboardInterrupt):
            previous_hook(info)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    sys.unraisablehook = unraisable
    try:
        yield requested
    finally:
        sys.unraisablehook = previous_hook
        for sig, handler in previous.items():
            signal.signal(sig, handler)
