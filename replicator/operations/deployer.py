"""Plans and applies a compiled bundle. The plan is the exact SQL deploy runs,
so a DBA can review it, or apply it by hand with ``psql -1 -f``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import psycopg
from psycopg.rows import TupleRow

from replicator.core import locks
from replicator.core.errors import DatabaseError, DeployRefused
from replicator.core.quoting import Sql, comment, dollar_quoted, ident, literal
from replicator.inspect.connections import connect
from replicator.inspect.migrations import (
    NEW_DATABASE,
    ControlSchema,
    Migration,
    control_version_sql,
    read_control_schema,
)
from replicator.maps.model import Config, Side
from replicator.operations.removal import removal_backlog
from replicator.sqlgen.bundle import Bundle, DatabaseBundle
from replicator.sqlgen.render import Artifact, database_guard, lock_key, render_template

# How long deploy waits for a lock (an application's open transaction on a mapped
# table, another deploy) before it gives up: meanwhile the table's writers queue
# behind it, so it must not wait long, and it must never hang.
LOCK_TIMEOUT_SECONDS = 10


class LockTimeout(Exception):
    """Deploy waited ``seconds`` for a lock on ``database`` (and rolled back); with
    ``slot``, while creating its logical slot."""

    def __init__(self, database: DatabaseBundle, seconds: int, slot: bool = False) -> None:
        super().__init__(database.label)
        self.database = database
        self.seconds = seconds
        self.slot = slot


@dataclass(frozen=True)
class DeployedArtifact:
    name: str
    sha256: str
    drop_sql: str


@dataclass(frozen=True)
class DatabasePlan:
    """What one database needs to match the bundle, and the SQL that does it."""

    database: DatabaseBundle
    created: tuple[str, ...]
    replaced: tuple[str, ...]
    dropped: tuple[str, ...]
    sql: str
    slot_sql: str = ""  # creates the missing logical slot; runs before anything writes
    migrated: tuple[str, ...] = ()  # the control schema's migrations to run, e.g. 0001_baseline
    control_version: int = 0  # the control schema's version once the plan ran

    @property
    def pending(self) -> bool:
        return bool(self.created or self.replaced or self.dropped or self.slot_sql or self.migrated)


def read_deployed(conn: psycopg.Connection[TupleRow]) -> dict[str, DeployedArtifact]:
    """What an earlier deploy recorded in this database (nothing if never deployed)."""
    exists = conn.execute(
        "SELECT to_regclass('replicator.deployed_artifact') IS NOT NULL"
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    rows = conn.execute(
        "SELECT name, sha256, drop_sql FROM replicator.deployed_artifact ORDER BY deployed_at, name"
    ).fetchall()
    return {str(r[0]): DeployedArtifact(str(r[0]), str(r[1]), str(r[2])) for r in rows}


def slot_exists(conn: psycopg.Connection[TupleRow], database: DatabaseBundle) -> bool:
    """Whether the database's logical slot is there (true when it needs none)."""
    if database.slot is None:
        return True
    row = conn.execute(
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = %s AND wal_status <> 'lost'",
        (database.slot,),
    ).fetchone()
    return bool(row and row[0])


