"""Map states: pause, resume and stop, per map and direction.

A direction's state lives on its source database, where its changes are
captured and queued: ``paused`` keeps capturing and applies nothing,
``stopped`` captures nothing (its capture triggers are disabled, or its WAL
capture function drops what the slot holds for it), ``failed`` is
a pause made by an alert rule. Resuming a map with a backlog makes it
``catching_up`` until the backlog has drained. Every change is written to the
activity log with who, when and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import psycopg
from psycopg.rows import TupleRow

from replicator.core.errors import ReplicatorError
from replicator.maps.model import Config, Direction, MapSet, Mode, TableMap
from replicator.operations import activity

Action = Literal["pause", "resume", "stop", "fail"]
HALTED = ("paused", "failed")


@dataclass(frozen=True)
class DeployedMap:
    """A deployed map known by its name alone, as the running applier knows the map an
    alert rule halts: it acts on what is deployed and never reads the map files, which
    a DBA may be halfway through editing. Only a queued map logs errors, so only a
    queued map meets an alert rule."""

    name: str
    mode: Mode = "queued"


@dataclass(frozen=True)
class RemovedMap(DeployedMap):
    """A map no longer in the maps files but still deployed: its backlog can be resumed
    (the applier drains it with the functions still deployed) or paused, until the
    deploy that removes it."""


@dataclass(frozen=True)
class StateChange:
    map: str
    direction: Direction
    before: str
    after: str
    note: str = ""


def selected(
    maps: MapSet,
    names: list[str],
    direction: Direction | None,
    deployed: Callable[[str], list[Direction]] | None = None,
) -> list[tuple[TableMap | RemovedMap, Direction]]:
    """The (map, direction) pairs a command names; every name must be a map, or, given
    ``deployed`` (a removed map's deployed directions), a map still deployed."""
    pairs: list[tuple[TableMap | RemovedMap, Direction]] = []
    for name in names:
        if name in maps.names:
            continue
        found = deployed(name) if deployed is not None else []
        if not found:
            raise ReplicatorError(
                f"no map named {name!r} (maps: {', '.join(sorted(maps.names))})"
                + ("; none of that name is deployed either" if deployed is not None else "")
            )
        pairs += [(RemovedMap(name), d) for d in found if direction is None or d == direction]
    pairs += [
        (table_map, d)
        for table_map in maps.maps
        if not names or table_map.name in names
        for d in table_map.directions
        if direction is None or d == direction
    ]
    if not pairs:
        raise ReplicatorError(f"the named maps do not flow {direction}")
    return pairs


def current(conn: psycopg.Connection[TupleRow], map_name: str, direction: Direction) -> str | None:
    """The state of one map direction, on its source database (None: not deployed)."""
    row = conn.execute(
        "SELECT state FROM replicator.map_state WHERE map_name = %s AND direction = %s",
        (map_name, direction),
    ).fetchone()
    return str(row[0]) if row else None


def change_state(
    conn: psycopg.Connection[TupleRow],
    config: Config,
    table_map: TableMap | DeployedMap,
    direction: Direction,
    action: Action,
    reason: str,
) -> StateChange:
    """Apply one action to one map direction on its source database (``conn``)."""
    with conn.transaction():
        row = conn.execute(
            "SELECT state, state_since FROM replicator.map_state"
            " WHERE map_name = %s AND direction = %s FOR UPDATE",
            (table_map.name, direction),
        ).fetchone()
        if row is None:
            raise ReplicatorError(
                f"map {table_map.name} ({config.arrow(direction)}) is not deployed: run replicator deploy"
            )
        before, since = str(row[0]), row[1]
        after, note = _next_state(table_map, before, action)
        if after == "catching_up" and not _backlog(conn, table_map.name, direction):
            after = "running"
        # The capture functions read the state (trigger and WAL capture alike); what the
        # command resuming it says to do next depends on the map's other direction.
        if before == "stopped" and after != "stopped":
            note = (
                f"changes made while it was stopped (since {since:%Y-%m-%d %H:%M:%S %Z}) were not"
                " captured"
            )
        if after != before:
            # A stop is remembered until a sync has copied what it missed (replicator.operations.sync).
            conn.execute(
                "UPDATE replicator.map_state SET state = %s, state_since = now(), state_reason = %s,"
                " stopped_at = CASE WHEN %s = 'stopped' THEN now() ELSE stopped_at END"
                " WHERE map_name = %s AND direction = %s",
                (after, reason or None, after, table_map.name, direction),
            )
            activity.record(
                conn,
                "state",
                f"{before} → {after}" + (f": {reason}" if reason else ""),
                table_map.name,
                direction,
                {"reason": reason or None},
            )
    return StateChange(table_map.name, direction, before, after, note)


def _next_state(table_map: TableMap | DeployedMap, before: str, action: Action) -> tuple[str, str]:
    if action in ("pause", "fail"):
        if table_map.mode == "online":
            raise ReplicatorError(
                f"map {table_map.name} is online: it has no queue to pause; stop it instead"
            )
        if before == "stopped":
            return before, "stopped: nothing to pause (resume it first)"
        return ("paused" if action == "pause" else "failed"), ""
    if action == "stop":
        return "stopped", ""
    if before in (*HALTED, "stopped"):
        return "catching_up", ""
    return before, ""


def _backlog(conn: psycopg.Connection[TupleRow], map_name: str, direction: Direction) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM replicator.change_queue WHERE direction = %s AND map_name = %s)",
        (direction, map_name),
    ).fetchone()
    return bool(row and row[0])
