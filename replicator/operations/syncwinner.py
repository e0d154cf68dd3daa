"""Whose rows win a map's sync: the side ``--from`` names; else the source of a
direction stopped since the map's last sync (its changes meanwhile were never
captured); else the map's master. Two stopped directions and no --from: the DBA
must say, and sync refuses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import TupleRow

from replicator.core.errors import ReplicatorError, SyncRefused
from replicator.maps.model import Config, Direction, Side, TableMap, source_of

Connection = psycopg.Connection[TupleRow]


@dataclass(frozen=True)
class Stop:
    """A direction stopped since its map's last sync: what its source changed since
    ``at`` was not captured."""

    direction: Direction
    at: datetime
    still: bool  # stopped now, not only since the last sync


@dataclass(frozen=True)
class Winner:
    """The side whose rows win a map's sync, and why (for the activity log)."""

    side: Side
    why: str
    stops: tuple[Stop, ...] = ()
    chosen: bool = False  # named by --from


def stops(
    connections: Mapping[Side, Connection], config: Config, table_map: TableMap
) -> list[Stop]:
    """The directions of a map stopped since its last sync (each recorded on its
    source database, where the stop was made)."""
    found: list[Stop] = []
    for direction in table_map.directions:
        conn = connections[config.database_of(source_of(direction))]
        row = conn.execute(
            "SELECT stopped_at, state = 'stopped' FROM replicator.map_state"
            " WHERE map_name = %s AND direction = %s",
            (table_map.name, direction),
        ).fetchone()
        if row is None:
            raise ReplicatorError(f"map {table_map.name} is not deployed: run replicator deploy")
        if row[0] is not None:
            found.append(Stop(direction, row[0], bool(row[1])))
    return found


def choose(
    config: Config, table_map: TableMap, stopped: Sequence[Stop], from_side: Side | None
) -> Winner:
    """The side whose rows win: the one --from names; else the source of the one
    direction stopped since the last sync (what that side changed meanwhile was not
    captured, while the other side's changes kept crossing); else the master (the
    source, for a map that flows one way). Both directions stopped: each side may hold
    changes the other lacks, and only the DBA can say which wins."""
    if from_side is not None:
        if direction_out_of(from_side) not in table_map.directions:
            raise ReplicatorError(
                f"cannot sync --from {from_side}: map {table_map.name} flows"
                f" {table_map.direction}, never from the {from_side} side"
                f" ({config.side(from_side).name})"
            )
        return Winner(from_side, f"--from {from_side}", tuple(stopped), chosen=True)
    if len(stopped) > 1:
        raise refused(config, [table_map])
    if stopped:
        [stop] = stopped
        return Winner(
            source_of(stop.direction), f"{config.arrow(stop.direction)} was stopped", (stop,)
        )
    if direction_out_of(table_map.master) in table_map.directions:
        return Winner(table_map.master, "its master")
    [only] = table_map.directions
    return Winner(source_of(only), f"it flows only {config.arrow(only)}")


def said_of(config: Config, table_map: TableMap, winner: Winner) -> str:
    """The line sync prints before a map whose winner is not simply its master."""
    name = config.side(winner.side).name
    if winner.chosen:
        return f"{table_map.name}: copying from {name}, as --from {winner.side} says"
    if not winner.stops:
        return ""
    [stop] = winner.stops
    flow = f"{table_map.name} ({config.arrow(stop.direction)})"
    if stop.still:
        return (
            f"{table_map.name}: copying from {name}, whose changes are not captured while"
            f" {flow} is stopped: resume it, then sync again"
        )
    return (
        f"{table_map.name}: copying from {name}, whose changes were not captured while"
        f" {flow} was stopped"
    )


def advice(config: Config, table_map: TableMap, stopped: Sequence[Stop]) -> str:
    """What replicator resume says to run after a stop: the sync, and --from where the
    DBA must choose."""
    if len(stopped) > 1:
        return (
            f"with both directions stopped, run replicator sync {table_map.name}"
            f" --from left ({config.left.name}) or --from right ({config.right.name}),"
            " naming the side whose rows win"
        )
    side = choose(config, table_map, stopped, None).side
    return f"run replicator sync {table_map.name} to copy them from {config.side(side).name}"


def refused(config: Config, undecided: Sequence[TableMap]) -> SyncRefused:
    """Maps whose sync the DBA must tell which side wins."""
    said = [
        f"both directions of map {m.name} were stopped since its last sync, so"
        f" {config.left.name} and {config.right.name} may each have changes the other lacks;"
        f" say whose rows win: replicator sync {m.name} --from left ({config.left.name})"
        f" or --from right ({config.right.name})"
        for m in undecided
    ]
    if len(said) == 1:
        return SyncRefused(f"sync refused, nothing was copied: {said[0]}")
    return SyncRefused("sync refused, nothing was copied:\n" + "\n".join(f"  {s}" for s in said))


def direction_out_of(side: Side) -> Direction:
    """The direction that carries rows out of ``side``."""
    return "to_right" if side == "left" else "to_left"
