"""A database's WAL artifact: its origins, the tables the slot decodes (in wal2json's
add-tables form) and the function routing decoded changes to each map direction.
"""

from __future__ import annotations

from replicator.core import origins
from replicator.core.quoting import Sql, literal, sql_join
from replicator.maps.model import (
    Direction,
    TableMap,
)
from replicator.sqlgen.render import Artifact, render_template
from replicator.sqlgen.sqltypes import control_function, function_name


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


def wal_artifact(
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
        "tables": Sql("ARRAY[{}]::text[]").format(sql_join([literal(t) for t in tables])),
        "origins": Sql("ARRAY[{}]::text[]").format(sql_join([literal(o) for o in origins.ALL])),
        "route_function": control_function("capture_wal"),
        "parked": control_function("wal_parked"),
        "wal_routes": [
            {
                "table": literal(table),
                "function": function_name("wal", m, d),
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
