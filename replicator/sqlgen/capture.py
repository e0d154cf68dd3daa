"""The capture artifact of a map direction: row triggers queueing each change, or,
with WAL capture, the function the listener calls with the changes it decoded.
"""

from __future__ import annotations

from typing import Any

from replicator.core import locks
from replicator.core.errors import Where
from replicator.core.quoting import Sql, ident, literal, sql_join
from replicator.inspect.catalog import Table
from replicator.maps.expressions import columns_read as referenced_columns_of
from replicator.maps.expressions import may_raise, parse_expression
from replicator.maps.model import (
    Capture,
    Direction,
    MapSet,
    TableMap,
    source_of,
    target_of,
)
from replicator.sqlgen.clocks import CLOCK_ID
from replicator.sqlgen.lookups import capture_fits, capture_refs
from replicator.sqlgen.render import Artifact, lock_key, render_template
from replicator.sqlgen.sqltypes import (
    NOT_REPLICATOR,
    AllTables,
    column_of,
    control_function,
    function_name,
    type_sql,
)
from replicator.sqlgen.values import filter_sql


def capture_artifact(
    maps: MapSet,
    all_tables: AllTables,
    table_map: TableMap,
    direction: Direction,
    capture: Capture,
) -> Artifact:
    """Trigger capture: row triggers queue each change. WAL capture: a function the
    listener calls with the changes it decoded from the slot."""
    kind = "capture" if capture == "trigger" else "wal"
    capture_function = function_name(kind, table_map, direction)
    source = all_tables[table_map.name][source_of(direction)]
    key_sources = table_map.key_columns(source_of(direction))
    context = {
        "map_name": literal(table_map.name),
        "direction": literal(direction),
        "online": table_map.mode == "online",
        "capture_function": capture_function,
        "capture_signature": (
            Sql("{}()") if kind == "capture" else Sql("{}(jsonb, pg_lsn)")
        ).format(capture_function),
        "write_function": function_name("write", table_map, direction),
        "queue": control_function("change_queue"),
        "wal_stopped": control_function("wal_stopped"),
        "wake_lock": lock_key(locks.WAKE),
        "source_table": ident(source.schema, source.name),
        "source_regclass": literal(ident(source.schema, source.name)),
        "target_label": literal(all_tables[table_map.name][target_of(direction)].label),
        "versions": control_function("versions"),
        "own_side": literal(source_of(direction)),
        "other_id": CLOCK_ID[target_of(direction)],
        "uncaptured": control_function("uncaptured"),
        "map_state": control_function("map_state"),
        "not_replicator": NOT_REPLICATOR,
        **_keys_context(source, key_sources),
        **_rows_context(maps, all_tables, table_map, direction),
        **_triggers_context(table_map, direction, source),
    }
    sql = render_template(
        "capture.sql.j2" if kind == "capture" else "wal_capture.sql.j2", **context
    )
    drop_sql = render_template("drop_capture.sql.j2", **context)
    return Artifact(f"map/{table_map.name}/{direction}/{kind}", sql, drop_sql)


def _keys_context(source: Table, key_sources: list[str]) -> dict[str, Any]:
    """A captured row's key, as each row (old, new, cur, a queued q) spells it."""
    return {
        "old_key": sql_join([ident("old", n) for n in key_sources]),
        "new_key": sql_join([ident("new", n) for n in key_sources]),
        "old_key_pairs": sql_join(
            [Sql("{}, {}").format(literal(n), ident("old", n)) for n in key_sources]
        ),
        "new_key_pairs": sql_join(
            [Sql("{}, {}").format(literal(n), ident("new", n)) for n in key_sources]
        ),
        "ins_key_pairs": sql_join(
            [Sql("{}, {}").format(literal(n), ident("ins", n)) for n in key_sources]
        ),
        "key_of_q": sql_join(
            [
                Sql("CAST(q.key ->> {} AS {})").format(literal(n), type_sql(column_of(source, n)))
                for n in key_sources
            ]
        ),
        "current_key": sql_join([ident("cur", n) for n in key_sources]),
        "old_key_text": sql_join([Sql("{}::text").format(ident("old", n)) for n in key_sources]),
        "new_key_text": sql_join([Sql("{}::text").format(ident("new", n)) for n in key_sources]),
        "key_names": literal(", ".join(key_sources)),
    }


