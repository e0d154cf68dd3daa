"""Map files (TOML) → MapSet. Every problem in every file is collected before
raising, so a DBA fixes them all in one pass."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any, cast

from replicator.core.errors import MapError, Problem, Where
from replicator.core.quoting import Scalar
from replicator.maps.expressions import columns_read
from replicator.maps.model import (
    CONFLICT_POLICIES,
    DIRECTIONS,
    SIDES,
    TRUNCATE_POLICIES,
    Expression,
    FieldMap,
    FlowDirection,
    Lookup,
    MapSet,
    NullPolicy,
    Side,
    TableMap,
    direction_into,
    flows,
    target_of,
)
from replicator.maps.tomlfile import read_toml

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
FIELD_KEYS = {
    "left",
    "right",
    "direction",
    "key",
    "value_map",
    "fallback",
    "default",
    "to_right",
    "to_left",
    "lookup",
    "sticky",
    "on_null",
    "conflict",
}
NULL_POLICIES = ("write", "keep", "refuse")
# A field may have a policy of its own: the replicator keeps a clock per field.
FIELD_POLICIES = CONFLICT_POLICIES
FLOW_DIRECTIONS = ("both", "to_right", "to_left")
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
    ordered, unresolved = _prerequisites_first(maps)
    return MapSet(maps=ordered, unresolved=unresolved)


def _prerequisites_first(maps: list[TableMap]) -> tuple[tuple[TableMap, ...], tuple[Problem, ...]]:
    """Order maps so each comes after the maps it requires, keeping file order
    otherwise; refuse cycles, spelling the cycle out. Prerequisites that name no map
    are returned as problems for validate to report with the rest."""
    by_name = {m.name: m for m in maps}
    problems = [
        Problem(Where(file=m.file, map=m.name), f"requires unknown map {_unknown(name, by_name)}")
        for m in maps
        for name in m.requires
        if name not in by_name
    ]
    problems += [
        Problem(
            Where(file=m.file, map=m.name, field=f.label),
            f"lookup to unknown map {_unknown(f.lookup.map, by_name)}",
        )
        for m in maps
        for f in m.fields
        if f.lookup is not None and f.lookup.map not in by_name
    ]
    ordered: list[TableMap] = []
    placed: set[str] = set()
    while len(ordered) < len(maps):
        ready = next(
            (
                m
                for m in maps
                if m.name not in placed and placed.issuperset(set(m.prerequisites) & set(by_name))
            ),
            None,
        )
        if ready is None:
            cycle = _cycle([m for m in maps if m.name not in placed], by_name)
            first = by_name[cycle[0]]
            raise MapError(
                [
                    Problem(
                        Where(file=first.file, map=first.name),
                        f"prerequisites form a cycle: {' → '.join(cycle)}; remove one of these requires or lookups",
                    )
                ]
            )
        ordered.append(ready)
        placed.add(ready.name)
    return tuple(ordered), tuple(problems)


def _unknown(name: str, known: Collection[str]) -> str:
    """An unknown map name, with the map a DBA probably meant (map names, not tables)."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"{name!r}" + (f" (did you mean {close[0]!r}? these are map names)" if close else "")


def _cycle(unplaced: list[TableMap], by_name: dict[str, TableMap]) -> list[str]:
    """A cycle among maps none of which could be placed: follow unplaced prerequisites
    until a map repeats."""
    waiting = {m.name for m in unplaced}
    path = [unplaced[0].name]
    while True:
        step = next(name for name in by_name[path[-1]].prerequisites if name in waiting)
        if step in path:
            return [*path[path.index(step) :], step]
        path.append(step)


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

    if not isinstance(name, str):
        problem("name is required (a string)")
    elif not MAP_NAME.fullmatch(name):
        problem(
            "name must be lower case letters, digits and _ (starting with a letter, at most 40)"
        )
    for key in sorted(set(raw) - MAP_KEYS):
        problem(f"unknown key {key!r} (known: {', '.join(sorted(MAP_KEYS))})")
    tables: dict[Side, str] = {}
    for side in SIDES:
        table = raw.get(side)
        if not isinstance(table, str) or not table:
            problem(f"{side} is required: the {side} side's table name")
        else:
            tables[side] = table
    direction = _choice(raw.get("direction", "both"), FLOW_DIRECTIONS, "direction", problem)
    mode = _choice(raw.get("mode", "queued"), MODES, "mode", problem)
    filters: dict[Side, str | None] = {}
    for side in SIDES:
        text = raw.get(f"{side}_filter")
        if text is not None and (not isinstance(text, str) or not text.strip()):
            problem(f"{side}_filter must be a non-empty SQL boolean expression")
            text = None
        filters[side] = text
    on_delete = _choice(raw.get("on_delete", "propagate"), DELETE_POLICIES, "on_delete", problem)
    master = _choice(raw.get("master", "left"), SIDES, "master", problem)
    on_truncate = _choice(
        raw.get("on_truncate", "refuse"), TRUNCATE_POLICIES, "on_truncate", problem
    )
    conflict = _optional_choice(raw.get("conflict"), CONFLICT_POLICIES, "conflict", problem)
    marks = _marks(raw.get("mark"), on_delete, direction, problem)
    requires = raw.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        problem("requires must be a list of map names")
        requires = []
    raw_fields = raw.get("field", [])
    if not isinstance(raw_fields, list) or not raw_fields:
        problem("no fields: add [[map.field]] tables (at least the key)")
        raw_fields = []
    fields = [
        f
        for f in (_load_field(rf, direction or "both", where, problems) for rf in raw_fields)
        if f is not None
    ]
    if fields and not any(f.key for f in fields):
        problem("no key: mark the field(s) that identify a row with key = true")
    for target_direction in DIRECTIONS:
        target = target_of(target_direction)
        written: set[str] = set()
        for f in fields:
            column = f.column(target)
            if f.carries(target_direction) and column is not None:
                if column in written:
                    problem(f"two fields write {target} column {column!r}", f.label)
                written.add(column)
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
        if not isinstance(column, str) or not column or not _scalar(value):
            problem(
                f'on_delete = "mark" needs [map.mark] {side} = {{ column = "...", value = ... }}:'
                f" the {side} column to set when the other side deletes a row"
            )
            continue
        marks.append((side, column, cast(Scalar, value)))
    return tuple(marks)


