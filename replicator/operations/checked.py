"""The maps as checked against the live databases: loaded, validated against both
sides' catalogs, their expressions and constants probed where they will run, and, for
WAL capture, the servers' settings. What deploy, verify and repair start from; it
reads, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from replicator.core.errors import ExpressionError, MapError, Problem, Where
from replicator.core.quoting import DOLLAR_TAG, Sql
from replicator.inspect import privileges
from replicator.inspect.catalog import SchemaCatalog, probe_types, read_schema
from replicator.inspect.clockcheck import clock_problems
from replicator.inspect.connections import connect
from replicator.inspect.constants import ExpressionTypes, constants
from replicator.inspect.validate import validate
from replicator.inspect.walcheck import read_server_check
from replicator.maps.loader import load_maps
from replicator.maps.model import SIDES, Config, MapSet, Side, TableMap, source_of
from replicator.sqlgen.probes import constant_probe, expression_probe


def read_catalogs(config: Config) -> dict[Side, SchemaCatalog]:
    """Both sides' schemas; row level security as it binds the roles the generated
    functions will run as (the side's writer and the [roles] owner, else whoever
    connects to deploy)."""
    catalogs: dict[Side, SchemaCatalog] = {}
    for role in SIDES:
        roles = (config.roles.writer(role), config.roles.owner) if config.roles else ()
        with connect(config, role) as conn:
            catalogs[role] = read_schema(conn, config.side(role).schema, roles=roles)
    return catalogs


# A probe: the database it runs on (through that side), its key in ExpressionTypes,
# and the CREATE TEMP VIEW statement for a view of a given name.
Probe = tuple[Side, tuple[str, str, str], Callable[[str], Sql]]


def probe_expressions(
    config: Config, maps: MapSet, catalogs: dict[Side, SchemaCatalog]
) -> ExpressionTypes:
    """What each database says of what the maps will make it do: the type of every
    to_right/to_left expression and every filter, whether each constant fits its column."""
    views: dict[Side, list[tuple[str, str]]] = {side: [] for side in SIDES}
    spots: dict[str, tuple[str, str, str]] = {}
    for table_map in maps.maps:
        for side, key, statement in (
            *_expression_probes(table_map, catalogs),
            *_constant_probes(table_map, catalogs),
        ):
            view = f"replicator_probe_{len(spots)}"
            try:
                views[side].append((view, statement(view)))
            except ExpressionError:
                continue  # validate reports it
            spots[view] = key
    found: ExpressionTypes = {}
    for side in SIDES:
        if views[side]:
            with connect(config, side) as conn:
                for view, typed in probe_types(conn, views[side]).items():
                    found[spots[view]] = typed
    return found


def _expression_probes(table_map: TableMap, catalogs: dict[Side, SchemaCatalog]) -> list[Probe]:
    """Each to_right/to_left expression and filter, over the table it reads."""
    read: list[tuple[Side, str, str]] = [  # (side read, the map key holding it, text)
        (source_of(direction), direction, expression.text)
        for direction in table_map.directions
        for field in table_map.carried_fields(direction)
        if (expression := field.expression_for(direction)) is not None
    ]
    read += [
        (side, f"{side}_filter", text)
        for side in SIDES
        if (text := table_map.filter(side)) is not None
    ]
    probes: list[Probe] = []
    for side, key, text in read:
        table = catalogs[side].table(table_map.table(side))
        if table is not None and not DOLLAR_TAG.search(table.name):  # else validate says why
            probes.append(
                (
                    side,
                    (table_map.name, key, text),
                    partial(expression_probe, source=table, text=text),
                )
            )
    return probes


def _constant_probes(table_map: TableMap, catalogs: dict[Side, SchemaCatalog]) -> list[Probe]:
    """Each constant the map writes, cast to its column."""
    probes: list[Probe] = []
    for constant in constants(table_map):
        table = catalogs[constant.side].table(table_map.table(constant.side))
        column = table.column(constant.column) if table is not None else None
        if column is not None:  # else validate reports a missing table or column
            probes.append(
                (
                    constant.side,
                    constant.key,
                    partial(
                        constant_probe,
                        value=constant.value,
                        from_text=constant.from_text,
                        column=column,
                    ),
                )
            )
    return probes


@dataclass(frozen=True)
class Checked:
    """Validated maps, the catalogs they were checked against, and what validate warns of."""

    maps: MapSet
    catalogs: dict[Side, SchemaCatalog]
    warnings: list[str]


def check(config: Config) -> Checked:
    """Load the maps and validate them against the live catalogs and, for WAL capture,
    the servers (raises MapError)."""
    maps = load_maps(config.maps_dir, config.path.parent)
    catalogs = read_catalogs(config)
    servers = read_server_check(config)
    warned = validate(
        config,
        maps,
        catalogs,
        probe_expressions(config, maps, catalogs),
        [*servers.problems, *clock_problems(config, maps)],
    )
    # What the owner needs follows from valid maps (a table a map names must exist).
    lacking = privileges.prepared_problems(config, maps)
    if lacking:
        raise MapError([Problem(Where(), problem) for problem in lacking])
    return Checked(maps, catalogs, [*servers.warnings, *(str(w) for w in warned)])
