"""Maps + catalog snapshots in, an ordered bundle of named SQL artifacts out.

Pure: no database, no clock. The same input gives the same bytes. Decisions
are made here in Python; the templates in templates/ only give them shape.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

import jinja2

from replicator.core import locks, origins
from replicator.core.errors import Where
from replicator.core.quoting import Scalar, Sql, comment, ident, literal, sql_join, text_literal
from replicator.core.resources import sql_file, templates_dir
from replicator.inspect.catalog import Column, SchemaCatalog, Table
from replicator.inspect.migrations import Migration, control_migrations
from replicator.maps.expressions import columns_read as referenced_columns_of
from replicator.maps.expressions import may_raise, parse_expression, render
from replicator.maps.model import (
    CONTROL_SCHEMA,
    DIRECTIONS,
    SIDES,
    WRITE_SCHEMA,
    Capture,
    Config,
    ConflictPolicy,
    Direction,
    FieldMap,
    MapSet,
    Roles,
    Side,
    TableMap,
    lookup_scope,
    other_direction,
    source_of,
    target_of,
)

# A trigger's WHEN: the write is not the replicator's own. Its apply functions set the
# marker and write as a writer (SECURITY DEFINER functions in the writers' schema); an
# application role may set the marker too, but may not use that schema, so its writes
# count.
NOT_REPLICATOR = Sql(
    "(current_setting('replicator.applying', true) IS DISTINCT FROM 'on'"
    f" OR NOT has_schema_privilege({literal(WRITE_SCHEMA)}, 'USAGE'))"
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
    # The control schema every database gets: deploy runs the migrations not run there yet.
    migrations: tuple[Migration, ...]
    # Deploy acts as roles.owner, and grants roles.runtime what the applier calls.
    roles: Roles | None = None

    @property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        if self.roles is not None:
            digest.update(f"roles={self.roles.owner}/{self.roles.runtime}\n".encode())
        for migration in self.migrations:
            digest.update(f"control/{migration.label}={migration.sha256}\n".encode())
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


def json_object(pairs: list[tuple[Sql, Sql]]) -> Sql:
    """jsonb_build_object over any number of pairs: PostgreSQL passes a function at most
    100 arguments, so every 50 pairs make one object, and the objects are joined."""
    chunks = [pairs[i : i + 50] for i in range(0, len(pairs), 50)] or [[]]
    return Sql(
        " || ".join(
            "jsonb_build_object(" + ", ".join(f"{k}, {v}" for k, v in chunk) + ")"
            for chunk in chunks
        )
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
        table_map.name: {side: mapped_table(catalogs, table_map, side) for side in SIDES}
        for table_map in maps.maps
    }
    databases: list[DatabaseBundle] = []
    for role in config.databases:
        hosted = config.hosted(role)
        artifacts = [Artifact("drift", sql_file("drift.sql"), "")]
        artifacts += [
            _apply_artifact(config, maps, tables, table_map, direction)
            for table_map in maps.maps
            for direction in table_map.directions
            if target_of(direction) in hosted
        ]
        incoming = [d for d in DIRECTIONS if target_of(d) in hosted]
        artifacts.append(_dispatch_artifact(maps, incoming))
        sourced = [
            (table_map, direction)
            for table_map in maps.maps
            for direction in table_map.directions
            if source_of(direction) in hosted
        ]
        artifacts += [
            artifact
            for table_map, direction in sourced
            for artifact in (
                _capture_artifact(
                    maps, tables, table_map, direction, config.side(source_of(direction)).capture
                ),
                _snapshot_artifact(maps, tables, table_map, direction),
            )
        ]
        absorbed = [(m, d) for m, d in sourced if _versioned(m)]
        artifacts += [_absorb_artifact(tables, m, d) for m, d in absorbed]
        artifacts.append(_absorb_batch_artifact(absorbed))
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
    return Bundle(databases=tuple(databases), migrations=control_migrations(), roles=config.roles)


def mapped_table(catalogs: dict[Side, SchemaCatalog], table_map: TableMap, side: Side) -> Table:
    """The table a validated map names on ``side``, as the catalog describes it."""
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
            value = parent_key_json(maps, tables, grand, side, nested, depth + 1, neutral)
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


def capture_refs(
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
        key_json = parent_key_json(maps, tables, parent, from_side, matches, 1)
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


# A row's clock entry, per field and for the row itself ("" in replicator.versions):
# [newest left change, newest right change, their stamps]. Positions by side:
CLOCK_ID = {"left": 0, "right": 1}
CLOCK_STAMP = {"left": 2, "right": 3}
ROW_ENTRY = ""


def clock_entry(writer: Side, clock: Sql, label: Sql, change: Sql, stamp: Sql) -> Sql:
    """The entry of ``label`` in ``clock`` once it holds ``change`` (with its ``stamp``)
    written on side ``writer``: that side's id and stamp move to it, the other's stay."""
    entry = Sql(f"{clock}->{label}")
    parts: list[Sql] = []
    for side in SIDES:
        position = CLOCK_ID[side]
        parts.append(
            Sql(f"greatest(coalesce(({entry}->>{position})::bigint, 0), {change})")
            if side == writer
            else Sql(f"coalesce({entry}->{position}, to_jsonb(0))")
        )
    for side in SIDES:
        parts.append(stamp if side == writer else Sql(f"{entry}->{CLOCK_STAMP[side]}"))
    return Sql(f"jsonb_build_array({sql_join(parts)})")


def _wins_sql(policy: ConflictPolicy, from_side: Side, stamps: tuple[Sql, Sql]) -> Sql:
    """Whether an incoming write concurrent with this side's wins under ``policy``;
    ``stamps`` are (incoming, here): newest_wins compares them, the left side taking a tie."""
    if policy == "newest_wins":
        incoming, here = (Sql(f"coalesce({stamp}, 0)") for stamp in stamps)
        return Sql(
            f"({incoming} > {here} OR ({incoming} = {here} AND {literal(from_side == 'left')}))"
        )
    if policy == "manual":
        return Sql("false")
    return literal(policy == f"{from_side}_wins")


def _changed(columns: tuple[str, ...], row: str) -> Sql:
    """Whether an update (``row``: a change with before and image) changed any of ``columns``."""
    if not columns:
        return Sql("false")
    return sql_join(
        [
            Sql(f"{row}.before->{literal(c)} IS DISTINCT FROM {row}.image->{literal(c)}")
            for c in columns
        ],
        " OR ",
    )


@dataclass(frozen=True)
class ApplyField:
    """A non-key field as the apply function decides it: what the change brings, which
    writes count on each side, who wins, and the names its per-row values take."""

    index: int
    column: Sql  # the target column
    label: Sql  # the field's name in the clock and the conflict log
    policy: Sql
    new: Sql  # the value the change brings (over the image row s and the resolved row l)
    wins: Sql  # whether an incoming write concurrent with this side's wins
    manual: bool
    updated: Sql  # what the column becomes when the incoming value is taken
    entry: Sql  # the field's clock entry once the incoming write is recorded
    incoming_reads: tuple[str, ...]  # the source columns that make the field's value
    own_reads: tuple[str, ...] | None  # the same here, where this side's writes count

    @property
    def own_counted(self) -> bool:
        """Whether this side's own writes of the field count: it crosses from here too."""
        return self.own_reads is not None

    @property
    def manual_sql(self) -> Sql:
        return literal(self.manual)

    def alias(self, kind: str) -> Sql:
        return ident(f"{kind}_{self.index}")

    def written_by(self, row: str) -> Sql:
        """Whether the incoming update ``row`` wrote this field."""
        return _changed(self.incoming_reads, row)

    def written_here(self, row: str) -> Sql:
        """Whether this side's queued update ``row`` wrote this field."""
        return _changed(self.own_reads or (), row)


