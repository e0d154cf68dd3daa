"""What the apply artifact's sync functions add (templates/apply.sql.j2): replicator
sync's fast path for the keys the target holds nowhere, and, both sides in one
database, its read of the source table there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from replicator.core.quoting import Sql, ident, literal, sql_join
from replicator.maps.model import FieldMap
from replicator.sqlgen.lookups import capture_refs
from replicator.sqlgen.sqltypes import column_of, image_type_sql, type_sql
from replicator.sqlgen.values import filter_sql

if TYPE_CHECKING:
    from replicator.sqlgen.apply import ApplyRoute


def sync_context(route: ApplyRoute) -> dict[str, Any]:
    """replicator sync's fast path, and in one database its read of the source table."""
    source, from_side, keys = route.source, route.from_side, route.key_sources
    # With lookups the fast path writes nothing (the values are the apply function's).
    fast = not route.lookup_fields
    values = [
        (alias, value if fast else _null_of(route, field))
        for (alias, value), field in zip(route.key_values(), route.keys, strict=True)
    ]
    values += [
        (applied.alias("f"), applied.new if fast else _null_of(route, field))
        for applied, field in zip(route.fields, route.non_keys, strict=True)
    ]
    return {
        "fast_sync": literal(fast),
        "fast_values": values,
        "same_database": route.config.same_database,
        "source_table": ident(source.schema, source.name),
        "source_filter": filter_sql(route.table_map, from_side, source, "new"),
        "source_key_order": sql_join([ident("new", k) for k in keys]),
        "source_key_pairs": sql_join(
            [Sql("{}, {}").format(literal(k), ident("new", k)) for k in keys]
        ),
        "last_key": sql_join(
            [Sql("{}, ({}).{}").format(literal(k), ident("l", "source_row"), ident(k)) for k in keys]
        ),
        # The key of a row written, as the apply's own_key spells it (of a judged row).
        "fresh_key": sql_join(
            [
                Sql("{}, j.{}").format(literal(column), alias)
                for (column, _), (alias, _) in zip(route.target_keys, route.key_values(), strict=True)
            ]
        ),
        "after_key": sql_join(
            [
                Sql("CAST(p_after ->> {} AS {})").format(literal(k), type_sql(column_of(source, k)))
                for k in keys
            ]
        ),
        "image_values": sql_join(
            [
                Sql("CAST({} AS {}) AS {}").format(
                    ident("new", n), image_type_sql(column_of(source, n)), ident(n)
                )
                for n in route.table_map.source_columns(route.direction)
            ],
            ",\n                               ",
        ),
        "direct_refs": capture_refs(
            route.maps, route.all_tables, route.table_map, route.direction, "new"
        ),
    }


def _null_of(route: ApplyRoute, field: FieldMap) -> Sql:
    """A null in the type of the field's target column."""
    return Sql("CAST(NULL AS {})").format(
        type_sql(column_of(route.target, field.column(route.to_side)))
    )