def _choice(value: Any, allowed: tuple[str, ...], key: str, problem: Any) -> Any:
    if value not in allowed:
        problem(f"{key} must be one of {', '.join(allowed)} (got {value!r})")
        return None
    return value


def _optional_choice(value: Any, allowed: tuple[str, ...], key: str, problem: Any) -> Any:
    return None if value is None else _choice(value, allowed, key, problem)


def _load_field(
    raw: Any, map_direction: FlowDirection, map_where: Where, problems: list[Problem]
) -> FieldMap | None:
    if not isinstance(raw, dict):
        problems.append(Problem(map_where, "each [[map.field]] must be a table"))
        return None
    columns: dict[Side, str | None] = {}
    for side in SIDES:
        column = raw.get(side)
        columns[side] = column if isinstance(column, str) and column else None
    label = columns["left"] or columns["right"] or "?"
    start = len(problems)

    def problem(message: str) -> None:
        problems.append(
            Problem(Where(file=map_where.file, map=map_where.map, field=label), message)
        )

    for key in sorted(set(raw) - FIELD_KEYS):
        problem(f"unknown key {key!r} (known: {', '.join(sorted(FIELD_KEYS))})")
    for side in SIDES:
        if side in raw and columns[side] is None:
            problem(f"{side} must be a column name")
    if columns["left"] is None and columns["right"] is None:
        problem("a field needs a left column, a right column, or both")
    direction = _choice(raw.get("direction", map_direction), FLOW_DIRECTIONS, "direction", problem)
    if direction is not None and map_direction != "both" and direction != map_direction:
        problem(f"direction {direction} does not fit the map, which flows {map_direction} only")
    key = raw.get("key", False)
    if not isinstance(key, bool):
        problem("key must be true or false")
        key = False
    value_map = _value_map(raw.get("value_map"), direction, problem)
    fallback = _per_side(raw.get("fallback"), "fallback", columns, problem)
    default = _per_side(raw.get("default"), "default", columns, problem)
    on_null = _per_side(raw.get("on_null"), "on_null", columns, problem)
    for side, policy in on_null:
        if policy not in NULL_POLICIES:
            problem(f"on_null.{side} must be one of {', '.join(NULL_POLICIES)} (got {policy!r})")
    expressions = _expressions(raw, columns, value_map, problem)
    lookup = _lookup(raw.get("lookup"), columns, problem)
    sticky = raw.get("sticky", False)
    if not isinstance(sticky, bool):
        problem("sticky must be true or false")
        sticky = False
    conflict = _optional_choice(raw.get("conflict"), FIELD_POLICIES, "conflict", problem)
    if conflict is not None and key:
        problem("a key field identifies the row: it has no conflict policy of its own")
    if fallback and value_map is None:
        problem("fallback only applies to a value_map")
    if lookup is not None and (value_map is not None or default or expressions):
        problem(
            "a lookup field takes its value from the looked-up map: no value_map, default or expression"
        )
    if key:
        if columns["left"] is None or columns["right"] is None:
            problem("a key field needs a column on both sides")
        if value_map is not None or default or expressions or sticky or on_null:
            problem(
                "a key field is copied as it is (or looked up): no value_map, default,"
                " to_right/to_left, sticky or on_null"
            )
        if direction is not None and direction != map_direction:
            problem("a key field must flow like its map")
    computed = {e.direction for e in expressions}
    for side in SIDES:
        other: Side = "right" if side == "left" else "left"
        if columns[other] is None and columns[side] is not None:
            # A one-sided field is a constant or a computed value written on that side.
            if dict(default).get(side) is None and direction_into(side) not in computed:
                problem(
                    f"only a {side} column and no default or to_{side}: nothing would be written to it"
                )
            elif direction is not None and not flows(direction, direction_into(side)):
                problem(
                    f"the {side} column is written only by a direction that writes the {side} side"
                )
    if len(problems) > start or direction is None:
        return None
    return FieldMap(
        left=columns["left"],
        right=columns["right"],
        direction=direction,
        key=key,
        value_map=value_map,
        fallback=fallback,
        default=default,
        expressions=expressions,
        lookup=lookup,
        sticky=sticky,
        on_null=cast(tuple[tuple[Side, NullPolicy], ...], on_null),
        conflict=conflict,
    )


