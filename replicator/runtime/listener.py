"""WAL capture: reads a database's logical slot and queues what it decodes.

The slot is streamed by a walsender (replicator.runtime.walstream), which decodes each
record once, in its own process, while the applier applies. What one poll reads,
whole source transactions, becomes one transaction on the same database that queues
their changes (``replicator.capture_wal``, each change tagged with its transaction's
commit position and time) and records the last one's commit position as the progress
of the ``replicator_capture`` origin. Only then is the slot told it may move there. A
crash between the two replays transactions whose position the origin already holds,
and they are skipped: exactly once. (A transaction of its own per source transaction
cost more than the capture itself under many small writes: four statements and a
commit each.) Decoded messages go to the database a chunk at a time, so a transaction
of a million rows never sits in Python whole.

``queue_committed`` reads up to where the WAL stood when it was called, and at most
about as many changes as it is told, so writers that never stop cannot keep it
reading: what they commit meanwhile waits for the next call.

Writes made by the replicator itself carry its origins, and the slot is asked
to leave those out (wal2json's filter-origins takes numeric ids).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import TupleRow

from replicator.core import origins
from replicator.core.errors import ReplicatorError
from replicator.inspect.connections import open_connection, own_origin_ids, under_origin
from replicator.maps.config import redacted
from replicator.runtime.walstream import WalStream

# Decoded messages held in memory before they are handed to the database, in one
# capture_wal call; a poll that reads more queues them in several calls, all within
# its one queueing transaction.
CHUNK = 1000
# How often an idle listener records in replicator.wal_listener that it read the slot
# (status: "last read").
REPORT_SECONDS = 1.0

# How wal2json names a change of the replicator's own schema (map_state is the one read).
CONTROL = '"schema":"replicator"'

# add-msg-prefixes: logical messages only with a prefix nobody writes, so none.
# include-types false: the capture functions read values by the table's own types; the
# type names were a third of what the slot sent (a customer row: 875 bytes, 565 without).
OPTIONS = {
    "format-version": "2",
    "include-lsn": "true",
    "include-timestamp": "true",
    "include-types": "false",
    "add-msg-prefixes": "replicator",
}


class SlotLost(ReplicatorError):
    """The server invalidated the slot (or it is gone): changes since were not captured."""


def _lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def _lsn_text(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


@dataclass
class _Walk:
    """One poll's way through what the slot returned: the source transaction being
    read, the queueing transaction its changes go into, and what the poll found."""

    done: int  # commit position of the last source transaction queued and committed
    seen: int = 0  # changes held for queueing
    advance_to: int = 0  # where the slot may move: past the last whole transaction
    behind_since: str | None = None  # the first transaction left for the next poll began
    consumed_at: str | None = None  # the last transaction queued committed
    # The capture_wal calls sent in the pipeline; each gives how many it queued.
    sent: list[psycopg.Cursor[TupleRow]] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # decoded messages not handed over yet
    commit: int = 0  # commit position of the source transaction being read
    tag: str = ""  # what its messages start with once held: its commit position and time
    skip: bool = False  # it was queued before a crash, and is replayed now
    in_transaction: bool = False  # the queueing transaction is begun
    # The last source transaction read whole since the queueing transaction began:
    # its commit position and time, which that transaction records when it commits.
    ended: tuple[int, str] | None = None

    def begin(self, commit: int, committed_at: str) -> None:
        self.commit = commit
        self.tag = json.dumps({"commit": _lsn_text(commit), "at": committed_at})[:-1] + ","
        self.skip = commit <= self.done  # queued before a crash, then replayed


@dataclass
class Listener:
    """The listener of one database's slot; ``poll`` queues up to ``limit`` changes."""

    conninfo: str = field(repr=False)  # may hold a password: never printed
    label: str  # the database as the DBA knows it: "fno"
    limit: int
    chunk: int = CHUNK
    stream: WalStream | None = None
    write: psycopg.Connection[TupleRow] | None = None
    slot: str = ""
    done: int = 0  # commit position of the last source transaction queued
    last_report: float = 0.0
    peak_held: int = 0  # most decoded messages held in memory at once
    # The last poll read everything committed (flushed) before it began, or before
    # its ``upto`` if that came first.
    caught_up: bool = False

    def open(self) -> None:
        what = f"database {self.label} to read its WAL slot ({redacted(self.conninfo)})"
        # Autocommit: each queueing transaction is spelled out (BEGIN ... COMMIT), so a
        # poll's transactions can go in one pipeline (see poll).
        self.write = open_connection(self.conninfo, what)
        self.write.execute("SET application_name = 'replicator listener'")
        under_origin(self.write, origins.CAPTURE)
        row = self.write.execute(
            "SELECT slot_name, tables FROM replicator.wal_listener ORDER BY slot_name LIMIT 1"
        ).fetchone()
        if row is None:
            raise ReplicatorError(
                f"{self.label}: WAL capture is not deployed; run replicator deploy"
            )
        # Each entry is in add-tables form already (compiler.wal2json_table).
        self.slot, tables = str(row[0]), ",".join(row[1])
        skip_origins = own_origin_ids(self.write)
        progress = self.write.execute(
            f"SELECT pg_replication_origin_progress({origins.name_sql('%s')}, true)",
            (origins.CAPTURE,),
        ).fetchone()
        self.done = _lsn(progress[0]) if progress and progress[0] else 0
        self._check_slot()
        options = {**OPTIONS, "add-tables": tables, "filter-origins": skip_origins}
        self.stream = WalStream(self.conninfo, what, self.slot, options)
        self.stream.start()

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
        if self.write is not None and not self.write.closed:
            self.write.close()
        self.stream = self.write = None

    def _check_slot(self) -> int:
        """How far the WAL is flushed; SlotLost if the server invalidated the slot."""
        assert self.write is not None
        row = self.write.execute(
            "SELECT wal_status, pg_current_wal_flush_lsn()::text,"
            "       database IS NOT DISTINCT FROM current_database(), coalesce(database, '')"
            " FROM pg_replication_slots WHERE slot_name = %s",
            (self.slot,),
        ).fetchone()
        if row is not None and not row[2]:
            # Slot names are per server: reading another database's slot fails every
            # time ("was not created in this database"), so retrying cannot help.
            holder = f"database {row[3]}" if row[3] else "a physical slot"
            raise ReplicatorError(
                f"slot {self.slot}, which WAL capture of {self.label} reads, belongs to"
                f" {holder} of the same server: give this side another name in"
                " replicator.toml and run replicator deploy (validate says the same)"
            )
        if row is None or row[0] == "lost":
            raise SlotLost(
                f"slot {self.slot} on {self.label} "
                + ("is gone" if row is None else "was invalidated by the server (wal_status lost)")
                + ": changes made there since were not captured"
            )
        return _lsn(row[1])

    def queue_committed(self, most: int, stopping: Callable[[], bool] = lambda: False) -> int:
        """Queue what committed on the database before this call, a poll of about
        ``limit`` changes at a time, until ``most`` changes are queued or ``stopping``
        says to stop; return how many changes were queued. ``caught_up`` then says
        whether everything committed before the call is queued. What commits meanwhile
        is left for the next call: a steady stream of writes cannot hold the caller."""
        assert self.write is not None
        row = self.write.execute("SELECT pg_current_wal_flush_lsn()::text").fetchone()
        assert row is not None
        upto = _lsn(row[0])
        queued = self.poll(upto)
        while not self.caught_up and queued < most and not stopping():
            queued += self.poll(upto)
        return queued

    def poll(self, upto: int | None = None) -> int:
        """Queue what the slot holds, up to about ``limit`` changes (whole transactions)
        and, given ``upto``, the transactions that committed before that position; return
        how many changes were queued."""
        assert self.stream is not None and self.write is not None
        # Whatever committed before ``reach``, the stream gives or leaves out (the
        # replicator's own transactions, other tables' changes, other databases' WAL):
        # once it has passed there, the slot moves there. So an idle source, or one busy
        # only with what the slot leaves out, does not hold WAL back.
        flushed = self._check_slot()
        reach = flushed if upto is None else min(upto, flushed)
        # Changes parked while a map did not fit its table go first, once it does again.
        unparked = self.write.execute("SELECT replicator.unpark_wal()").fetchone()
        queued = int(unparked[0]) if unparked and unparked[0] else 0
        walk = _Walk(done=self.done)
        # The queueing transactions go out in one pipeline, not a round trip each;
        # what they queued, and that they committed, is known once it is through.
        with self.write.pipeline():
            self._walk(walk, reach)
            self._commit(walk)
        queued += sum(_queued(c) for c in walk.sent)
        self.done = walk.done
        self.caught_up = walk.behind_since is None
        self.stream.confirm(max(walk.advance_to, reach) if self.caught_up else walk.advance_to)
        self._report(walk)
        return queued

    def keep_alive(self) -> None:
        """Between polls: the walsender is told the stream is still read."""
        if self.stream is not None:
            self.stream.keep_alive()

    def _walk(self, walk: _Walk, reach: int) -> None:
        """Hand each transaction the stream gives to the database, until it has given
        every one committed before ``reach``, or ``limit`` changes are held and the next
        transaction begins."""
        assert self.stream is not None
        for data in self.stream.messages(reach):
            action = data[11]  # {"action":"X",...: the plugin always writes it first
            if action == "B":
                begin = json.loads(data)
                commit = _lsn(begin["lsn"])
                if commit >= reach:
                    self.stream.give_back(data)  # committed since the poll began: the next one's
                    break
                if walk.seen >= self.limit:
                    self.stream.give_back(data)
                    walk.behind_since = begin["timestamp"]
                    break
                walk.begin(commit, begin["timestamp"])
            elif action == "C":
                self._ended(walk, json.loads(data))
            elif action in "IUDT" and not walk.skip and CONTROL in data:
                # A stop or resume applies from here on: what came before is
                # queued first, then it alone.
                self._send_held(walk)
                walk.held = [walk.tag + data[1:]]
                self._send_held(walk)
            elif action in "IUDT" and not walk.skip:
                walk.held.append(walk.tag + data[1:])
                walk.seen += 1
                self.peak_held = max(self.peak_held, len(walk.held))
                if len(walk.held) >= self.chunk:
                    self._send_held(walk)

    def _send_held(self, walk: _Walk) -> None:
        """Hand the held messages, if any, to the database, in the queueing transaction
        (begun now if it is not yet)."""
        if walk.held:
            walk.sent.append(self._queue(walk.held, walk.in_transaction))
            walk.held = []
            walk.in_transaction = True

    def _ended(self, walk: _Walk, end: dict[str, Any]) -> None:
        """The source transaction ended: once the queueing transaction holds anything,
        it records this one as the last it queued (one with nothing to queue, too)."""
        if walk.in_transaction or walk.held:
            walk.ended = (walk.commit, end["timestamp"])
        walk.advance_to = max(walk.advance_to, _lsn(end["nextlsn"]))

    def _commit(self, walk: _Walk) -> None:
        """Commit what the poll queued, recording the commit position of the last source
        transaction in it as the capture origin's progress, in the same transaction."""
        assert self.write is not None
        if walk.ended is None:
            return
        self._send_held(walk)
        commit, timestamp = walk.ended
        self.write.execute(
            "SELECT pg_replication_origin_xact_setup(%s, %s)", (_lsn_text(commit), timestamp)
        )
        self.write.execute("COMMIT")
        walk.done = commit
        walk.consumed_at = timestamp
        walk.in_transaction = False
        walk.ended = None

    def _report(self, walk: _Walk) -> None:
        """For status; an idle listener reports now and then rather than every poll."""
        assert self.write is not None
        if walk.seen or walk.behind_since or time.monotonic() - self.last_report > REPORT_SECONDS:
            self.write.execute(
                "UPDATE replicator.wal_listener SET read_at = now(), behind_since = %s,"
                " consumed_at = coalesce(%s, consumed_at) WHERE slot_name = %s",
                (walk.behind_since, walk.consumed_at, self.slot),
            )
            self.last_report = time.monotonic()

    def _queue(self, messages: list[str], in_transaction: bool) -> psycopg.Cursor[TupleRow]:
        """Hand decoded messages, each tagged with its commit position and time, to the
        database, in the queueing transaction (begun here unless ``in_transaction``); the
        cursor gives how many changes were queued."""
        assert self.write is not None
        if not in_transaction:
            self.write.execute("BEGIN")
        return self.write.execute(
            "SELECT replicator.capture_wal(%s::jsonb)", ("[" + ",".join(messages) + "]",)
        )


def _queued(capture: psycopg.Cursor[TupleRow]) -> int:
    """What a capture_wal call sent in a pipeline queued."""
    row = capture.fetchone()
    return int(row[0]) if row and row[0] is not None else 0
