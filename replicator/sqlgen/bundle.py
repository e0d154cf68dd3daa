"""Maps + catalog snapshots in, an ordered bundle of named SQL artifacts out.

Pure: no database, no clock. The same input gives the same bytes. Decisions
are made here in Python; the templates in templates/ only give them shape.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from replicator.core.resources import sql_file
from replicator.inspect.catalog import SchemaCatalog
from replicator.inspect.migrations import Migration, control_migrations
from replicator.maps.model import (
    CONTROL_SCHEMA,
    DIRECTIONS,
    SIDES,
    Config,
    MapSet,
    Roles,
    Side,
    source_of,
    target_of,
)
from replicator.sqlgen.absorb import absorb_artifact, absorb_batch_artifact
from replicator.sqlgen.apply import apply_artifact
from replicator.sqlgen.capture import capture_artifact
from replicator.sqlgen.clocks import keeps_clocks
from replicator.sqlgen.dependencies import dependencies_artifact
from replicator.sqlgen.dispatch import dispatch_artifact, registry_artifact
from replicator.sqlgen.render import Artifact
from replicator.sqlgen.snapshot import snapshot_artifact
from replicator.sqlgen.sqltypes import AllTables, mapped_table
from replicator.sqlgen.wal import wal2json_table, wal_artifact


@dataclass(frozen=True)
class DatabaseBundle:
    """Everything one database receives, in the order it must be applied."""

    role: Side  # the side whose connection reaches this database
    label: str  # e.g. "fno" or "fno+cds" when both sides share the database
    artifacts: tuple[Artifact, ...]
    # The sides' schemas this database holds: a plan applied elsewhere stops on them.
    schemas: tuple[str, ...] = ()
    # With WAL capture: the logical slot deploy creates first (before any write of
    # its transaction, as PostgreSQL requires) when it does not exist.
    slot: str | None = None


@dataclass(frozen=True)
class Bundle:
    databases: tuple[DatabaseBundle, ...]
    # The control schema every database gets: deploy runs the migrations not run there yet.
    migrations: tuple[Migration, ...]
    # Deploy acts as roles.owner, and grants roles.runtime what the applier calls.
    roles: Roles | None = None

    @property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        if self.roles is not None:
            digest.update(f"roles={self.roles.owner}/{self.roles.runtime}\n".encode())
        for migration in self.migrations:
            digest.update(f"control/{migration.label}={migration.sha256}\n".encode())
        for database in self.databases:
            for artifact in database.artifacts:
                digest.update(f"{database.role}/{artifact.name}={artifact.sha256}\n".encode())
        return digest.hexdigest()


def compile_bundle(config: Config, maps: MapSet, catalogs: dict[Side, SchemaCatalog]) -> Bundle:
    """Compile validated maps into the artifacts each database receives."""
    tables = {
        table_map.name: {side: mapped_table(catalogs, table_map, side) for side in SIDES}
        for table_map in maps.maps
    }
    databases = tuple(
        DatabaseBundle(
            role=role,
            label=config.label(role),
            artifacts=_artifacts(config, maps, tables, role),
            schemas=tuple(dict.fromkeys(config.side(side).schema for side in config.hosted(role))),
            slot=config.slot_name(role) if config.wal_sides(role) else None,
        )
        for role in config.databases
    )
    return Bundle(databases=databases, migrations=control_migrations(), roles=config.roles)


def _artifacts(config: Config, maps: MapSet, tables: AllTables, role: Side) -> tuple[Artifact, ...]:
    """What the database reached by ``role``'s connection receives, in order."""
    hosted = config.hosted(role)
    artifacts = [Artifact("drift", sql_file("drift.sql"), "")]
    artifacts += [
        apply_artifact(config, maps, tables, table_map, direction)
        for table_map in maps.maps
        for direction in table_map.directions
        if target_of(direction) in hosted
    ]
    incoming = [d for d in DIRECTIONS if target_of(d) in hosted]
    artifacts.append(dispatch_artifact(maps, incoming))
    sourced = [
        (table_map, direction)
        for table_map in maps.maps
        for direction in table_map.directions
        if source_of(direction) in hosted
    ]
    artifacts += [
        artifact
        for table_map, direction in sourced
        for artifact in (
            capture_artifact(
                maps, tables, table_map, direction, config.side(source_of(direction)).capture
            ),
            snapshot_artifact(maps, tables, table_map, direction),
        )
    ]
    absorbed = [(m, d) for m, d in sourced if keeps_clocks(m)]
    artifacts += [absorb_artifact(tables, m, d) for m, d in absorbed]
    artifacts.append(absorb_batch_artifact(absorbed))
    if config.wal_sides(role):
        artifacts.append(_wal(config, maps, tables, role))
    artifacts.append(registry_artifact(maps))
    artifacts.append(dependencies_artifact(config, maps, tables, hosted))
    return tuple(artifacts)


def _wal(config: Config, maps: MapSet, tables: AllTables, role: Side) -> Artifact:
    """The WAL artifact of a database some side of which is captured from the WAL."""
    wal_sides = config.wal_sides(role)
    wal_routes = [
        (table_map, direction)
        for table_map in maps.maps
        for direction in table_map.directions
        if source_of(direction) in wal_sides
    ]
    route_sources = [tables[m.name][source_of(d)] for m, d in wal_routes]
    read = [(t.schema, t.name) for t in route_sources] + [(CONTROL_SCHEMA, "map_state")]
    return wal_artifact(
        config.slot_name(role),
        tuple(dict.fromkeys(wal2json_table(*pair) for pair in read)),
        wal_routes,
        [t.label for t in route_sources],
    )