def _expressions(
    raw: dict[str, Any],
    columns: dict[Side, str | None],
    value_map: tuple[tuple[Scalar, Scalar], ...] | None,
    problem: Any,
) -> tuple[Expression, ...]:
    """to_right / to_left: SQL computed over the source row (checked at validate)."""
    found: list[Expression] = []
    for direction in DIRECTIONS:
        text = raw.get(direction)
        if text is None:
            continue
        target = target_of(direction)
        if not isinstance(text, str) or not text.strip():
            problem(f"{direction} must be a non-empty SQL expression over the other side's columns")
        elif columns[target] is None:
            problem(
                f"{direction} computes the {target} column, but the field has no {target} column"
            )
        elif value_map is not None:
            problem(
                f"{direction} and value_map both say how the {target} column is written; use one"
            )
        else:
            found.append(Expression(direction, text, columns_read(text)))
    return tuple(found)


def _lookup(raw: Any, columns: dict[Side, str | None], problem: Any) -> Lookup | None:
    """lookup = "map" or { map = "...", left = "...", right = "..." }: the parent's column
    this field holds on each side (by default, the one named like the field's own)."""
    if raw is None:
        return None
    table = {"map": raw} if isinstance(raw, str) else raw
    if not isinstance(table, dict) or not isinstance(table.get("map"), str):
        problem('lookup must be a map name or { map = "...", left = "...", right = "..." }')
        return None
    unknown = sorted(set(table) - {"map", "left", "right"})
    if unknown:
        problem(f"lookup has unknown key {unknown[0]!r} (known: left, map, right)")
    if columns["left"] is None or columns["right"] is None:
        problem("a lookup field needs a column on both sides")
        return None
    refs: dict[Side, str] = {}
    for side in SIDES:
        ref = table.get(side, columns[side])
        if not isinstance(ref, str) or not ref:
            problem(f"lookup.{side} must be a column name of the looked-up map's {side} table")
            return None
        refs[side] = ref
    return Lookup(map=table["map"], left=refs["left"], right=refs["right"])


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _value_map(
    raw: Any, direction: FlowDirection | None, problem: Any
) -> tuple[tuple[Scalar, Scalar], ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw:
        problem("value_map must be a table of left value = right value")
        return None
    pairs: list[tuple[Scalar, Scalar]] = []
    for left_value, right_value in raw.items():
        if not _scalar(right_value):
            problem(f"value_map entry {left_value!r} must map to a string, number or boolean")
            return None
        pairs.append((left_value, right_value))
    if direction is not None and flows(direction, "to_left"):
        # Crossing right→left inverts the map: each right value must come from one left value.
        origins: dict[str, list[Scalar]] = {}
        for left_value, right_value in pairs:
            origins.setdefault(str(right_value), []).append(left_value)
        for right_value, lefts in origins.items():
            if len(lefts) > 1:
                listed = " and ".join(repr(v) for v in lefts)
                problem(
                    f"value_map is not one-to-one: right value {right_value!r} comes from {listed},"
                    " so it cannot be mapped back to the left; make the field direction to_right"
                )
                return None
    return tuple(pairs)


def _per_side(
    raw: Any, key: str, columns: dict[Side, str | None], problem: Any
) -> tuple[tuple[Side, Scalar], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        problem(f'{key} must be a table such as {{ right = "value" }}')
        return ()
    entries: list[tuple[Side, Scalar]] = []
    for side, value in raw.items():
        if side not in SIDES:
            problem(f"{key} is keyed by the receiving side (left or right), not {side!r}")
        elif columns[cast(Side, side)] is None:
            problem(f"{key} for the {side} side, but the field has no {side} column")
        elif not _scalar(value):
            problem(f"{key}.{side} must be a string, number or boolean")
        else:
            entries.append((cast(Side, side), value))
    return tuple(sorted(entries))
