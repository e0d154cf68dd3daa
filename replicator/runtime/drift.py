"""Drift: a table under a deployed map changed (a column renamed, dropped or retyped,
the table renamed or dropped, a capture trigger gone).

Deploy records what each map relies on (replicator.map_dependency, by oid and
attnum); ``replicator.drift()`` compares that record with the catalog. The applier
asks before it applies and after a batch with failures: a drifted map goes
``failed`` with the message as its reason, its changes stay queued, and the other
maps go on. After the DBA edits the map and deploys, ``replicator resume`` applies
the backlog.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.rows import TupleRow

from replicator.maps.model import Direction
from replicator.operations import activity


@dataclass(frozen=True)
class Drift:
    """One thing that is not what a map relied on when it was deployed."""

    map: str
    side: str | None
    table: str | None
    column: str | None
    change: str  # "column renamed", "table dropped", "trigger dropped", ...
    message: str  # names it, what happens meanwhile, and the fix


def read_drift(conn: psycopg.Connection[TupleRow]) -> list[Drift]:
    """What replicator.drift() reports on this database (nothing before a deploy)."""
    exists = conn.execute("SELECT to_regprocedure('replicator.drift()') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return []
    return [
        Drift(str(r[0]), r[1], r[2], r[3], str(r[4]), str(r[5]))
        for r in conn.execute(
            "SELECT map_name, side, table_name, column_name, change, message FROM replicator.drift()"
        ).fetchall()
    ]


def by_map(found: list[Drift]) -> dict[str, str]:
    """Per drifted map, the reason its state shows: every message, then how to go on."""
    messages: dict[str, list[str]] = {}
    for drift in found:
        if drift.message not in messages.setdefault(drift.map, []):
            messages[drift.map].append(drift.message)
    return {
        name: "; ".join(texts) + f"; then replicator resume {name}"
        for name, texts in sorted(messages.items())
    }


def fail(
    conn: psycopg.Connection[TupleRow], map_name: str, direction: Direction, reason: str
) -> str | None:
    """Put a map direction into ``failed`` with ``reason`` on its source database
    (``conn``); return the state it left, or None if nothing changed (already failed
    for this reason, stopped, or not deployed here)."""
    with conn.transaction():
        row = conn.execute(
            "SELECT state, state_reason FROM replicator.map_state"
            " WHERE map_name = %s AND direction = %s FOR UPDATE",
            (map_name, direction),
        ).fetchone()
        if row is None or row[0] == "stopped" or (row[0] == "failed" and row[1] == reason):
            return None
        before = str(row[0])
        conn.execute(
            "UPDATE replicator.map_state SET state = 'failed', state_since = now(),"
            " state_reason = %s WHERE map_name = %s AND direction = %s",
            (reason, map_name, direction),
        )
        activity.record(
            conn, "drift", f"{before} → failed: {reason}", map_name, direction, {"reason": reason}
        )
    return before