def _versioned(table_map: TableMap) -> bool:
    """Whether a map keeps clocks: a queued map flowing both ways. One way, the target's
    own writes of a row never cross, so every incoming change wins; online, both sides
    change in one transaction."""
    return table_map.mode == "queued" and len(table_map.directions) == 2


def _apply_fields(
    table_map: TableMap, direction: Direction, tables: dict[Side, Table], fields: list[FieldMap]
) -> list[ApplyField]:
    from_side, to_side = source_of(direction), target_of(direction)
    reverse = other_direction(direction)
    # Where the target's own writes are queued too, a field's count when it crosses back.
    counted = _versioned(table_map)
    result: list[ApplyField] = []
    for index, field in enumerate(fields, start=1):
        label = literal(field.label)
        policy = table_map.field_policy(field)
        result.append(
            ApplyField(
                index=index,
                column=ident(field.column(to_side) or ""),
                label=label,
                policy=literal(policy),
                new=value_sql(field, direction, tables, table_map),
                wins=_wins_sql(
                    policy, from_side, (ident("j", f"t_{index}"), ident("j", f"ot_{index}"))
                ),
                manual=policy == "manual",
                updated=_updated_sql(
                    field, ident("j", f"n_{index}"), ident("j", f"c_{index}"), to_side
                ),
                entry=clock_entry(
                    from_side,
                    Sql("j.clock"),
                    label,
                    ident("j", f"i_{index}"),
                    ident("j", f"t_{index}"),
                ),
                incoming_reads=field.reads(direction),
                own_reads=field.reads(reverse) if counted and field.carries(reverse) else None,
            )
        )
    return result


