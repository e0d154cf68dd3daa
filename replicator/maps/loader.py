"""Map files (TOML) → MapSet. Every problem in every file is collected before
raising, so a DBA fixes them all in one pass."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

from replicator.core.errors import MapError, Problem, Where
from replicator.core.quoting import Scalar
from replicator.maps.fieldloader import FLOW_DIRECTIONS, load_field
from replicator.maps.model import (
    CONFLICT_POLICIES,
    DIRECTIONS,
    SIDES,
    TRUNCATE_POLICIES,
    FieldMap,
    FlowDirection,
    MapSet,
    Side,
    TableMap,
    direction_into,
    flows,
    target_of,
)
from replicator.maps.order import prerequisites_first
from replicator.maps.tomlfile import choice, is_scalar, optional_choice, read_toml

MAP_KEYS = {
    "name",
    "left",
    "right",
    "direction",
    "mode",
    "left_filter",
    "right_filter",
    "requires",
    "on_delete",
    "mark",
    "master",
    "on_truncate",
    "conflict",
    "field",
}


MODES = ("queued", "online")


DELETE_POLICIES = ("propagate", "ignore", "mark")


# Map names become parts of generated function names: keep them plain.
MAP_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def load_maps(maps_dir: Path, display_root: Path | None = None) -> MapSet:
    """Load every ``*.toml`` under ``maps_dir`` (sorted by name)."""
    if not maps_dir.is_dir():
        problem = "is not a directory" if maps_dir.exists() else "maps directory does not exist"
        raise MapError([Problem(Where(file=str(maps_dir)), problem)])
    root = display_root or maps_dir.parent
    problems: list[Problem] = []
    maps: list[TableMap] = []
    files = sorted(maps_dir.glob("*.toml"))
    if not files:
        problems.append(Problem(Where(file=str(maps_dir)), "no map files (*.toml) found"))
    for path in files:
        shown = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        maps.extend(_load_file(path, shown, problems))
    seen: dict[str, str] = {}
    for table_map in maps:
        if table_map.name in seen:
            problems.append(
                Problem(
                    Where(file=table_map.file, map=table_map.name),
                    f"duplicate map name; {seen[table_map.name]} already defines it",
                )
            )
        else:
            seen[table_map.name] = table_map.file
    if problems:
        raise MapError(problems)
    ordered, unresolved = prerequisites_first(maps)
    return MapSet(maps=ordered, unresolved=unresolved)


def _load_file(path: Path, shown: str, problems: list[Problem]) -> list[TableMap]:
    unreadable, raw = read_toml(path)
    if unreadable is not None:
        problems.append(Problem(Where(file=shown), unreadable))
        return []
    unknown = sorted(set(raw) - {"map"})
    if unknown:
        problems.append(
            Problem(Where(file=shown), f"unknown top-level key {unknown[0]!r}; maps go in [[map]]")
        )
    entries = raw.get("map", [])
    if not isinstance(entries, list) or not entries:
        problems.append(Problem(Where(file=shown), "no [[map]] tables in this file"))
        return []
    maps: list[TableMap] = []
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            problems.append(
                Problem(Where(file=shown, map=f"#{position}"), "must be a [[map]] table")
            )
            continue
        table_map = _load_map(entry, shown, position, problems)
        if table_map is not None:
            maps.append(table_map)
    return maps


def _load_map(
    raw: dict[str, Any], file: str, position: int, problems: list[Problem]
) -> TableMap | None:
    name = raw.get("name")
    where = Where(file=file, map=name if isinstance(name, str) else f"#{position}")
    start = len(problems)

    def problem(message: str, field: str | None = None) -> None:
        problems.append(Problem(Where(file=where.file, map=where.map, field=field), message))

    _check_name(raw, name, problem)
    tables = _tables(raw, problem)
    direction = choice(raw.get("direction", "both"), FLOW_DIRECTIONS, "direction", problem)
    mode = choice(raw.get("mode", "queued"), MODES, "mode", problem)
    filters = _filters(raw, problem)
    on_delete = choice(raw.get("on_delete", "propagate"), DELETE_POLICIES, "on_delete", problem)
    master = choice(raw.get("master", "left"), SIDES, "master", problem)
    on_truncate = choice(
        raw.get("on_truncate", "refuse"), TRUNCATE_POLICIES, "on_truncate", problem
    )
    conflict = optional_choice(raw.get("conflict"), CONFLICT_POLICIES, "conflict", problem)
    marks = _marks(raw.get("mark"), on_delete, direction, problem)
    requires = _requires(raw, problem)
    fields = _fields(raw, direction or "both", where, problems, problem)
    _two_writers(fields, problem)
    if (
        len(problems) > start
        or None in (direction, mode, on_delete, master, on_truncate)
        or len(tables) < 2
    ):
        return None
    return TableMap(
        name=cast(str, name),
        file=file,
        left_table=tables["left"],
        right_table=tables["right"],
        direction=direction,
        mode=mode,
        fields=tuple(fields),
        left_filter=filters["left"],
        right_filter=filters["right"],
        requires=tuple(requires),
        on_delete=on_delete,
        marks=marks,
        master=master,
        on_truncate=on_truncate,
        conflict=conflict,
    )


def _check_name(raw: dict[str, Any], name: Any, problem: Any) -> None:
    """The map's name, and keys a map table does not know."""
    if not isinstance(name, str):
        problem("name is required (a string)")
    elif not MAP_NAME.fullmatch(name):
        problem(
            "name must be lower case letters, digits and _ (starting with a letter, at most 40)"
        )
    for key in sorted(set(raw) - MAP_KEYS):
        problem(f"unknown key {key!r} (known: {', '.join(sorted(MAP_KEYS))})")


