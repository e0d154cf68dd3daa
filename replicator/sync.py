"""``replicator sync``: copy the rows that exist before replication starts.

Maps go prerequisites first. Per map, first the rows the master side lacks are
added from the other side (never overwriting), then the master side's rows are
copied over (overwriting what differs, each overwrite in the activity log).
In that order the first pass reads the other side before the sync has written
anything there, so it cannot bring back a row the master deleted meanwhile.
Each pass reads one consistent snapshot of its source in key order, a chunk at
a time, through the generated snapshot function, and applies each chunk
set-based through the same apply functions as captured changes, in one target
transaction with its progress row: a sync killed at any point continues from
its last chunk. While a map syncs, both its directions are paused, so changes
captured meanwhile apply after the copy, in order, idempotently.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TextIO

import psycopg
from psycopg.rows import TupleRow

from replicator import activity, origins, states
from replicator.compiler import count_sql, snapshot_query
from replicator.connections import connect, under_origin
from replicator.errors import ReplicatorError
from replicator.model import Config, Direction, MapSet, TableMap, source_of, target_of
from replicator.progress import Progress

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
    config: Config, maps: MapSet, names: list[str], out: TextIO, chunk: int = CHUNK
) -> list[Copied]:
    wanted = {m.name for m, _ in states.selected(maps, names, None)}
    results: list[Copied] = []
    for table_map in maps.maps:  # prerequisites first
        if table_map.name in wanted:
            results += _sync_map(config, table_map, chunk, out)
    return results


def passes(table_map: TableMap) -> list[tuple[Direction, bool]]:
    """(direction, keep existing rows) in order: into the master side, then from it."""
    master: Direction = "to_right" if table_map.master == "left" else "to_left"
    other: Direction = "to_left" if master == "to_right" else "to_right"
    if master not in table_map.directions:
        return [(other, False)]
    if other not in table_map.directions:
        return [(master, False)]
    return [(other, True), (master, False)]


def _sync_map(config: Config, table_map: TableMap, chunk: int, out: TextIO) -> list[Copied]:
    paused: list[Direction] = []
    for direction in table_map.directions:
        with connect(config, config.database_of(source_of(direction))) as conn:
            if _pause(conn, config, table_map, direction):
                paused.append(direction)
    steps = passes(table_map)
    # A run killed part-way is continued; otherwise the map starts afresh.
    begun = {d: _progress(config, table_map.name, d) for d, _ in steps}
    resuming = any(state == "unfinished" for state in begun.values())
    results: list[Copied] = []
    for direction, keep_existing in steps:
        if resuming and begun[direction] == "finished":
            continue
        results.append(_sync_direction(config, table_map, direction, keep_existing, chunk, out))
    for direction in paused:
        with connect(config, config.database_of(source_of(direction))) as conn:
            states.change_state(conn, config, table_map, direction, "resume", "initial sync done")
    return results


def _progress(config: Config, map_name: str, direction: Direction) -> str:
    """none, unfinished or finished: where this map direction's last sync got to."""
    with connect(config, config.database_of(target_of(direction))) as conn:
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
    keep_existing: bool,
    chunk: int,
    out: TextIO,
) -> Copied:
    source_side = source_of(direction)
    label = f"{table_map.name} ({config.arrow(direction)})"
    with (
        connect(config, config.database_of(source_side)) as source,
        connect(config, config.database_of(target_of(direction))) as target,
    ):
        under_origin(target, origins.SYNC)
        after, copied, failed = _start(target, table_map.name, direction)
        keys = [f.column(source_side) or "" for f in table_map.key_fields]
        held: list[int] = []  # ids of this run's rows held for a missing parent
        started = time.monotonic()
        with source.transaction():
            source.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            total_row = source.execute(
                count_sql(table_map, source_side, config.side(source_side).schema).encode()
            ).fetchone()
            bar = Progress(out, label, int(total_row[0]) if total_row else 0, done=copied)
            while True:
                row = source.execute(
                    snapshot_query(table_map, direction).encode(),
                    (json.dumps(after) if after is not None else None, chunk),
                ).fetchone()
                batch_text = str(row[0]) if row else "[]"
                batch = json.loads(batch_text)
                if not batch:
                    break
                after = {k: batch[-1]["image"][k] for k in keys}
                chunk_failed, chunk_held = _apply_chunk(
                    target, table_map.name, direction, keep_existing, batch_text, after, batch
                )
                failed += chunk_failed
                held += chunk_held
                copied += len(batch)
                bar.advance(len(batch))
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


def _apply_chunk(
    conn: psycopg.Connection[TupleRow],
    map_name: str,
    direction: Direction,
    keep_existing: bool,
    batch_text: str,
    after: dict[str, object],
    batch: list[dict[str, object]],
) -> tuple[int, list[int]]:
    """Apply one chunk and record it as done, in one transaction; returns the failures
    (each in the error log) and the ids of the rows held for a parent the target lacks."""
    with conn.transaction():
        if keep_existing:
            conn.execute("SET LOCAL replicator.keep_existing = 'on'")
        else:
            conn.execute("SELECT set_config('replicator.sync_log', %s, true)", (map_name,))
        row = conn.execute(
            "SELECT replicator.apply_batch(%s, %s::jsonb)", (direction, batch_text)
        ).fetchone()
        failed = int(row[0]) if row else 0
        held = [
            int(r[0])
            for r in conn.execute(
                "SELECT id FROM replicator.held_change WHERE direction = %s AND id = ANY (%s)",
                (direction, [int(str(change["id"])) for change in batch]),
            )
        ]
        conn.execute(
            "UPDATE replicator.sync_progress SET last_key = %s::jsonb, copied = copied + %s,"
            " failed = failed + %s WHERE map_name = %s AND direction = %s",
            (json.dumps(after), len(batch), failed, map_name, direction),
        )
    return failed, held


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
) -> None:
    with conn.transaction():
        conn.execute(
            "UPDATE replicator.sync_progress SET finished_at = now()"
            " WHERE map_name = %s AND direction = %s",
            (map_name, direction),
        )
        activity.record(
            conn,
            "sync",
            f"initial sync: {copied} rows read, {failed} failed, {held} held for a missing"
            f" parent, this run {seconds:.1f} s",
            map_name,
            direction,
            {"copied": copied, "failed": failed, "held": held},
        )