def _apply_artifact(
    config: Config, maps: MapSet, all_tables: AllTables, table_map: TableMap, direction: Direction
) -> Artifact:
    from_side, to_side = source_of(direction), target_of(direction)
    reverse = other_direction(direction)
    tables = all_tables[table_map.name]
    source, target = tables[from_side], tables[to_side]
    lookup_fields = table_map.lookup_fields(direction)
    keys = table_map.key_fields
    carried = table_map.carried_fields(direction)
    non_keys = [f for f in carried if not f.key]
    target_key = target.key_for(tuple(f.column(to_side) or "" for f in keys))
    assert target_key is not None
    fields = _apply_fields(table_map, direction, tables, non_keys)
    # In the target's type, whatever the image declares (a user type arrives as text).
    key_values = [
        (
            ident(f"k_{n}"),
            Sql(
                f"CAST({value_sql(f, direction, tables, table_map)}"
                f" AS {type_sql(_column(target, f.column(to_side)))})"
            ),
        )
        for n, f in enumerate(keys, start=1)
    ]

    def declare(names: tuple[str, ...] | list[str]) -> Sql:
        return sql_join(
            [Sql(f"{ident(n)} {image_type_sql(_column(source, n))}") for n in names], LIST
        )

    key_sources = [f.column(from_side) or "" for f in keys]
    target_keys = [(f.column(to_side) or "", ident("l", f"k_{n}")) for n, f in enumerate(keys, 1)]
    versioned = _versioned(table_map)
    own_queue = versioned
    policy = table_map.conflict_policy
    by_field = {f.column(to_side): fields[n] for n, f in enumerate(non_keys)}
    context = {
        "map_name": literal(table_map.name),
        "direction": literal(direction),
        "write_function": _function_name("write", table_map, direction),
        "apply_function": _function_name("apply", table_map, direction),
        "error_log": control_function("error_log"),
        "target_table": ident(target.schema, target.name),
        "image_columns": declare(list(table_map.source_columns(direction))),
        "key_columns": declare(key_sources),
        "key_order": sql_join([ident("k", n) for n in key_sources]),
        "source_key_of_c": _key_json(key_sources, Sql("c.image")),
        "key_values": key_values,
        "key_match": sql_join(
            [Sql(f"{ident('t', column)} = {value}") for column, value in target_keys], " AND "
        ),
        "own_key": sql_join([Sql(f"{literal(column)}, {value}") for column, value in target_keys]),
        "rows": Sql("resolved") if lookup_fields else Sql("latest"),
        "held": control_function("held_change"),
        "lookups": sql_join(
            [
                Sql(f"{_lookup_value(maps, all_tables, f, to_side)} AS {ident(f'lookup_{n}')}")
                for n, f in enumerate(lookup_fields, start=1)
                if f.lookup is not None
            ],
            ",\n           ",
        ),
        "unresolved": sql_join(
            [_unresolved(table_map, direction, f) for f in lookup_fields], " OR "
        )
        if lookup_fields
        else Sql("false"),
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
        "fields": fields,
        "insert_columns": sql_join([ident(f.column(to_side) or "") for f in carried]),
        "insert_values": sql_join(
            [Sql(f"(r.n).{ident(f.column(to_side) or '')}") for f in carried], LIST
        ),
        # The row as it is to be written: per target column, its key or final value.
        "written_row": json_object(
            [
                (
                    literal(f.column(to_side) or ""),
                    Sql(f"j.{ident(f'k_{keys.index(f) + 1}')}")
                    if f.key
                    else Sql(f"j.{by_field[f.column(to_side)].alias('f')}"),
                )
                for f in carried
            ]
        ),
        "conflict_columns": sql_join([ident(c) for c in target_key.columns]),
        "update_set": sql_join([Sql(f"{f.column} = (r.n).{f.column}") for f in fields], LIST),
        "writer_function": ident(WRITE_SCHEMA, f"{table_map.name}_{direction}"),
        "writer": config.roles.writer(to_side) if config.roles else "the role that deploys",
        "owned_by": ident(config.roles.writer(to_side)) if config.roles else None,
        "write_schema": ident(WRITE_SCHEMA),
        "final_values": sql_join([Sql(f"j.{f.alias('f')}") for f in fields]),
        "current_values": sql_join([Sql(f"j.{f.alias('c')}") for f in fields]),
        "gone_fields": sql_join(
            [
                Sql(f"{literal(column)}, j.{ident(f'k_{n}')}")
                for n, (column, _) in enumerate(target_keys, start=1)
            ]
            + [
                Sql(f"{literal(field.column(to_side) or '')}, j.{applied.alias('f')}")
                for field, applied in zip(non_keys, fields, strict=True)
            ]
        ),
        "versioned": versioned,
        # The rows each pass decides: those not to exist here, and those to exist.
        "removing": Sql("j.present AND NOT j.exists_after AND NOT j.holding"),
        "keeping": Sql("NOT (j.present AND NOT j.exists_after) AND NOT j.holding"),
        "versions": control_function("versions"),
        "queue": control_function("change_queue"),
        "commit_stamp": control_function("commit_stamp"),
        "own_side": literal(to_side),
        "own_direction": literal(reverse),
        "own_queue": own_queue,
        "own_capture": config.side(to_side).capture,
        "own_id": Sql(str(CLOCK_ID[to_side])),
        "other_id": Sql(str(CLOCK_ID[from_side])),
        "own_stamp": Sql(str(CLOCK_STAMP[to_side])),
        "row_wins": _wins_sql(policy, from_side, (Sql("j.t_0"), Sql("j.ot_0"))),
        "row_manual": literal(policy == "manual"),
        "row_entry": clock_entry(
            from_side, Sql("j.clock"), literal(ROW_ENTRY), Sql("j.id"), Sql("j.t_0")
        ),
        "map_policy": literal(policy),
        "conflict_log": control_function("conflict_log"),
        "target_label": literal(target.label),
        "on_delete": Sql(table_map.on_delete),
        "on_truncate": Sql(table_map.on_truncate),
        "target_filter": filter_sql(table_map, to_side, target, "t"),
        "target_filtered": table_map.filter(to_side) is not None,
        "target_filter_name": literal(f"{to_side}_filter ({table_map.filter(to_side)})"),
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
            Sql(f"{context['apply_function']}(jsonb, boolean, boolean)"),
            Sql(f"{context['write_function']}(jsonb, boolean)"),
            Sql(f"{context['writer_function']}(jsonb, boolean)"),
        ],
        guard_held=bool(lookup_fields),  # only maps with lookups hold changes
        map_name=context["map_name"],
        direction=context["direction"],
        held=context["held"],
    )
    return Artifact(f"map/{table_map.name}/{direction}/apply", sql, drop_sql)