def _tables(raw: dict[str, Any], problem: Any) -> dict[Side, str]:
    """The table named on each side (a side left out is a problem)."""
    tables: dict[Side, str] = {}
    for side in SIDES:
        table = raw.get(side)
        if not isinstance(table, str) or not table:
            problem(f"{side} is required: the {side} side's table name")
        else:
            tables[side] = table
    return tables


def _filters(raw: dict[str, Any], problem: Any) -> dict[Side, str | None]:
    """left_filter / right_filter, when given, as text (checked at validate)."""
    filters: dict[Side, str | None] = {}
    for side in SIDES:
        text = raw.get(f"{side}_filter")
        if text is not None and (not isinstance(text, str) or not text.strip()):
            problem(f"{side}_filter must be a non-empty SQL boolean expression")
            text = None
        filters[side] = text
    return filters


def _requires(raw: dict[str, Any], problem: Any) -> list[str]:
    requires = raw.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        problem("requires must be a list of map names")
        requires = []
    return cast(list[str], requires)


def _fields(
    raw: dict[str, Any],
    map_direction: FlowDirection,
    where: Where,
    problems: list[Problem],
    problem: Any,
) -> list[FieldMap]:
    """The map's [[map.field]] tables that load; at least one of them a key."""
    raw_fields = raw.get("field", [])
    if not isinstance(raw_fields, list) or not raw_fields:
        problem("no fields: add [[map.field]] tables (at least the key)")
        raw_fields = []
    fields = [
        f
        for f in (load_field(rf, map_direction, where, problems) for rf in raw_fields)
        if f is not None
    ]
    if fields and not any(f.key for f in fields):
        problem("no key: mark the field(s) that identify a row with key = true")
    return fields


def _two_writers(fields: list[FieldMap], problem: Any) -> None:
    """No two fields write one column of a side."""
    for target_direction in DIRECTIONS:
        target = target_of(target_direction)
        written: set[str] = set()
        for f in fields:
            column = f.column(target)
            if f.carries(target_direction) and column is not None:
                if column in written:
                    problem(f"two fields write {target} column {column!r}", f.label)
                written.add(column)


def _marks(
    raw: Any, on_delete: str | None, direction: FlowDirection | None, problem: Any
) -> tuple[tuple[Side, str, Scalar], ...]:
    """[map.mark]: per receiving side, { column = "...", value = ... }."""
    if on_delete != "mark":
        if raw is not None:
            problem('mark only applies with on_delete = "mark"')
        return ()
    marks: list[tuple[Side, str, Scalar]] = []
    table = raw if isinstance(raw, dict) else {}
    for side in SIDES:
        if direction is None or not flows(direction, direction_into(side)):
            continue
        entry = table.get(side)
        column = entry.get("column") if isinstance(entry, dict) else None
        value = entry.get("value") if isinstance(entry, dict) else None
        if not isinstance(column, str) or not column or not is_scalar(value):
            problem(
                f'on_delete = "mark" needs [map.mark] {side} = {{ column = "...", value = ... }}:'
                f" the {side} column to set when the other side deletes a row"
            )
            continue
        marks.append((side, column, cast(Scalar, value)))
    return tuple(marks)