def _rows_context(
    maps: MapSet, all_tables: AllTables, table_map: TableMap, direction: Direction
) -> dict[str, Any]:
    """Which rows count (the filter), which columns are watched, and the refs a row carries."""
    from_side = source_of(direction)
    source = all_tables[table_map.name][from_side]
    text = table_map.filter(from_side)
    guard_filter = guards_filter(table_map, direction, source)
    # Watched by the update trigger: what crosses, and what decides whether a row counts.
    source_columns = list(
        dict.fromkeys((*table_map.source_columns(direction), *referenced_columns_of(text or "")))
    )
    return {
        "old_filter": filter_sql(table_map, from_side, source, "old"),
        "new_filter": filter_sql(table_map, from_side, source, "new"),
        "filter_cur": filter_sql(table_map, from_side, source, "cur"),
        "guard_filter": guard_filter,
        "filter_raised": literal(f"{from_side}_filter {text!r} raised: "),
        "old_watched": sql_join([ident("old", n) for n in source_columns]),
        "new_watched": sql_join([ident("new", n) for n in source_columns]),
        "watched_names": Sql("ARRAY[{}]::text[]").format(
            sql_join([literal(n) for n in source_columns])
        ),
        "cur_refs": capture_refs(maps, all_tables, table_map, direction, "cur"),
        "old_refs": capture_refs(maps, all_tables, table_map, direction, "old"),
        "new_refs": capture_refs(maps, all_tables, table_map, direction, "new"),
        "ins_filter": filter_sql(table_map, from_side, source, "ins"),
        "ins_refs": capture_refs(maps, all_tables, table_map, direction, "ins"),
        "capture_fits": capture_fits(maps, all_tables, table_map, direction),
    }


def _triggers_context(table_map: TableMap, direction: Direction, source: Table) -> dict[str, Any]:
    by_statement = inserts_by_statement(table_map, direction, source)
    # Triggers an earlier deploy may have left: the one that noted an initial sync's
    # overwrites (the apply functions do now), and the statement-level insert trigger
    # of a map that captures its inserts row by row now.
    retired = [
        trigger_name(table_map, direction, "sync"),
        *([] if by_statement else [trigger_name(table_map, direction, "ins")]),
    ]
    return {
        "row_trigger": ident(trigger_name(table_map, direction)),
        "update_trigger": ident(trigger_name(table_map, direction, "upd")),
        "truncate_trigger": ident(trigger_name(table_map, direction, "trunc")),
        "insert_trigger": ident(trigger_name(table_map, direction, "ins")),
        "inserts_by_statement": by_statement,
        "retired_triggers": [{"ident": ident(t), "name": literal(t)} for t in retired],
        "retired_function": control_function("retired_trigger"),
    }


def guards_filter(table_map: TableMap, direction: Direction, source: Table) -> bool:
    """Whether a queued map's filter can raise for some rows. It must not fail the
    application's write, so it runs in a block of its own per row (a subtransaction:
    only such maps pay)."""
    text = table_map.filter(source_of(direction))
    return (
        table_map.mode == "queued"
        and text is not None
        and may_raise(
            parse_expression(
                text, columns=[c.name for c in source.columns], where=Where(), what=text
            )
        )
    )


def inserts_by_statement(table_map: TableMap, direction: Direction, source: Table) -> bool:
    """Whether a map direction queues a statement's inserts at once, from the
    statement's transition table: queued maps whose filter cannot raise, on a table
    that is not a partition. (Online maps write the other side row by row; a filter
    that can raise is judged row by row; rows inserted through a partitioned table fire
    only a partition's row triggers, and replicator.drift() reports a table attached
    as a partition since the deploy.)"""
    return (
        table_map.mode == "queued"
        and not source.is_partition
        and not guards_filter(table_map, direction, source)
    )


def trigger_name(table_map: TableMap, direction: Direction, kind: str = "") -> str:
    """A capture trigger's name: the row trigger's, or the one of ``kind`` (ins, upd,
    trunc; sync, retired). replicator.drift() tells them apart by these suffixes."""
    name = f"replicator_{table_map.name}_{direction}"
    return f"{name}_{kind}" if kind else name


def trigger_names(table_map: TableMap, direction: Direction, source: Table) -> tuple[str, ...]:
    """The capture triggers of a map direction: rows inserted and deleted (or only
    deleted, with inserts by statement), updates, truncates."""
    by_statement = inserts_by_statement(table_map, direction, source)
    kinds = ("", *(("ins",) if by_statement else ()), "upd", "trunc")
    return tuple(trigger_name(table_map, direction, kind) for kind in kinds)
