"""The artifacts naming every map direction: the dispatch function that routes a
batch to its apply function, and the registry of map states.
"""

from __future__ import annotations

from replicator.core.quoting import Sql, literal, sql_join
from replicator.maps.model import (
    Direction,
    MapSet,
)
from replicator.sqlgen.plans import plan_mode_sql
from replicator.sqlgen.render import Artifact, render_template
from replicator.sqlgen.sqltypes import control_function, function_name


def dispatch_artifact(maps: MapSet, incoming: list[Direction]) -> Artifact:
    routes = [
        {
            "map_name": literal(table_map.name),
            "direction": literal(direction),
            "apply_function": function_name("apply", table_map, direction),
            "parents": Sql("ARRAY[{}]::text[]").format(
                sql_join(
                    [
                        literal(name)
                        for name in dict.fromkeys(
                            f.lookup.map for f in table_map.lookup_fields(direction) if f.lookup
                        )
                    ]
                )
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
        known_routes=Sql("ARRAY[{}]::text[]").format(sql_join(known)),
        dispatch_function=control_function("apply_batch"),
        error_log=control_function("error_log"),
        map_state=control_function("map_state"),
        held=control_function("held_change"),
        plan_mode=plan_mode_sql(Sql("jsonb_array_length(p_batch)")),
    )
    return Artifact("dispatch", sql, "")


def registry_artifact(maps: MapSet) -> Artifact:
    rows = [
        Sql("({}, {})").format(literal(table_map.name), literal(direction))
        for table_map in maps.maps
        for direction in table_map.directions
    ]
    sql = render_template(
        "registry.sql.j2", rows=sql_join(rows), map_state=control_function("map_state")
    )
    return Artifact("registry", sql, "")
