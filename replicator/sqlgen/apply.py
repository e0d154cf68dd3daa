"""The apply artifact of a map direction: the functions that write a batch of
incoming changes into the target table (templates/apply.sql.j2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from replicator.core.quoting import Sql, bare, ident, literal, sql_join
from replicator.inspect.catalog import Table
from replicator.maps.model import (
    WRITE_SCHEMA,
    Config,
    Direction,
    FieldMap,
    MapSet,
    Side,
    TableMap,
    other_direction,
    source_of,
    target_of,
)
from replicator.sqlgen.clocks import (
    CLOCK_ID,
    CLOCK_STAMP,
    ROW_ENTRY,
    ApplyField,
    ClockWrite,
    apply_fields,
    clock_entry,
    clock_sql,
    keeps_clocks,
    kept_labels,
    wins_sql,
)
from replicator.sqlgen.lookups import lookup_value, unresolved_sql
from replicator.sqlgen.render import LIST, Artifact, render_template
from replicator.sqlgen.sqltypes import (
    AllTables,
    column_of,
    control_function,
    function_name,
    image_type_sql,
    type_sql,
)
from replicator.sqlgen.syncfast import sync_context
from replicator.sqlgen.values import change_key_json, filter_sql, mark_sql, value_sql


@dataclass(frozen=True)
class ApplyRoute:
    """One map direction as its apply function sees it: the facts every part of the
    template context is built from."""

    config: Config
    maps: MapSet
    all_tables: AllTables
    table_map: TableMap
    direction: Direction
    fields: list[ApplyField]  # the non-key fields, as the apply decides them

    @property
    def from_side(self) -> Side:
        return source_of(self.direction)

    @property
    def to_side(self) -> Side:
        return target_of(self.direction)

    @property
    def source(self) -> Table:
        return self.all_tables[self.table_map.name][self.from_side]

    @property
    def target(self) -> Table:
        return self.all_tables[self.table_map.name][self.to_side]

    @property
    def keys(self) -> tuple[FieldMap, ...]:
        return tuple(self.table_map.key_fields)

    @property
    def carried(self) -> tuple[FieldMap, ...]:
        return tuple(self.table_map.carried_fields(self.direction))

    @property
    def non_keys(self) -> list[FieldMap]:
        return [f for f in self.carried if not f.key]

    @property
    def lookup_fields(self) -> tuple[FieldMap, ...]:
        return tuple(self.table_map.lookup_fields(self.direction))

    @property
    def key_sources(self) -> list[str]:
        return self.table_map.key_columns(self.from_side)

    @property
    def target_keys(self) -> list[tuple[str, Sql]]:
        """Per key, its target column and the resolved row's value for it."""
        return [
            (f.column(self.to_side) or "", ident("l", f"k_{n}")) for n, f in enumerate(self.keys, 1)
        ]

    def key_values(self) -> list[tuple[Sql, Sql]]:
        """Per key, its alias and its value in the target's type, whatever the image
        declares (a user type arrives as text)."""
        tables = self.all_tables[self.table_map.name]
        return [
            (
                ident(f"k_{n}"),
                Sql("CAST({} AS {})").format(
                    value_sql(f, self.direction, tables, self.table_map),
                    type_sql(column_of(self.target, f.column(self.to_side))),
                ),
            )
            for n, f in enumerate(self.keys, start=1)
        ]

    def declare(self, names: tuple[str, ...] | list[str]) -> Sql:
        """Source columns declared as a captured image declares them."""
        return sql_join(
            [
                Sql("{} {}").format(ident(n), image_type_sql(column_of(self.source, n)))
                for n in names
            ],
            LIST,
        )


def apply_artifact(
    config: Config, maps: MapSet, all_tables: AllTables, table_map: TableMap, direction: Direction
) -> Artifact:
    tables = all_tables[table_map.name]
    non_keys = [f for f in table_map.carried_fields(direction) if not f.key]
    fields = apply_fields(table_map, direction, tables, non_keys)
    route = ApplyRoute(config, maps, all_tables, table_map, direction, fields)
    context = {
        **_names_context(route),
        **_keys_context(route),
        **_lookups_context(route),
        **_writes_context(route),
        **_clocks_context(route),
        **_deletes_context(route),
        **sync_context(route),
    }
    sql = render_template("apply.sql.j2", **context)
    direct = Sql("{}(jsonb, integer)").format(context["sync_direct_function"])
    drop_sql = render_template(
        "drop_functions.sql.j2",
        functions=[
            Sql("{}(jsonb, boolean, boolean)").format(context["apply_function"]),
            Sql("{}(jsonb, boolean)").format(context["write_function"]),
            Sql("{}(text[], tid[], xid[], anyarray, boolean)").format(context["writer_function"]),
            Sql("{}(json)").format(context["sync_function"]),
            Sql("{}(anyarray)").format(context["sync_writer_function"]),
            *([direct] if config.same_database else []),
        ],
        guard_held=bool(route.lookup_fields),  # only maps with lookups hold changes
        map_name=context["map_name"],
        direction=context["direction"],
        held=context["held"],
    )
    return Artifact(f"map/{table_map.name}/{direction}/apply", sql, drop_sql)


