"""``replicator sync``: copy the rows that exist before replication starts, or that
a stop left behind.

Maps go prerequisites first. Per map, one side's rows win: the side ``--from``
names; else the source of a direction stopped since the map's last sync (what it
changed meanwhile was never captured, while the other side's changes kept
crossing); else the map's master. First the rows the winning side lacks are
added from the other side (never overwriting), then the winning side's rows are
copied over (overwriting what differs, each overwrite in the activity log).
In that order the first pass reads the other side before the sync has written
anything there, so it cannot bring back a row the winner deleted meanwhile.
Between two servers, each pass reads one consistent snapshot of its source in
key order, a chunk at a time, through the generated snapshot function; both sides
in one database, a chunk is read and written by one call there, in the chunk's own
transaction: the rows as they are then rather than as of the pass's start, which
changes nothing at the end, since what changes meanwhile is captured and applies
after the copy either way. Each chunk is written in one target transaction with
its progress row: a sync killed at any point continues from its last chunk. The
generated sync function inserts at once the rows of keys the target holds nowhere
(no row, no clock, nothing queued); the rest goes set-based through the same apply
functions as captured changes. While a map syncs, both its directions are paused, so changes
captured meanwhile apply after the copy, in order, idempotently.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import TextIO

import psycopg
from psycopg.rows import TupleRow

from replicator.core import origins
from replicator.core.errors import ReplicatorError
from replicator.core.progress import Progress
from replicator.inspect.connections import connect, every_database, under_origin
from replicator.maps.model import Config, Direction, MapSet, Side, TableMap, source_of, target_of
from replicator.operations import activity, states
from replicator.operations.syncchunks import ChunkCopy
from replicator.operations.syncwinner import (
    Winner,
    choose,
    direction_out_of,
    refused,
    said_of,
    stops,
)
from replicator.sqlgen.probes import count_sql

Connection = psycopg.Connection[TupleRow]

CHUNK = 5000
SYNC_REASON = "initial sync"


@dataclass(frozen=True)
class Copied:
    map: str
    direction: Direction
    rows: int  # read from the source, written or not
    failed: int  # in the error log
    held: int = 0  # waiting in replicator.held_change for a parent the target lacks

    @property
    def written(self) -> int:
        return self.rows - self.failed - self.held


def sync(
    config: Config,
    maps: MapSet,
    names: list[str],
    out: TextIO,
    chunk: int = CHUNK,
    from_side: Side | None = None,
) -> list[Copied]:
    """Sync the named maps (every map by default), prerequisites first; ``from_side``
    (--from) wins in each. Nothing is copied if a map cannot say which side wins."""
    wanted = {m.name for m, _ in states.selected(maps, names, None)}
    table_maps = [m for m in maps.maps if m.name in wanted]  # prerequisites first
    with every_database(config) as connections:
        stopped = {m.name: stops(connections, config, m) for m in table_maps}
    undecided = [m for m in table_maps if from_side is None and len(stopped[m.name]) > 1]
    if undecided:
        raise refused(config, undecided)
    winners = [(m, choose(config, m, stopped[m.name], from_side)) for m in table_maps]
    results: list[Copied] = []
    for table_map, winner in winners:
        said = said_of(config, table_map, winner)
        if said:
            out.write(said + "\n")
        results += _sync_map(config, table_map, winner, chunk, out)
    return results


def passes(table_map: TableMap, winner: Side) -> list[tuple[Direction, bool]]:
    """(direction, keep existing rows) in order: into the winning side, then from it."""
    out_of = direction_out_of(winner)
    into: Direction = "to_left" if out_of == "to_right" else "to_right"
    if into not in table_map.directions:
        return [(out_of, False)]
    return [(into, True), (out_of, False)]


def _sync_map(
    config: Config, table_map: TableMap, winner: Winner, chunk: int, out: TextIO
) -> list[Copied]:
    # One connection per database for the map's states and progress, kept for the copy.
    with every_database(config) as control:

        def on(side: Side) -> Connection:
            return control[config.database_of(side)]

        paused = [d for d in table_map.directions if _pause(on(source_of(d)), config, table_map, d)]
        steps = passes(table_map, winner.side)
        # A run killed part-way is continued; otherwise the map starts afresh.
        begun = {d: _progress(on(target_of(d)), table_map.name, d) for d, _ in steps}
        resuming = any(state == "unfinished" for state in begun.values())
        results: list[Copied] = []
        for direction, keep_existing in steps:
            if resuming and begun[direction] == "finished":
                continue
            results.append(
                _sync_direction(config, table_map, direction, winner, keep_existing, chunk, out)
            )
        for direction in paused:
            states.change_state(
                on(source_of(direction)),
                config,
                table_map,
                direction,
                "resume",
                "initial sync done",
            )
        # Forget the stops this sync copied after: not one made since it read them, nor
        # one of a direction still stopped (what its source changes now is still not captured).
        for stop in winner.stops:
            on(source_of(stop.direction)).execute(
                "UPDATE replicator.map_state SET stopped_at = NULL"
                " WHERE map_name = %s AND direction = %s AND stopped_at = %s"
                " AND state <> 'stopped'",
                (table_map.name, stop.direction, stop.at),
            )
    return results


def _progress(conn: Connection, map_name: str, direction: Direction) -> str:
    """none, unfinished or finished: where this map direction's last sync got to."""
    row = conn.execute(
        "SELECT finished_at IS NOT NULL FROM replicator.sync_progress"
        " WHERE map_name = %s AND direction = %s",
        (map_name, direction),
    ).fetchone()
    return "none" if row is None else "finished" if row[0] else "unfinished"


