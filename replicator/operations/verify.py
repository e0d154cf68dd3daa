"""``replicator verify`` (its output: ``verifyreport``): compare both sides under the
maps without copying them.

Per map, each side's rows are projected into one comparable form (see
replicator.sqlgen.verifysql) and bucketed by the md5 of their key: an order and a
partition both sides agree on whatever their collations, with buckets of even
size. The first pass reads each table once, a slice of its blocks at a time (the
progress bar follows the slices), and keeps per bucket a row count and a sum of
row hashes. Buckets that differ are split sixteen ways by the next hex digit of
the key's md5 and hashed again, until a bucket holds at most ``leaf`` rows; only
those rows' keys and hashes are read and compared. Memory is one entry per bucket
of the first pass (about ``chunk`` rows each) plus a bounded group of buckets and
rows per query below it.

Each database is read in one REPEATABLE READ snapshot (both sides in one snapshot
when they share a database). Changes still queued, or being applied while verify
runs, show as differences: verify a quiet system, or verify again.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, TextIO, TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from replicator.core.errors import ReplicatorError
from replicator.core.progress import Progress
from replicator.core.quoting import ident
from replicator.inspect.connections import connect
from replicator.maps.model import SIDES, Config, MapSet, Side, TableMap
from replicator.sqlgen.probes import count_sql
from replicator.sqlgen.sqltypes import AllTables
from replicator.sqlgen.verifysql import (
    Projection,
    all_tables,
    compared_fields,
    kept_nulls,
    projection,
)

CHUNK = 1000  # rows per bucket of the first pass, about
# A differing bucket of at most this many rows is compared row by row; a larger one
# is split, which costs another read of both tables (md5 buckets have no index), so
# reading a few hundred rows beats another level.
LEAF = 256
GROUP = 256  # buckets per query below the first pass
SLICES = 20  # the first pass reads each table in this many slices of blocks
LAST_TID = "(4294967294,0)"
HEX_DIGITS = 32

T = TypeVar("T")
Kind = Literal["missing_left", "missing_right", "differs"]
Connection = psycopg.Connection[TupleRow]
Buckets = dict[str, tuple[int, int]]  # bucket → (rows, checksum)


@dataclass(frozen=True)
class Difference:
    """A key whose rows differ under a map: one side lacks it, or its fields differ."""

    map: str
    key: list[Any]  # as both sides spell it (a lookup key: the parent's key, nested)
    label: str  # for people: "dataareaid=usmf, account_num=C1"
    kind: Kind
    own_keys: dict[Side, dict[str, Any]]  # per side holding the row: its key columns
    # differs: per field that differs, each side's value as verify compares it
    fields: dict[str, dict[Side, Any]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "map": self.map,
            "key": self.key,
            "label": self.label,
            "kind": self.kind,
            "left": self.own_keys.get("left"),
            "right": self.own_keys.get("right"),
            "fields": self.fields,
        }


@dataclass
class Verified:
    """What verify found for one map, and what it took."""

    map: str
    rows: dict[Side, int]
    missing_left: int = 0
    missing_right: int = 0
    differs: int = 0
    queries: int = 0  # bucket and row queries after the first pass, both sides
    rows_read: int = 0  # rows compared one by one, both sides
    seconds: float = 0.0

    @property
    def differences(self) -> int:
        return self.missing_left + self.missing_right + self.differs

    def count(self, difference: Difference) -> None:
        if difference.kind == "missing_left":
            self.missing_left += 1
        elif difference.kind == "missing_right":
            self.missing_right += 1
        else:
            self.differs += 1


@dataclass
class Verifier:
    """Reads both sides of the maps, each database in one snapshot."""

    config: Config
    maps: MapSet
    tables: AllTables
    progress: TextIO | None = None  # where the progress bar goes, if anywhere
    chunk: int = CHUNK
    leaf: int = LEAF
    connections: dict[Side, Connection] = field(default_factory=dict)
    found: list[Verified] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def connection(self, side: Side) -> Connection:
        return self.connections[side]

    def differences(self, table_map: TableMap) -> Iterator[Difference]:
        """Every difference of one map; its summary is appended to ``found`` at the end."""
        started = time.monotonic()
        sides = {side: projection(self.maps, self.tables, table_map, side) for side in SIDES}
        rows = {side: self._count(table_map, side) for side in SIDES}
        verified = Verified(table_map.name, rows)
        length = max(1, math.ceil(math.log(max(max(rows.values()), 1) / self.chunk, 16)))
        bar = (
            Progress(self.progress, f"verify {table_map.name}", sum(rows.values()))
            if self.progress is not None
            else None
        )
        # Both sides at once: each has its own connection (and the same snapshot when
        # they share a database).
        top = self._both(lambda side: self._first_pass(table_map, sides[side], length, bar))
        if bar is not None:
            bar.finish()
        for difference in self._descend(verified, sides, _differing(top), length):
            verified.count(difference)
            yield difference
        verified.seconds = time.monotonic() - started
        self.found.append(verified)

    def _both(self, work: Callable[[Side], T]) -> dict[Side, T]:
        """``work`` for each side at once: each side has its own connection."""
        with ThreadPoolExecutor(max_workers=2) as pool:
            running = {side: pool.submit(work, side) for side in SIDES}
            return {side: running[side].result() for side in SIDES}

    def _count(self, table_map: TableMap, side: Side) -> int:
        schema = self.config.side(side).schema
        row = self.connection(side).execute(count_sql(table_map, side, schema).encode()).fetchone()
        return int(row[0]) if row else 0

    def _first_pass(
        self, table_map: TableMap, side: Projection, length: int, bar: Progress | None
    ) -> Buckets:
        conn = self.connection(side.side)
        table = self.tables[table_map.name][side.side]
        row = conn.execute(
            "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int",
            (ident(table.schema, table.name),),
        ).fetchone()
        blocks = int(row[0]) if row else 0
        step = max(1, math.ceil(blocks / SLICES))
        buckets: Buckets = {}
        for first in range(0, max(blocks, 1), step):
            last = f"({first + step},0)" if first + step < blocks else LAST_TID
            sliced = conn.execute(
                side.buckets.encode(),
                {
                    "first": f"({first},0)",
                    "last": last,
                    "length": length,
                    "within": None,
                    "within_length": 0,
                },
            ).fetchall()
            read = 0
            for bucket, count, checksum in sliced:
                before = buckets.get(bucket, (0, 0))
                buckets[bucket] = (before[0] + int(count), before[1] + int(checksum))
                read += int(count)
            if bar is not None:
                with self.lock:
                    bar.advance(read)
        return buckets

    def _split(
        self,
        verified: Verified,
        sides: dict[Side, Projection],
        within: list[str],
        length: int,
        side: Side,
    ) -> Buckets:
        return self._buckets(verified, sides[side], within, length)

    def _buckets(
        self, verified: Verified, side: Projection, within: list[str], length: int
    ) -> Buckets:
        with self.lock:
            verified.queries += 1
        found = self.connection(side.side).execute(
            side.buckets.encode(),
            {
                "first": "(0,0)",
                "last": LAST_TID,
                "length": length + 1,
                "within": within,
                "within_length": length,
            },
        )
        return {str(b): (int(n), int(c)) for b, n, c in found.fetchall()}

    def _descend(
        self,
        verified: Verified,
        sides: dict[Side, Projection],
        buckets: list[tuple[str, int]],
        length: int,
    ) -> Iterator[Difference]:
        for start in range(0, len(buckets), GROUP):
            group = buckets[start : start + GROUP]
            small = [b for b, size in group if size <= self.leaf or length >= HEX_DIGITS]
            large = [b for b, size in group if size > self.leaf and length < HEX_DIGITS]
            if small:
                yield from self._compare_rows(verified, sides, small, length)
            if large:
                split = self._both(partial(self._split, verified, sides, large, length))
                yield from self._descend(verified, sides, _differing(split), length + 1)

    def _compare_rows(
        self,
        verified: Verified,
        sides: dict[Side, Projection],
        within: list[str],
        length: int,
    ) -> Iterator[Difference]:
        fetched = self._both(
            lambda side: [
                tuple(r)
                for r in self.connection(side)
                .execute(sides[side].leaf.encode(), {"within": within, "within_length": length})
                .fetchall()
            ]
        )
        verified.queries += 2
        verified.rows_read += len(fetched["left"]) + len(fetched["right"])
        table_map = self.maps.by_name(verified.map)
        kept = kept_nulls(table_map)
        left, right = fetched["left"], fetched["right"]
        i = j = 0
        while i < len(left) or j < len(right):
            here = (left[i][0], left[i][1]) if i < len(left) else None
            there = (right[j][0], right[j][1]) if j < len(right) else None
            if there is None or (here is not None and here < there):
                yield _difference(table_map, left[i][1], "missing_right", {"left": left[i][3]})
                i += 1
            elif here is None or there < here:
                yield _difference(table_map, right[j][1], "missing_left", {"right": right[j][3]})
                j += 1
            else:
                if left[i][2] != right[j][2] and not _kept(kept, left[i][4], right[j][4]):
                    own: dict[Side, Any] = {"left": left[i][3], "right": right[j][3]}
                    yield _difference(
                        table_map,
                        left[i][1],
                        "differs",
                        own,
                        _differing_fields(table_map, kept, left[i][4], right[j][4]),
                    )
                i += 1
                j += 1


def _differing_fields(
    table_map: TableMap, kept: dict[int, Side], left_text: str, right_text: str
) -> dict[str, dict[Side, Any]]:
    """The compared fields whose values differ (a kept null aside), with each side's value
    as verify compares it (the target's form; a two-way field after its round trip)."""
    values: dict[Side, list[Any]] = {
        "left": json.loads(left_text, parse_float=str),
        "right": json.loads(right_text, parse_float=str),
    }
    found: dict[str, dict[Side, Any]] = {}
    for position, compared in enumerate(compared_fields(table_map)):
        here, there = values["left"][position], values["right"][position]
        if here == there or (position in kept and values[kept[position]][position] is None):
            continue
        found[compared.label] = {"left": here, "right": there}
    return found


def _kept(kept: dict[int, Side], left_text: str, right_text: str) -> bool:
    """Whether two rows differ only where one side kept its value when the other sent
    a null (on_null keep): equal under the map."""
    if not kept:
        return False
    # Numbers as written: 1.50 and 1.5000 differ.
    values: dict[Side, list[Any]] = {
        "left": json.loads(left_text, parse_float=str, parse_int=str),
        "right": json.loads(right_text, parse_float=str, parse_int=str),
    }
    differing = [p for p, (a, b) in enumerate(zip(*values.values(), strict=True)) if a != b]
    return bool(differing) and all(p in kept and values[kept[p]][p] is None for p in differing)


def _differing(buckets: dict[Side, Buckets]) -> list[tuple[str, int]]:
    """The buckets whose rows or checksums differ, with the larger side's row count."""
    left, right = buckets["left"], buckets["right"]
    return [
        (b, max(left.get(b, (0, 0))[0], right.get(b, (0, 0))[0]))
        for b in sorted(left.keys() | right.keys())
        if left.get(b) != right.get(b)
    ]


def _difference(
    table_map: TableMap,
    key_text: str,
    kind: Kind,
    own_keys: dict[Side, Any],
    fields: dict[str, dict[Side, Any]] | None = None,
) -> Difference:
    key = json.loads(key_text)
    label = ", ".join(
        f"{f.label}={_spelled(value)}" for f, value in zip(table_map.key_fields, key, strict=True)
    )
    return Difference(table_map.name, key, label, kind, own_keys, fields or {})


def _spelled(value: Any) -> str:
    """A key value for people: a parent's key joined by "/"."""
    if isinstance(value, list):
        return "/".join(_spelled(v) for v in value)
    return "null" if value is None else str(value)


@contextlib.contextmanager
def opened(
    config: Config,
    maps: MapSet,
    catalogs: Any,
    progress: TextIO | None = None,
    chunk: int = CHUNK,
    leaf: int = LEAF,
) -> Iterator[Verifier]:
    """A Verifier with a connection per side in a REPEATABLE READ snapshot (one snapshot
    for both when they share a database), rolled back at the end."""
    verifier = Verifier(config, maps, all_tables(maps, catalogs), progress, chunk, leaf)
    with contextlib.ExitStack() as stack:
        exported: str | None = None
        for side in SIDES:
            conn = stack.enter_context(connect(config, config.database_of(side)))
            conn.execute("SET application_name = 'replicator verify'")
            stack.enter_context(conn.transaction(force_rollback=True))
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            if exported is not None:
                conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(exported)))
            elif config.same_database:
                row = conn.execute("SELECT pg_export_snapshot()").fetchone()
                exported = str(row[0]) if row else None
            # Values compare as text: the same settings on both sides.
            conn.execute("SET LOCAL TimeZone = 'UTC'")
            conn.execute("SET LOCAL DateStyle = 'ISO, YMD'")
            conn.execute("SET LOCAL IntervalStyle = 'postgres'")
            conn.execute("SET LOCAL extra_float_digits = 1")
            verifier.connections[side] = conn
        yield verifier


def selected_maps(maps: MapSet, names: list[str]) -> list[TableMap]:
    unknown = [n for n in names if n not in maps.names]
    if unknown:
        raise ReplicatorError(
            f"no map named {unknown[0]!r} (maps: {', '.join(sorted(maps.names))})"
        )
    return [m for m in maps.maps if not names or m.name in names]
