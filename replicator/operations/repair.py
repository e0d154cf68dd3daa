"""``replicator repair --from left|right``: rewrite only the rows verify finds
different, through the normal apply path.

The differences come from replicator.operations.verify. For each chunk of them the source
rows are read (in verify's snapshot) as the changes a capture makes, with refs,
and handed to ``replicator.apply_batch`` on the target, under the replicator's
admin origin (WAL capture leaves them out) and, as every apply function does,
with ``replicator.applying`` on (capture triggers skip them): nothing comes back.
A key the source side lacks becomes a delete, which the map's on_delete decides
(delete, mark, or leave). Every change carries ``"force": true`` so conflict
detection lets it through. One activity line (kind 'repair') per map.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TextIO

from replicator.core import origins
from replicator.core.errors import ReplicatorError
from replicator.core.exitcodes import ExitCode
from replicator.core.output import counted
from replicator.inspect.connections import connect, under_origin
from replicator.maps.model import Config, Direction, MapSet, Side, TableMap, source_of, target_of
from replicator.operations import activity
from replicator.operations.checked import check
from replicator.operations.verify import Connection, Difference, Verifier, opened
from replicator.sqlgen.verifysql import repair_images

CHUNK = 500


@dataclass
class Repaired:
    map: str
    direction: Direction
    written: int = 0  # upserts handed to the apply function
    deleted: int = 0  # deletes handed to it (on_delete decides what they do)
    failed: int = 0  # in the error log
    held: int = 0  # waiting for a parent the target lacks, like any held change
    would: int = 0  # --dry-run: the rows it would write or delete


def repairable(maps: MapSet, names: list[str], from_side: Side) -> list[TableMap]:
    """The named maps (all by default), each of which must flow from ``from_side``."""
    direction: Direction = "to_right" if from_side == "left" else "to_left"
    unknown = [n for n in names if n not in maps.names]
    if unknown:
        raise ReplicatorError(
            f"no map named {unknown[0]!r} (maps: {', '.join(sorted(maps.names))})"
        )
    chosen = [m for m in maps.maps if not names or m.name in names]
    refused = [m for m in chosen if direction not in m.directions]
    if refused:
        raise ReplicatorError(
            "cannot repair --from "
            + from_side
            + ": "
            + "; ".join(
                f"map {m.name} flows {m.direction}, never from the {from_side} side"
                for m in refused
            )
            + (". Repair them --from the other side, or name the maps to repair")
        )
    return chosen


def repair(
    verifier: Verifier,
    config: Config,
    table_maps: list[TableMap],
    from_side: Side,
    out: TextIO,
    chunk: int = CHUNK,
    dry_run: bool = False,
) -> list[Repaired]:
    """Rewrite the rows verify finds different (``dry_run``: only say what would be
    written and deleted)."""
    direction: Direction = "to_right" if from_side == "left" else "to_left"
    results: list[Repaired] = []
    with connect(config, config.database_of(target_of(direction))) as target:
        target.execute("SET application_name = 'replicator repair'")
        under_origin(target, origins.ADMIN)
        for table_map in table_maps:
            done = Repaired(table_map.name, direction)
            pending: list[Difference] = []
            for difference in verifier.differences(table_map):
                out.write(_line(config, difference, direction, dry_run))
                if dry_run:
                    done.would += 1
                    continue
                pending.append(difference)
                if len(pending) >= chunk:
                    _apply(verifier, target, table_map, direction, pending, done)
                    pending.clear()
            results.append(done)
            if dry_run:
                continue
            _apply(verifier, target, table_map, direction, pending, done)
            activity.record(
                target,
                "repair",
                f"repair from {config.side(from_side).name}: {done.written} rows written,"
                f" {done.deleted} deleted, {done.failed} failed, {done.held} held",
                table_map.name,
                direction,
                {
                    "written": done.written,
                    "deleted": done.deleted,
                    "failed": done.failed,
                    "held": done.held,
                },
            )
    return results


def _line(config: Config, difference: Difference, direction: Direction, dry_run: bool) -> str:
    source, target = config.side(source_of(direction)).name, config.side(target_of(direction)).name
    missing_on = "left" if difference.kind == "missing_left" else "right"
    if difference.kind == "differs":
        what = f"rewrite on {target}"
        if difference.fields:
            what += f" ({', '.join(difference.fields)})"
    elif missing_on == source_of(direction):
        what = f"delete on {target} (not in {source})"
    else:
        what = f"add to {target}"
    return f"{difference.map}: {difference.label}: {'would ' if dry_run else ''}{what}\n"


def _apply(
    verifier: Verifier,
    target: Connection,
    table_map: TableMap,
    direction: Direction,
    pending: list[Difference],
    done: Repaired,
) -> None:
    if not pending:
        return
    from_side = source_of(direction)
    source = verifier.connection(from_side)
    keys = [d.own_keys[from_side] for d in pending if from_side in d.own_keys]
    changes: list[Any] = []
    if keys:
        query = repair_images(verifier.maps, verifier.tables, table_map, direction)
        found = source.execute(query.encode(), {"keys": json.dumps(keys)}).fetchall()
        changes = [json.loads(str(r[0])) for r in found]
    gone = [d for d in pending if from_side not in d.own_keys]
    deletes: list[dict[str, Any]] = []
    if gone:
        ids = source.execute(
            "SELECT nextval('replicator.change_queue_id_seq') FROM generate_series(1, %s)",
            (len(gone),),
        ).fetchall()
        deletes = [
            _delete(verifier.maps, table_map, direction, d.key, int(i[0]))
            for d, i in zip(gone, ids, strict=True)
        ]
    # A delete whose key the source side cannot spell without its row (a CRM uuid)
    # goes alone: a batch keeps one change per spelled key.
    batches = [changes + [d for d in deletes if None not in d["image"].values()]]
    batches += [[d] for d in deletes if None in d["image"].values()]
    for batch in batches:
        if not batch:
            continue
        with target.transaction():
            row = target.execute(
                "SELECT replicator.apply_batch(%s, %s::jsonb)", (direction, json.dumps(batch))
            ).fetchone()
            held = target.execute(
                "SELECT count(*) FROM replicator.held_change WHERE direction = %s AND id = ANY (%s)",
                (direction, [int(c["id"]) for c in batch]),
            ).fetchone()
        done.failed += int(row[0]) if row else 0
        done.held += int(held[0]) if held else 0
    done.written += len(changes)
    done.deleted += len(deletes)


def _delete(
    maps: MapSet, table_map: TableMap, direction: Direction, key: list[Any], change_id: int
) -> dict[str, Any]:
    """A delete change for a key the source side lacks, spelled as its capture would."""
    from_side, to_side = source_of(direction), target_of(direction)
    image: dict[str, Any] = {}
    refs: dict[str, Any] = {}
    for field, value in zip(table_map.key_fields, key, strict=True):
        column = field.column(from_side) or ""
        if field.lookup is None:
            image[column] = value
            continue
        parent = maps.by_name(field.lookup.map)
        refs[field.column(to_side) or ""] = _named(maps, parent, from_side, value)
        held = field.lookup.column(from_side)
        plain = [k.column(from_side) for k in parent.key_fields]
        image[column] = (
            value[plain.index(held)]
            if held in plain and parent.key_fields[plain.index(held)].lookup is None
            else None
        )
    return {
        "id": change_id,
        "map": table_map.name,
        "op": "D",
        "image": image,
        "refs": refs,
        "force": True,
    }


def _named(maps: MapSet, parent: TableMap, side: Side, key: list[Any]) -> dict[str, Any]:
    """A parent's neutral key as a capture on ``side`` records it: by that side's columns."""
    named: dict[str, Any] = {}
    for field, value in zip(parent.key_fields, key, strict=True):
        column = field.column(side) or ""
        named[column] = (
            value
            if field.lookup is None
            else _named(maps, maps.by_name(field.lookup.map), side, value)
        )
    return named


def cmd_repair(
    config: Config,
    out: TextIO,
    err: TextIO,
    names: list[str],
    from_side: Side,
    chunk: int = CHUNK,
    quiet: bool = False,
    dry_run: bool = False,
) -> ExitCode:
    """replicator repair [MAP...] --from left|right [--dry-run]: exit 1 if some rows
    failed; with --dry-run nothing is written, and the exit code is 2 if something
    would be."""
    checked = check(config)
    maps, catalogs = checked.maps, checked.catalogs
    chosen = repairable(maps, names, from_side)
    progress = err if err.isatty() and not quiet else None
    with opened(config, maps, catalogs, progress) as verifier:
        results = repair(verifier, config, chosen, from_side, out, chunk, dry_run)
    if dry_run:
        would = sum(r.would for r in results)
        out.write(
            f"dry run: {counted(would, 'row')} would be rewritten or deleted; nothing was written\n"
        )
        return ExitCode.PENDING if would else ExitCode.OK
    for done in results:
        out.write(
            f"{done.map} ({config.arrow(done.direction)}): {done.written} rows written,"
            f" {done.deleted} deleted, {done.failed} failed"
            + (f", {done.held} held until their parent arrives\n" if done.held else "\n")
        )
    failed = sum(r.failed for r in results)
    if failed:
        out.write(f"{failed} changes failed: see replicator errors\n")
    return ExitCode.ERROR if failed else ExitCode.OK
