"""Pure checks of the maps against catalog snapshots of both sides.

Nothing here touches a database: the caller reads the catalogs first. Every
problem is collected, each naming file, map and field.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from replicator.core.errors import ExpressionError, MapError, Problem, Where
from replicator.core.quoting import DOLLAR_TAG, HOLDS_A_TAG, Scalar, ident
from replicator.inspect.catalog import KINDS, Column, SchemaCatalog, Table
from replicator.inspect.typecheck import loss_reason
from replicator.maps.expressions import admitted_values, columns_read, parse_expression
from replicator.maps.model import (
    SIDES,
    Config,
    Direction,
    Expression,
    FieldMap,
    MapSet,
    Side,
    TableMap,
    lookup_scope,
    source_of,
    target_of,
)

# Why a relation that is not a table cannot be mapped, and what to map instead.
UNMAPPABLE = {
    "p": (
        "the replicator cannot map one yet (its apply functions find the rows they write by"
        " ctid and xmin, which PostgreSQL does not return for a partitioned table); map each"
        " partition as a map of its own, or an ordinary table"
    ),
    "v": (
        "a view holds no rows of its own for capture triggers to watch or for the apply"
        " functions to upsert into; map the table it reads"
    ),
    "m": (
        "its rows change only when it is refreshed, and it cannot be written; map the table"
        " it is built from"
    ),
    "f": (
        "its rows live on another server, whose own writes no trigger here sees; map the"
        " table on the server that holds it"
    ),
}
# What each per-direction expression and each filter yields, as the database of the
# table it reads typed it, or the database's reason for refusing it; keyed by (map,
# the map key holding it: to_right, to_left, left_filter or right_filter, its text).
# Likewise each constant a map writes (Constant.key).
ExpressionTypes = dict[tuple[str, str, str], Column | str]


@dataclass(frozen=True)
class Constant:
    """A value from a map file that an apply function writes into a target column: a
    default, a value-map output or fallback (written from text), an on_delete mark."""

    map: str
    field: FieldMap | None  # None for a mark
    side: Side
    column: str
    what: str  # "default", "value_map entry", "fallback", "mark"
    value: Scalar
    from_text: bool  # written as a text value (value maps), else as a literal

    @property
    def key(self) -> tuple[str, str, str]:
        """Its entry in ExpressionTypes."""
        return (self.map, "constant", f"{self.side} {self.column} {self.what} {self.value!r}")


def constants(table_map: TableMap) -> list[Constant]:
    """Every constant the map writes, once per target column."""
    found: list[Constant] = []
    for direction in table_map.directions:
        to_side = target_of(direction)
        for field in table_map.carried_fields(direction):
            column = field.column(to_side)
            if column is None:
                continue
            default = field.default_for(to_side)
            if default is not None:
                found.append(
                    Constant(table_map.name, field, to_side, column, "default", default, False)
                )
            if field.value_map is not None:
                outputs = [b if direction == "to_right" else a for a, b in field.value_map]
                found += [
                    Constant(table_map.name, field, to_side, column, "value_map entry", v, True)
                    for v in outputs
                ]
            fallback = field.fallback_for(to_side)
            if fallback is not None:
                found.append(
                    Constant(table_map.name, field, to_side, column, "fallback", fallback, True)
                )
    found += [
        Constant(table_map.name, None, side, column, "mark", value, False)
        for side, column, value in table_map.marks
    ]
    return list({c.key: c for c in found}.values())


def validate(
    config: Config,
    maps: MapSet,
    catalogs: dict[Side, SchemaCatalog],
    expression_types: ExpressionTypes | None = None,
    server_problems: Sequence[str] = (),
) -> list[Problem]:
    """Raise MapError listing every problem; when the maps are sound, return what may
    still surprise a DBA (warnings: nothing refused, nothing to fix necessarily).

    ``server_problems`` are what the databases lack for WAL capture
    (``walcheck.read_server_problems``), each already naming its database; they are
    reported first, as nothing can be captured until they are fixed."""
    problems: list[Problem] = [Problem(Where(), message) for message in server_problems]
    left, right = catalogs["left"], catalogs["right"]
    if left.database and (left.database, left.schema) == (right.database, right.schema):
        # Every map would capture its own writes on both sides of one table.
        raise MapError(
            [
                Problem(
                    Where(file=str(config.path)),
                    f"[left] and [right] are the same schema {left.schema} of one database:"
                    " a side is one application's own schema, and a table mapped onto itself"
                    " would have each write applied back onto itself; name the other"
                    " application's schema",
                )
            ]
        )
    problems.extend(maps.unresolved)
    for table_map in maps.maps:
        problems.extend(_check_map(config, table_map, catalogs, expression_types or {}))
        problems.extend(_lookup_problems(maps, table_map, catalogs))
    problems.extend(_shared_columns(config, maps))
    if problems:
        raise MapError(problems)
    return _filtered_parents(config, maps)


def _filtered_parents(config: Config, maps: MapSet) -> list[Problem]:
    """A child row can point at a parent row its parent map's filter keeps out: its
    change then waits in replicator.held_change for a parent that never crosses."""
    warnings: list[Problem] = []
    for child in maps.maps:
        for direction in child.directions:
            side = source_of(direction)
            for field in child.lookup_fields(direction):
                assert field.lookup is not None
                if field.lookup.map not in maps.names:
                    continue
                parent = maps.by_name(field.lookup.map)
                kept_out = parent.filter(side)
                if kept_out is None or direction not in parent.directions:
                    continue
                schema = config.side(side).schema
                warnings.append(
                    Problem(
                        Where(child.file, child.name, field.label),
                        f"a row of {schema}.{child.table(side)} can point at a row of"
                        f" {schema}.{parent.table(side)} that the {side}_filter of map"
                        f" {parent.name} ({kept_out}) keeps out: such a change of {child.name}"
                        f" ({direction}) waits in replicator.held_change for a parent that never"
                        f" crosses (replicator held list shows them); give map {child.name} a"
                        f" {side}_filter that keeps those rows out too, or widen the filter of"
                        f" map {parent.name}",
                    )
                )
    return warnings


def _check_map(
    config: Config,
    table_map: TableMap,
    catalogs: dict[Side, SchemaCatalog],
    expression_types: ExpressionTypes,
) -> list[Problem]:
    problems: list[Problem] = []

    def problem(message: str, field: FieldMap | None = None) -> None:
        where = Where(file=table_map.file, map=table_map.name, field=field.label if field else None)
        problems.append(Problem(where, message))

    for side in SIDES:
        if DOLLAR_TAG.search(table_map.table(side)):
            problem(f"{side} table {table_map.table(side)!r} {HOLDS_A_TAG}")
    for field in table_map.fields:
        for side in SIDES:
            named = field.column(side)
            if named is not None and DOLLAR_TAG.search(named):
                problem(f"{side} column {named!r} {HOLDS_A_TAG}", field)
    for _side, marked, _value in table_map.marks:
        if DOLLAR_TAG.search(marked):
            problem(f"on_delete mark column {marked!r} {HOLDS_A_TAG}")
    if table_map.mode == "online" and not config.same_database:
        problem("mode online needs both sides in one database; these sides connect differently")
    wal = [config.side(side).name for side in SIDES if config.side(side).capture == "wal"]
    if table_map.mode == "online" and wal:
        problem(
            f'mode online needs capture = "trigger" on both sides, but {" and ".join(wal)}'
            f" {'uses' if len(wal) == 1 else 'use'} WAL capture: the write made inside the"
            " application's transaction carries no replicator origin, so the slot would"
            " capture it and send it back"
        )
    for field in table_map.fields:
        if table_map.mode == "online" and field.lookup is not None:
            problem(
                "a lookup needs mode queued: a change whose parent has not arrived is held"
                " until it does, which cannot happen inside the writer's transaction",
                field,
            )
    tables: dict[Side, Table] = {}
    for side in SIDES:
        catalog = catalogs[side]
        table = catalog.table(table_map.table(side))
        if table is None:
            problem(_missing_table(side, table_map.table(side), catalog))
        elif table.kind != "r":
            problem(
                f"{side} table {table.label} is a {KINDS[table.kind]}: {UNMAPPABLE[table.kind]}"
            )
        else:
            tables[side] = table
    if len(tables) < 2:
        return problems

    broken: set[int] = set()  # fields naming a missing column: judged no further
    for index, field in enumerate(table_map.fields):
        for side in SIDES:
            name = field.column(side)
            if name is not None and tables[side].column(name) is None:
                problem(_missing_column(side, name, tables[side]), field)
                broken.add(index)
    key_broken = any(i in broken for i, f in enumerate(table_map.fields) if f.key)

    for side in SIDES:
        text = table_map.filter(side)
        if text is not None:
            try:
                parse_expression(
                    text,
                    columns=[c.name for c in tables[side].columns],
                    where=Where(file=table_map.file, map=table_map.name),
                    what=f"{side}_filter {text!r}",
                )
            except ExpressionError as exc:
                problems.append(Problem(Where(), str(exc)))
            else:
                typed = expression_types.get((table_map.name, f"{side}_filter", text))
                message = _filter_type_problem(f"{side}_filter {text!r}", tables[side], typed)
                if message is not None:
                    problem(message)
        if key_broken:
            continue
        key_columns = tuple(f.column(side) or "" for f in table_map.key_fields)
        if tables[side].key_for(key_columns) is None:
            problem(
                f"key ({', '.join(key_columns)}) of {tables[side].label} is not backed by a"
                " primary key or a unique index (non-partial, plain columns); create one or change"
                " the key"
            )

    for refusal, refused_field in _refused_by_the_database(table_map, tables, expression_types):
        problem(refusal, refused_field)
    for side in SIDES:
        message = _row_security_problem(tables[side])
        if message is not None:
            problem(message)
    for direction in table_map.directions:
        side = source_of(direction)
        if config.side(side).capture == "wal" and tables[side].persistence == "u":
            problem(_unlogged_problem(tables[side], side))
        if config.side(side).capture == "wal" and not key_broken:
            message = _identity_problem(table_map, side, tables[side])
            if message is None and table_map.direction == "both":
                message = _conflict_identity_problem(tables[side])
            if message is not None:
                problem(message)

    for side, column_name, value in table_map.marks:
        mark_column = tables[side].column(column_name)
        spot = f"{tables[side].label}.{column_name}"
        if mark_column is None:
            problem(f"mark: {side} column {column_name!r} does not exist in {tables[side].label}")
        elif mark_column.generated:
            problem(f"mark: {spot} is a generated column; it cannot be written")
        elif mark_column.identity == "a":
            problem(f"mark: {spot} is GENERATED ALWAYS AS IDENTITY; it cannot be written")
        elif mark_column.domain_values is not None and str(value) not in mark_column.domain_values:
            problem(
                f"mark: {value!r} is not a value {spot} accepts ({_listing(mark_column.domain_values)})"
            )

    for direction in table_map.directions:
        target = tables[target_of(direction)]
        writers = {f.column(target_of(direction)): f for f in table_map.carried_fields(direction)}
        for column in target.columns:
            if column.name in writers and column.generated:
                problem(
                    f"{target.label}.{column.name} is a generated column; it cannot be"
                    f" written ({_arrow(direction)}): remove the field or make it flow the other"
                    " way only",
                    writers[column.name],
                )
            if column.name in writers and column.identity == "a":
                problem(
                    f"{target.label}.{column.name} is GENERATED ALWAYS AS IDENTITY, so PostgreSQL"
                    f" refuses the values the map writes into it ({_arrow(direction)}): ALTER"
                    f" TABLE {target.label} ALTER COLUMN {column.name} SET GENERATED BY DEFAULT"
                    + (
                        ""
                        if writers[column.name].key
                        else ", or make the field flow the other way only"
                    ),
                    writers[column.name],
                )
            if (
                column.not_null
                and not column.has_default
                and not column.generated
                and column.name not in writers
            ):
                problem(
                    f"{target.label}.{column.name} is NOT NULL without a default and no field"
                    f" writes it ({_arrow(direction)}); map it or give it a default"
                )
        for field in table_map.carried_fields(direction):
            if table_map.fields.index(field) in broken:
                continue
            problems.extend(
                Problem(Where(table_map.file, table_map.name, field.label), message)
                for message in _field_problems(
                    table_map, field, direction, tables, expression_types
                )
            )
    return problems


def _refused_by_the_database(
    table_map: TableMap,
    tables: dict[Side, Table],
    expression_types: ExpressionTypes,
) -> list[tuple[str, FieldMap | None]]:
    """What a target database refused when asked (checked.probe_expressions): a constant
    its column cannot hold."""
    refused: list[tuple[str, FieldMap | None]] = []
    for constant in constants(table_map):
        written = tables[constant.side].column(constant.column)
        reason = expression_types.get(constant.key)
        # Values outside an enum are judged with the value maps (typecheck, _field_problems).
        if isinstance(reason, str) and written is not None and written.enum_labels is None:
            refused.append(
                (
                    f"{constant.what} {constant.value!r} cannot be written into"
                    f" {tables[constant.side].label}.{constant.column} ({written.type_sql}):"
                    f" {reason}",
                    constant.field,
                )
            )
    return refused


def _filter_type_problem(what: str, table: Table, typed: Column | str | None) -> str | None:
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


def _identity_problem(table_map: TableMap, side: Side, table: Table) -> str | None:
    """WAL capture learns which row an update or delete touched, and whether it was
    in the map's filter before, from the old row's replica identity columns only."""
    keys = [f.column(side) or "" for f in table_map.key_fields]
    filtered = [
        c for c in columns_read(table_map.filter(side) or "") if table.column(c) and c not in keys
    ]
    identity = table.identity_columns
    missing_keys = [c for c in keys if c not in identity]
    missing_filtered = [c for c in filtered if c not in identity]
    if not missing_keys and not missing_filtered:
        return None
    lacking = " and ".join(
        f"{what} column(s) {', '.join(columns)}"
        for what, columns in (("key", missing_keys), ("filter", missing_filtered))
        if columns
    )
    return (
        f"{table.label}: replica identity ({_identity_description(table)}) does not"
        f" include {lacking} that WAL capture needs for updates and deletes:"
        f" {_identity_fix(table, keys + filtered)}"
    )


def _unlogged_problem(table: Table, side: Side) -> str:
    """An UNLOGGED table writes nothing to the WAL: a slot never sees its changes."""
    return (
        f"{table.label} is UNLOGGED: its changes are not written to the WAL, so WAL capture"
        f" never sees them: make it logged (ALTER TABLE {ident(table.schema, table.name)}"
        f' SET LOGGED), or capture the {side} side with triggers (capture = "trigger" in'
        f" [{side}])"
    )


def _row_security_problem(table: Table) -> str | None:
    """Row level security that binds a role the replicator reads or writes a table as:
    rows a policy hides would be missed by sync and verify, and a row hidden in the
    way of an insert can be neither seen nor written."""
    security = table.row_security
    if security is None:
        return None
    name = ident(table.schema, table.name)
    who = " and ".join(security.hidden_from)
    many = len(security.hidden_from) > 1
    bypass = " and ".join(f"ALTER ROLE {ident(r)} BYPASSRLS" for r in security.hidden_from)
    return (
        f"{table.label} has row level security {'forced' if security.forced else 'enabled'}"
        f" and it applies to {'roles' if many else 'role'} {who}, which the replicator"
        f" reads and writes the table as: rows its policies hide would be neither copied"
        f" nor replicated. Let {'them' if many else 'it'} bypass it ({bypass}, as a"
        f" superuser) or give {'them' if many else 'it'} a policy that shows every row"
        f" (CREATE POLICY replicator ON {name}"
        f" TO {', '.join(ident(r) for r in security.hidden_from)}"
        f" USING (true) WITH CHECK (true))"
    )


def _conflict_identity_problem(table: Table) -> str | None:
    """A map flowing both ways judges conflicts by the whole row before each update,
    which the WAL carries only with REPLICA IDENTITY FULL."""
    if table.replica_identity == "f":
        return None
    return (
        f"{table.label}: replica identity ({_identity_description(table)}) leaves the"
        " row before an update out of the WAL, and a map that flows both ways judges"
        f" conflicts by it: ALTER TABLE {table.label} REPLICA IDENTITY FULL"
    )


def _identity_description(table: Table) -> str:
    key = table.identity_key
    if table.replica_identity == "n":
        return "NOTHING"
    if table.replica_identity == "d":
        return (
            f"DEFAULT: primary key {', '.join(key.columns)}" if key else "DEFAULT: no primary key"
        )
    return (
        f"USING INDEX {key.name}: {', '.join(key.columns)}"
        if key
        else "USING INDEX of a dropped index"
    )


def _identity_fix(table: Table, needed: list[str]) -> str:
    """Name an existing index that would do; else say what to create."""
    name = table.label
    full = f"ALTER TABLE {name} REPLICA IDENTITY FULL"
    not_null = {c.name for c in table.columns if c.not_null}
    # PostgreSQL takes as replica identity only a unique index over NOT NULL columns.
    usable = [
        key
        for key in table.unique_keys
        if set(needed) <= set(key.columns) and set(key.columns) <= not_null
    ]
    if usable:
        best = min(usable, key=lambda key: (len(key.columns), not key.primary))
        return f"ALTER TABLE {name} REPLICA IDENTITY USING INDEX {best.name}, or {full}"
    columns = f"({', '.join(needed)})"
    index = (
        f"make a unique index on {columns} (NOT NULL columns) the replica identity"
        f" (ALTER TABLE {name} REPLICA IDENTITY USING INDEX ...)"
    )
    if table.replica_identity == "d" and not any(key.primary for key in table.unique_keys):
        return f"add a primary key on {columns}, {index}, or {full}"
    return f"{index}, or {full}"


def _field_problems(
    table_map: TableMap,
    field: FieldMap,
    direction: Direction,
    tables: dict[Side, Table],
    expression_types: ExpressionTypes,
) -> list[str]:
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
        messages.append(f"default {default!r} is not a value {spot} accepts ({_listing(closed)})")
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
                f"{_arrow(direction)}: {reason} ({tables[from_side].label}.{source_name} into"
                f" {spot}); widen the column, make the field one-way, or write the conversion you"
                f" accept as {direction}"
            )
        return messages
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
                f"{_arrow(direction)}: value_map does not cover {_listing(tuple(uncovered))} of"
                f" {tables[from_side].label}.{source_name}; add {'it' if len(uncovered) == 1 else 'them'}"
                f" or declare a fallback"
            )
    if closed is not None:
        outputs = [str(b) for _, b in pairs] + ([str(fallback)] if fallback is not None else [])
        foreign = [v for v in outputs if v not in closed]
        if foreign:
            messages.append(
                f"{_arrow(direction)}: value_map writes {_listing(tuple(dict.fromkeys(foreign)))},"
                f" which {spot} does not accept ({_listing(closed)})"
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


def _lookup_problems(
    maps: MapSet, table_map: TableMap, catalogs: dict[Side, SchemaCatalog]
) -> list[Problem]:
    """Each lookup names a parent column that exists, identifies one parent row, and
    whose values the field's own column can hold."""
    problems: list[Problem] = []
    for field in table_map.fields:
        if field.lookup is None or field.lookup.map not in maps.names:
            continue  # an unknown map is reported by the loader
        parent = maps.by_name(field.lookup.map)
        scope = lookup_scope(table_map, field, parent)
        where = Where(table_map.file, table_map.name, field.label)

        for side in SIDES:
            child_table = catalogs[side].table(table_map.table(side))
            parent_table = catalogs[side].table(parent.table(side))
            child_column = child_table.column(field.column(side) or "") if child_table else None
            if (
                parent_table is None
                or child_table is None
                or child_column is None
                or parent_table.kind != "r"
                or child_table.kind != "r"
            ):
                continue  # reported with the map that names them
            ref = field.lookup.column(side)
            parent_column = parent_table.column(ref)
            if parent_column is None:
                problems.append(
                    Problem(
                        where,
                        (
                            f"lookup {parent.name}: {side} column {ref!r} does not exist in"
                            f" {parent_table.label}; name the column the field refers to with"
                            f' lookup = {{ map = "{parent.name}", {side} = "..." }}'
                        ),
                    )
                )
                continue
            reason = loss_reason(parent_column, child_column)
            if reason is not None:
                problems.append(
                    Problem(
                        where,
                        (
                            f"lookup {parent.name}: {child_table.label}.{child_column.name}"
                            f" ({child_column.type_sql}) cannot hold {parent_table.label}.{ref}"
                            f" ({parent_column.type_sql}): {reason}; point lookup.{side} at the"
                            f" column of {parent_table.label} this field holds"
                        ),
                    )
                )
            matched = {ref, *(parent_key.column(side) or "" for parent_key, _ in scope)}
            if not any(set(key.columns) <= matched for key in parent_table.unique_keys):
                problems.append(
                    Problem(
                        where,
                        (
                            f"lookup {parent.name}: ({', '.join(sorted(matched))}) does not identify one"
                            f" row of {parent_table.label} (no primary key or unique index on them)"
                        ),
                    )
                )
    return problems