def _absorb_artifact(all_tables: AllTables, table_map: TableMap, direction: Direction) -> Artifact:
    """Where a map direction's changes are captured: recording them in the rows' clocks
    once they crossed."""
    from_side = source_of(direction)
    tables = all_tables[table_map.name]
    fields = _apply_fields(
        table_map, direction, tables, [f for f in table_map.carried_fields(direction) if not f.key]
    )
    function = _function_name("absorb", table_map, direction)
    sql = render_template(
        "absorb.sql.j2",
        map_name=literal(table_map.name),
        direction=literal(direction),
        source_table=ident(tables[from_side].schema, tables[from_side].name),
        absorb_function=function,
        versions=control_function("versions"),
        own_side=literal(from_side),
        fields=[
            replace(
                f,
                entry=clock_entry(
                    from_side,
                    Sql("j.clock"),
                    f.label,
                    Sql(f"j.{f.alias('i')}"),
                    Sql(f"j.{f.alias('t')}"),
                ),
            )
            for f in fields
        ],
        row_entry=clock_entry(
            from_side, Sql("j.clock"), literal(ROW_ENTRY), Sql("j.id"), Sql("j.t_0")
        ),
    )
    drop_sql = render_template(
        "drop_functions.sql.j2", functions=[Sql(f"{function}(jsonb)")], guard_held=False
    )
    return Artifact(f"map/{table_map.name}/{direction}/absorb", sql, drop_sql)


