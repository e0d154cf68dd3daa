"""What a target column receives: a field's value (expression, value map, default,
refused null), what an update sets, a map's filter, the mark of a soft delete.
"""

from __future__ import annotations

from replicator.core.errors import Where
from replicator.core.quoting import Sql, ident, literal, sql_join, text_literal
from replicator.inspect.catalog import Table
from replicator.maps.expressions import parse_expression, render
from replicator.maps.model import (
    Direction,
    FieldMap,
    Side,
    TableMap,
    source_of,
    target_of,
)
from replicator.sqlgen.lookups import lookup_alias
from replicator.sqlgen.sqltypes import (
    UNMAPPED,
    column_of,
    control_function,
    type_sql,
    verify_type_sql,
)


def value_sql(
    field: FieldMap,
    direction: Direction,
    tables: dict[Side, Table],
    table_map: TableMap,
    *,
    row: str = "s",
    strict: bool = True,
    verifying: bool = False,
) -> Sql:
    """The expression (over the image row ``row`` and the resolved row ``l``) that a
    target column receives. Not ``strict``: a value-map miss or a refused null gives
    null instead of an error (what a row before a change would have written).
    ``verifying`` (replicator verify, evaluated on the source database): the value in
    the form verify compares (see verify_type_sql), and a value the value map lacks or
    a refused null raise nothing; lookups are the caller's."""
    to_side, from_side = target_of(direction), source_of(direction)
    target = column_of(tables[to_side], field.column(to_side))
    target_type = verify_type_sql(field, target) if verifying else type_sql(target)
    default = field.default_for(to_side)
    source_name = field.column(from_side)
    expression = field.expression_for(direction)
    if expression is not None:
        value = expression_sql(table_map, expression.text, tables[from_side], row)
    elif field.lookup is not None:
        assert not verifying, "verify compares lookups by the parent's key"
        value = lookup_alias(table_map, direction, field)
    elif source_name is None:
        assert default is not None
        return Sql("CAST({} AS {})").format(literal(default), target_type)
    else:
        value = ident(row, source_name)
    if field.value_map is not None:
        value = _value_mapped(field, direction, table_map, value, target_type, strict, verifying)
    elif not target.builtin or verifying:
        value = Sql("CAST({} AS {})").format(value, target_type)
    if default is not None:
        value = Sql("COALESCE({}, CAST({} AS {}))").format(value, literal(default), target_type)
    if field.null_policy(to_side) == "refuse" and strict and not verifying:
        refused = Sql("{}({}, {})").format(
            control_function("refused_null"), literal(table_map.name), literal(field.label)
        )
        value = Sql("CASE WHEN {} IS NULL THEN CAST({} AS {}) ELSE {} END").format(
            value, refused, type_sql(target), value
        )
    return value


def _value_mapped(
    field: FieldMap,
    direction: Direction,
    table_map: TableMap,
    value: Sql,
    target_type: Sql,
    strict: bool,
    verifying: bool,
) -> Sql:
    """``value`` through the field's value map (see value_sql for ``strict`` and
    ``verifying``)."""
    assert field.value_map is not None
    pairs = (
        field.value_map if direction == "to_right" else tuple((b, a) for a, b in field.value_map)
    )
    branches = sql_join(
        [
            Sql("WHEN {}::text = {} THEN {}").format(value, text_literal(a), text_literal(b))
            for a, b in pairs
        ],
        " ",
    )
    fallback = field.fallback_for(target_of(direction))
    otherwise = (
        text_literal(fallback)
        if fallback is not None
        else text_literal(UNMAPPED)
        if verifying
        else Sql("NULL")
        if not strict
        else Sql("{}({}, {}, {}::text)").format(
            control_function("unmapped_value"), literal(table_map.name), literal(field.label), value
        )
    )
    return Sql("CAST(CASE WHEN {} IS NULL THEN NULL {} ELSE {} END AS {})").format(
        value, branches, otherwise, target_type
    )


def over_row(text: str, source: Table, row: str, where: Where, what: str) -> Sql:
    """A user expression (filter, to_right/to_left) over ``source``'s columns of ``row``."""
    columns = [c.name for c in source.columns]
    return render(parse_expression(text, columns=columns, where=where, what=what), qualifier=row)


def expression_sql(table_map: TableMap, text: str, source: Table, row: str = "s") -> Sql:
    return over_row(text, source, row, Where(file=table_map.file, map=table_map.name), repr(text))


def updated_sql(field: FieldMap, new: Sql, old: Sql, to_side: Side) -> Sql:
    """What an update sets a non-key target column to, from the ``new`` value that
    crossed and the ``old`` one there."""
    if field.sticky:
        return Sql("({} OR {})").format(old, new)  # once true, stays true
    if field.null_policy(to_side) == "keep":
        return Sql("COALESCE({}, {})").format(new, old)
    return new


def filter_sql(table_map: TableMap, side: Side, source: Table, row: str) -> Sql:
    """A map's filter on one side over ``row``; true when it has none."""
    text = table_map.filter(side)
    if text is None:
        return Sql("true")
    where = Where(file=table_map.file, map=table_map.name)
    return over_row(text, source, row, where, f"{side}_filter {text!r}")


def mark_sql(table_map: TableMap, side: Side, target: Table) -> Sql | None:
    """With on_delete = "mark": the value the marked column is set to, as SQL."""
    mark = table_map.mark_for(side)
    if table_map.on_delete != "mark" or mark is None:
        return None
    column, value = mark
    return Sql("CAST({} AS {})").format(literal(value), type_sql(column_of(target, column)))


def change_key_json(key_sources: list[str], image: Sql) -> Sql:
    """A change's key as the error and conflict logs record it: the source's key
    columns of its ``image``."""
    pairs = sql_join([Sql("{}, {}->{}").format(literal(n), image, literal(n)) for n in key_sources])
    return Sql("jsonb_build_object({})").format(pairs)
