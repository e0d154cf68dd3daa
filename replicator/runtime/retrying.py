"""What the applier does when the databases fail it: the bounded backoff before it
tries again, the note of it in each database (``replicator status`` shows it), and
the retries of a batch that met a serialization failure.

Its lines go to the applier's log (``replicator.applier``), where they always were.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import TupleRow

from replicator.core.errors import DatabaseError, ReplicatorError
from replicator.core.output import duration
from replicator.inspect.connections import connect
from replicator.maps.model import Config, Direction

log = logging.getLogger("replicator.applier")

# Seconds a note to a database (replicator.applier_retry) may take to connect: the
# applier is retrying already, and that database may be the unreachable one.
NOTE_TIMEOUT = 3
# A batch that meets a serialization failure is tried again this many times, the
# pauses doubling from BATCH_RETRY_PAUSE seconds; then once more as its last try, in
# which a change that still fails so goes to the error log (the rest applies).
BATCH_RETRIES = 5
BATCH_RETRY_PAUSE = 0.1
# Transient failures: retried with backoff, never counted as errors. ObjectInUse:
# the session of an applier killed a moment ago still holds its origin or slot.
TRANSIENT = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.LockNotAvailable,
    pg_errors.ObjectInUse,
)


@dataclass
class Backoff:
    """Doubling delays with a cap, and a deadline: the applier gives up once the
    databases have failed it for ``give_up_after`` seconds, counted from the start of
    the first try that failed (a connection attempt may itself take its timeout)."""

    first: float = 0.1
    cap: float = 10.0
    give_up_after: float = 300.0
    delay: float = 0.0
    failing_since: float | None = None  # monotonic time

    def failed(self, now: float, began: float) -> float | None:
        """The pause before the next try (never past the deadline), or None: give up."""
        if self.failing_since is None:
            self.failing_since = began
        left = self.failing_since + self.give_up_after - now
        if left <= 0:
            return None
        self.delay = min(self.cap, self.delay * 2 if self.delay else self.first)
        return min(self.delay, left)

    def succeeded(self) -> None:
        self.delay = 0.0
        self.failing_since = None

    def failing_for(self, now: float) -> float:
        return now - self.failing_since if self.failing_since is not None else 0.0

    def left(self, now: float) -> float:
        """Seconds until the applier gives up."""
        return max(0.0, self.give_up_after - self.failing_for(now))


def pause_before_retry(config: Config, backoff: Backoff, failure: str, began: float) -> float:
    """Log the failure with how long the applier has been retrying and when it gives
    up, note the same in each database it can reach, and return the pause before the
    next try; past the deadline, raise DatabaseError."""
    now = time.monotonic()
    delay = backoff.failed(now, began)
    failing_for = backoff.failing_for(now)
    since = datetime.now(UTC) - timedelta(seconds=failing_for)
    gives_up = since + timedelta(seconds=backoff.give_up_after)
    if delay is None:
        note_retry(config, since, gives_up, f"gave up: {failure}")
        raise DatabaseError(
            f"gave up after {duration(failing_for)} of retrying (the limit is"
            f" {duration(backoff.give_up_after)}): {failure}"
        )
    log.warning(
        "%s; retrying in %.1f s (retrying for %s, since %s; gives up in %s, at %s)",
        failure,
        delay,
        duration(failing_for),
        _clock(since),
        duration(backoff.left(now)),
        _clock(gives_up),
    )
    note_retry(config, since, gives_up, failure)
    return delay


def note_retry(config: Config, since: datetime, gives_up: datetime, reason: str) -> None:
    """Note in replicator.applier_retry of each database reachable now that the
    applier is retrying (or gave up); a database it cannot reach is skipped."""
    for role in config.databases:
        with (
            contextlib.suppress(ReplicatorError, psycopg.Error),
            connect(config, role, timeout=NOTE_TIMEOUT) as conn,
        ):
            conn.execute(
                "INSERT INTO replicator.applier_retry AS r"
                " (failing_since, gives_up_at, reason) VALUES (%s, %s, %s)"
                " ON CONFLICT (only_one) DO UPDATE SET failing_since ="
                " EXCLUDED.failing_since, gives_up_at = EXCLUDED.gives_up_at,"
                " reason = EXCLUDED.reason, noted_at = now()",
                (since, gives_up, reason),
            )


def clear_retry_notes(connections: Iterable[psycopg.Connection[TupleRow]]) -> None:
    """The applier is through again: no database says it is retrying."""
    for conn in connections:
        with contextlib.suppress(pg_errors.UndefinedTable):  # deployed by an older release
            conn.execute("DELETE FROM replicator.applier_retry")


@dataclass
class BatchRetries:
    """Per direction, the serialization failures its batch met in a row: the batch is
    tried again, with a pause, BATCH_RETRIES times; the next try is its last."""

    in_a_row: dict[Direction, int] = field(default_factory=dict)

    def last_try(self, direction: Direction) -> bool:
        """The next try of ``direction``'s batch is its last: a change that still fails
        so goes to the error log, and the rest applies."""
        return self.in_a_row.get(direction, 0) >= BATCH_RETRIES

    def failed(self, direction: Direction, label: str, exc: BaseException, cap: float) -> float:
        """Count the failure, log it, and return the pause before the batch's next try."""
        retries = self.in_a_row.get(direction, 0)
        self.in_a_row[direction] = retries + 1
        delay: float = min(BATCH_RETRY_PAUSE * 2**retries, cap)
        attempt = (
            f"retry {retries + 1} of {BATCH_RETRIES}"
            if retries + 1 < BATCH_RETRIES
            else "its last try: a change that still fails so goes to the error log"
        )
        log.warning(
            "%s: %s; retrying the batch in %.1f s (%s)", label, first_line(exc), delay, attempt
        )
        return delay

    def succeeded(self, direction: Direction) -> None:
        self.in_a_row.pop(direction, None)


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (its type's name if it has none)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _clock(moment: datetime) -> str:
    return moment.astimezone().isoformat(sep=" ", timespec="seconds")
