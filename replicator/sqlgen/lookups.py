"""References between maps: at capture, the key of the parent row a reference points
at (as jsonb); at apply, the parent row on the target side holding that key; and
what a capture reads by name to do so.
"""

from __future__ import annotations

from replicator.core.quoting import Sql, bare, ident, literal, sql_join
from replicator.inspect.catalog import Table
from replicator.maps.expressions import columns_read as referenced_columns_of
from replicator.maps.model import (
    Direction,
    FieldMap,
    MapSet,
    Side,
    TableMap,
    lookup_scope,
    source_of,
    target_of,
)
from replicator.sqlgen.render import LIST
from replicator.sqlgen.sqltypes import AllTables, column_of, type_sql


def lookup_alias(table_map: TableMap, direction: Direction, field: FieldMap) -> Sql:
    """The column of the resolved row that holds a lookup's value on the target side."""
    return ident("l", f"lookup_{table_map.lookup_fields(direction).index(field) + 1}")


def parent_key_json(
    maps: MapSet,
    tables: AllTables,
    parent: TableMap,
    side: Side,
    matches: dict[str, Sql],
    depth: int,
    neutral: bool = False,
) -> Sql:
    """At capture: the key of the parent row a reference points at, on the source side,
    as jsonb (a key that is itself a lookup nests the grandparent's key). ``matches``
    are the parent's columns the reference fixes. When they are the parent's whole key
    (an ERP code), the key is read from the row itself, so it is right even when the
    parent is gone (a cascaded delete) or not written yet; otherwise (a CRM uuid) the
    parent row is read. ``neutral`` (replicator verify): the same key as both sides
    spell it, an array of text values in the parent map's key order."""
    natural = all(key.column(side) in matches for key in parent.key_fields)
    alias = f"p{depth}"
    items: list[Sql] = []
    for key in parent.key_fields:
        column = key.column(side) or ""
        value = matches[column] if natural else ident(alias, column)
        if key.lookup is not None:
            grand = maps.by_name(key.lookup.map)
            nested = {key.lookup.column(side): value}
            for grand_key, own in lookup_scope(parent, key, grand):
                own_column = own.column(side) or ""
                nested[grand_key.column(side) or ""] = (
                    matches.get(own_column, ident(alias, own_column))
                    if natural
                    else ident(alias, own_column)
                )
            value = parent_key_json(maps, tables, grand, side, nested, depth + 1, neutral)
        elif neutral:
            value = Sql("CAST({} AS text)").format(value)
        items.append(value if neutral else Sql("{}, {}").format(literal(column), value))
    built = (Sql("jsonb_build_array({})") if neutral else Sql("jsonb_build_object({})")).format(
        sql_join(items)
    )
    if natural:
        # A null reference stays null rather than becoming a key of nulls.
        present = sql_join(
            [
                Sql("{} IS NOT NULL").format(matches[key.column(side) or ""])
                for key in parent.key_fields
            ],
            " AND ",
        )
        return Sql("CASE WHEN {} THEN {} END").format(present, built)
    table = tables[parent.name][side]
    where = sql_join(
        [Sql("{} = {}").format(ident(alias, column), expr) for column, expr in matches.items()],
        " AND ",
    )
    return Sql("(SELECT {} FROM {} AS {} WHERE {})").format(
        built, ident(table.schema, table.name), ident(alias), where
    )


def resolve_sql(
    maps: MapSet, tables: AllTables, parent: TableMap, side: Side, refs: Sql, want: str, depth: int
) -> Sql:
    """At apply: the ``want`` column of the parent row on ``side`` whose key matches
    the captured parent key ``refs``; null while that row has not arrived."""
    other: Side = "left" if side == "right" else "right"
    alias = f"p{depth}"
    table = tables[parent.name][side]
    conditions: list[Sql] = []
    for key in parent.key_fields:
        column, source = key.column(side) or "", key.column(other) or ""
        if key.lookup is None:
            value = Sql("CAST({} ->> {} AS {})").format(
                refs, literal(source), type_sql(column_of(table, column))
            )
        else:
            value = resolve_sql(
                maps,
                tables,
                maps.by_name(key.lookup.map),
                side,
                Sql("({} -> {})").format(refs, literal(source)),
                key.lookup.column(side),
                depth + 1,
            )
        conditions.append(Sql("{} = {}").format(ident(alias, column), value))
    return Sql("(SELECT {} FROM {} AS {} WHERE {})").format(
        ident(alias, want),
        ident(table.schema, table.name),
        ident(alias),
        sql_join(conditions, " AND "),
    )