def _sync_direction(
    config: Config,
    table_map: TableMap,
    direction: Direction,
    winner: Winner,
    keep_existing: bool,
    chunk: int,
    out: TextIO,
) -> Copied:
    source_side = source_of(direction)
    label = f"{table_map.name} ({config.arrow(direction)})"
    pass_ = ChunkCopy(table_map, direction, keep_existing, chunk)
    with contextlib.ExitStack() as stack:
        target = stack.enter_context(connect(config, config.database_of(target_of(direction))))
        # One database: the count is read here, and each chunk in the target's transaction.
        source = (
            target
            if config.same_database
            else stack.enter_context(connect(config, config.database_of(source_side)))
        )
        under_origin(target, origins.SYNC)
        after, copied, failed = _start(target, table_map.name, direction)
        held: list[int] = []  # ids of this run's rows held for a missing parent
        started = time.monotonic()
        with source.transaction():
            source.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            total_row = source.execute(
                count_sql(table_map, source_side, config.side(source_side).schema).encode()
            ).fetchone()
            bar = Progress(out, label, int(total_row[0]) if total_row else 0, done=copied)
            if not config.same_database:
                # Read from the snapshot, chunk by chunk, through the client.
                copied, failed, held = pass_.run(target, source, after, copied, failed, bar)
        if config.same_database:
            # Read and written in one statement here, in each chunk's own transaction.
            copied, failed, held = pass_.run(target, None, after, copied, failed, bar)
        bar.finish()
        still_held = _still_held(target, direction, held)
        _finish(
            target,
            table_map.name,
            direction,
            copied,
            failed,
            still_held,
            time.monotonic() - started,
            winner.side,
            f"{config.side(winner.side).name} winning ({winner.why})",
        )
    return Copied(table_map.name, direction, copied, failed, still_held)


def _pause(
    conn: psycopg.Connection[TupleRow], config: Config, table_map: TableMap, direction: Direction
) -> bool:
    """Pause a queued map for the copy; True if the sync paused it (now or in a run
    that was killed) and so resumes it afterwards."""
    if table_map.mode == "online":
        return False
    row = conn.execute(
        "SELECT state, state_reason FROM replicator.map_state WHERE map_name = %s AND direction = %s",
        (table_map.name, direction),
    ).fetchone()
    if row is None:
        raise ReplicatorError(f"map {table_map.name} is not deployed: run replicator deploy")
    state, reason = str(row[0]), row[1]
    if state in ("running", "catching_up"):
        states.change_state(conn, config, table_map, direction, "pause", SYNC_REASON)
        return True
    return state == "paused" and reason == SYNC_REASON


def _start(
    conn: psycopg.Connection[TupleRow], map_name: str, direction: Direction
) -> tuple[dict[str, object] | None, int, int]:
    """Where to begin: after the last chunk of an unfinished sync, else from the start."""
    row = conn.execute(
        "SELECT last_key, copied, failed, finished_at FROM replicator.sync_progress"
        " WHERE map_name = %s AND direction = %s",
        (map_name, direction),
    ).fetchone()
    if row is not None and row[3] is None:
        return row[0], int(row[1]), int(row[2])
    conn.execute(
        "INSERT INTO replicator.sync_progress (map_name, direction) VALUES (%s, %s)"
        " ON CONFLICT (map_name, direction) DO UPDATE SET last_key = NULL, copied = 0, failed = 0,"
        " started_at = now(), finished_at = NULL",
        (map_name, direction),
    )
    return None, 0, 0


def _still_held(conn: psycopg.Connection[TupleRow], direction: Direction, ids: list[int]) -> int:
    """How many of the rows held during the copy still wait (a later chunk of a parent
    map may have let some through)."""
    if not ids:
        return 0
    row = conn.execute(
        "SELECT count(*) FROM replicator.held_change WHERE direction = %s AND id = ANY (%s)",
        (direction, ids),
    ).fetchone()
    return int(row[0]) if row else 0


def _finish(
    conn: psycopg.Connection[TupleRow],
    map_name: str,
    direction: Direction,
    copied: int,
    failed: int,
    held: int,
    seconds: float,
    from_side: Side,
    winning: str,
) -> None:
    """Mark the pass done, and log it with the side that won and why."""
    with conn.transaction():
        conn.execute(
            "UPDATE replicator.sync_progress SET finished_at = now()"
            " WHERE map_name = %s AND direction = %s",
            (map_name, direction),
        )
        activity.record(
            conn,
            "sync",
            f"initial sync, {winning}: {copied} rows read, {failed} failed, {held} held for a"
            f" missing parent, this run {seconds:.1f} s",
            map_name,
            direction,
            {"copied": copied, "failed": failed, "held": held, "from": from_side},
        )
