"""``replicator run``: moves captured changes to the other side.

A side with WAL capture has its slot read first (replicator.listener), which
queues its changes like a capture trigger would. One database: ``apply_queued``
takes a batch off the queue and applies it in one transaction. Two servers: the
batch is read on the source, applied on the target together with a record of
its ids, then dequeued on the source; a crash between the two commits replays
nothing twice (the SQL of a batch: replicator.runtime.batches). The applier waits
on LISTEN when idle and polls as a fallback; lost connections and server restarts
are survived with a bounded backoff (replicator.runtime.retrying).
"""

from __future__ import annotations

import contextlib
import logging
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
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
from replicator.runtime import alerts, batches, drift
from replicator.runtime.heartbeat import Heartbeat
from replicator.runtime.listener import Listener, SlotLost
from replicator.runtime.lostslot import fail_maps_of_lost_slot
from replicator.runtime.retrying import (
    TRANSIENT,
    Backoff,
    BatchRetries,
    clear_retry_notes,
    first_line,
    pause_before_retry,
)

log = logging.getLogger("replicator.applier")

# Seconds the applier waits, going to sleep, for writers in the middle of capturing
# to commit (they hold the wake lock shared until then); and between polls if they
# have not.
BUSY_POLL = 0.05
# Seconds between reads of a WAL slot while idle: a slot sends no wake-up.
WAL_POLL = 0.1
# Changes a round queues from a WAL slot at most (whole transactions) before it
# applies: a slot far behind is read over several rounds, with batches between.
READ_PER_ROUND = 10_000
# Seconds between checks that the tables under the maps are still what they were
# deployed against (a catalog query over a few rows per database).
DRIFT_CHECK = 1.0