def _names_context(route: ApplyRoute) -> dict[str, Any]:
    """The functions, tables and roles the apply names, and its labels."""
    table_map, direction, roles = route.table_map, route.direction, route.config.roles
    return {
        "map_name": literal(table_map.name),
        "direction": literal(direction),
        "write_function": function_name("write", table_map, direction),
        "apply_function": function_name("apply", table_map, direction),
        "error_log": control_function("error_log"),
        "log_error": control_function("log_error"),
        "supersede_errors": control_function("supersede_errors"),
        "held": control_function("held_change"),
        "conflict_log": control_function("conflict_log"),
        "activity_log": control_function("activity_log"),
        "target_table": ident(route.target.schema, route.target.name),
        "writer_function": ident(WRITE_SCHEMA, f"{table_map.name}_{direction}"),
        "sync_function": function_name("sync", table_map, direction),
        "sync_direct_function": function_name("sync_direct", table_map, direction),
        "sync_writer_function": ident(WRITE_SCHEMA, f"{table_map.name}_{direction}_sync"),
        "map_state": control_function("map_state"),
        "writer": roles.writer(route.to_side) if roles else "the role that deploys",
        "owned_by": ident(roles.writer(route.to_side)) if roles else None,
        "write_schema": ident(WRITE_SCHEMA),
        "target_label": literal(route.target.label),
        "source_label": literal(route.source.label),
    }


def _keys_context(route: ApplyRoute) -> dict[str, Any]:
    """How the apply reads a change's image and finds its row by key."""
    key_sources, target_keys, to_side = route.key_sources, route.target_keys, route.to_side
    target_key = route.target.key_for(tuple(f.column(to_side) or "" for f in route.keys))
    assert target_key is not None
    return {
        "image_columns": route.declare(list(route.table_map.source_columns(route.direction))),
        "key_columns": route.declare(key_sources),
        "key_order": sql_join([ident("k", n) for n in key_sources]),
        "source_key_of_c": change_key_json(key_sources, Sql("c.image")),
        "key_values": route.key_values(),
        "key_match": sql_join(
            [Sql("{} = {}").format(ident("t", column), value) for column, value in target_keys],
            " AND ",
        ),
        "own_key": sql_join(
            [Sql("{}, {}").format(literal(column), value) for column, value in target_keys]
        ),
        "change_key": change_key_json(key_sources, Sql("v_change->'image'")),
        "batch_key": change_key_json(key_sources, Sql("c.value->'image'")),
        "conflict_columns": sql_join([ident(c) for c in target_key.columns]),
    }


def _lookups_context(route: ApplyRoute) -> dict[str, Any]:
    """How the apply resolves references, and holds a change whose parent is missing."""
    table_map, direction, lookup_fields = route.table_map, route.direction, route.lookup_fields
    return {
        "rows": Sql("resolved") if lookup_fields else Sql("latest"),
        "lookups": sql_join(
            [
                Sql("{} AS {}").format(
                    lookup_value(route.maps, route.all_tables, f, route.to_side),
                    ident(f"lookup_{n}"),
                )
                for n, f in enumerate(lookup_fields, start=1)
                if f.lookup is not None
            ],
            ",\n           ",
        ),
        "unresolved": sql_join(
            [unresolved_sql(table_map, direction, f) for f in lookup_fields], " OR "
        )
        if lookup_fields
        else Sql("false"),
        "waiting_for": sql_join(
            [
                Sql("CASE WHEN {} THEN {} END").format(
                    unresolved_sql(table_map, direction, f), literal(f.lookup.map)
                )
                for f in lookup_fields
                if f.lookup is not None
            ]
        ),
    }


