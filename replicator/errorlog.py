"""The error log as a DBA works it: list, retry after a fix, skip, purge.

A direction's errors are logged on its target database, where the change
failed; with two servers each database holds the errors of the changes it
received, and an error id is looked up on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from replicator import activity
from replicator.errors import ReplicatorError
from replicator.model import Config, Side

ERRORS_QUERY = """
SELECT id, map_name, direction, op, key::text, attempts, logged_at, last_seen, state,
       sqlstate, message, resolved_by
  FROM replicator.error_log
 WHERE (%(map)s::text IS NULL OR map_name = %(map)s)
   AND (%(all)s OR state = 'open')
 ORDER BY id
"""


@dataclass(frozen=True)
class LoggedError:
    id: int
    database: str  # the side label of the database holding it
    map: str
    direction: str
    op: str
    key: str
    attempts: int
    first_seen: datetime
    last_seen: datetime
    state: str
    sqlstate: str
    message: str
    resolved_by: str | None


def list_errors(
    connections: dict[Side, psycopg.Connection[TupleRow]],
    config: Config,
    map_name: str | None = None,
    include_resolved: bool = False,
) -> list[LoggedError]:
    found: list[LoggedError] = []
    for role, conn in connections.items():
        for row in conn.execute(ERRORS_QUERY, {"map": map_name, "all": include_resolved}):
            found.append(
                LoggedError(
                    id=row[0],
                    database=label(config, role),
                    map=row[1],
                    direction=config.arrow(row[2]),
                    op=row[3],
                    key=row[4],
                    attempts=row[5],
                    first_seen=row[6],
                    last_seen=row[7],
                    state=row[8],
                    sqlstate=row[9],
                    message=row[10],
                    resolved_by=row[11],
                )
            )
    return sorted(found, key=lambda e: (e.first_seen, e.database, e.id))


def locate(
    connections: dict[Side, psycopg.Connection[TupleRow]],
    config: Config,
    error_id: int,
    side: Side | None,
) -> Side:
    """The database holding error ``error_id``."""
    return locate_entry(connections, config, "error", error_id, side)


def locate_entry(
    connections: dict[Side, psycopg.Connection[TupleRow]],
    config: Config,
    kind: Literal["error", "conflict"],
    entry_id: int,
    side: Side | None,
) -> Side:
    """The database whose replicator.<kind>_log holds ``entry_id``: ids are per
    database, so with two servers the DBA may have to say which (``side``)."""
    query = sql.SQL("SELECT 1 FROM replicator.{} WHERE id = %s").format(
        sql.Identifier(f"{kind}_log")
    )
    holders = [
        role
        for role, conn in connections.items()
        if (side is None or role == side) and conn.execute(query, (entry_id,)).fetchone()
    ]
    if not holders:
        raise ReplicatorError(f"no {kind} {entry_id} in the {kind} log")
    if len(holders) > 1:
        labels = " and ".join(label(config, role) for role in holders)
        raise ReplicatorError(
            f"{kind} {entry_id} exists on both {labels}: say which with --side left|right"
        )
    return holders[0]


def retry(conn: psycopg.Connection[TupleRow], error_id: int) -> str:
    """Apply the logged change again; returns applied, failed again, or the state it had."""
    row = conn.execute("SELECT outcome FROM replicator.retry_error(%s)", (error_id,)).fetchone()
    return str(row[0]) if row else "unknown"


def open_ids(conn: psycopg.Connection[TupleRow], map_name: str | None) -> list[int]:
    rows = conn.execute(
        "SELECT id FROM replicator.error_log WHERE state = 'open'"
        " AND (%(map)s::text IS NULL OR map_name = %(map)s) ORDER BY id",
        {"map": map_name},
    ).fetchall()
    return [int(r[0]) for r in rows]


def skip(conn: psycopg.Connection[TupleRow], error_id: int, reason: str) -> str:
    """Close an error without applying it, recording who skipped it and why."""
    with conn.transaction():
        row = conn.execute(
            "UPDATE replicator.error_log"
            "   SET state = 'skipped', resolved_at = now(), resolved_by = current_user"
            " WHERE id = %s AND state = 'open' RETURNING map_name, direction, key::text",
            (error_id,),
        ).fetchone()
        if row is None:
            state = conn.execute(
                "SELECT state FROM replicator.error_log WHERE id = %s", (error_id,)
            ).fetchone()
            return f"not skipped: it is {state[0] if state else 'unknown'}"
        activity.record(
            conn,
            "skip",
            f"error {error_id} skipped" + (f": {reason}" if reason else ""),
            row[0],
            row[1],
            {"error_id": error_id, "reason": reason or None},
        )
    return "skipped"


def purge(conn: psycopg.Connection[TupleRow], older_than: timedelta) -> tuple[int, int, int]:
    """Delete closed errors, decided conflicts and activity older than ``older_than``;
    open errors and waiting conflicts stay until they are settled. Returns (errors,
    conflicts, activity rows) deleted."""
    with conn.transaction():
        errors = conn.execute(
            "DELETE FROM replicator.error_log WHERE state <> 'open' AND resolved_at < now() - %s",
            (older_than,),
        ).rowcount
        conflicts = conn.execute(
            "DELETE FROM replicator.conflict_log"
            " WHERE outcome <> 'waiting' AND coalesce(resolved_at, logged_at) < now() - %s",
            (older_than,),
        ).rowcount
        # A row deleted that long ago: a change made before the delete has crossed since,
        # and met its clock.
        conn.execute(
            "DELETE FROM replicator.versions WHERE gone IS NOT NULL AND touched_at < now() - %s",
            (older_than,),
        )
        deleted = conn.execute(
            "DELETE FROM replicator.activity_log WHERE at < now() - %s", (older_than,)
        ).rowcount
        activity.record(
            conn,
            "purge",
            f"purged {errors} closed errors, {conflicts} conflicts and {deleted} activity rows"
            f" older than {older_than}",
        )
    return errors, conflicts, deleted


def label(config: Config, role: Side) -> str:
    """How listings name a database: its side, or both sides' names when shared."""
    if config.same_database:
        return f"{config.left.name}+{config.right.name}"
    return config.side(role).name
