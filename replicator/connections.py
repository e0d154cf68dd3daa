"""Connections to the sides' databases, with errors that never show a password."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
from psycopg.rows import TupleRow

from replicator import origins
from replicator.config import redacted
from replicator.errors import DatabaseError
from replicator.model import Config, Side


def connect(config: Config, role: Side) -> psycopg.Connection[TupleRow]:
    side = config.side(role)
    try:
        return psycopg.connect(side.conninfo, autocommit=True)
    except psycopg.OperationalError as exc:
        raise DatabaseError(
            f"cannot connect to the {role} side {side.name!r} ({side.conninfo_source},"
            f" {redacted(side.conninfo)}): {str(exc).strip()}"
        ) from None


@contextlib.contextmanager
def every_database(config: Config) -> Iterator[dict[Side, psycopg.Connection[TupleRow]]]:
    """One connection per database (one, or one per side), closed afterwards."""
    with contextlib.ExitStack() as stack:
        yield {role: stack.enter_context(connect(config, role)) for role in config.databases}


def under_origin(conn: psycopg.Connection[TupleRow], purpose: str) -> None:
    """Mark the session's writes as the replicator's own (``purpose``) where its database
    has WAL capture, so its slot's listener leaves them out (loop safety). A database
    without WAL capture has no such origin, and its triggers skip the writes anyway."""
    # Two statements: a role without WAL capture here may not call the setup at all.
    row = conn.execute(
        f"SELECT name FROM (SELECT {origins.name_sql('%s')} AS name) AS o"
        f" WHERE pg_replication_origin_oid(name) IS NOT NULL",
        (purpose,),
    ).fetchone()
    if row is not None:
        conn.execute("SELECT pg_replication_origin_session_setup(%s)", (row[0],))
