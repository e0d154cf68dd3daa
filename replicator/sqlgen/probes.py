"""Single queries other stages run: the temporary views validate asks PostgreSQL
about, and the row counts sync and verify compare.
"""

from __future__ import annotations

from replicator.core.errors import Where
from replicator.core.quoting import Scalar, Sql, ident, literal, text_literal
from replicator.inspect.catalog import Column, Table
from replicator.maps.expressions import columns_read as referenced_columns_of
from replicator.maps.expressions import parse_expression, render
from replicator.maps.model import (
    Side,
    TableMap,
)
from replicator.sqlgen.sqltypes import type_sql
from replicator.sqlgen.values import over_row


def expression_probe(view: str, source: Table, text: str) -> Sql:
    """A temporary view of one to_right/to_left expression over its source table, so
    validate can ask PostgreSQL what type the expression has."""
    return Sql("CREATE TEMP VIEW {} AS SELECT {} AS value FROM {} AS s").format(
        ident(view), over_row(text, source, "s", Where(), text), ident(source.schema, source.name)
    )


def constant_probe(view: str, value: Scalar, from_text: bool, column: Column) -> Sql:
    """A temporary view of a map's constant cast to the column it is written into, as an
    apply function writes it (a value-map output from its text form), so validate can
    ask the target database whether the column's type takes it."""
    written = text_literal(value) if from_text else literal(value)
    return Sql("CREATE TEMP VIEW {} AS SELECT CAST({} AS {}) AS value").format(
        ident(view), written, type_sql(column)
    )


def count_sql(table_map: TableMap, side: Side, schema: str) -> Sql:
    """How many rows one side holds under the map's filter on that side."""
    text = table_map.filter(side)
    where = Sql("")
    if text is not None:
        tree = parse_expression(text, columns=referenced_columns_of(text), where=Where(), what=text)
        where = Sql(" WHERE {}").format(render(tree, qualifier="t"))
    return Sql("SELECT count(*) FROM {} AS t{}").format(ident(schema, table_map.table(side)), where)