def _absorb_batch_artifact(routes: list[tuple[TableMap, Direction]]) -> Artifact:
    sql = render_template(
        "absorb_batch.sql.j2",
        absorb_batch=control_function("absorb_batch"),
        routes=[
            {
                "map_name": literal(m.name),
                "direction": literal(d),
                "absorb_function": _function_name("absorb", m, d),
            }
            for m, d in routes
        ],
    )
    return Artifact("absorb", sql, "")


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
    filters = {row: filter_sql(table_map, from_side, source, row) for row in ("old", "new")}
    # Queued: a filter that can raise for some rows must not fail the application's
    # write, so it runs in a block of its own (a subtransaction: only such maps pay).
    guard_filter = (
        table_map.mode == "queued"
        and text is not None
        and may_raise(
            parse_expression(
                text, columns=[c.name for c in source.columns], where=Where(), what=text
            )
        )
    )
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
        "capture_signature": Sql(
            f"{capture_function}({'' if kind == 'capture' else 'jsonb, pg_lsn'})"
        ),
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
        "old_key_pairs": sql_join([Sql(f"{literal(n)}, {ident('old', n)}") for n in key_sources]),
        "new_key_pairs": sql_join([Sql(f"{literal(n)}, {ident('new', n)}") for n in key_sources]),
        "key_of_q": sql_join(
            [
                Sql(f"CAST(q.key ->> {literal(n)} AS {type_sql(_column(source, n))})")
                for n in key_sources
            ]
        ),
        "cur_refs": capture_refs(maps, all_tables, table_map, direction, "cur"),
        "versions": control_function("versions"),
        "own_side": literal(from_side),
        "other_id": Sql(str(CLOCK_ID[target_of(direction)])),
        "filter_cur": filter_sql(table_map, from_side, source, "cur"),
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
        "old_refs": capture_refs(maps, all_tables, table_map, direction, "old"),
        "new_refs": capture_refs(maps, all_tables, table_map, direction, "new"),
        "capture_fits": _capture_fits(maps, all_tables, table_map, direction),
        "uncaptured": control_function("uncaptured"),
        "guard_filter": guard_filter,
        "filter_raised": literal(f"{from_side}_filter {text!r} raised: "),
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


def filter_sql(table_map: TableMap, side: Side, source: Table, row: str) -> Sql:
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
        filter=filter_sql(table_map, from_side, source, "new"),
        refs=capture_refs(maps, all_tables, table_map, direction, "new"),
        key_order=sql_join([ident("new", k) for k in keys]),
        key_pairs=sql_join([Sql(f"{literal(k)}, {ident('new', k)}") for k in keys]),
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
