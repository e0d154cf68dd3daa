"""The dependencies artifact: what each map relies on in a database (tables, columns,
capture triggers), recorded at deploy for replicator.drift().
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from replicator.core.quoting import Sql, literal, sql_join
from replicator.inspect.catalog import Table
from replicator.maps.expressions import columns_read as referenced_columns_of
from replicator.maps.model import (
    Capture,
    Config,
    Direction,
    MapSet,
    Side,
    TableMap,
    source_of,
)
from replicator.sqlgen.capture import trigger_names
from replicator.sqlgen.lookups import capture_reads, tables_read_by_refs
from replicator.sqlgen.render import Artifact, render_template
from replicator.sqlgen.sqltypes import AllTables, control_function


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


def dependencies_artifact(
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
                for trigger in trigger_names(table_map, direction, tables[table_map.name][side])
            ]
            own = _own_columns(maps, table_map, side, capture)
            calls.append(
                _dependency_call(
                    table_map, side, tables[table_map.name][side], own, triggers, capture
                )
            )
            calls += _lookup_calls(maps, tables, table_map, side, sources, capture)
    sql = render_template(
        "dependencies.sql.j2", calls=calls, dependency=control_function("map_dependency")
    )
    return Artifact("dependencies", sql, "")


def _lookup_calls(
    maps: MapSet,
    tables: AllTables,
    table_map: TableMap,
    side: Side,
    sources: list[Direction],
    capture: Capture | None,
) -> list[dict[str, Sql]]:
    """Lookups read the parent's table on this side, by name: its columns they name."""
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
    return [
        _dependency_call(
            table_map,
            side,
            tables[parent_name][side],
            columns,
            [],
            None,
            lookup=parent_name,
            reads=tables[parent_name][side].name in looked_up,
        )
        for parent_name, columns in parents.items()
    ]


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
        "triggers": Sql("ARRAY[{}]::text[]").format(sql_join([literal(t) for t in triggers])),
        "capture": literal(capture),
        "lookup": literal(lookup),
        "reads": literal(reads),
    }
