"""The apply artifact of a map direction: the functions that write a batch of
incoming changes into the target table (templates/apply.sql.j2).
"""

from __future__ import annotations

from replicator.core.quoting import Sql, ident, literal, sql_join
from replicator.maps.model import (
    WRITE_SCHEMA,
    Config,
    Direction,
    MapSet,
    TableMap,
    other_direction,
    source_of,
    target_of,
)
from replicator.sqlgen.clocks import (
    CLOCK_ID,
    CLOCK_STAMP,
    ROW_ENTRY,
    apply_fields,
    clock_entry,
    keeps_clocks,
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
    json_object,
    type_sql,
)
from replicator.sqlgen.values import change_key_json, filter_sql, mark_sql, value_sql


def apply_artifact(
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
    fields = apply_fields(table_map, direction, tables, non_keys)
    # In the target's type, whatever the image declares (a user type arrives as text).
    key_values = [
        (
            ident(f"k_{n}"),
            Sql(
                f"CAST({value_sql(f, direction, tables, table_map)}"
                f" AS {type_sql(column_of(target, f.column(to_side)))})"
            ),
        )
        for n, f in enumerate(keys, start=1)
    ]

    def declare(names: tuple[str, ...] | list[str]) -> Sql:
        return sql_join(
            [Sql(f"{ident(n)} {image_type_sql(column_of(source, n))}") for n in names], LIST
        )

    key_sources = [f.column(from_side) or "" for f in keys]
    target_keys = [(f.column(to_side) or "", ident("l", f"k_{n}")) for n, f in enumerate(keys, 1)]
    versioned = keeps_clocks(table_map)
    own_queue = versioned
    policy = table_map.conflict_policy
    by_field = {f.column(to_side): fields[n] for n, f in enumerate(non_keys)}
    context = {
        "map_name": literal(table_map.name),
        "direction": literal(direction),
        "write_function": function_name("write", table_map, direction),
        "apply_function": function_name("apply", table_map, direction),
        "error_log": control_function("error_log"),
        "target_table": ident(target.schema, target.name),
        "image_columns": declare(list(table_map.source_columns(direction))),
        "key_columns": declare(key_sources),
        "key_order": sql_join([ident("k", n) for n in key_sources]),
        "source_key_of_c": change_key_json(key_sources, Sql("c.image")),
        "key_values": key_values,
        "key_match": sql_join(
            [Sql(f"{ident('t', column)} = {value}") for column, value in target_keys], " AND "
        ),
        "own_key": sql_join([Sql(f"{literal(column)}, {value}") for column, value in target_keys]),
        "rows": Sql("resolved") if lookup_fields else Sql("latest"),
        "held": control_function("held_change"),
        "lookups": sql_join(
            [
                Sql(f"{lookup_value(maps, all_tables, f, to_side)} AS {ident(f'lookup_{n}')}")
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
                Sql(
                    f"CASE WHEN {unresolved_sql(table_map, direction, f)} THEN {literal(f.lookup.map)} END"
                )
                for f in lookup_fields
                if f.lookup is not None
            ]
        ),
        "change_key": change_key_json(key_sources, Sql("v_change->'image'")),
        "batch_key": change_key_json(key_sources, Sql("c.value->'image'")),
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
        "row_wins": wins_sql(policy, from_side, (Sql("j.t_0"), Sql("j.ot_0"))),
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
        "mark": mark_sql(table_map, to_side, target),
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
