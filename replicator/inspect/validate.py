"""Pure checks of the maps against catalog snapshots of both sides.

Nothing here touches a database: the caller reads the catalogs first. Every
problem is collected, each naming file, map and field. This module holds the
whole-map checks and runs the rest: ``constants`` (what a map writes),
``fieldcheck`` (one field, one direction; filters), ``lookupcheck``, ``identity``
(what WAL capture and row security need of a table) and ``wording``.
"""

from __future__ import annotations

from collections.abc import Sequence

from replicator.core.errors import ExpressionError, MapError, Problem, Where
from replicator.core.quoting import DOLLAR_TAG, HOLDS_A_TAG
from replicator.inspect.catalog import KINDS, SchemaCatalog, Table
from replicator.inspect.constants import ExpressionTypes, refused_by_the_database
from replicator.inspect.fieldcheck import field_problems, filter_type_problem
from replicator.inspect.identity import (
    conflict_identity_problem,
    identity_problem,
    row_security_problem,
    unlogged_problem,
)
from replicator.inspect.lookupcheck import lookup_problems
from replicator.inspect.wording import arrow, listing, missing_column, missing_table
from replicator.maps.expressions import parse_expression
from replicator.maps.model import (
    SIDES,
    Config,
    Direction,
    FieldMap,
    MapSet,
    Side,
    TableMap,
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
        problems.extend(lookup_problems(maps, table_map, catalogs))
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


class _Report:
    """The problems found in one map: called with a message (and the field it is
    about, if any), it records the problem naming the map's file and name."""

    def __init__(self, table_map: TableMap) -> None:
        self.table_map = table_map
        self.problems: list[Problem] = []

    def __call__(self, message: str, field: FieldMap | None = None) -> None:
        where = Where(
            file=self.table_map.file,
            map=self.table_map.name,
            field=field.label if field else None,
        )
        self.problems.append(Problem(where, message))


def _check_map(
    config: Config,
    table_map: TableMap,
    catalogs: dict[Side, SchemaCatalog],
    expression_types: ExpressionTypes,
) -> list[Problem]:
    problem = _Report(table_map)
    _name_problems(table_map, problem)
    _mode_problems(config, table_map, problem)
    tables = _tables(table_map, catalogs, problem)
    if len(tables) < 2:
        return problem.problems

    broken = _missing_columns(table_map, tables, problem)
    key_broken = any(i in broken for i, f in enumerate(table_map.fields) if f.key)
    for side in SIDES:
        _filter_problems(table_map, side, tables[side], expression_types, problem)
        if not key_broken:
            _key_problems(table_map, side, tables[side], problem)
    for refusal, refused_field in refused_by_the_database(table_map, tables, expression_types):
        problem(refusal, refused_field)
    _capture_problems(config, table_map, tables, key_broken, problem)
    _mark_problems(table_map, tables, problem)
    for direction in table_map.directions:
        _unwritten_columns(table_map, direction, tables[target_of(direction)], problem)
        for field in table_map.carried_fields(direction):
            if table_map.fields.index(field) in broken:
                continue
            for message in field_problems(table_map, field, direction, tables, expression_types):
                problem(message, field)
    return problem.problems


def _name_problems(table_map: TableMap, problem: _Report) -> None:
    """Names that would end a dollar-quoted body early in the generated SQL."""
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


def _mode_problems(config: Config, table_map: TableMap, problem: _Report) -> None:
    """What mode online needs: one database, trigger capture, no lookups."""
    if table_map.mode != "online":
        return
    if not config.same_database:
        problem("mode online needs both sides in one database; these sides connect differently")
    wal = [config.side(side).name for side in SIDES if config.side(side).capture == "wal"]
    if wal:
        problem(
            f'mode online needs capture = "trigger" on both sides, but {" and ".join(wal)}'
            f" {'uses' if len(wal) == 1 else 'use'} WAL capture: the write made inside the"
            " application's transaction carries no replicator origin, so the slot would"
            " capture it and send it back"
        )
    for field in table_map.fields:
        if field.lookup is not None:
            problem(
                "a lookup needs mode queued: a change whose parent has not arrived is held"
                " until it does, which cannot happen inside the writer's transaction",
                field,
            )


def _tables(
    table_map: TableMap, catalogs: dict[Side, SchemaCatalog], problem: _Report
) -> dict[Side, Table]:
    """The map's table on each side that exists and is an ordinary table."""
    tables: dict[Side, Table] = {}
    for side in SIDES:
        catalog = catalogs[side]
        table = catalog.table(table_map.table(side))
        if table is None:
            problem(missing_table(side, table_map.table(side), catalog))
        elif table.kind != "r":
            problem(
                f"{side} table {table.label} is a {KINDS[table.kind]}: {UNMAPPABLE[table.kind]}"
            )
        else:
            tables[side] = table
    return tables


def _missing_columns(table_map: TableMap, tables: dict[Side, Table], problem: _Report) -> set[int]:
    """The fields naming a missing column, by index: they are judged no further."""
    broken: set[int] = set()
    for index, field in enumerate(table_map.fields):
        for side in SIDES:
            name = field.column(side)
            if name is not None and tables[side].column(name) is None:
                problem(missing_column(side, name, tables[side]), field)
                broken.add(index)
    return broken


def _filter_problems(
    table_map: TableMap,
    side: Side,
    table: Table,
    expression_types: ExpressionTypes,
    problem: _Report,
) -> None:
    text = table_map.filter(side)
    if text is None:
        return
    try:
        parse_expression(
            text,
            columns=[c.name for c in table.columns],
            where=Where(file=table_map.file, map=table_map.name),
            what=f"{side}_filter {text!r}",
        )
    except ExpressionError as exc:
        problem.problems.append(Problem(Where(), str(exc)))
    else:
        typed = expression_types.get((table_map.name, f"{side}_filter", text))
        message = filter_type_problem(f"{side}_filter {text!r}", table, typed)
        if message is not None:
            problem(message)


def _key_problems(table_map: TableMap, side: Side, table: Table, problem: _Report) -> None:
    key_columns = tuple(f.column(side) or "" for f in table_map.key_fields)
    if table.key_for(key_columns) is None:
        problem(
            f"key ({', '.join(key_columns)}) of {table.label} is not backed by a"
            " primary key or a unique index (non-partial, plain columns); create one or change"
            " the key"
        )


def _capture_problems(
    config: Config,
    table_map: TableMap,
    tables: dict[Side, Table],
    key_broken: bool,
    problem: _Report,
) -> None:
    """Row security on either side; what WAL capture needs of each source table."""
    for side in SIDES:
        message = row_security_problem(tables[side])
        if message is not None:
            problem(message)
    for direction in table_map.directions:
        side = source_of(direction)
        if config.side(side).capture == "wal" and tables[side].persistence == "u":
            problem(unlogged_problem(tables[side], side))
        if config.side(side).capture == "wal" and not key_broken:
            message = identity_problem(table_map, side, tables[side])
            if message is None and table_map.direction == "both":
                message = conflict_identity_problem(tables[side])
            if message is not None:
                problem(message)


def _mark_problems(table_map: TableMap, tables: dict[Side, Table], problem: _Report) -> None:
    """Each on_delete mark names a column that exists, can be written, and takes the value."""
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
                f"mark: {value!r} is not a value {spot} accepts ({listing(mark_column.domain_values)})"
            )


def _unwritten_columns(
    table_map: TableMap, direction: Direction, target: Table, problem: _Report
) -> None:
    """Target columns the map writes but cannot, or must write but does not."""
    writers = {f.column(target_of(direction)): f for f in table_map.carried_fields(direction)}
    for column in target.columns:
        if column.name in writers and column.generated:
            problem(
                f"{target.label}.{column.name} is a generated column; it cannot be"
                f" written ({arrow(direction)}): remove the field or make it flow the other"
                " way only",
                writers[column.name],
            )
        if column.name in writers and column.identity == "a":
            problem(
                f"{target.label}.{column.name} is GENERATED ALWAYS AS IDENTITY, so PostgreSQL"
                f" refuses the values the map writes into it ({arrow(direction)}): ALTER"
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
                f" writes it ({arrow(direction)}); map it or give it a default"
            )


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
