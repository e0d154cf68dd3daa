"""Checks of one field in one direction, and of a map's filters, against the
catalog: closed value sets, sticky and on_null, lossy types, value-map coverage,
and the types PostgreSQL gave the expressions and filters.
"""

from __future__ import annotations

from replicator.core.errors import ExpressionError, Where
from replicator.inspect.catalog import Column, Table
from replicator.inspect.constants import ExpressionTypes
from replicator.inspect.typecheck import loss_reason
from replicator.inspect.wording import arrow, listing
from replicator.maps.expressions import admitted_values, parse_expression
from replicator.maps.model import (
    Direction,
    Expression,
    FieldMap,
    Side,
    TableMap,
    source_of,
    target_of,
)


def filter_type_problem(what: str, table: Table, typed: Column | str | None) -> str | None:
    """A filter must say true or false of a row: boolean, and accepted by PostgreSQL
    (the capture's WHEN clause and the apply functions test it)."""
    if isinstance(typed, str):
        return f"{what} is refused by PostgreSQL over {table.label}: {typed}"
    if typed is None or typed.base_type == "bool":
        return None  # not probed (validate called without a database), or boolean
    return (
        f"{what} is of type {typed.type_sql}, not boolean: a filter says whether a row"
        " flows; write a condition, e.g. a comparison"
    )


def field_problems(
    table_map: TableMap,
    field: FieldMap,
    direction: Direction,
    tables: dict[Side, Table],
    expression_types: ExpressionTypes,
) -> list[str]:
    """What is wrong with one field carried in one direction, one message each."""
    from_side, to_side = source_of(direction), target_of(direction)
    target_name = field.column(to_side)
    source_name = field.column(from_side)
    assert target_name is not None
    target = tables[to_side].column(target_name)
    assert target is not None
    spot = f"{tables[to_side].label}.{target_name}"
    messages: list[str] = []
    closed = target.domain_values
    default = field.default_for(to_side)
    if default is not None and closed is not None and str(default) not in closed:
        messages.append(f"default {default!r} is not a value {spot} accepts ({listing(closed)})")
    if field.sticky and target.base_type != "bool":
        messages.append(f"sticky needs a boolean target column; {spot} is {target.type_sql}")
    if field.null_policy(to_side) == "keep" and field.key:
        messages.append("on_null keep cannot apply to a key")
    expression = field.expression_for(direction)
    if expression is not None:
        typed = expression_types.get((table_map.name, direction, expression.text))
        return messages + _expression_problems(
            expression, tables[from_side], tables[to_side], target, spot, typed
        )
    if source_name is None or field.lookup is not None:
        return messages  # a lookup's types are judged against the looked-up map
    source = tables[from_side].column(source_name)
    assert source is not None
    if field.value_map is None:
        reason = loss_reason(source, target)
        if reason is not None:
            messages.append(
                f"{arrow(direction)}: {reason} ({tables[from_side].label}.{source_name} into"
                f" {spot}); widen the column, make the field one-way, or write the conversion you"
                f" accept as {direction}"
            )
        return messages
    return messages + _value_map_problems(table_map, field, direction, tables)


def _value_map_problems(
    table_map: TableMap,
    field: FieldMap,
    direction: Direction,
    tables: dict[Side, Table],
) -> list[str]:
    """A value map covers every value that can arrive (or has a fallback), and writes
    only values the target column accepts."""
    assert field.value_map is not None
    from_side, to_side = source_of(direction), target_of(direction)
    source_name = field.column(from_side) or ""
    target_name = field.column(to_side) or ""
    source = tables[from_side].column(source_name)
    target = tables[to_side].column(target_name)
    assert source is not None and target is not None
    spot = f"{tables[to_side].label}.{target_name}"
    closed = target.domain_values
    messages: list[str] = []
    pairs = (
        field.value_map if direction == "to_right" else tuple((b, a) for a, b in field.value_map)
    )
    inputs = [str(a) for a, _ in pairs]
    fallback = field.fallback_for(to_side)
    if source.domain_values is not None and fallback is None:
        # A value the source side's filter keeps out never arrives: it needs no entry.
        text = table_map.filter(from_side)
        arriving = (
            admitted_values(text, source_name, source.domain_values)
            if text is not None
            else source.domain_values
        )
        uncovered = [v for v in arriving if v not in inputs]
        if uncovered:
            messages.append(
                f"{arrow(direction)}: value_map does not cover {listing(tuple(uncovered))} of"
                f" {tables[from_side].label}.{source_name}; add {'it' if len(uncovered) == 1 else 'them'}"
                f" or declare a fallback"
            )
    if closed is not None:
        outputs = [str(b) for _, b in pairs] + ([str(fallback)] if fallback is not None else [])
        foreign = [v for v in outputs if v not in closed]
        if foreign:
            messages.append(
                f"{arrow(direction)}: value_map writes {listing(tuple(dict.fromkeys(foreign)))},"
                f" which {spot} does not accept ({listing(closed)})"
            )
    return messages


def _expression_problems(
    expression: Expression,
    source: Table,
    written: Table,
    target: Column,
    spot: str,
    typed: Column | str | None,
) -> list[str]:
    """A to_right/to_left expression: on the allow-list, over the source's own columns,
    and of a type the target column holds without loss."""
    what = f"{expression.direction} {expression.text!r}"
    other_side = [
        name
        for name in expression.reads
        if source.column(name) is None and written.column(name) is not None
    ]
    if other_side:
        return [
            f"{what} names column {other_side[0]!r} of {written.label}, the table it writes;"
            f" an expression reads only the row it comes from ({source.label})"
        ]
    try:
        parse_expression(
            expression.text,
            columns=[c.name for c in source.columns],
            where=Where(),
            what=what,
        )
    except ExpressionError as exc:
        return [str(exc).removeprefix(": ")]
    if isinstance(typed, str):
        return [f"{what} is refused by PostgreSQL over {source.label}: {typed}"]
    if typed is None:
        return []  # not probed (validate called without a database): types unknown
    reason = loss_reason(typed, target)
    if reason is None:
        return []
    return [
        f"{what}: {reason} (into {spot}); write the conversion into the expression, e.g. a"
        " cast, if that is what you want"
    ]
