"""The applier's heartbeat: a row in each database that says which applier runs
where and when it last polled (``replicator status``: "running on …, last polled")."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import psycopg
from psycopg.rows import TupleRow

# Seconds between updates of the heartbeat row status reads ("last polled").
HEARTBEAT = 1.0


@dataclass
class Heartbeat:
    """The heartbeat rows of the applier's connections, kept at most HEARTBEAT s old."""

    beating: list[psycopg.Connection[TupleRow]] = field(default_factory=list)
    last: float | None = None  # monotonic time of the last beat

    def start(self, connections: Iterable[psycopg.Connection[TupleRow]]) -> None:
        """Claim the heartbeat row of each database for this applier's session."""
        self.beating = [
            conn
            for conn in connections
            # A database deployed before the heartbeat has no table for it until the
            # next deploy; the applier runs there all the same.
            if conn.execute("SELECT to_regclass('replicator.applier_heartbeat')").fetchone()
            != (None,)
        ]
        for conn in self.beating:
            conn.execute(
                "INSERT INTO replicator.applier_heartbeat (pid, host, os_pid)"
                " VALUES (pg_backend_pid(), %s, %s) ON CONFLICT (singleton) DO UPDATE"
                " SET pid = EXCLUDED.pid, host = EXCLUDED.host, os_pid = EXCLUDED.os_pid,"
                " started_at = now(), polled_at = now()",
                (socket.gethostname(), os.getpid()),
            )
        self.last = time.monotonic()

    def beat(self) -> None:
        """Record that the applier polls, at most every HEARTBEAT seconds."""
        started = time.monotonic()
        if self.last is not None and started - self.last < HEARTBEAT:
            return
        self.last = started
        for conn in self.beating:
            conn.execute(
                "UPDATE replicator.applier_heartbeat SET polled_at = now()"
                " WHERE pid = pg_backend_pid()"
            )

    def stop(self) -> None:
        """The connections closed: nothing to beat on until the next start."""
        self.beating.clear()
