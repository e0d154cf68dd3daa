"""The snapshot artifact of a map direction (the chunks replicator sync reads and the
resend replicator resolve calls), and the calls made to it.
"""

from __future__ import annotations

from replicator.core.quoting import Sql, ident, literal, sql_join
from replicator.maps.model import (
    Direction,
    MapSet,
    TableMap,
    source_of,
)
from replicator.sqlgen.lookups import capture_refs
from replicator.sqlgen.render import Artifact, render_template
from replicator.sqlgen.sqltypes import (
    AllTables,
    column_of,
    control_function,
    function_name,
    type_sql,
)
from replicator.sqlgen.values import filter_sql


def snapshot_artifact(
    maps: MapSet, all_tables: AllTables, table_map: TableMap, direction: Direction
) -> Artifact:
    from_side = source_of(direction)
    source = all_tables[table_map.name][from_side]
    keys = table_map.key_columns(from_side)
    function = function_name("snapshot", table_map, direction)
    resend = function_name("resend", table_map, direction)
    rows = function_name("sync_rows", table_map, direction)
    sql = render_template(
        "snapshot.sql.j2",
        map_name=literal(table_map.name),
        direction=literal(direction),
        snapshot_function=function,
        resend_function=resend,
        rows_function=rows,
        queue=control_function("change_queue"),
        key_of_p_key=sql_join(
            [
                Sql("CAST(p_key ->> {} AS {})").format(literal(k), type_sql(column_of(source, k)))
                for k in keys
            ]
        ),
        source_table=ident(source.schema, source.name),
        filter=filter_sql(table_map, from_side, source, "new"),
        refs=capture_refs(maps, all_tables, table_map, direction, "new"),
        key_order=sql_join([ident("new", k) for k in keys]),
        key_pairs=sql_join([Sql("{}, {}").format(literal(k), ident("new", k)) for k in keys]),
        after_key=sql_join(
            [
                Sql("CAST(p_after ->> {} AS {})").format(literal(k), type_sql(column_of(source, k)))
                for k in keys
            ]
        ),
    )
    drop_sql = render_template(
        "drop_functions.sql.j2",
        functions=[
            Sql("{}(jsonb, integer)").format(function),
            Sql("{}(jsonb, integer)").format(rows),
            Sql("{}(jsonb)").format(resend),
        ],
        guard_held=False,
    )
    return Artifact(f"map/{table_map.name}/{direction}/snapshot", sql, drop_sql)


def resend_call(table_map: TableMap, direction: Direction) -> Sql:
    """replicator resolve's call: queue a key's row as it is now, forced, in ``direction``."""
    return Sql("SELECT {}(%s::jsonb)").format(function_name("resend", table_map, direction))


def snapshot_query(table_map: TableMap, direction: Direction) -> Sql:
    """The call replicator sync makes for each chunk: (last key, chunk size) in, jsonb out."""
    return Sql("SELECT {}(%s::jsonb, %s)::text").format(
        function_name("snapshot", table_map, direction)
    )


def rows_query(table_map: TableMap, direction: Direction) -> Sql:
    """replicator sync's read of a chunk as plain rows: (last key, chunk size) in; the
    json array, its length and the key of its last row out (where the next chunk
    starts, known before the target has written this one)."""
    keys = table_map.key_columns(source_of(direction))
    last = sql_join([Sql("{}, r->-1->{}").format(literal(k), literal(k)) for k in keys])
    return Sql(
        "SELECT r::text, json_array_length(r), json_build_object({})::text FROM {}(%s::jsonb, %s) AS r"
    ).format(last, function_name("sync_rows", table_map, direction))


def sync_query(table_map: TableMap, direction: Direction) -> Sql:
    """replicator sync's fast path for a chunk of rows (on the target): the rows in;
    {"rest": the positions of the rows it left} out, or {} if it left them all
    (apply.sql.j2)."""
    return Sql("SELECT {}(%s::json)").format(function_name("sync", table_map, direction))


def direct_query(table_map: TableMap, direction: Direction) -> Sql:
    """Both sides in one database: replicator sync's call for a chunk, read and written
    there: (last key, chunk size) in, {"read", "last", "rest"} out."""
    return Sql("SELECT {}(%s::jsonb, %s)").format(
        function_name("sync_direct", table_map, direction)
    )
