"""A logical slot read as a stream, over the replication protocol (a walsender).

Polling with ``pg_logical_slot_peek_changes`` decodes the slot again from its
restart position on every call, and on PostgreSQL 15 that position moves on only
when a running-transactions record is written (every 15 s, or at a checkpoint):
under steady writes each poll re-read up to 15 s of WAL, so a poll cost more the
longer it had been (an idle slot's empty poll 0.9 s at 117 MB). A walsender
decodes each record once, in its own process, while the applier applies.

psycopg 3 runs ``START_REPLICATION`` and leaves the connection in COPY BOTH mode;
the messages themselves are read and written here with its libpq wrapper
(``pgconn.get_copy_data``/``put_copy_data``), as the protocol documents them:
XLogData ('w') carries a decoded message, a primary keepalive ('k') where the
server stands, and a standby status update ('r') tells it how far the slot may
move (what is queued and committed).
"""

from __future__ import annotations

import select
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NoReturn

import psycopg
from psycopg import errors as pg_errors
from psycopg import pq, sql
from psycopg.rows import TupleRow

from replicator.core.quoting import Sql, ident, option_literal, sql_join
from replicator.inspect.connections import open_connection

# PostgreSQL's epoch, in microseconds after the Unix one: the protocol's clock.
PG_EPOCH_US = 946_684_800_000_000
XLOG_DATA = struct.Struct("!QQQ")  # after 'w': start, end of WAL sent, send time
KEEPALIVE = struct.Struct("!QQB")  # after 'k': end of WAL sent, send time, reply requested
STATUS = struct.Struct("!cQQQQB")  # 'r', written, flushed, applied, send time, reply requested
# A walsender of the last stream may still hold the slot for a moment after its
# connection closed; the next stream waits for it at most this long.
SLOT_RELEASE_SECONDS = 10.0
# A walsender ends a stream it has heard nothing from in wal_sender_timeout (60 s by
# default): while the applier applies a long backlog, it says it is there this often.
KEEP_ALIVE_SECONDS = 10.0


@dataclass
class WalStream:
    """One slot streamed from where it was last confirmed. ``messages`` gives the
    decoded messages committed before a position; ``confirm`` lets the slot move."""

    conninfo: str = field(repr=False)  # may hold a password: never printed
    what: str  # the database as connection errors name it
    slot: str
    options: dict[str, str]
    conn: psycopg.Connection[TupleRow] | None = None
    unread: str | None = None  # a message given back: the next ``messages`` starts with it
    confirmed: int = 0  # the last position confirmed
    last_status: float = 0.0  # monotonic time of the last status update sent

    def start(self) -> None:
        self.conn = open_connection(self.conninfo, self.what, replication=True)
        self.conn.execute("SET application_name = 'replicator listener'")
        command = Sql("START_REPLICATION SLOT {} LOGICAL 0/0 ({})").format(
            ident(self.slot),
            sql_join(
                Sql("{} {}").format(ident(name), option_literal(value))
                for name, value in self.options.items()
            ),
        )
        waited_until = time.monotonic() + SLOT_RELEASE_SECONDS
        while True:
            try:
                self.conn.execute(sql.SQL(command))
                return
            except pg_errors.ObjectInUse:
                if time.monotonic() > waited_until:
                    raise
                time.sleep(0.01)  # the last stream's walsender is still letting go

    def close(self) -> None:
        if self.conn is not None and not self.conn.closed:
            self.conn.close()
        self.conn = None

    def messages(self, upto: int) -> Iterator[str]:
        """The decoded messages, in order, until the server has sent everything written
        before ``upto`` (it says so in a keepalive, asked for when nothing comes). The
        caller stops early by leaving the loop; a message it read and cannot take yet it
        hands back with ``give_back``."""
        if self.unread is not None:
            data, self.unread = self.unread, None
            yield data
        pgconn = self._pgconn()
        asked = False
        while True:
            size, buffer = pgconn.get_copy_data(1)
            if size == 0:
                if not asked:
                    self._status(self.confirmed, reply=True)
                    asked = True
                select.select([pgconn.socket], [], [], 1.0)
                pgconn.consume_input()
                continue
            if size < 0:
                self._ended(pgconn)
            kind = buffer[0]
            if kind == ord("w"):
                yield bytes(buffer[1 + XLOG_DATA.size :]).decode()
            elif kind == ord("k"):
                sent, _, reply = KEEPALIVE.unpack_from(buffer, 1)
                asked = False
                if reply:
                    self._status(self.confirmed)
                if sent >= upto:
                    return

    def give_back(self, data: str) -> None:
        self.unread = data

    def confirm(self, position: int) -> None:
        """Everything before ``position`` is queued and committed: the slot may move there."""
        if position > self.confirmed:
            self.confirmed = position
            self._status(position)

    def keep_alive(self) -> None:
        """Between reads: tell the walsender the stream is still read, now and then."""
        if time.monotonic() - self.last_status > KEEP_ALIVE_SECONDS:
            self._status(self.confirmed)

    def _status(self, position: int, reply: bool = False) -> None:
        pgconn = self._pgconn()
        now = int(time.time() * 1_000_000) - PG_EPOCH_US
        pgconn.put_copy_data(STATUS.pack(b"r", position, position, position, now, int(reply)))
        pgconn.flush()
        self.last_status = time.monotonic()

    def _pgconn(self) -> pq.abc.PGconn:
        assert self.conn is not None
        return self.conn.pgconn

    def _ended(self, pgconn: pq.abc.PGconn) -> NoReturn:
        """The stream stopped: raise what the server said (the slot dropped or
        invalidated, the server shutting down)."""
        result = pgconn.get_result()
        if result is not None and result.status == pq.ExecStatus.FATAL_ERROR:
            raise pg_errors.error_from_result(result, encoding="utf-8")
        raise psycopg.OperationalError(
            f"the WAL stream of {self.what} ended: "
            + (pgconn.error_message.decode(errors="replace").strip() or "connection closed")
        )
