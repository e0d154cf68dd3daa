"""Maps + catalog snapshots in, an ordered bundle of named SQL artifacts out.

Pure: no database, no clock. The same input gives the same bytes. Decisions
are made here in Python; the templates in templates/ only give them shape.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import jinja2

from replicator import locks, origins
from replicator.catalog import Column, SchemaCatalog, Table
from replicator.errors import Where
from replicator.expressions import columns_read as referenced_columns_of
from replicator.expressions import parse_expression, render
from replicator.model import (
    CONTROL_SCHEMA,
    DIRECTIONS,
    SIDES,
    Capture,
    Config,
    ConflictPolicy,
    Direction,
    FieldMap,
    MapSet,
    Roles,
    Scalar,
    Side,
    TableMap,
    lookup_scope,
    other_direction,
    source_of,
    target_of,
)
from replicator.quoting import Sql, comment, ident, literal, sql_join, text_literal
from replicator.resources import sql_file, templates_dir

# A trigger's WHEN: the write is not the replicator's own. Its apply functions set the
# marker and run as the owner of its schema (SECURITY DEFINER); an application role
# may set the marker too, but holds no CREATE on that schema, so its writes count.
NOT_REPLICATOR = Sql(
    "(current_setting('replicator.applying', true) IS DISTINCT FROM 'on'"
    f" OR NOT has_schema_privilege({literal(CONTROL_SCHEMA)}, 'CREATE'))"
)
# Long lists in generated SQL: one item per line, so a DBA's diff shows what changed.
LIST = ",\n       "


@dataclass(frozen=True)
class Artifact:
    """One named piece of generated SQL and the SQL that removes it again."""

    name: str
    sql: str
    drop_sql: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True)
class DatabaseBundle:
    """Everything one database receives, in the order it must be applied."""

    role: Side  # the side whose connection reaches this database
    label: str  # e.g. "fno" or "fno+cds" when both sides share the database
    artifacts: tuple[Artifact, ...]
    # The sides' schemas this database holds: a plan applied elsewhere stops on them.
    schemas: tuple[str, ...] = ()
    # With WAL capture: the logical slot deploy creates first (before any write of
    # its transaction, as PostgreSQL requires) when it does not exist.
    slot: str | None = None


@dataclass(frozen=True)
class Bundle:
    databases: tuple[DatabaseBundle, ...]
    # Deploy acts as roles.owner, and grants roles.runtime what the applier calls.
    roles: Roles | None = None

    @property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        if self.roles is not None:
            digest.update(f"roles={self.roles.owner}/{self.roles.runtime}\n".encode())
        for database in self.databases:
            for artifact in database.artifacts:
                digest.update(f"{database.role}/{artifact.name}={artifact.sha256}\n".encode())
        return digest.hexdigest()


def _finalize(value: Any) -> str:
    # Only text made safe by quoting.py or the expression renderer may reach the SQL.
    if isinstance(value, Sql | int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"template tried to print unquoted {type(value).__name__}: {value!r}")


_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FunctionLoader(lambda name: (templates_dir() / name).read_text(encoding="utf-8")),
    autoescape=False,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
    finalize=_finalize,
)


# A macro's output was printed through _finalize piece by piece; this filter lets the
# template print it whole: {{ latest()|checked }}.
_ENVIRONMENT.filters["checked"] = lambda text: Sql(text.rstrip("\n"))
# Every value a template prints into a -- comment goes through {{ value|comment }}.
_ENVIRONMENT.filters["comment"] = comment


def render_template(name: str, **context: Any) -> str:
    return _ENVIRONMENT.get_template(name).render(**context)


def database_guard(label: str, schemas: tuple[str, ...]) -> Sql:
    """SQL that stops a plan or roles file applied to a database without the schemas of
    the sides it was made for (psql connected to the wrong database)."""
    # By name, not to_regnamespace: that parses its argument, and refuses names that
    # need quoting.
    missing = " OR ".join(
        f"NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = {literal(schema)})"
        for schema in schemas
    )
    return Sql(
        render_template(
            "database_guard.sql.j2",
            label=comment(label),
            label_literal=literal(label),
            schemas_literal=literal(", ".join(schemas)),
            missing=Sql(missing),
        ).rstrip("\n")
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


def compile_bundle(config: Config, maps: MapSet, catalogs: dict[Side, SchemaCatalog]) -> Bundle:
    """Compile validated maps into the artifacts each database receives."""
    tables = {
        table_map.name: {side: _table(catalogs, table_map, side) for side in SIDES}
        for table_map in maps.maps
    }
    databases: list[DatabaseBundle] = []
    for role in config.databases:
        hosted = config.hosted(role)
        artifacts = [Artifact("control", sql_file("control.sql"), "")]
        artifacts.append(Artifact("drift", sql_file("drift.sql"), ""))
        artifacts += [
            _apply_artifact(maps, tables, table_map, direction)
            for table_map in maps.maps
            for direction in table_map.directions
            if target_of(direction) in hosted
        ]
        incoming = [d for d in DIRECTIONS if target_of(d) in hosted]
        artifacts.append(_dispatch_artifact(maps, incoming))
        artifacts += [
            artifact
            for table_map in maps.maps
            for direction in table_map.directions
            if source_of(direction) in hosted
            for artifact in (
                _capture_artifact(
                    maps, tables, table_map, direction, config.side(source_of(direction)).capture
                ),
                _snapshot_artifact(maps, tables, table_map, direction),
            )
        ]
        wal_sides = config.wal_sides(role)
        wal_routes = [
            (table_map, direction)
            for table_map in maps.maps
            for direction in table_map.directions
            if source_of(direction) in wal_sides
        ]
        route_sources = [tables[m.name][source_of(d)] for m, d in wal_routes]
        if wal_sides:
            read = [(t.schema, t.name) for t in route_sources] + [(CONTROL_SCHEMA, "map_state")]
            artifacts.append(
                _wal_artifact(
                    config.slot_name(role),
                    tuple(dict.fromkeys(wal2json_table(*pair) for pair in read)),
                    wal_routes,
                    [t.label for t in route_sources],
                )
            )
        artifacts.append(_registry_artifact(maps))
        artifacts.append(_dependencies_artifact(config, maps, tables, hosted))
        databases.append(
            DatabaseBundle(
                role=role,
                label=config.label(role),
                artifacts=tuple(artifacts),
                schemas=tuple(dict.fromkeys(config.side(side).schema for side in hosted)),
                slot=config.slot_name(role) if wal_sides else None,
            )
        )
    return Bundle(databases=tuple(databases), roles=config.roles)


def _table(catalogs: dict[Side, SchemaCatalog], table_map: TableMap, side: Side) -> Table:
    table = catalogs[side].table(table_map.table(side))
    assert table is not None, "compile runs on validated maps only"
    return table


def _column(table: Table, name: str | None) -> Column:
    assert name is not None
    column = table.column(name)
    assert column is not None, "compile runs on validated maps only"
    return column


def _function_name(kind: str, table_map: TableMap, direction: Direction) -> Sql:
    return control_function(f"{kind}_{table_map.name}_{direction}")


def _value_sql(
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
    target = _column(tables[to_side], field.column(to_side))
    target_type = verify_type_sql(field, target) if verifying else type_sql(target)
    default = field.default_for(to_side)
    source_name = field.column(from_side)
    expression = field.expression_for(direction)
    if expression is not None:
        value = _expression_sql(table_map, expression.text, tables[from_side], row)
    elif field.lookup is not None:
        assert not verifying, "verify compares lookups by the parent's key"
        value = _lookup_alias(table_map, direction, field)
    elif source_name is None:
        assert default is not None
        return Sql(f"CAST({literal(default)} AS {target_type})")
    else:
        value = ident(row, source_name)
    if field.value_map is not None:
        pairs = (
            field.value_map
            if direction == "to_right"
            else tuple((b, a) for a, b in field.value_map)
        )
        branches = " ".join(
            f"WHEN {value}::text = {text_literal(a)} THEN {text_literal(b)}" for a, b in pairs
        )
        fallback = field.fallback_for(to_side)
        otherwise = (
            text_literal(fallback)
            if fallback is not None
            else text_literal(UNMAPPED)
            if verifying
            else Sql("NULL")
            if not strict
            else Sql(
                f"{control_function('unmapped_value')}({literal(table_map.name)}, "
                f"{literal(field.label)}, {value}::text)"
            )
        )
        value = Sql(
            f"CAST(CASE WHEN {value} IS NULL THEN NULL {branches} ELSE {otherwise} END AS {target_type})"
        )
    elif not target.builtin or verifying:
        value = Sql(f"CAST({value} AS {target_type})")
    if default is not None:
        value = Sql(f"COALESCE({value}, CAST({literal(default)} AS {target_type}))")
    if field.null_policy(to_side) == "refuse" and strict and not verifying:
        refused = (
            f"{control_function('refused_null')}({literal(table_map.name)}, {literal(field.label)})"
        )
        value = Sql(
            f"CASE WHEN {value} IS NULL THEN CAST({refused} AS {type_sql(target)}) ELSE {value} END"
        )
    return value


def _over_row(text: str, source: Table, row: str, where: Where, what: str) -> Sql:
    """A user expression (filter, to_right/to_left) over ``source``'s columns of ``row``."""
    columns = [c.name for c in source.columns]
    return render(parse_expression(text, columns=columns, where=where, what=what), qualifier=row)


