"""The absorb artifacts: where a direction's changes are captured, recording them in
the rows' clocks once they crossed, and the batch function routing to them.
"""

from __future__ import annotations

from replicator.core.quoting import Sql, ident, literal
from replicator.maps.model import (
    Direction,
    TableMap,
    source_of,
)
from replicator.sqlgen.clocks import (
    CLOCK_STAMP,
    ROW_ENTRY,
    ClockWrite,
    apply_fields,
    clock_entry,
    clock_sql,
    kept_labels,
)
from replicator.sqlgen.plans import plan_mode_sql
from replicator.sqlgen.render import Artifact, render_template
from replicator.sqlgen.sqltypes import AllTables, control_function, function_name


def absorb_artifact(all_tables: AllTables, table_map: TableMap, direction: Direction) -> Artifact:
    """Where a map direction's changes are captured: recording them in the rows' clocks
    once they crossed."""
    from_side = source_of(direction)
    tables = all_tables[table_map.name]
    fields = apply_fields(
        table_map, direction, tables, [f for f in table_map.carried_fields(direction) if not f.key]
    )
    function = function_name("absorb", table_map, direction)
    sql = render_template(
        "absorb.sql.j2",
        map_name=literal(table_map.name),
        direction=literal(direction),
        source_table=ident(tables[from_side].schema, tables[from_side].name),
        absorb_function=function,
        versions=control_function("versions"),
        queue=control_function("change_queue"),
        commit_stamp=control_function("commit_stamp"),
        own_side=literal(from_side),
        own_stamp=CLOCK_STAMP[from_side],
        clock=clock_sql(
            Sql("j.clock"),
            Sql("r.entry"),
            Sql("j.id"),
            Sql("j.t_0"),
            [
                ClockWrite(
                    label=f.label,
                    entry=clock_entry(
                        from_side,
                        Sql("j.clock"),
                        f.label,
                        Sql("j.{}").format(f.alias("i")),
                        Sql("greatest(j.{}, j.clock_stamp)").format(f.alias("t")),
                    ),
                    change=Sql("j.{}").format(f.alias("i")),
                    stamp=Sql("j.{}").format(f.alias("t")),
                )
                for f in fields
            ],
            kept_labels(table_map, direction),
        ),
        fields=fields,
        row_entry=clock_entry(
            from_side,
            Sql("j.clock"),
            literal(ROW_ENTRY),
            Sql("j.id"),
            Sql("greatest(j.t_0, j.clock_stamp)"),
        ),
    )
    drop_sql = render_template(
        "drop_functions.sql.j2", functions=[Sql("{}(bigint[])").format(function)], guard_held=False
    )
    return Artifact(f"map/{table_map.name}/{direction}/absorb", sql, drop_sql)


def absorb_batch_artifact(routes: list[tuple[TableMap, Direction]]) -> Artifact:
    sql = render_template(
        "absorb_batch.sql.j2",
        absorb_batch=control_function("absorb_batch"),
        plan_mode=plan_mode_sql(Sql("cardinality(p_ids)")),
        queue=control_function("change_queue"),
        routes=[
            {
                "map_name": literal(m.name),
                "direction": literal(d),
                "absorb_function": function_name("absorb", m, d),
            }
            for m, d in routes
        ],
    )
    return Artifact("absorb", sql, "")
