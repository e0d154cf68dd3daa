"""The SQL of ``replicator verify`` and ``replicator repair``. Pure, like the bundle
it extends: maps and catalogs in, query text out.

Each map gets, per side, a projection: every row its filter admits, as
(key, fields) in a form both sides spell the same way when replication is in step.

- The key is an array of text values in the map's key order; a key field that is a
  lookup is the referenced parent's key, nested (the ERP's company code and the
  CRM's company uuid both become ``["usmf"]``), computed on each side from its own
  tables.
- A field carried one way is compared as its target holds it: the source side
  evaluates what the apply function would write (transforms, value maps,
  defaults), the target side reads its column.
- A field carried both ways is compared in the right side's form; the right side
  first sends its value back to the left (``to_left``) and then to the right again
  (``to_right``), so a value one direction rounds or fills in compares as that
  direction leaves it, whichever side wrote last.
- A lookup field is compared by the parent's key, like a key.
- Sticky fields are not compared: true on the target may have come from either side.
- Values travel as jsonb text: builtin types in the target column's type, user types
  and value maps as text (the other server may not have the type).

Query texts returned here take psycopg parameters: every ``%`` of the map's own text
(a LIKE pattern) is doubled.
"""

from __future__ import annotations

from dataclasses import dataclass

from replicator.core.quoting import Sql, bare, ident, literal, sql_join
from replicator.inspect.catalog import SchemaCatalog, Table
from replicator.maps.model import (
    SIDES,
    Direction,
    FieldMap,
    MapSet,
    Side,
    TableMap,
    lookup_scope,
    source_of,
    target_of,
)
from replicator.sqlgen.lookups import capture_refs, parent_key_json
from replicator.sqlgen.render import render_template
from replicator.sqlgen.sqltypes import AllTables, mapped_table, type_sql, verify_type_sql
from replicator.sqlgen.values import filter_sql, value_sql

LIST = ",\n                 "


@dataclass(frozen=True)
class Projection:
    """One side of one map as verify reads it."""

    map: str
    side: Side
    rows: Sql  # key_md5, key_text, row_md5, own_key, row_text of every row; no parameters
    sliced: Sql  # the same over a range of the table's ctids: %(first)s, %(last)s
    buckets: Sql  # bucket, rows, checksum; %(length)s, %(within)s, %(within_length)s
    leaf: Sql  # key_md5, key_text, row_md5, own_key, row_text of buckets %(within)s


def all_tables(maps: MapSet, catalogs: dict[Side, SchemaCatalog]) -> AllTables:
    return {m.name: {side: mapped_table(catalogs, m, side) for side in SIDES} for m in maps.maps}


def _params(text: str) -> Sql:
    """Text from the maps made safe to send with psycopg parameters."""
    return Sql(text.replace("%", "%%"))


def compared_fields(table_map: TableMap) -> tuple[FieldMap, ...]:
    """The non-key fields verify compares, in declaration order."""
    carried = {
        id(f): f for d in table_map.directions for f in table_map.carried_fields(d) if not f.key
    }
    return tuple(f for f in table_map.fields if id(f) in carried and not f.sticky)


def kept_nulls(table_map: TableMap) -> dict[int, Side]:
    """Compared fields (by position) that a side keeps when the other sends a null
    (on_null keep): a null on that other side is no difference."""
    kept: dict[int, Side] = {}
    for position, field in enumerate(compared_fields(table_map)):
        for direction in table_map.directions:
            carried = field in table_map.carried_fields(direction)
            if carried and field.null_policy(target_of(direction)) == "keep":
                kept[position] = source_of(direction)
    return kept


def _both_ways(table_map: TableMap, field: FieldMap) -> bool:
    return all(field in table_map.carried_fields(d) for d in ("to_right", "to_left"))


def _reference_sql(
    maps: MapSet, tables: AllTables, table_map: TableMap, field: FieldMap, side: Side
) -> Sql:
    """A lookup field (or key) on ``side`` as the neutral key of the parent it points at."""
    assert field.lookup is not None
    parent = maps.by_name(field.lookup.map)
    matches = {field.lookup.column(side): ident("s", field.column(side) or "")}
    for parent_key, own in lookup_scope(table_map, field, parent):
        matches[parent_key.column(side) or ""] = ident("s", own.column(side) or "")
    return parent_key_json(maps, tables, parent, side, matches, 1, neutral=True)