def _writes_context(route: ApplyRoute) -> dict[str, Any]:
    """What the apply writes into the target row, and what it logs of a row it removes."""
    to_side, fields, keys = route.to_side, route.fields, route.keys
    by_field = {f.column(to_side): fields[n] for n, f in enumerate(route.non_keys)}
    carried = {f.column(to_side) or "": f for f in route.carried}
    return {
        "fields": fields,
        "insert_columns": sql_join([ident(f.column(to_side) or "") for f in route.carried]),
        "insert_values": sql_join(
            [Sql("(r.n).{}").format(ident(f.column(to_side) or "")) for f in route.carried], LIST
        ),
        "recordset_values": sql_join(
            [Sql("n.{}").format(ident(f.column(to_side) or "")) for f in route.carried], LIST
        ),
        # The row as it is to be written (by the writer, by the sync's fast path): every
        # column of the target in order, its key or final value, null where not mapped.
        "target_row": sql_join(
            [
                Sql("j.{}").format(ident(f"k_{keys.index(carried[c.name]) + 1}"))
                if c.name in carried and carried[c.name].key
                else Sql("j.{}").format(by_field[c.name].alias("f"))
                if c.name in carried
                else Sql("NULL")
                for c in route.target.columns
            ]
        ),
        "update_set": sql_join(
            [Sql("{} = (r.n).{}").format(f.column, f.column) for f in fields], LIST
        ),
        "final_values": sql_join([Sql("j.{}").format(f.alias("f")) for f in fields]),
        "current_values": sql_join([Sql("j.{}").format(f.alias("c")) for f in fields]),
        "gone_fields": sql_join(
            [
                Sql("{}, j.{}").format(literal(column), ident(f"k_{n}"))
                for n, (column, _) in enumerate(route.target_keys, start=1)
            ]
            + [
                Sql("{}, j.{}").format(literal(field.column(to_side) or ""), applied.alias("f"))
                for field, applied in zip(route.non_keys, fields, strict=True)
            ]
        ),
        # The rows each pass decides: those not to exist here, and those to exist.
        "removing": Sql("j.present AND NOT j.exists_after AND NOT j.holding"),
        "keeping": Sql("NOT (j.present AND NOT j.exists_after) AND NOT j.holding"),
    }


def _clocks_context(route: ApplyRoute) -> dict[str, Any]:
    """The row's clock and who wins a conflict, where the target's writes count too."""
    from_side, to_side = route.from_side, route.to_side
    policy = route.table_map.conflict_policy
    versioned = keeps_clocks(route.table_map)
    return {
        "versioned": versioned,
        "versions": control_function("versions"),
        "queue": control_function("change_queue"),
        "commit_stamp": control_function("commit_stamp"),
        "own_side": literal(to_side),
        "own_direction": literal(other_direction(route.direction)),
        "own_queue": versioned,
        "own_capture": route.config.side(to_side).capture,
        "own_id": CLOCK_ID[to_side],
        "other_id": CLOCK_ID[from_side],
        "own_stamp": CLOCK_STAMP[to_side],
        "row_wins": wins_sql(policy, from_side, (Sql("j.t_0"), Sql("j.ot_0"))),
        "row_manual": literal(policy == "manual"),
        "row_entry": clock_entry(
            from_side, Sql("j.clock"), literal(ROW_ENTRY), Sql("j.id"), Sql("j.t_0")
        ),
        "clock": clock_sql(
            Sql("j.clock"),
            Sql("r.entry"),
            Sql("j.id"),
            Sql("j.t_0"),
            [
                ClockWrite(f.label, f.entry, ident("j", f"i_{f.index}"), ident("j", f"t_{f.index}"))
                for f in route.fields
            ],
            kept_labels(route.table_map, route.direction),
        ),
        "map_policy": literal(policy),
    }


def _deletes_context(route: ApplyRoute) -> dict[str, Any]:
    """What a delete or truncate does here, and which target rows the map owns."""
    table_map, to_side, target = route.table_map, route.to_side, route.target
    return {
        "on_delete": bare(table_map.on_delete),
        "on_truncate": bare(table_map.on_truncate),
        "target_filter": filter_sql(table_map, to_side, target, "t"),
        "target_filtered": table_map.filter(to_side) is not None,
        "target_filter_name": literal(f"{to_side}_filter ({table_map.filter(to_side)})"),
        "truncate_hint": literal(
            f"The rows of {target.label} were left as they are: delete them"
            " there if they should go, then close this error with replicator skip."
        ),
        "mark_column": ident(mark[0]) if (mark := table_map.mark_for(to_side)) else None,
        "mark": mark_sql(table_map, to_side, target),
    }
