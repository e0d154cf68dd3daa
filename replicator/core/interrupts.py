"""SIGTERM and SIGINT for the commands that are not the applier (which stops between
batches instead: applier.install_signal_handlers).

Either signal raises Interrupted, a KeyboardInterrupt: psycopg answers one that
arrives while a query runs by cancelling the query on the server, so no server
session is left waiting on a lock for a client that has gone, and the open
transactions roll back as the exception leaves them.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interrupted(KeyboardInterrupt):
    """A command was stopped by a signal."""

    def __init__(self, signum: int) -> None:
        self.signal_name = signal.Signals(signum).name
        super().__init__(self.signal_name)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def interruptible() -> AbstractContextManager[None]:
    """Inside, SIGTERM and SIGINT raise Interrupted."""
    return _handled(_interrupt)


def uninterrupted() -> AbstractContextManager[None]:
    """Inside, SIGTERM and SIGINT are ignored: for committing on several databases,
    where stopping halfway would leave one committed and another not."""
    return _handled(signal.SIG_IGN)


@contextmanager
def _handled(handler: signal.Handlers | Callable[[int, FrameType | None], None]) -> Iterator[None]:
    # Python runs signal handlers in the main thread only, and sets them there only.
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before)
