"""Names and types as generated SQL spells them: functions of the control schema,
a column's type (in the apply, in a captured image, in verify), the validated
tables a map names.
"""

from __future__ import annotations

from replicator.core.quoting import Sql, ident, literal, sql_join
from replicator.inspect.catalog import Column, SchemaCatalog, Table
from replicator.maps.model import (
    CONTROL_SCHEMA,
    WRITE_SCHEMA,
    Direction,
    FieldMap,
    Side,
    TableMap,
)

# A trigger's WHEN: the write is not the replicator's own. Its apply functions set the
# marker and write as a writer (SECURITY DEFINER functions in the writers' schema); an
# application role may set the marker too, but may not use that schema, so its writes
# count.
NOT_REPLICATOR = Sql(
    "(current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege({}, 'USAGE'))"
).format(literal(WRITE_SCHEMA))


def json_object(pairs: list[tuple[Sql, Sql]]) -> Sql:
    """jsonb_build_object over any number of pairs: PostgreSQL passes a function at most
    100 arguments, so every 50 pairs make one object, and the objects are joined."""
    chunks = [pairs[i : i + 50] for i in range(0, len(pairs), 50)] or [[]]
    return sql_join(
        [
            Sql("jsonb_build_object(\n               {})").format(
                sql_join([Sql("{}, {}").format(k, v) for k, v in chunk], ",\n               ")
            )
            for chunk in chunks
        ],
        " || ",
    )


def control_function(name: str) -> Sql:
    """A function or table in the replicator's own schema."""
    return ident(CONTROL_SCHEMA, name)


def type_sql(column: Column) -> Sql:
    """The column's type as SQL; user types by quoted name, builtins as format_type() gives them."""
    if column.builtin:
        return Sql(column.type_sql)
    return ident(column.type_schema, column.type_name)


def image_type_sql(column: Column) -> Sql:
    """How a captured image declares the column: user types travel as text, since the
    other server may not have them."""
    return type_sql(column) if column.builtin else Sql("text")


# replicator verify's stand-in for a value the value map lacks: never a real target value.
UNMAPPED = "replicator: no entry in the value_map"


def verify_type_sql(field: FieldMap, column: Column) -> Sql:
    """The type replicator verify compares a field's values in, on either database:
    the column's builtin type, text for user types (the other server may not have
    them) and for value maps (whose misses become UNMAPPED)."""
    if field.value_map is not None:
        return Sql("text")
    return image_type_sql(column)


def mapped_table(catalogs: dict[Side, SchemaCatalog], table_map: TableMap, side: Side) -> Table:
    """The table a validated map names on ``side``, as the catalog describes it."""
    table = catalogs[side].table(table_map.table(side))
    assert table is not None, "compile runs on validated maps only"
    return table


def column_of(table: Table, name: str | None) -> Column:
    assert name is not None
    column = table.column(name)
    assert column is not None, "compile runs on validated maps only"
    return column


def function_name(kind: str, table_map: TableMap, direction: Direction) -> Sql:
    return control_function(f"{kind}_{table_map.name}_{direction}")


AllTables = dict[str, dict[Side, Table]]