def _shared_columns(config: Config, maps: MapSet) -> list[Problem]:
    """Two maps writing the same column of the same table would overwrite each other,
    unless a filter on that side keeps their rows apart."""
    problems: list[Problem] = []
    writers: dict[tuple[Side, str, str], TableMap] = {}
    for table_map in maps.maps:
        for direction in table_map.directions:
            side = target_of(direction)
            for field in table_map.carried_fields(direction):
                spot = (side, table_map.table(side), field.column(side) or "")
                first = writers.setdefault(spot, table_map)
                if first is table_map or first.filter(side) or table_map.filter(side):
                    continue
                problems.append(
                    Problem(
                        Where(table_map.file, table_map.name, field.label),
                        f"{side} column {config.side(side).schema}.{spot[1]}.{spot[2]} is also"
                        " written by map"
                        f" {first.name!r} ({first.file}); two maps writing one column overwrite"
                        f" each other: give one a {side}_filter that keeps their rows apart,"
                        " or drop the field from one",
                    )
                )
    return problems


def _arrow(direction: Direction) -> str:
    return "left → right" if direction == "to_right" else "right → left"


def _listing(values: tuple[str, ...]) -> str:
    return ", ".join(repr(v) for v in values)


def _missing_table(side: Side, name: str, catalog: SchemaCatalog) -> str:
    message = f"{side} table {catalog.schema}.{name} does not exist"
    close = difflib.get_close_matches(name, [t.name for t in catalog.tables], n=1)
    return message + (f" (did you mean {close[0]}?)" if close else "")


def _missing_column(side: Side, name: str, table: Table) -> str:
    message = f"{side} column {name!r} does not exist in {table.label}"
    close = difflib.get_close_matches(name, [c.name for c in table.columns], n=1)
    return message + (f" (did you mean {close[0]!r}?)" if close else "")
