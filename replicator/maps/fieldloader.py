"""One [[map.field]] table of a map file → FieldMap: its columns, direction, key,
value map, defaults, expressions and lookup, every problem recorded."""

from __future__ import annotations

from typing import Any, cast

from replicator.core.errors import Problem, Where
from replicator.core.quoting import Scalar
from replicator.maps.expressions import columns_read
from replicator.maps.model import (
    CONFLICT_POLICIES,
    DIRECTIONS,
    SIDES,
    Expression,
    FieldMap,
    FlowDirection,
    Lookup,
    NullPolicy,
    Side,
    direction_into,
    flows,
    target_of,
)
from replicator.maps.tomlfile import choice, is_scalar, optional_choice

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


# long: one [[map.field]] table read key by key, each check in the order a DBA reads
# them; the checks share a dozen values, which helpers would only pass around.
def load_field(
    raw: Any, map_direction: FlowDirection, map_where: Where, problems: list[Problem]
) -> FieldMap | None:
    """The FieldMap a field table describes, or None with its problems recorded."""
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
    direction = choice(raw.get("direction", map_direction), FLOW_DIRECTIONS, "direction", problem)
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
    conflict = optional_choice(raw.get("conflict"), FIELD_POLICIES, "conflict", problem)
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
    _one_sided_problems(columns, direction, default, expressions, problem)
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


def _one_sided_problems(
    columns: dict[Side, str | None],
    direction: FlowDirection | None,
    default: tuple[tuple[Side, Scalar], ...],
    expressions: tuple[Expression, ...],
    problem: Any,
) -> None:
    """A field with a column on one side only must have something written into it."""
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
        if not is_scalar(right_value):
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
        elif not is_scalar(value):
            problem(f"{key}.{side} must be a string, number or boolean")
        else:
            entries.append((cast(Side, side), value))
    return tuple(sorted(entries))
