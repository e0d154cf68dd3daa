"""Connections to the sides' databases, with errors that never show a password."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
from psycopg.rows import TupleRow

from replicator import origins
from replicator.config import redacted, scrubbed
from replicator.errors import ConnectError, DatabaseError
from replicator.model import Config, Side


def connect(config: Config, role: Side, autocommit: bool = True) -> psycopg.Connection[TupleRow]:
    """A connection to the database of side ``role``; ConnectError names the side."""
    side = config.side(role)
    return open_connection(
        side.conninfo,
        f"the {role} side {side.name!r} ({side.conninfo_source}, {redacted(side.conninfo)})",
        autocommit=autocommit,
    )


def open_connection(
    conninfo: str, what: str, autocommit: bool = True
) -> psycopg.Connection[TupleRow]:
    """Connect to ``conninfo``, or raise ConnectError saying it could not reach ``what``.

    Every connection the replicator opens comes through here. The error keeps no
    reference to psycopg's: that one carries the failed connection, password and all."""
    try:
        return psycopg.connect(conninfo, autocommit=autocommit)
    except psycopg.OperationalError as exc:
        reason = scrubbed(str(exc).strip(), conninfo)
    raise ConnectError(f"cannot connect to {what}: {reason}")


def require_deployed(conn: psycopg.Connection[TupleRow], config: Config, role: Side) -> None:
    """Raise DatabaseError, saying to deploy, unless a deploy has prepared the database
    that side ``role`` reaches: every command but validate, plan and deploy reads or
    calls what deploy creates there."""
    row = conn.execute("SELECT to_regproc('replicator.apply_batch')").fetchone()
    if row is None or row[0] is None:
        raise DatabaseError(
            f"nothing is deployed on the {config.side(role).name} database:"
            " run replicator deploy first"
        )


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
