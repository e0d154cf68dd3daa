"""``replicator run``: moves captured changes to the other side.

A side with WAL capture has its slot read first (replicator.listener), which
queues its changes like a capture trigger would. One database: ``apply_queued``
takes a batch off the queue and applies it in one transaction. Two servers: the
batch is read on the source, applied on the target together with a record of
its ids, then dequeued on the source; a crash between the two commits replays
nothing twice. The applier waits on LISTEN when idle and polls as a fallback;
lost connections and server restarts are survived with a bounded backoff.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import FrameType

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import TupleRow

from replicator.core import locks, origins
from replicator.core.errors import ConnectError, DatabaseError, ReplicatorError
from replicator.core.output import duration
from replicator.inspect.connections import connect, require_deployed, shares_database, under_origin
from replicator.maps.config import scrubbed
from replicator.maps.model import DIRECTIONS, Config, Direction, Side, source_of, target_of
from replicator.operations import activity
from replicator.runtime import alerts, drift
from replicator.runtime.listener import Listener, SlotLost

log = logging.getLogger("replicator.applier")

# Seconds between polls while writers are in the middle of capturing.
BUSY_POLL = 0.05
# Seconds between reads of a WAL slot while idle: a slot sends no wake-up.
WAL_POLL = 0.1
# Changes a round queues from a WAL slot at most (whole transactions) before it
# applies: a slot far behind is read over several rounds, with batches between.
READ_PER_ROUND = 10_000
# Seconds between checks that the tables under the maps are still what they were
# deployed against (a catalog query over a few rows per database).
DRIFT_CHECK = 1.0
# Seconds a note to a database (replicator.applier_retry) may take to connect: the
# applier is retrying already, and that database may be the unreachable one.
NOTE_TIMEOUT = 3
# A batch that meets a serialization failure is tried again this many times, the
# pauses doubling from BATCH_RETRY_PAUSE seconds; then once more as its last try, in
# which a change that still fails so goes to the error log (the rest applies).
BATCH_RETRIES = 5
BATCH_RETRY_PAUSE = 0.1
# Seconds between updates of the heartbeat row status reads ("last polled").
HEARTBEAT = 1.0
# Transient failures: retried with backoff, never counted as errors. ObjectInUse:
# the session of an applier killed a moment ago still holds its origin or slot.
TRANSIENT = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.LockNotAvailable,
    pg_errors.ObjectInUse,
)


class Interrupted(Exception):
    """A stop signal arrived while the applier slept."""


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


@dataclass
class Totals:
    applied: int = 0
    failed: int = 0
    skipped: int = 0
    batches: int = 0


@dataclass
class Applier:
    config: Config
    batch_size: int
    poll_interval: float
    on_batch: Callable[[Direction, float], None] | None = None  # seconds per batch, for metrics
    read_per_round: int = READ_PER_ROUND
    backoff: Backoff = field(default_factory=Backoff)
    totals: Totals = field(default_factory=Totals)
    stopping: bool = False
    sleeping: bool = False
    _connections: dict[Side, psycopg.Connection[TupleRow]] = field(default_factory=dict)
    _listeners: dict[Side, Listener] = field(default_factory=dict)
    _lost_slots: set[Side] = field(default_factory=set)  # read no more until restarted
    _drift_checked: float | None = None  # monotonic time of the last drift check
    # Per direction: serialization failures of its batch in a row (see _one_batch).
    _retries: dict[Direction, int] = field(default_factory=dict)
    _beat: float | None = None  # monotonic time of the last heartbeat
    _beating: list[psycopg.Connection[TupleRow]] = field(default_factory=list)

    # -- lifecycle -------------------------------------------------------------

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Signal handler: finish the batch in flight, then exit."""
        log.info("received %s: finishing the current batch", signal.Signals(signum).name)
        self.stopping = True
        if self.sleeping:
            raise Interrupted

    def run(self, until_idle: bool = False) -> Totals:
        """Apply batches until stopped (or, with ``until_idle``, until both queues are empty)."""
        while not self.stopping:
            failure: str | None = None
            began = time.monotonic()
            try:
                self._connect()
                moved = self._one_round()
                if self.backoff.failing_since is not None:
                    self._clear_retry_notes()
                    log.info(
                        "through again after %s of retrying",
                        duration(self.backoff.failing_for(time.monotonic())),
                    )
                self.backoff.succeeded()
                if moved:
                    continue
                if until_idle:
                    break
                self._sleep()
            except Interrupted:
                break
            except pg_errors.ConfigurationLimitExceeded as exc:
                # e.g. no replication origin state free: waiting will not make one.
                raise DatabaseError(f"{_first_line(exc)} ({exc.diag.message_hint})") from None
            except (psycopg.OperationalError, ConnectError, *TRANSIENT) as exc:
                # Only the message is kept: nothing raised later chains to this error.
                failure = scrubbed(_first_line(exc), *self.config.conninfos)
            if failure is not None:
                self._close()
                self._retry_after(failure, began)
        self._close()
        return self.totals

    def _retry_after(self, failure: str, began: float) -> None:
        """Log the failure with how long the applier has been retrying and when it gives
        up, note the same in each database it can reach (replicator status shows it),
        and pause; past the deadline, raise DatabaseError."""
        now = time.monotonic()
        delay = self.backoff.failed(now, began)
        failing_for = self.backoff.failing_for(now)
        since = datetime.now(UTC) - timedelta(seconds=failing_for)
        gives_up = since + timedelta(seconds=self.backoff.give_up_after)
        if delay is None:
            self._note_retry(since, gives_up, f"gave up: {failure}")
            raise DatabaseError(
                f"gave up after {duration(failing_for)} of retrying (the limit is"
                f" {duration(self.backoff.give_up_after)}): {failure}"
            )
        log.warning(
            "%s; retrying in %.1f s (retrying for %s, since %s; gives up in %s, at %s)",
            failure,
            delay,
            duration(failing_for),
            _clock(since),
            duration(self.backoff.left(now)),
            _clock(gives_up),
        )
        self._note_retry(since, gives_up, failure)
        self._pause(delay)

    def _note_retry(self, since: datetime, gives_up: datetime, reason: str) -> None:
        """Note in replicator.applier_retry of each database reachable now that the
        applier is retrying (or gave up); a database it cannot reach is skipped."""
        for role in self.config.databases:
            with (
                contextlib.suppress(ReplicatorError, psycopg.Error),
                connect(self.config, role, timeout=NOTE_TIMEOUT) as conn,
            ):
                conn.execute(
                    "INSERT INTO replicator.applier_retry AS r"
                    " (failing_since, gives_up_at, reason) VALUES (%s, %s, %s)"
                    " ON CONFLICT (only_one) DO UPDATE SET failing_since ="
                    " EXCLUDED.failing_since, gives_up_at = EXCLUDED.gives_up_at,"
                    " reason = EXCLUDED.reason, noted_at = now()",
                    (since, gives_up, reason),
                )

    def _clear_retry_notes(self) -> None:
        for conn in self._connections.values():
            with contextlib.suppress(pg_errors.UndefinedTable):  # deployed by an older release
                conn.execute("DELETE FROM replicator.applier_retry")

    def _pause(self, seconds: float) -> None:
        self.sleeping = True
        try:
            time.sleep(seconds)
        except Interrupted:
            pass
        finally:
            self.sleeping = False

    # -- connections -------------------------------------------------------------

    def _connect(self) -> None:
        if self.config.shared_database is None:
            # Asked here, not at start: the servers may be down when the applier starts.
            self.config = replace(self.config, shared_database=shares_database(self.config))
        roles = self.config.databases
        if all(role in self._connections and not self._connections[role].closed for role in roles):
            return
        self._close()
        for role in roles:
            conn = connect(self.config, role)
            try:
                require_deployed(conn, self.config, role)
            except DatabaseError:
                conn.close()
                raise
            conn.execute("SET application_name = 'replicator applier'")
            conn.add_notify_handler(lambda notify: None)  # wake-ups only interrupt the wait
            conn.execute("LISTEN replicator_wake")
            self._connections[role] = conn
        for direction in DIRECTIONS:
            self._lock(direction)
        # Only after the locks: a second applier must not take the origins first.
        for conn in self._connections.values():
            under_origin(conn, origins.APPLY)
        self._beating = [
            conn
            for conn in self._connections.values()
            # A database deployed before the heartbeat has no table for it until the
            # next deploy; the applier runs there all the same.
            if conn.execute("SELECT to_regclass('replicator.applier_heartbeat')").fetchone()
            != (None,)
        ]
        for conn in self._beating:
            conn.execute(
                "INSERT INTO replicator.applier_heartbeat (pid, host, os_pid)"
                " VALUES (pg_backend_pid(), %s, %s) ON CONFLICT (singleton) DO UPDATE"
                " SET pid = EXCLUDED.pid, host = EXCLUDED.host, os_pid = EXCLUDED.os_pid,"
                " started_at = now(), polled_at = now()",
                (socket.gethostname(), os.getpid()),
            )
        self._beat = time.monotonic()
        if not self.config.same_database:
            for direction in DIRECTIONS:
                self._reconcile(direction)
        for role in roles:
            if self.config.wal_sides(role) and role not in self._lost_slots:
                listener = Listener(
                    self.config.side(role).conninfo,
                    self.config.label(role),
                    limit=self.batch_size,
                )
                self._listeners[role] = listener
                try:
                    listener.open()
                except SlotLost as exc:
                    self._slot_lost(role, exc)
        log.info("connected; applying %s", ", ".join(self._label(d) for d in DIRECTIONS))

    def _conn(self, role: Side) -> psycopg.Connection[TupleRow]:
        return self._connections[self.config.database_of(role)]

    def _lock(self, direction: Direction) -> None:
        source = self._conn(source_of(direction))
        row = source.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", locks.APPLIER[direction]
        ).fetchone()
        if not row or not row[0]:
            raise ReplicatorError(f"another applier is already running {self._label(direction)}")

    def _reconcile(self, direction: Direction) -> None:
        """After a crash between the target's commit and the source's dequeue, dequeue
        what the target already applied."""
        applied = self._applied(direction)
        if applied:
            self._conn(source_of(direction)).execute(
                "SELECT replicator.ack_batch(%s, %s)", (direction, applied)
            )

    def _applied(self, direction: Direction) -> list[int]:
        """The ids of the last batch the target applied in ``direction``."""
        row = (
            self._conn(target_of(direction))
            .execute(
                "SELECT change_ids FROM replicator.applied_batch WHERE direction = %s",
                (direction,),
            )
            .fetchone()
        )
        return list(row[0]) if row else []

    def _close(self) -> None:
        for listener in self._listeners.values():
            with contextlib.suppress(psycopg.Error):
                listener.close()
        self._listeners.clear()
        for conn in self._connections.values():
            with contextlib.suppress(psycopg.Error):  # already broken: nothing left to release
                conn.close()
        self._connections.clear()
        self._beating.clear()

    def _slot_lost(self, role: Side, exc: SlotLost) -> None:
        """The slot cannot be read again: its maps go failed, loudly, and the rest runs on."""
        self._listeners.pop(role).close()
        self._lost_slots.add(role)
        directions = [d for d in DIRECTIONS if source_of(d) in self.config.wal_sides(role)]
        conn = self._connections[role]
        names = " ".join(
            str(r[0])
            for r in conn.execute(
                "SELECT DISTINCT map_name FROM replicator.map_state WHERE direction = ANY(%s)"
                " ORDER BY 1",
                (directions,),
            )
        )
        reason = (
            f"{exc}. To recover: run replicator deploy (it creates the slot again), then"
            f" replicator sync {names} to bring the other side back in step, then"
            f" replicator resume {names}"
        )
        log.error("%s", reason)
        with conn.transaction():
            conn.execute(
                "UPDATE replicator.map_state SET state = 'failed', state_since = now(),"
                " state_reason = %s WHERE direction = ANY(%s) AND state <> 'failed'",
                (reason, directions),
            )
            activity.record(conn, "slot_lost", reason)

    # -- work ----------------------------------------------------------------------

    def _one_round(self) -> bool:
        """Queue what each WAL slot holds up to where its WAL stood as the round began
        (at most ``read_per_round`` changes), then apply batches, one per direction in
        turn, until they took as many changes as the slots gave or nothing moves; True
        if anything moved or a slot has more to read.

        A change from the other side is judged against this side's deletes, which
        count only once they are queued: a direction whose target's slot was not read
        up to the round's start waits for a round that reads it that far. What commits
        during the round waits for the next, so writers that never stop cannot keep
        the applier reading."""
        self._heartbeat()
        read = 0
        behind: set[Side] = set()  # sides whose slot holds changes from before the round
        for role, listener in list(self._listeners.items()):
            try:
                read += listener.queue_committed(self.read_per_round, lambda: self.stopping)
            except SlotLost as exc:
                self._slot_lost(role, exc)
                continue
            if not listener.caught_up:
                behind.update(self.config.wal_sides(role))
        directions = [d for d in DIRECTIONS if target_of(d) not in behind]
        moved = read > 0 or bool(behind)
        taken_before = self._taken()
        while not self.stopping:
            self._heartbeat()
            self._check_drift()
            moved_now = False
            for direction in directions:
                if self.stopping:
                    break
                moved_now |= self._one_batch(direction)
            moved |= moved_now
            # Without slots, one batch each way: the next round comes straight after.
            if not moved_now or self._taken() - taken_before >= read:
                break
        return moved

    def _taken(self) -> int:
        """Changes taken off the queues since the applier started."""
        return self.totals.applied + self.totals.failed + self.totals.skipped

    def _heartbeat(self) -> None:
        """Record that the applier polls (status: "last polled"), at most every HEARTBEAT s."""
        started = time.monotonic()
        if self._beat is not None and started - self._beat < HEARTBEAT:
            return
        self._beat = started
        for conn in self._beating:
            conn.execute(
                "UPDATE replicator.applier_heartbeat SET polled_at = now()"
                " WHERE pid = pg_backend_pid()"
            )

    def _check_drift(self, now: bool = False) -> None:
        """Before applying (at most every DRIFT_CHECK seconds, or ``now``): a map whose
        tables changed under it goes failed, named and with the fix, on its directions'
        source databases; its changes stay queued and the other maps go on."""
        started = time.monotonic()
        checked = self._drift_checked
        if not now and checked is not None and started - checked < DRIFT_CHECK:
            return
        self._drift_checked = started
        found = [d for conn in self._connections.values() for d in drift.read_drift(conn)]
        for map_name, reason in drift.by_map(found).items():
            for direction in DIRECTIONS:
                before = drift.fail(self._conn(source_of(direction)), map_name, direction, reason)
                if before is not None:
                    log.error("%s: %s → failed: %s", self._label(direction), before, reason)

    def _one_batch(self, direction: Direction) -> bool:
        """Apply one batch of ``direction``; True if it took any changes. A batch that
        meets a serialization failure (a row changed under it) is tried again, with a
        pause, BATCH_RETRIES times; the next try is its last: a key that still fails
        so goes to the error log, and the rest applies."""
        retries = self._retries.get(direction, 0)
        try:
            moved = self._apply_batch(direction, final=retries >= BATCH_RETRIES)
        except pg_errors.SerializationFailure as exc:
            self._retries[direction] = retries + 1
            delay = min(BATCH_RETRY_PAUSE * 2**retries, self.backoff.cap)
            attempt = (
                f"retry {retries + 1} of {BATCH_RETRIES}"
                if retries + 1 < BATCH_RETRIES
                else "its last try: a change that still fails so goes to the error log"
            )
            log.warning(
                "%s: %s; retrying the batch in %.1f s (%s)",
                self._label(direction),
                _first_line(exc),
                delay,
                attempt,
            )
            self._pause(delay)
            return True
        self._retries.pop(direction, None)
        return moved

    def _apply_batch(self, direction: Direction, final: bool) -> bool:
        started = time.monotonic()
        if self.config.same_database:
            conn = self._conn("left")
            row = conn.execute(
                "SELECT taken, failed FROM replicator.apply_queued(%s, %s, %s)",
                (direction, self.batch_size, final),
            ).fetchone()
            assert row is not None
            taken, failed, skipped = int(row[0]), int(row[1]), 0
        else:
            source = self._conn(source_of(direction))
            target = self._conn(target_of(direction))
            peeked = source.execute(
                "SELECT ids, batch::text FROM replicator.peek_batch(%s, %s)",
                (direction, self.batch_size),
            ).fetchone()
            assert peeked is not None
            ids: list[int] = peeked[0]
            if not ids:
                return False
            row = target.execute(
                "SELECT applied, failed, skipped FROM replicator.apply_remote(%s, %s::jsonb, %s)",
                (direction, peeked[1], final),
            ).fetchone()
            assert row is not None
            source.execute("SELECT replicator.ack_batch(%s, %s)", (direction, ids))
            taken, failed, skipped = len(ids), int(row[1]), int(row[2])
        if taken == 0:
            return False
        if failed:
            # A catalog-class failure (undefined column, table, type) may be drift the
            # last check did not see yet: its map goes failed before the next batch.
            self._check_drift(now=True)
        if failed and self.config.alerts:
            alerts.check(self.config, direction, self._conn(target_of(direction)))
        if self.on_batch is not None:
            self.on_batch(direction, time.monotonic() - started)
        self.totals.batches += 1
        self.totals.applied += taken - failed - skipped
        self.totals.failed += failed
        self.totals.skipped += skipped
        log.info(
            "%s: applied %d, failed %d%s in %.0f ms",
            self._label(direction),
            taken - failed - skipped,
            failed,
            f", skipped {skipped} already applied" if skipped else "",
            (time.monotonic() - started) * 1000,
        )
        return True

    def _sleep(self) -> None:
        """Wait for a NOTIFY from a writer, or the poll interval, whichever comes first.

        While it sleeps the applier holds the wake lock exclusively on each source
        database; writers notify only when they cannot take it shared. If a writer
        holds it now, changes are on their way: poll again shortly instead.
        """
        sources = list(self._connections.values())
        held: list[psycopg.Connection[TupleRow]] = []
        try:
            for conn in sources:
                row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", locks.WAKE).fetchone()
                if not row or not row[0]:
                    break
                held.append(conn)
            asleep = len(held) == len(sources)
            # Changes committed before the lock was taken did not notify: look once more.
            if asleep and self._one_round():
                return
            self.sleeping = True
            try:
                if not self.stopping:
                    timeout = self.poll_interval if asleep else min(self.poll_interval, BUSY_POLL)
                    if self._listeners:
                        timeout = min(timeout, WAL_POLL)
                    select.select([c.fileno() for c in sources], [], [], timeout)
            finally:
                self.sleeping = False
        except Interrupted:
            pass
        finally:
            for conn in held:
                if not conn.closed:
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", locks.WAKE)

    def _label(self, direction: Direction) -> str:
        return self.config.arrow(direction)


def _clock(moment: datetime) -> str:
    return moment.astimezone().isoformat(sep=" ", timespec="seconds")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def install_signal_handlers(handler: Callable[[int, FrameType | None], None]) -> None:
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