def _field_sql(
    maps: MapSet,
    tables: AllTables,
    table_map: TableMap,
    field: FieldMap,
    side: Side,
    virtual: set[str],
) -> Sql:
    """One compared field's value on ``side`` (see the module's docstring)."""
    if field.lookup is not None:
        return _reference_sql(maps, tables, table_map, field, side)
    own = tables[table_map.name]
    if _both_ways(table_map, field):
        direction: Direction = "to_right"
    else:
        direction = next(d for d in table_map.directions if field in table_map.carried_fields(d))
    if side == source_of(direction):
        return value_sql(field, direction, own, table_map, verifying=True)
    if side == "right" and _both_ways(table_map, field) and set(field.reads(direction)) <= virtual:
        return value_sql(field, direction, own, table_map, verifying=True, row="v")
    column = field.column(side) or ""
    target = own[side].column(column)
    assert target is not None
    return Sql("CAST({} AS {})").format(ident("s", column), verify_type_sql(field, target))


def _virtual_row(table_map: TableMap, tables: dict[Side, Table]) -> dict[str, Sql]:
    """On the right side: the left row its to_left fields would write (left column → value)."""
    if "to_left" not in table_map.directions or "to_right" not in table_map.directions:
        return {}
    return {
        f.left: value_sql(f, "to_left", tables, table_map, verifying=True)
        for f in table_map.carried_fields("to_left")
        if f.left is not None and f.lookup is None and not f.key
    }


def projection(maps: MapSet, tables: AllTables, table_map: TableMap, side: Side) -> Projection:
    own = tables[table_map.name]
    table = own[side]
    virtual = _virtual_row(table_map, own) if side == "right" else {}
    keys = [
        _reference_sql(maps, tables, table_map, f, side)
        if f.lookup is not None
        else Sql("CAST({} AS text)").format(ident("s", f.column(side) or ""))
        for f in table_map.key_fields
    ]
    fields = [
        _field_sql(maps, tables, table_map, f, side, set(virtual))
        for f in compared_fields(table_map)
    ]
    context = {
        "map_name": literal(table_map.name),
        "side": bare(side),
        "key_values": _params(sql_join(keys, LIST)),
        "field_values": _params(sql_join(fields, LIST)),
        "own_key": sql_join(
            [
                Sql("{}, {}").format(
                    literal(f.column(side) or ""), ident("s", f.column(side) or "")
                )
                for f in table_map.key_fields
            ]
        ),
        "table": ident(table.schema, table.name),
        "virtual": _params(
            sql_join(
                [Sql("{} AS {}").format(value, ident(column)) for column, value in virtual.items()]
            )
        ),
        "filter": _params(filter_sql(table_map, side, table, "s")),
    }
    # Unsliced, the rows are not fenced either: the leaf query's bucket filter then
    # runs before the fields are computed.
    rows = render_template("verify_rows.sql.j2", sliced=False, **context)
    sliced = render_template("verify_rows.sql.j2", sliced=True, **context)
    return Projection(
        map=table_map.name,
        side=side,
        rows=rows,
        sliced=sliced,
        buckets=render_template("verify_buckets.sql.j2", rows=sliced),
        leaf=render_template("verify_leaf.sql.j2", rows=rows),
    )


def repair_images(
    maps: MapSet, tables: AllTables, table_map: TableMap, direction: Direction
) -> Sql:
    """The source rows of the keys %(keys)s (a jsonb array of own keys, as the
    projection's own_key gives them) as forced changes, one jsonb text per row."""
    from_side = source_of(direction)
    source = tables[table_map.name][from_side]
    columns = [f.column(from_side) or "" for f in table_map.key_fields]

    def key_type(name: str) -> Sql:
        column = source.column(name)
        assert column is not None
        return type_sql(column)

    return render_template(
        "repair_images.sql.j2",
        map_name=literal(table_map.name),
        direction=bare(direction),
        source_table=ident(source.schema, source.name),
        refs=_params(capture_refs(maps, tables, table_map, direction, "new")),
        key_columns=sql_join([Sql("{} text").format(ident(c)) for c in columns]),
        key_pairs=sql_join([Sql("{}, {}").format(literal(c), ident("new", c)) for c in columns]),
        key_match=sql_join(
            [
                Sql("{} = CAST({} AS {})").format(ident("new", c), ident("k", c), key_type(c))
                for c in columns
            ],
            " AND ",
        ),
        filter=_params(filter_sql(table_map, from_side, source, "new")),
    )
