"""One pass of ``replicator sync`` (replicator.operations.sync): a map direction's
rows copied a chunk a target transaction at a time, each with its progress row.
Between two servers the source's chunks are read one ahead of the target's writes.
"""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import TupleRow

from replicator.core.progress import Progress
from replicator.core.quoting import Sql
from replicator.maps.model import Direction, TableMap
from replicator.sqlgen.snapshot import direct_query, rows_query, snapshot_query, sync_query

Connection = psycopg.Connection[TupleRow]


@dataclass(frozen=True)
class ChunkCopy:
    """One map direction's copy, a chunk a target transaction at a time: the sync
    function writes the rows of keys the target holds nowhere, apply_batch the rest."""

    table_map: TableMap
    direction: Direction
    keep_existing: bool
    chunk: int

    def run(
        self,
        target: Connection,
        source: Connection | None,
        after: object,
        copied: int,
        failed: int,
        bar: Progress,
    ) -> tuple[int, int, list[int]]:
        """Copy chunk after chunk until the source has no more, reading them from
        ``source``'s snapshot, or (None: one database) in the target's transaction."""
        held: list[int] = []
        with self._rows_ahead(source, after) as ahead:
            while True:
                with target.transaction():
                    rows, last, rest = self._read(target, source, ahead, after)
                    if not rows:
                        break
                    after = last
                    chunk_failed, chunk_held = self._apply_rest(target, rest)
                    target.execute(
                        "UPDATE replicator.sync_progress SET last_key = %s::jsonb,"
                        " copied = copied + %s, failed = failed + %s"
                        " WHERE map_name = %s AND direction = %s",
                        (json.dumps(after), rows, chunk_failed, self.table_map.name,
                         self.direction),
                    )
                failed += chunk_failed
                held += chunk_held
                copied += rows
                bar.advance(rows)
        return copied, failed, held

    def _rows_ahead(
        self, source: Connection | None, after: object
    ) -> contextlib.AbstractContextManager[_RowsAhead | None]:
        """Between two servers, for the fast path (no lookups): the source's chunks read
        one ahead of the target's writes."""
        if source is None or self.table_map.lookup_fields(self.direction):
            return contextlib.nullcontext()
        return _RowsAhead(source, rows_query(self.table_map, self.direction), self.chunk, after)

    def _read(
        self,
        target: Connection,
        source: Connection | None,
        ahead: _RowsAhead | None,
        after: object,
    ) -> tuple[int, object, list[dict[str, Any]]]:
        """The next chunk, its rows of keys the target holds nowhere written already:
        (rows read, the key of the last, the changes left for apply_batch)."""
        after_json = json.dumps(after) if after is not None else None
        if source is None:
            query = direct_query(self.table_map, self.direction)
            outcome = _one(target.execute(query.encode(), (after_json, self.chunk)))
            return int(outcome["read"]), outcome["last"], outcome["rest"]
        if ahead is None:
            # Each row's parents are resolved by the apply function: no fast path.
            changes = self._changes(source, after_json)
            return len(changes), changes[-1]["key"] if changes else None, changes
        rows, count, last = ahead.take()
        if not count:
            return 0, None, []
        outcome = _one(target.execute(sync_query(self.table_map, self.direction).encode(), (rows,)))
        # No "rest": the fast path did not run, and all of the chunk is left.
        left: list[int] = outcome.get("rest", list(range(1, count + 1)))
        if not left:
            return count, last, []
        # The same snapshot gives the same rows: the changes of those left, by position.
        ahead.settle()
        changes = self._changes(source, after_json)
        return count, last, [changes[p - 1] for p in left]

    def _changes(self, source: Connection, after_json: str | None) -> list[dict[str, Any]]:
        """The chunk as changes, as the snapshot function gives them."""
        query = snapshot_query(self.table_map, self.direction)
        return list(json.loads(str(_one(source.execute(query.encode(), (after_json, self.chunk))))))

    def _apply_rest(self, conn: Connection, rest: list[dict[str, Any]]) -> tuple[int, list[int]]:
        """apply_batch on the changes the sync function left; returns the failures (each
        in the error log) and the ids of the rows held for a parent the target lacks."""
        if not rest:
            return 0, []
        if self.keep_existing:
            conn.execute("SET LOCAL replicator.keep_existing = 'on'")
        else:
            conn.execute(
                "SELECT set_config('replicator.sync_log', %s, true)", (self.table_map.name,)
            )
        row = conn.execute(
            "SELECT replicator.apply_batch(%s, %s::jsonb)", (self.direction, json.dumps(rest))
        ).fetchone()
        held = [
            int(r[0])
            for r in conn.execute(
                "SELECT id FROM replicator.held_change WHERE direction = %s AND id = ANY (%s)",
                (self.direction, [int(str(change["id"])) for change in rest]),
            )
        ]
        return (int(row[0]) if row else 0), held


class _RowsAhead:
    """The source's chunks as plain rows, each read while the target writes the one
    before it: the two servers work side by side rather than in turn. One read at a
    time is in flight (a thread of its own, on the source's connection and snapshot);
    leaving waits for it."""

    def __init__(self, source: Connection, query: Sql, chunk: int, after: object) -> None:
        self._source, self._query, self._chunk = source, query.encode(), chunk
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-read")
        self._next = self._pool.submit(self._read, after)

    def __enter__(self) -> _RowsAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def take(self) -> tuple[str, int, object]:
        """The next chunk (rows as json text, how many, the key of the last), and
        the read of the one after it begun."""
        rows, count, last = self._next.result()
        if count:
            self._next = self._pool.submit(self._read, last)
        return rows, count, last

    def settle(self) -> None:
        """Wait until the source's connection is free (its read ahead done)."""
        self._next.result()

    def _read(self, after: object) -> tuple[str, int, object]:
        after_json = json.dumps(after) if after is not None else None
        row = self._source.execute(self._query, (after_json, self._chunk)).fetchone()
        assert row is not None
        return str(row[0]), int(row[1]), json.loads(row[2])


def _one(cursor: psycopg.Cursor[TupleRow]) -> Any:
    """The one value of the one row a call returns."""
    row = cursor.fetchone()
    assert row is not None
    return row[0]
