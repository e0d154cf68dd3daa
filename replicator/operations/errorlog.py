"""The error log as a DBA works it: list, retry after a fix, skip, purge.

A direction's errors are logged on its target database, where the change
failed; with two servers each database holds the errors of the changes it
received, and an error id is looked up on both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from replicator.core.errors import ReplicatorError
from replicator.maps.model import Config, Direction, MapSet, Side, target_of
from replicator.operations import activity

ERRORS_QUERY = """
SELECT id, map_name, direction, op, key, attempts, logged_at, last_seen, state,
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
    direction: Direction  # to_right or to_left, as --direction takes it
    op: str
    key: dict[str, Any]  # the row's key as its source spells it
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
    maps: MapSet | None = None,
) -> list[LoggedError]:
    """The error log of every database, oldest first; with ``maps``, a message naming an
    apply function's own alias for the target row names the target table instead."""
    found: list[LoggedError] = []
    for role, conn in connections.items():
        for row in conn.execute(ERRORS_QUERY, {"map": map_name, "all": include_resolved}):
            found.append(
                LoggedError(
                    id=row[0],
                    database=label(config, role),
                    map=row[1],
                    direction=row[2],
                    op=row[3],
                    key=row[4],
                    attempts=row[5],
                    first_seen=row[6],
                    last_seen=row[7],
                    state=row[8],
                    sqlstate=row[9],
                    message=readable(config, maps, row[1], row[2], row[10]),
                    resolved_by=row[11],
                )
            )
    return sorted(found, key=lambda e: (e.first_seen, e.database, e.id))


# PostgreSQL names a column an apply function could not find by the alias the function
# reads it under ("column gone.display_name does not exist"): an alias the DBA never wrote.
_MISSING_COLUMN = re.compile(r"^column (\w+)\.(.+) does not exist$")


def readable(
    config: Config, maps: MapSet | None, map_name: str, direction: Direction, message: str
) -> str:
    """The database's message, with an apply function's alias for the row it writes
    replaced by the target table it stands for."""
    found = _MISSING_COLUMN.match(message)
    if found is None:
        return message
    schema = config.side(target_of(direction)).schema
    if found.group(1) == schema:
        return message  # already a table's own name
    table = (
        f"{schema}.{maps.by_name(map_name).table(target_of(direction))}"
        if maps is not None and map_name in maps.names
        else f"the {config.side(target_of(direction)).name} table of map {map_name}"
    )
    return (
        f"column {found.group(2)} of {table} does not exist (renamed or dropped since the"
        " deploy? see replicator status and the Drift section of the README)"
    )


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
    if len(holders) > 1 and kind == "error":
        # An id that is closed on one database and open on the other means the open one.
        still_open = [
            role
            for role in holders
            if connections[role]
            .execute(
                "SELECT 1 FROM replicator.error_log WHERE id = %s AND state = 'open'", (entry_id,)
            )
            .fetchone()
        ]
        holders = still_open if len(still_open) == 1 else holders
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


def open_ids(
    conn: psycopg.Connection[TupleRow], map_name: str | None, direction: str | None = None
) -> list[int]:
    """The open errors of a map (one way), or all, oldest first."""
    rows = conn.execute(
        "SELECT id FROM replicator.error_log WHERE state = 'open'"
        " AND (%(map)s::text IS NULL OR map_name = %(map)s)"
        " AND (%(direction)s::text IS NULL OR direction = %(direction)s) ORDER BY id",
        {"map": map_name, "direction": direction},
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


def purge(
    conn: psycopg.Connection[TupleRow], older_than: timedelta, dry_run: bool = False
) -> tuple[int, int, int]:
    """Delete closed errors, decided conflicts and activity older than ``older_than``;
    open errors and waiting conflicts stay until they are settled. Returns (errors,
    conflicts, activity rows) deleted; with ``dry_run``, what would be (the same
    statements, rolled back)."""
    with conn.transaction(force_rollback=dry_run):
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