class Interrupted(Exception):
    """A stop signal arrived while the applier slept."""


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
    woken: bool = False  # a writer's NOTIFY was read while a statement ran (see _sleep)
    _connections: dict[Side, psycopg.Connection[TupleRow]] = field(default_factory=dict)
    _listeners: dict[Side, Listener] = field(default_factory=dict)
    _lost_slots: set[Side] = field(default_factory=set)  # read no more until restarted
    _drift_checked: float | None = None  # monotonic time of the last drift check
    _batch_retries: BatchRetries = field(default_factory=BatchRetries)
    _heartbeat: Heartbeat = field(default_factory=Heartbeat)

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
                    clear_retry_notes(self._connections.values())
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
                raise DatabaseError(f"{first_line(exc)} ({exc.diag.message_hint})") from None
            except (psycopg.OperationalError, ConnectError, *TRANSIENT) as exc:
                # Only the message is kept: nothing raised later chains to this error.
                failure = scrubbed(first_line(exc), *self.config.conninfos)
            if failure is not None:
                self._close()
                self._pause(pause_before_retry(self.config, self.backoff, failure, began))
        self._close()
        return self.totals

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
            conn.add_notify_handler(self._notified)
            conn.execute("LISTEN replicator_wake")
            self._connections[role] = conn
        for direction in DIRECTIONS:
            self._lock(direction)
        # Only after the locks: a second applier must not take the origins first.
        for conn in self._connections.values():
            under_origin(conn, origins.APPLY)
        self._heartbeat.start(self._connections.values())
        if not self.config.same_database:
            for direction in DIRECTIONS:
                batches.reconcile(
                    self._conn(source_of(direction)), self._conn(target_of(direction)), direction
                )
        self._open_listeners()
        log.info("connected; applying %s", ", ".join(self._label(d) for d in DIRECTIONS))

    def _open_listeners(self) -> None:
        """A listener for each database with WAL capture whose slot is not lost."""
        for role in self.config.databases:
            if self.config.wal_sides(role) and role not in self._lost_slots:
                listener = Listener(
                    self.config.side(role).conninfo,
                    self.config.label(role),
                    limit=self.read_per_round,
                )
                self._listeners[role] = listener
                try:
                    listener.open()
                except SlotLost as exc:
                    self._slot_lost(role, exc)

    def _notified(self, notify: psycopg.Notify) -> None:
        self.woken = True

    def _conn(self, role: Side) -> psycopg.Connection[TupleRow]:
        return self._connections[self.config.database_of(role)]

    def _lock(self, direction: Direction) -> None:
        source = self._conn(source_of(direction))
        row = source.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", locks.APPLIER[direction]
        ).fetchone()
        if not row or not row[0]:
            raise ReplicatorError(f"another applier is already running {self._label(direction)}")

    def _close(self) -> None:
        for listener in self._listeners.values():
            with contextlib.suppress(psycopg.Error):
                listener.close()
        self._listeners.clear()
        for conn in self._connections.values():
            with contextlib.suppress(psycopg.Error):  # already broken: nothing left to release
                conn.close()
        self._connections.clear()
        self._heartbeat.stop()

    def _slot_lost(self, role: Side, exc: SlotLost) -> None:
        """The slot cannot be read again: its maps go failed, loudly, and the rest runs on."""
        self._listeners.pop(role).close()
        self._lost_slots.add(role)
        fail_maps_of_lost_slot(self._connections[role], self.config, role, exc)

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
        self._heartbeat.beat()
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
            self._heartbeat.beat()
            for listener in self._listeners.values():
                listener.keep_alive()
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

    def _check_drift(self, now: bool = False, early: float = 0.0) -> None:
        """Before applying, at most every DRIFT_CHECK s (``early`` before when idle; ``now``):
        a map whose tables changed under it goes failed, named and with the fix, on its
        directions' source databases; its changes stay queued and the other maps go on."""
        started = time.monotonic()
        checked = self._drift_checked
        if not now and checked is not None and started - checked < DRIFT_CHECK - early:
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
        try:
            moved = self._apply_batch(direction, final=self._batch_retries.last_try(direction))
        except pg_errors.SerializationFailure as exc:
            label = self._label(direction)
            self._pause(self._batch_retries.failed(direction, label, exc, self.backoff.cap))
            return True
        self._batch_retries.succeeded(direction)
        return moved

    def _apply_batch(self, direction: Direction, final: bool) -> bool:
        started = time.monotonic()
        if self.config.same_database:
            batch = batches.apply_here(self._conn("left"), direction, self.batch_size, final)
        else:
            source = self._conn(source_of(direction))
            target = self._conn(target_of(direction))
            batch = batches.apply_across(source, target, direction, self.batch_size, final)
        if batch.taken == 0:
            return False
        if batch.failed:
            # A catalog-class failure (undefined column, table, type) may be drift the
            # last check did not see yet: its map goes failed before the next batch.
            self._check_drift(now=True)
        if batch.failed and self.config.alerts:
            alerts.check(self.config, direction, self._conn(target_of(direction)))
        if self.on_batch is not None:
            self.on_batch(direction, time.monotonic() - started)
        self.totals.batches += 1
        self.totals.applied += batch.applied
        self.totals.failed += batch.failed
        self.totals.skipped += batch.skipped
        log.info(
            "%s: applied %d, failed %d%s in %.0f ms",
            self._label(direction),
            batch.applied,
            batch.failed,
            f", skipped {batch.skipped} already applied" if batch.skipped else "",
            (time.monotonic() - started) * 1000,
        )
        return True

    def _sleep(self) -> None:
        """Wait for a NOTIFY from a writer, or the poll interval, whichever comes first.

        While it sleeps the applier holds the wake lock exclusively on each source
        database; writers notify only when they cannot take it shared. If a writer
        holds it now, changes are on their way: poll again shortly instead.

        A NOTIFY read with the results of the look once more, not by the select, keeps
        it awake. A drift check due soon runs first, idle, not after the wake-up while
        the change that woke the applier waits.
        """
        self._check_drift(early=DRIFT_CHECK / 2)
        sources = list(self._connections.values())
        held: list[psycopg.Connection[TupleRow]] = []
        self.woken = False
        try:
            for conn in sources:
                if not _take_wake_lock(conn):
                    break
                held.append(conn)
            asleep = len(held) == len(sources)
            # Changes committed before the lock was taken did not notify: look once more.
            if asleep and self._one_round():
                return
            self.sleeping = True
            try:
                if not self.stopping and not self.woken:
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


def _take_wake_lock(conn: psycopg.Connection[TupleRow]) -> bool:
    """Take the wake lock exclusively, waiting up to BUSY_POLL for writers that hold it
    shared (between their capture and their commit). Not waiting cost the changes
    committed next up to BUSY_POLL: their writers found the lock free and did not
    notify while the applier polled. While it waits, new writers notify."""
    row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", locks.WAKE).fetchone()
    if row and row[0]:
        return True
    try:
        with conn.transaction():
            timeout = f"{round(BUSY_POLL * 1000)}ms"
            conn.execute("SELECT set_config('lock_timeout', %s, true)", (timeout,))
            conn.execute("SELECT pg_advisory_lock(%s, %s)", locks.WAKE)
    except pg_errors.LockNotAvailable:
        return False  # a writer's transaction is still open: poll
    return True


def install_signal_handlers(handler: Callable[[int, FrameType | None], None]) -> None:
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
