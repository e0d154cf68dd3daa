"""Who holds the locks deploy waits for (a mapped table's writers, another deploy),
and which sessions have written in an open transaction (creating a logical slot
waits for them): read after a lock wait timed out, to name them."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.rows import TupleRow

from replicator.core import locks
from replicator.core.resources import sql_file


@dataclass(frozen=True)
class LockHolder:
    """A session holding a lock deploy may have waited for."""

    locked: str | None  # schema.table; None: the deploy lock, or a transaction id
    mode: str
    pid: int
    role: str
    application: str
    state: str | None  # None: hidden from this role
    seconds: int
    database: str | None = None  # named when it may be another database of the server

    def __str__(self) -> str:
        where = f", database {self.database}" if self.database else ""
        application = f", application {self.application!r}" if self.application else ""
        state = f", {self.state} for {self.seconds} s" if self.state else ""
        what = (
            f"{self.mode} on {self.locked}"
            if self.locked
            else self.mode
            if self.database
            else "the deploy lock"
        )
        return f"pid {self.pid} (role {self.role}{where}{application}{state}) holds {what}"


def lock_holders(conn: psycopg.Connection[TupleRow], schemas: list[str]) -> list[LockHolder]:
    """Other sessions' locks on the tables of ``schemas`` and on the deploy lock,
    strongest first."""
    params = {"schemas": schemas, "deploy_1": locks.DEPLOY[0], "deploy_2": locks.DEPLOY[1]}
    return [LockHolder(*r) for r in conn.execute(sql_file("lock_holders.sql"), params).fetchall()]


def writing_sessions(conn: psycopg.Connection[TupleRow]) -> list[LockHolder]:
    """Sessions of the server in a transaction that has written, which creating a
    logical slot waits for, longest first."""
    return [LockHolder(*r) for r in conn.execute(sql_file("writing_sessions.sql")).fetchall()]