def tables_read_by_refs(
    maps: MapSet, tables: AllTables, table_map: TableMap, direction: Direction
) -> tuple[Table, ...]:
    """The parent tables a capture reads by name to find the key a reference points at
    (those parent_key_json cannot read from the row itself)."""
    side = source_of(direction)
    found: list[Table] = []

    def walk(parent: TableMap, matches: set[str]) -> None:
        if not all(key.column(side) in matches for key in parent.key_fields):
            found.append(tables[parent.name][side])
        for key in parent.key_fields:
            if key.lookup is not None:
                grand = maps.by_name(key.lookup.map)
                walk(
                    grand,
                    {key.lookup.column(side)}
                    | {g.column(side) or "" for g, _ in lookup_scope(parent, key, grand)},
                )

    for field in table_map.lookup_fields(direction):
        assert field.lookup is not None
        parent = maps.by_name(field.lookup.map)
        walk(
            parent,
            {field.lookup.column(side)}
            | {p.column(side) or "" for p, _ in lookup_scope(table_map, field, parent)},
        )
    return tuple(dict.fromkeys(found))


def capture_fits(maps: MapSet, tables: AllTables, table_map: TableMap, direction: Direction) -> Sql:
    """True while a capture trigger can read what it reads by name: the row's key,
    filter and lookup columns (in its image ``v_image``) and the parent tables its
    references are looked up in."""
    names = sql_join([literal(n) for n in capture_reads(maps, table_map, direction)])
    checks = [Sql("v_image ?& ARRAY[{}]::text[]").format(names)]
    checks += [
        Sql("to_regclass({}) IS NOT NULL").format(literal(ident(t.schema, t.name)))
        for t in tables_read_by_refs(maps, tables, table_map, direction)
    ]
    return sql_join(checks, "\n       AND ")


def capture_refs(
    maps: MapSet, tables: AllTables, table_map: TableMap, direction: Direction, row: str
) -> Sql:
    """The refs a captured change carries: per lookup (named by its target column), the
    key of the parent it points at, read here where the parent is visible."""
    from_side, to_side = source_of(direction), target_of(direction)
    items: list[Sql] = []
    for field in table_map.lookup_fields(direction):
        assert field.lookup is not None
        parent = maps.by_name(field.lookup.map)
        matches = {field.lookup.column(from_side): ident(row, field.column(from_side) or "")}
        for parent_key, own in lookup_scope(table_map, field, parent):
            matches[parent_key.column(from_side) or ""] = ident(row, own.column(from_side) or "")
        key_json = parent_key_json(maps, tables, parent, from_side, matches, 1)
        items.append(Sql("{}, {}").format(literal(field.column(to_side) or ""), key_json))
    if not items:
        return Sql("NULL")
    return Sql("jsonb_build_object({})").format(sql_join(items, LIST))


def lookup_value(
    maps: MapSet, tables: AllTables, field: FieldMap, to_side: Side, refs_of: str = "refs"
) -> Sql:
    """A lookup's value on the target side, from the parent key its change carries
    (in ``refs_of``: refs, or base_refs for the row before the change)."""
    assert field.lookup is not None
    refs = Sql("(l.{} -> {})").format(bare(refs_of), literal(field.column(to_side) or ""))
    parent = maps.by_name(field.lookup.map)
    return resolve_sql(maps, tables, parent, to_side, refs, field.lookup.column(to_side), 1)


def unresolved_sql(table_map: TableMap, direction: Direction, field: FieldMap) -> Sql:
    """A reference the source holds whose parent has not arrived on the target."""
    source = literal(field.column(source_of(direction)) or "")
    return Sql("(l.image ->> {} IS NOT NULL AND {} IS NULL)").format(
        source, lookup_alias(table_map, direction, field)
    )


def capture_reads(maps: MapSet, table_map: TableMap, direction: Direction) -> tuple[str, ...]:
    """The source columns a capture trigger reads by name (keys, filter, lookups): if one
    is renamed or dropped under it, the trigger cannot tell what to queue."""
    from_side = source_of(direction)
    names = [f.column(from_side) or "" for f in table_map.key_fields]
    names += referenced_columns_of(table_map.filter(from_side) or "")
    for field in table_map.lookup_fields(direction):
        assert field.lookup is not None
        names.append(field.column(from_side) or "")
        parent = maps.by_name(field.lookup.map)
        names += [own.column(from_side) or "" for _, own in lookup_scope(table_map, field, parent)]
    return tuple(dict.fromkeys(n for n in names if n))