def drifted_maps(conn: psycopg.Connection[TupleRow]) -> frozenset[str]:
    """Maps whose tables changed under them since they were deployed here (replicator.drift())."""
    exists = conn.execute("SELECT to_regprocedure('replicator.drift()') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return frozenset()
    # Parked WAL changes alone need no deploy: the listener queues them once they fit.
    rows = conn.execute(
        "SELECT DISTINCT map_name FROM replicator.drift() WHERE change <> 'changes parked'"
    ).fetchall()
    return frozenset(str(r[0]) for r in rows)


def plan_database(
    database: DatabaseBundle,
    bundle: Bundle,
    deployed: dict[str, DeployedArtifact],
    has_slot: bool = True,
    drifted: frozenset[str] = frozenset(),
    control: ControlSchema = NEW_DATABASE,
) -> DatabasePlan:
    """Compare the bundle with what is deployed; render the SQL that closes the gap.

    The control schema's migrations not yet recorded here run first, in order. A
    drifted map's artifacts are created again even when their text is the same: a
    table dropped and created again, or a DROP COLUMN ... CASCADE, took its triggers."""
    migrations = _migrations_to_run(database, bundle, control)
    # Releases before versioning recorded the control schema as an artifact of its own.
    legacy_control = "control" in deployed
    deployed = _as_deployed(deployed, drifted)
    wanted = {artifact.name for artifact in database.artifacts}
    drops = [deployed[name] for name in reversed(list(deployed)) if name not in wanted]
    creates = [
        artifact
        for artifact in database.artifacts
        if artifact.name not in deployed or deployed[artifact.name].sha256 != artifact.sha256
    ]
    created = tuple(a.name for a in creates if a.name not in deployed)
    replaced = tuple(a.name for a in creates if a.name in deployed)
    dropped = tuple(d.name for d in drops)
    version = max((m.version for m in bundle.migrations), default=0)
    slot_sql = _slot_sql(database.slot) if database.slot is not None and not has_slot else ""
    summary, changes = _described(
        database, migrations, version, created, replaced, dropped, slot_sql
    )
    sql = _plan_sql(
        database,
        bundle,
        control,
        migrations=migrations,
        legacy_control=legacy_control,
        deployed=deployed,
        drops=drops,
        creates=creates,
        changes=changes,
        summary=summary,
        slot_sql=slot_sql,
    )
    return DatabasePlan(
        database,
        created,
        replaced,
        dropped,
        sql,
        slot_sql,
        migrated=tuple(m.label for m in migrations),
        control_version=version if migrations else control.version,
    )


def _slot_sql(slot: str) -> str:
    """The SQL creating a logical slot."""
    return render_template("create_slot.sql.j2", slot=literal(slot), slot_name=comment(slot))


def _described(
    database: DatabaseBundle,
    migrations: list[Migration],
    version: int,
    created: tuple[str, ...],
    replaced: tuple[str, ...],
    dropped: tuple[str, ...],
    slot_sql: str,
) -> tuple[str, list[str]]:
    """The plan in one line (its summary), and one line per change."""
    summary = ", ".join(
        [
            *([f"control schema to version {version}"] if migrations else []),
            *(
                f"{len(names)} to {verb}"
                for verb, names in (("create", created), ("replace", replaced), ("drop", dropped))
            ),
        ]
    )
    if slot_sql:
        summary += f", create slot {database.slot}"
    changes = [
        *(f"migrate control/{m.label}" for m in migrations),
        *(f"create  {name}" for name in created),
        *(f"replace {name}" for name in replaced),
        *(f"drop    {name}" for name in dropped),
        *([f"create  slot {database.slot}"] if slot_sql else []),
    ]
    return summary, changes


def _plan_sql(
    database: DatabaseBundle,
    bundle: Bundle,
    control: ControlSchema,
    *,
    migrations: list[Migration],
    legacy_control: bool,
    deployed: dict[str, DeployedArtifact],
    drops: list[DeployedArtifact],
    creates: list[Artifact],
    changes: list[str],
    summary: str,
    slot_sql: str,
) -> str:
    """The plan's SQL text (plan.sql.j2), from what plan_database decided."""
    return render_template(
        "plan.sql.j2",
        label=comment(database.label),
        changes=changes,
        guard=database_guard(database.label, database.schemas),
        role=Sql(database.role),
        bundle_sha256=Sql(bundle.sha256),
        bundle_literal=literal(bundle.sha256),
        summary=comment(summary),
        slot_sql=Sql(slot_sql.strip()),
        summary_literal=literal(f"deployed bundle {bundle.sha256[:12]}: {summary}"),
        deploy_lock=lock_key(locks.DEPLOY),
        lock_timeout=literal(_lock_timeout_text()),
        owner=ident(bundle.roles.owner) if bundle.roles else None,
        runtime=ident(bundle.roles.runtime) if bundle.roles else None,
        migrations=[_migration_item(m) for m in migrations],
        predates_versions=control.predates_versions and bool(migrations),
        version_table=Sql(control_version_sql().strip())
        if migrations and not control.recorded
        else None,
        forget_control_artifact=legacy_control,
        drops=[
            {"name": Sql(d.name), "name_literal": literal(d.name), "sql": Sql(d.drop_sql.strip())}
            for d in drops
        ],
        creates=[
            {
                "verb": Sql("replace" if a.name in deployed else "create"),
                "name": Sql(a.name),
                "name_literal": literal(a.name),
                "sql": Sql(a.sql.strip()),
                "sha256": literal(a.sha256),
                "drop_sql": dollar_quoted(a.drop_sql),
            }
            for a in creates
        ],
    )


def _migration_item(migration: Migration) -> dict[str, Sql]:
    """A control schema migration as plan.sql.j2 runs and records it."""
    return {
        "label": Sql(migration.label),
        "sql": Sql(migration.sql.strip()),
        "version": literal(migration.version),
        "name_literal": literal(migration.name),
        "sha256": literal(migration.sha256),
    }


def _migrations_to_run(
    database: DatabaseBundle, bundle: Bundle, control: ControlSchema
) -> list[Migration]:
    """The bundle's control schema migrations this database has not run, in order;
    refused when it has run one this release does not know."""
    known = {m.version for m in bundle.migrations}
    newer = sorted(set(control.applied) - known)
    if newer:
        raise DatabaseError(
            f"database {database.label}: its control schema is at version {control.version},"
            f" newer than this replicator knows ({max(known, default=0)}): a later release"
            " deployed it; upgrade replicator"
        )
    return [m for m in bundle.migrations if m.version not in control.applied]


def _as_deployed(
    deployed: dict[str, DeployedArtifact], drifted: frozenset[str]
) -> dict[str, DeployedArtifact]:
    """The recorded artifacts a plan compares with: the legacy control artifact left
    out, and a drifted map's (and the dependencies') with no hash, so they are made again."""
    deployed = {name: d for name, d in deployed.items() if name != "control"}
    if not drifted:
        return deployed
    stale = tuple(f"map/{name}/" for name in drifted)
    return {
        name: DeployedArtifact(name, "", d.drop_sql)
        if name.startswith(stale) or name == "dependencies"
        else d
        for name, d in deployed.items()
    }


@contextmanager
def open_transactions(
    config: Config, roles: list[Side]
) -> Iterator[list[psycopg.Connection[TupleRow]]]:
    """One open transaction per database (reached through the sides ``roles``), rolled
    back if anything fails before commit_all commits them."""
    with ExitStack() as stack:
        connections: list[psycopg.Connection[TupleRow]] = [
            stack.enter_context(connect(config, role, autocommit=False)) for role in roles
        ]
        try:
            yield connections
        except BaseException:
            for conn in connections:
                conn.rollback()
            raise


def commit_all(connections: list[psycopg.Connection[TupleRow]]) -> None:
    """Commit the transactions of open_transactions, one after the other: call it where
    no signal can stop it halfway (interrupts.uninterrupted)."""
    for conn in connections:
        conn.commit()


def deploy(bundle: Bundle, connections: list[psycopg.Connection[TupleRow]]) -> list[DatabasePlan]:
    """Apply ``bundle`` through ``connections`` (one per database, in transactions the caller
    commits). Each database's plan is made after taking the deploy lock, so two deploys
    at once cannot interleave. Missing slots are created before anything is written
    anywhere: creating one waits for every transaction of its server that has written."""
    plans: list[DatabasePlan] = []
    for database, conn in zip(bundle.databases, connections, strict=True):
        with _lock_timeout(database):
            conn.execute("SELECT set_config('lock_timeout', %s, true)", (_lock_timeout_text(),))
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", locks.DEPLOY)
        plans.append(
            plan_database(
                database,
                bundle,
                read_deployed(conn),
                slot_exists(conn, database),
                drifted_maps(conn),
                read_control_schema(conn),
            )
        )
    waiting = [
        line
        for plan, conn in zip(plans, connections, strict=True)
        for line in removal_backlog(plan.dropped, conn)
    ]
    if waiting:
        raise DeployRefused(
            "deploy refused, nothing changed:\n" + "\n".join(f"  {w}" for w in waiting)
        )
    for plan, conn in zip(plans, connections, strict=True):
        if plan.slot_sql:
            with _lock_timeout(plan.database, slot=True):
                conn.execute(plan.slot_sql.encode())
    for plan, conn in zip(plans, connections, strict=True):
        if plan.pending:
            with _lock_timeout(plan.database):
                conn.execute(plan.sql.encode())
    return plans


def _lock_timeout_text() -> str:
    return f"{LOCK_TIMEOUT_SECONDS}s"


@contextmanager
def _lock_timeout(database: DatabaseBundle, slot: bool = False) -> Iterator[None]:
    """A lock wait that timed out becomes LockTimeout, naming the database."""
    try:
        yield
    except psycopg.errors.LockNotAvailable:
        raise LockTimeout(database, LOCK_TIMEOUT_SECONDS, slot) from None