def _expression_sql(table_map: TableMap, text: str, source: Table, row: str = "s") -> Sql:
    return _over_row(text, source, row, Where(file=table_map.file, map=table_map.name), repr(text))


def _updated_sql(field: FieldMap, new: Sql, old: Sql, to_side: Side) -> Sql:
    """What an update sets a non-key target column to, from the ``new`` value that
    crossed and the ``old`` one there."""
    if field.sticky:
        return Sql(f"({old} OR {new})")  # once true, stays true
    if field.null_policy(to_side) == "keep":
        return Sql(f"COALESCE({new}, {old})")
    return new


def _lookup_alias(table_map: TableMap, direction: Direction, field: FieldMap) -> Sql:
    """The column of the resolved row that holds a lookup's value on the target side."""
    return ident("l", f"lookup_{table_map.lookup_fields(direction).index(field) + 1}")


AllTables = dict[str, dict[Side, Table]]


def _parent_key_json(
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
    items: list[str] = []
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
            value = _parent_key_json(maps, tables, grand, side, nested, depth + 1, neutral)
        elif neutral:
            value = Sql(f"CAST({value} AS text)")
        items.append(value if neutral else f"{literal(column)}, {value}")
    built = Sql(f"jsonb_build_{'array' if neutral else 'object'}({', '.join(items)})")
    if natural:
        # A null reference stays null rather than becoming a key of nulls.
        present = " AND ".join(
            f"{matches[key.column(side) or '']} IS NOT NULL" for key in parent.key_fields
        )
        return Sql(f"CASE WHEN {present} THEN {built} END")
    table = tables[parent.name][side]
    where = " AND ".join(f"{ident(alias, column)} = {expr}" for column, expr in matches.items())
    return Sql(
        f"(SELECT {built} FROM {ident(table.schema, table.name)} AS {ident(alias)} WHERE {where})"
    )


def _resolve_sql(
    maps: MapSet, tables: AllTables, parent: TableMap, side: Side, refs: Sql, want: str, depth: int
) -> Sql:
    """At apply: the ``want`` column of the parent row on ``side`` whose key matches
    the captured parent key ``refs``; null while that row has not arrived."""
    other: Side = "left" if side == "right" else "right"
    alias = f"p{depth}"
    table = tables[parent.name][side]
    conditions: list[str] = []
    for key in parent.key_fields:
        column, source = key.column(side) or "", key.column(other) or ""
        if key.lookup is None:
            value = Sql(f"CAST({refs} ->> {literal(source)} AS {type_sql(_column(table, column))})")
        else:
            value = _resolve_sql(
                maps,
                tables,
                maps.by_name(key.lookup.map),
                side,
                Sql(f"({refs} -> {literal(source)})"),
                key.lookup.column(side),
                depth + 1,
            )
        conditions.append(f"{ident(alias, column)} = {value}")
    return Sql(
        f"(SELECT {ident(alias, want)} FROM {ident(table.schema, table.name)} AS {ident(alias)}"
        f" WHERE {' AND '.join(conditions)})"
    )


def tables_read_by_refs(
    maps: MapSet, tables: AllTables, table_map: TableMap, direction: Direction
) -> tuple[Table, ...]:
    """The parent tables a capture reads by name to find the key a reference points at
    (those _parent_key_json cannot read from the row itself)."""
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


def _capture_fits(
    maps: MapSet, tables: AllTables, table_map: TableMap, direction: Direction
) -> Sql:
    """True while a capture trigger can read what it reads by name: the row's key,
    filter and lookup columns (in its image ``v_image``) and the parent tables its
    references are looked up in."""
    names = sql_join([literal(n) for n in capture_reads(maps, table_map, direction)])
    checks = [Sql(f"v_image ?& ARRAY[{names}]::text[]")]
    checks += [
        Sql(f"to_regclass({literal(ident(t.schema, t.name))}) IS NOT NULL")
        for t in tables_read_by_refs(maps, tables, table_map, direction)
    ]
    return sql_join(checks, "\n       AND ")


def _capture_refs(
    maps: MapSet, tables: AllTables, table_map: TableMap, direction: Direction, row: str
) -> Sql:
    """The refs a captured change carries: per lookup (named by its target column), the
    key of the parent it points at, read here where the parent is visible."""
    from_side, to_side = source_of(direction), target_of(direction)
    items: list[str] = []
    for field in table_map.lookup_fields(direction):
        assert field.lookup is not None
        parent = maps.by_name(field.lookup.map)
        matches = {field.lookup.column(from_side): ident(row, field.column(from_side) or "")}
        for parent_key, own in lookup_scope(table_map, field, parent):
            matches[parent_key.column(from_side) or ""] = ident(row, own.column(from_side) or "")
        key_json = _parent_key_json(maps, tables, parent, from_side, matches, 1)
        items.append(f"{literal(field.column(to_side) or '')}, {key_json}")
    if not items:
        return Sql("NULL")
    return Sql(f"jsonb_build_object({LIST.join(items)})")


def _mark_sql(table_map: TableMap, side: Side, target: Table) -> Sql | None:
    """With on_delete = "mark": the value the marked column is set to, as SQL."""
    mark = table_map.mark_for(side)
    if table_map.on_delete != "mark" or mark is None:
        return None
    column, value = mark
    return Sql(f"CAST({literal(value)} AS {type_sql(_column(target, column))})")


@dataclass(frozen=True)
class JudgedField:
    """A non-key field as the apply function judges a conflict over it: its values and
    the names its per-row verdicts take in the generated SQL."""

    column: Sql  # the target column
    label: Sql  # the field's name in the conflict log
    policy: Sql
    new: Sql  # the value the change brings (over the image row s)
    base: Sql  # the value the row had when it last crossed (over the base row b)
    take: Sql  # whether the incoming value is written (over the verdicts of decided)
    manual: bool
    updated: Sql  # what an update sets the column to when the incoming value is taken
    index: int

    def alias(self, kind: str) -> Sql:
        return ident(f"{kind}_{self.index}")


def _wins_sql(policy: ConflictPolicy, from_side: Side, row_newer: Sql) -> Sql:
    """Whether the incoming change wins a conflict under ``policy``."""
    if policy == "newest_wins":
        return row_newer
    if policy == "manual":
        return Sql("false")
    return literal(policy == f"{from_side}_wins")


def _judged_fields(
    table_map: TableMap, direction: Direction, tables: dict[Side, Table], fields: list[FieldMap]
) -> list[JudgedField]:
    from_side, to_side = source_of(direction), target_of(direction)
    judged: list[JudgedField] = []
    for index, field in enumerate(fields, start=1):
        column = field.column(to_side) or ""
        new = _value_sql(field, direction, tables, table_map)
        if field.lookup is not None:
            # The parent the row pointed at before, translated like the new one.
            position = table_map.lookup_fields(direction).index(field) + 1
            base = ident("l", f"base_lookup_{position}")
        else:
            base = _value_sql(field, direction, tables, table_map, row="b", strict=False)
        policy = table_map.field_policy(field)
        judged.append(
            JudgedField(
                column=ident(column),
                label=literal(field.label),
                policy=literal(policy),
                new=new,
                base=base,
                take=Sql(
                    # newest_wins decides whole rows: the newer version, field merge aside.
                    "NOT j.conflict OR j.newer"
                    if policy == "newest_wins"
                    else f"NOT j.{ident(f'tc_{index}')} OR (j.{ident(f'x_{index}')}"
                    f" AND {_wins_sql(policy, from_side, Sql('j.newer'))})"
                ),
                manual=policy == "manual",
                updated=_updated_sql(
                    field, ident("j", f"n_{index}"), ident("j", f"c_{index}"), to_side
                ),
                index=index,
            )
        )
    return judged


def _any(conditions: list[Sql]) -> Sql:
    """Conditions OR'ed (false when there are none)."""
    return Sql(f"({' OR '.join(conditions)})") if conditions else Sql("false")


def _upsert_outcome(judged: list[JudgedField]) -> Sql:
    """What a conflict over an upsert came to: took_incoming when no edit made here
    survived, kept_local when nothing the change brought was written, else merged."""
    kept = _any([Sql(f"(j.{f.alias('tc')} AND NOT j.{f.alias('take')})") for f in judged])
    brought = _any(
        [
            Sql(f"(j.{f.alias('take')} AND j.{f.alias('c')} IS DISTINCT FROM j.{f.alias('n')})")
            for f in judged
        ]
    )
    return Sql(
        "CASE WHEN j.waiting THEN 'waiting'"
        " WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END"
        f" WHEN NOT {kept} THEN 'took_incoming'"
        f" WHEN NOT {brought} THEN 'kept_local'"
        " ELSE 'merged' END"
    )


def _field_verdicts(judged: list[JudgedField], branches: Any) -> Sql:
    """jsonb_build_object arguments: per field, its name and a CASE of ``branches``."""
    return sql_join(
        [Sql(f"{f.label}, CASE {branches(f)} END") for f in judged], ",\n               "
    )


def _apply_artifact(
    maps: MapSet, all_tables: AllTables, table_map: TableMap, direction: Direction
) -> Artifact:
    from_side, to_side = source_of(direction), target_of(direction)
    tables = all_tables[table_map.name]
    source, target = tables[from_side], tables[to_side]
    lookup_fields = table_map.lookup_fields(direction)
    keys = table_map.key_fields
    carried = table_map.carried_fields(direction)
    non_keys = [f for f in carried if not f.key]
    target_key = target.key_for(tuple(f.column(to_side) or "" for f in keys))
    assert target_key is not None
    source_columns = table_map.source_columns(direction)
    judged = _judged_fields(table_map, direction, tables, non_keys)
    key_values = [
        (ident(f"k_{n}"), _value_sql(f, direction, tables, table_map))
        for n, f in enumerate(keys, start=1)
    ]

    def declare(names: tuple[str, ...] | list[str]) -> Sql:
        return sql_join(
            [Sql(f"{ident(n)} {image_type_sql(_column(source, n))}") for n in names], LIST
        )

    key_sources = [f.column(from_side) or "" for f in keys]
    context = {
        "map_name": literal(table_map.name),
        "direction": literal(direction),
        "write_function": _function_name("write", table_map, direction),
        "apply_function": _function_name("apply", table_map, direction),
        "error_log": control_function("error_log"),
        "target_table": ident(target.schema, target.name),
        "image_columns": declare(list(source_columns)),
        "key_columns": declare(key_sources),
        "key_order": sql_join([ident("k", n) for n in key_sources]),
        "key_match": sql_join(
            [
                Sql(
                    f"{ident('t', f.column(to_side) or '')} = "
                    + (
                        _lookup_alias(table_map, direction, f)
                        if f.lookup is not None
                        else ident("s", f.column(from_side) or "")
                    )
                )
                for f in keys
            ],
            " AND ",
        ),
        "rows": Sql("resolved") if lookup_fields else Sql("latest"),
        "held": control_function("held_change"),
        "held_key_match": sql_join(
            [Sql(f"h.image -> {literal(n)} = l.image -> {literal(n)}") for n in key_sources],
            " AND ",
        ),
        "lookups": sql_join(
            [
                Sql(f"{_lookup_value(maps, all_tables, f, to_side)} AS {ident(f'lookup_{n}')}")
                for n, f in enumerate(lookup_fields, start=1)
                if f.lookup is not None
            ],
            ",\n           ",
        ),
        "base_lookups": sql_join(
            [
                Sql(
                    f"{_lookup_value(maps, all_tables, f, to_side, 'base_refs')}"
                    f" AS {ident(f'base_lookup_{n}')}"
                )
                for n, f in enumerate(lookup_fields, start=1)
                # A key is not judged: its value before is never read.
                if f.lookup is not None and not f.key
            ],
            ",\n           ",
        ),
        "unresolved": sql_join(
            [_unresolved(table_map, direction, f) for f in lookup_fields], " OR "
        ),
        "waiting_for": sql_join(
            [
                Sql(
                    f"CASE WHEN {_unresolved(table_map, direction, f)} THEN {literal(f.lookup.map)} END"
                )
                for f in lookup_fields
                if f.lookup is not None
            ]
        ),
        "change_key": _key_json(key_sources, Sql("v_change->'image'")),
        "batch_key": _key_json(key_sources, Sql("c.value->'image'")),
        "log_error": control_function("log_error"),
        "supersede_errors": control_function("supersede_errors"),
        "insert_columns": sql_join([ident(f.column(to_side) or "") for f in carried]),
        "conflict_columns": sql_join([ident(c) for c in target_key.columns]),
        "judged": judged,
        "key_values": key_values,
        "target_key": sql_join(
            [
                Sql(f"{literal(f.column(to_side) or '')}, j.{ident(f'k_{n}')}")
                for n, f in enumerate(keys, start=1)
            ]
        ),
        "target_key_values": sql_join(
            [
                Sql(f"{literal(f.column(to_side) or '')}, {value}")
                for f, (_, value) in zip(keys, key_values, strict=True)
            ]
        ),
        "insert_row": sql_join(
            [
                Sql(f"j.{ident(f'k_{keys.index(f) + 1}')}")
                if f.key
                # Brought back over a delete made here: as its fields were judged.
                else Sql(
                    f"CASE WHEN j.gone THEN j.{judged[non_keys.index(f)].alias('f')}"
                    f" ELSE j.{judged[non_keys.index(f)].alias('n')} END"
                )
                for f in carried
            ],
            LIST,
        ),
        "update_set": sql_join([Sql(f"{f.column} = j.{f.alias('f')}") for f in judged], LIST),
        "final_values": sql_join([Sql(f"j.{f.alias('f')}") for f in judged]),
        "current_values": sql_join([Sql(f"j.{f.alias('c')}") for f in judged]),
        "any_changed": _any([Sql(f"j.{f.alias('tc')}") for f in judged]),
        "waiting": _any(
            [Sql(f"j.{f.alias('x')}") for f in judged if f.manual]
            + ([Sql("j.gone")] if table_map.conflict_policy == "manual" else [])
        ),
        "literal_manual": literal(table_map.conflict_policy == "manual"),
        "upsert_outcome": _upsert_outcome(judged),
        "upsert_fields": _field_verdicts(
            judged,
            lambda f: (
                f"WHEN j.{f.alias('x')} THEN jsonb_build_object('policy', {f.policy}, 'took',"
                f" CASE WHEN j.waiting THEN 'waiting' WHEN j.{f.alias('take')} THEN 'incoming'"
                " ELSE 'local' END)"
                f" WHEN j.{f.alias('tc')} THEN jsonb_build_object('policy', 'merge', 'took', 'local')"
            ),
        ),
        # A delete that lost is judged again as an update: logged once, by the delete pass.
        "upsert_logged": Sql("j.conflict AND j.op <> 'D'"),
        "delete_logged": Sql("j.conflict"),
        "delete_outcome": Sql(
            "CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'took_incoming' ELSE 'kept_local' END"
        ),
        "delete_fields": _field_verdicts(
            judged,
            lambda f: (
                f"WHEN j.{f.alias('tc')} THEN jsonb_build_object('policy',"
                f" {literal(table_map.conflict_policy)}, 'took', CASE WHEN j.waiting THEN 'waiting'"
                " WHEN j.goes THEN 'incoming' ELSE 'local' END)"
            ),
        ),
        "committed_at": control_function("committed_at"),
        "change_key_of_l": _key_json(key_sources, Sql("l.image")),
        "target_label": literal(target.label),
        "watched_names": Sql(
            "ARRAY["
            + ", ".join(
                literal(c) for c in dict.fromkeys(c for f in non_keys for c in f.reads(direction))
            )
            + "]::text[]"
        ),
        "newest": "newest_wins" in table_map.policies,
        "row_clock": control_function("row_clock"),
        "conflict_log": control_function("conflict_log"),
        "latest_key": _key_json(key_sources, Sql("j.image")),
        "map_policy": literal(table_map.conflict_policy),
        "map_manual": table_map.conflict_policy == "manual",
        # A change meets a row deleted here: does it bring the row back? A delete meets
        # a row changed here: does it go? newest_wins keeps the row (the replicator keeps
        # no tombstones, so a delete's time is not known where the row is gone).
        "revives": _wins_sql(table_map.conflict_policy, from_side, Sql("j.newer_than_delete")),
        "deletes": _wins_sql(table_map.conflict_policy, from_side, Sql("j.newer")),
        "tombstone": control_function("tombstone"),
        "queue": control_function("change_queue"),
        "queue_ids": literal("replicator.change_queue_id_seq"),
        "other_direction": literal(other_direction(direction)),
        "source_is_left": literal(from_side == "left"),
        "on_delete": Sql(table_map.on_delete),
        "on_truncate": Sql(table_map.on_truncate),
        "target_filter": _filter_sql(table_map, to_side, target, "t"),
        "source_label": literal(source.label),
        "truncate_hint": literal(
            f"The rows of {target.label} were left as they are: delete them"
            " there if they should go, then close this error with replicator skip."
        ),
        "mark_column": ident(mark[0]) if (mark := table_map.mark_for(to_side)) else None,
        "mark": _mark_sql(table_map, to_side, target),
    }
    sql = render_template("apply.sql.j2", **context)
    drop_sql = render_template(
        "drop_functions.sql.j2",
        functions=[
            Sql(f"{context['apply_function']}(jsonb, boolean)"),
            Sql(f"{context['write_function']}(jsonb, boolean)"),
        ],
        guard_held=bool(lookup_fields),  # only maps with lookups hold changes
        map_name=context["map_name"],
        direction=context["direction"],
        held=context["held"],
    )
    return Artifact(f"map/{table_map.name}/{direction}/apply", sql, drop_sql)


def _key_json(key_sources: list[str], image: Sql) -> Sql:
    """A change's key as the error and conflict logs record it: the source's key
    columns of its ``image``."""
    pairs = ", ".join(f"{literal(n)}, {image}->{literal(n)}" for n in key_sources)
    return Sql(f"jsonb_build_object({pairs})")


def _lookup_value(
    maps: MapSet, tables: AllTables, field: FieldMap, to_side: Side, refs_of: str = "refs"
) -> Sql:
    """A lookup's value on the target side, from the parent key its change carries
    (in ``refs_of``: refs, or base_refs for the row before the change)."""
    assert field.lookup is not None
    refs = Sql(f"(l.{refs_of} -> {literal(field.column(to_side) or '')})")
    parent = maps.by_name(field.lookup.map)
    return _resolve_sql(maps, tables, parent, to_side, refs, field.lookup.column(to_side), 1)


def _unresolved(table_map: TableMap, direction: Direction, field: FieldMap) -> Sql:
    """A reference the source holds whose parent has not arrived on the target."""
    source = literal(field.column(source_of(direction)) or "")
    return Sql(
        f"(l.image ->> {source} IS NOT NULL AND {_lookup_alias(table_map, direction, field)} IS NULL)"
    )


def _capture_artifact(
    maps: MapSet,
    all_tables: AllTables,
    table_map: TableMap,
    direction: Direction,
    capture: Capture,
) -> Artifact:
    """Trigger capture: row triggers queue each change. WAL capture: a function the
    listener calls with the changes it decoded from the slot."""
    tables = all_tables[table_map.name]
    from_side = source_of(direction)
    source = tables[from_side]
    text = table_map.filter(from_side)
    filters = {row: _filter_sql(table_map, from_side, source, row) for row in ("old", "new")}
    # Watched by the update trigger: what crosses, and what decides whether a row counts.
    source_columns = list(
        dict.fromkeys((*table_map.source_columns(direction), *referenced_columns_of(text or "")))
    )
    key_sources = [f.column(from_side) or "" for f in table_map.key_fields]
    kind = "capture" if capture == "trigger" else "wal"
    capture_function = _function_name(kind, table_map, direction)
    context = {
        "map_name": literal(table_map.name),
        "direction": literal(direction),
        "online": table_map.mode == "online",
        "capture_function": capture_function,
        "capture_signature": Sql(f"{capture_function}({'' if kind == 'capture' else 'jsonb'})"),
        "write_function": _function_name("write", table_map, direction),
        "queue": control_function("change_queue"),
        "wal_stopped": control_function("wal_stopped"),
        "wake_lock": Sql(f"{locks.WAKE[0]}, {locks.WAKE[1]}"),
        "source_table": ident(source.schema, source.name),
        "target_label": literal(tables[target_of(direction)].label),
        "old_filter": filters["old"],
        "new_filter": filters["new"],
        "old_key": sql_join([ident("old", n) for n in key_sources]),
        "new_key": sql_join([ident("new", n) for n in key_sources]),
        "current_key": sql_join([ident("cur", n) for n in key_sources]),
        "old_key_text": sql_join([Sql(f"{ident('old', n)}::text") for n in key_sources]),
        "new_key_text": sql_join([Sql(f"{ident('new', n)}::text") for n in key_sources]),
        "key_names": literal(", ".join(key_sources)),
        "old_watched": sql_join([ident("old", n) for n in source_columns]),
        "new_watched": sql_join([ident("new", n) for n in source_columns]),
        "watched_names": Sql(f"ARRAY[{sql_join([literal(n) for n in source_columns])}]::text[]"),
        "activity_log": control_function("activity_log"),
        "other_direction": literal(other_direction(direction)),
        "source_label": literal(source.label),
        "old_refs": _capture_refs(maps, all_tables, table_map, direction, "old"),
        "new_refs": _capture_refs(maps, all_tables, table_map, direction, "new"),
        "capture_fits": _capture_fits(maps, all_tables, table_map, direction),
        "uncaptured": control_function("uncaptured"),
        "map_state": control_function("map_state"),
        "row_trigger": _triggers(table_map, direction)[0],
        "update_trigger": _triggers(table_map, direction)[1],
        "truncate_trigger": _triggers(table_map, direction)[2],
        "sync_trigger": _triggers(table_map, direction)[3],
        "not_replicator": NOT_REPLICATOR,
    }
    sql = render_template(
        "capture.sql.j2" if kind == "capture" else "wal_capture.sql.j2", **context
    )
    drop_sql = render_template("drop_capture.sql.j2", **context)
    return Artifact(f"map/{table_map.name}/{direction}/{kind}", sql, drop_sql)


def wal2json_table(schema: str, name: str) -> str:
    """A table as wal2json's add-tables option names it: schema.table, each ASCII
    character but letters, digits and _ escaped by a backslash (the option reads
    ',' '.' '*' and unescaped white space, a line break too, as syntax; an escape
    before any other character is simply dropped).

    Built here, where schema and name are still apart: a '.' inside either would
    split a joined "schema.table" label in the wrong place."""

    def escaped(part: str) -> str:
        return "".join(
            "\\" + c if c.isascii() and not (c.isalnum() or c == "_") else c for c in part
        )

    return f"{escaped(schema)}.{escaped(name)}"


def _wal_artifact(
    slot: str,
    tables: tuple[str, ...],
    routes: list[tuple[TableMap, Direction]],
    tables_of_routes: list[str],
) -> Artifact:
    """A database's WAL capture: the origins, and the function the listener calls."""
    context = {
        "listener_table": control_function("wal_listener"),
        "wal_stopped": control_function("wal_stopped"),
        "map_state": control_function("map_state"),
        "tables": Sql(f"ARRAY[{sql_join([literal(t) for t in tables])}]::text[]"),
        "origins": Sql(f"ARRAY[{sql_join([literal(o) for o in origins.ALL])}]::text[]"),
        "route_function": control_function("capture_wal"),
        "parked": control_function("wal_parked"),
        "wal_routes": [
            {
                "table": literal(table),
                "function": _function_name("wal", m, d),
                "map_name": literal(m.name),
                "direction": literal(d),
            }
            for table, (m, d) in zip(tables_of_routes, routes, strict=True)
        ],
        "slot": literal(slot),
    }
    return Artifact(
        "wal",
        render_template("wal_route.sql.j2", **context),
        render_template("drop_wal.sql.j2", **context),
    )


def _filter_sql(table_map: TableMap, side: Side, source: Table, row: str) -> Sql:
    """A map's filter on one side over ``row``; true when it has none."""
    text = table_map.filter(side)
    if text is None:
        return Sql("true")
    where = Where(file=table_map.file, map=table_map.name)
    return _over_row(text, source, row, where, f"{side}_filter {text!r}")


def _snapshot_artifact(
    maps: MapSet, all_tables: AllTables, table_map: TableMap, direction: Direction
) -> Artifact:
    from_side = source_of(direction)
    source = all_tables[table_map.name][from_side]
    keys = [(f.column(from_side) or "") for f in table_map.key_fields]
    function = _function_name("snapshot", table_map, direction)
    resend = _function_name("resend", table_map, direction)
    sql = render_template(
        "snapshot.sql.j2",
        map_name=literal(table_map.name),
        direction=literal(direction),
        snapshot_function=function,
        resend_function=resend,
        queue=control_function("change_queue"),
        key_of_p_key=sql_join(
            [Sql(f"CAST(p_key ->> {literal(k)} AS {type_sql(_column(source, k))})") for k in keys]
        ),
        source_table=ident(source.schema, source.name),
        filter=_filter_sql(table_map, from_side, source, "new"),
        refs=_capture_refs(maps, all_tables, table_map, direction, "new"),
        key_order=sql_join([ident("new", k) for k in keys]),
        after_key=sql_join(
            [Sql(f"CAST(p_after ->> {literal(k)} AS {type_sql(_column(source, k))})") for k in keys]
        ),
    )
    drop_sql = render_template(
        "drop_functions.sql.j2",
        functions=[Sql(f"{function}(jsonb, integer)"), Sql(f"{resend}(jsonb)")],
        guard_held=False,
    )
    return Artifact(f"map/{table_map.name}/{direction}/snapshot", sql, drop_sql)


def resend_call(table_map: TableMap, direction: Direction) -> Sql:
    """replicator resolve's call: queue a key's row as it is now, forced, in ``direction``."""
    return Sql(f"SELECT {_function_name('resend', table_map, direction)}(%s::jsonb)")


def snapshot_query(table_map: TableMap, direction: Direction) -> Sql:
    """The call replicator sync makes for each chunk: (last key, chunk size) in, jsonb out."""
    return Sql(f"SELECT {_function_name('snapshot', table_map, direction)}(%s::jsonb, %s)::text")


def _trigger_names(table_map: TableMap, direction: Direction) -> tuple[str, str, str, str]:
    """The capture triggers of a map direction: inserts and deletes, updates, truncates,
    and the one noting what an initial sync overwrote."""
    name = f"replicator_{table_map.name}_{direction}"
    return name, f"{name}_upd", f"{name}_trunc", f"{name}_sync"


def _triggers(table_map: TableMap, direction: Direction) -> tuple[Sql, ...]:
    return tuple(ident(name) for name in _trigger_names(table_map, direction))


def _dispatch_artifact(maps: MapSet, incoming: list[Direction]) -> Artifact:
    routes = [
        {
            "map_name": literal(table_map.name),
            "direction": literal(direction),
            "apply_function": _function_name("apply", table_map, direction),
            "parents": Sql(
                "ARRAY["
                + ", ".join(
                    literal(name)
                    for name in dict.fromkeys(
                        f.lookup.map for f in table_map.lookup_fields(direction) if f.lookup
                    )
                )
                + "]::text[]"
            )
            if table_map.lookup_fields(direction)
            else None,
        }
        for direction in incoming
        for table_map in maps.maps
        if direction in table_map.directions
    ]
    known = [
        literal(f"{table_map.name}/{d}")
        for d in incoming
        for table_map in maps.maps
        if d in table_map.directions
    ]
    sql = render_template(
        "dispatch.sql.j2",
        routes=routes,
        known_routes=Sql(f"ARRAY[{sql_join(known)}]::text[]"),
        dispatch_function=control_function("apply_batch"),
        error_log=control_function("error_log"),
        map_state=control_function("map_state"),
        held=control_function("held_change"),
    )
    return Artifact("dispatch", sql, "")


def expression_probe(view: str, source: Table, text: str) -> Sql:
    """A temporary view of one to_right/to_left expression over its source table, so
    validate can ask PostgreSQL what type the expression has."""
    return Sql(
        f"CREATE TEMP VIEW {ident(view)} AS SELECT {_over_row(text, source, 's', Where(), text)} AS value"
        f" FROM {ident(source.schema, source.name)} AS s"
    )


def key_match_probe(view: str, target: Column, source: Column) -> Sql:
    """A temporary view of the comparison an apply function matches a key with (the
    target's column = the source's column as the captured image declares it), so
    validate can ask the target database whether it has such an operator."""
    return Sql(
        f"CREATE TEMP VIEW {ident(view)} AS SELECT"
        f" CAST(NULL AS {type_sql(target)}) = CAST(NULL AS {image_type_sql(source)}) AS value"
    )


def constant_probe(view: str, value: Scalar, from_text: bool, column: Column) -> Sql:
    """A temporary view of a map's constant cast to the column it is written into, as an
    apply function writes it (a value-map output from its text form), so validate can
    ask the target database whether the column's type takes it."""
    written = text_literal(value) if from_text else literal(value)
    return Sql(
        f"CREATE TEMP VIEW {ident(view)} AS SELECT CAST({written} AS {type_sql(column)}) AS value"
    )


def count_sql(table_map: TableMap, side: Side, schema: str) -> Sql:
    """How many rows one side holds under the map's filter on that side."""
    text = table_map.filter(side)
    where = Sql("")
    if text is not None:
        tree = parse_expression(text, columns=referenced_columns_of(text), where=Where(), what=text)
        where = Sql(f" WHERE {render(tree, qualifier='t')}")
    return Sql(f"SELECT count(*) FROM {ident(schema, table_map.table(side))} AS t{where}")


def _registry_artifact(maps: MapSet) -> Artifact:
    rows = [
        Sql(f"({literal(table_map.name)}, {literal(direction)})")
        for table_map in maps.maps
        for direction in table_map.directions
    ]
    sql = render_template(
        "registry.sql.j2", rows=sql_join(rows), map_state=control_function("map_state")
    )
    return Artifact("registry", sql, "")


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


@dataclass
class _Uses:
    """How a map uses one column of a table: for drift messages and capture."""

    uses: list[str]
    capture_reads: bool = False  # the capture (trigger or WAL function) reads it by name

    def add(self, uses: str, capture_reads: bool = False) -> None:
        if uses and uses not in self.uses:
            self.uses.append(uses)
        self.capture_reads = self.capture_reads or capture_reads


def _own_columns(
    maps: MapSet, table_map: TableMap, side: Side, capture: Capture | None
) -> dict[str, _Uses]:
    """The columns of its own table on ``side`` a map names or reads."""
    used: dict[str, _Uses] = {}

    def use(column: str | None, uses: str, reads: bool = False) -> None:
        if column:
            used.setdefault(column, _Uses([])).add(uses, reads)

    for field in table_map.fields:
        use(field.column(side), f"field {field.label}")
    for column in referenced_columns_of(table_map.filter(side) or ""):
        use(column, f"{side}_filter")
    for direction in table_map.directions:
        if source_of(direction) != side:
            continue
        # A WAL capture function reads every column it watches by name; a capture
        # trigger only its key, filter and lookup columns (the rest is to_jsonb(NEW)).
        wal = capture == "wal"
        for field in table_map.carried_fields(direction):
            for column in field.reads(direction):
                use(column, f"field {field.label}", reads=wal)
        for column in referenced_columns_of(table_map.filter(side) or ""):
            use(column, "", reads=wal)
        for column in capture_reads(maps, table_map, direction):
            use(column, "", reads=True)
    mark = table_map.mark_for(side)
    if mark is not None:
        use(mark[0], "on_delete mark")
    return used


def _dependencies_artifact(
    config: Config, maps: MapSet, tables: AllTables, hosted: tuple[Side, ...]
) -> Artifact:
    """What each map relies on in this database, recorded at deploy for replicator.drift():
    per side, its table and the columns it names, the tables and columns its lookups
    read, and its capture triggers."""
    calls: list[dict[str, Sql]] = []
    for table_map in maps.maps:
        for side in hosted:
            sources = [d for d in table_map.directions if source_of(d) == side]
            capture = config.side(side).capture if sources else None
            triggers = [
                trigger
                for direction in sources
                if capture == "trigger"
                for trigger in _trigger_names(table_map, direction)
            ]
            own = _own_columns(maps, table_map, side, capture)
            calls.append(
                _dependency_call(
                    table_map, side, tables[table_map.name][side], own, triggers, capture
                )
            )
            # Lookups read the parent's table on this side, by name.
            parents: dict[str, dict[str, _Uses]] = {}
            for field in table_map.fields:
                if field.lookup is None:
                    continue
                parent = maps.by_name(field.lookup.map)
                columns = parents.setdefault(parent.name, {})
                for column in (
                    field.lookup.column(side),
                    *(k.column(side) for k in parent.key_fields),
                ):
                    if column:
                        columns.setdefault(column, _Uses([f"lookup {parent.name}"]))
            # A capture trigger looking references up in a parent table cannot capture
            # while that table is renamed or dropped.
            looked_up = {
                t.name
                for direction in sources
                if capture == "trigger"
                for t in tables_read_by_refs(maps, tables, table_map, direction)
            }
            for parent_name, columns in parents.items():
                parent_table = tables[parent_name][side]
                calls.append(
                    _dependency_call(
                        table_map,
                        side,
                        parent_table,
                        columns,
                        [],
                        None,
                        lookup=parent_name,
                        reads=parent_table.name in looked_up,
                    )
                )
    sql = render_template(
        "dependencies.sql.j2", calls=calls, dependency=control_function("map_dependency")
    )
    return Artifact("dependencies", sql, "")


def _dependency_call(
    table_map: TableMap,
    side: Side,
    table: Table,
    used: dict[str, _Uses],
    triggers: list[str],
    capture: Capture | None,
    lookup: str | None = None,
    reads: bool = False,
) -> dict[str, Sql]:
    columns = [
        {
            "column": column,
            "uses": ", ".join(entry.uses) or "its capture",
            "capture_reads": entry.capture_reads,
        }
        for column, entry in used.items()
    ]
    return {
        "map_name": literal(table_map.name),
        "side": literal(side),
        "schema": literal(table.schema),
        "table": literal(table.name),
        "columns": literal(json.dumps(columns)),
        "triggers": Sql(f"ARRAY[{sql_join([literal(t) for t in triggers])}]::text[]"),
        "capture": literal(capture),
        "lookup": literal(lookup),
        "reads": literal(reads),
    }
