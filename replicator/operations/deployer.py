"""Plans and applies a compiled bundle. The plan is the exact SQL deploy runs,
so a DBA can review it, or apply it by hand with ``psql -1 -f``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import psycopg
from psycopg.rows import TupleRow

from replicator.core import locks, origins
from replicator.core.errors import DatabaseError, DeployRefused
from replicator.core.output import counted
from replicator.core.quoting import Sql, comment, dollar_quoted, ident, literal
from replicator.core.resources import sql_file
from replicator.inspect.connections import connect
from replicator.inspect.migrations import (
    NEW_DATABASE,
    ControlSchema,
    control_version_sql,
    read_control_schema,
)
from replicator.maps.model import Config, Side
from replicator.sqlgen.bundle import Bundle, DatabaseBundle
from replicator.sqlgen.render import database_guard, render_template
from replicator.sqlgen.wal import wal2json_table

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
class LockHolder:
    """A session holding a lock deploy may have waited for."""

    locked: str | None  # schema.table; None: the deploy lock, or a transaction id
    mode: str
    pid: int
    role: str
    application: str
    state: str | None  # None: hidden from this role
    seconds: int
    database: str | None = None  # named when it may be another database of the server

    def __str__(self) -> str:
        where = f", database {self.database}" if self.database else ""
        application = f", application {self.application!r}" if self.application else ""
        state = f", {self.state} for {self.seconds} s" if self.state else ""
        what = (
            f"{self.mode} on {self.locked}"
            if self.locked
            else self.mode
            if self.database
            else "the deploy lock"
        )
        return f"pid {self.pid} (role {self.role}{where}{application}{state}) holds {what}"


def lock_holders(conn: psycopg.Connection[TupleRow], schemas: list[str]) -> list[LockHolder]:
    """Other sessions' locks on the tables of ``schemas`` and on the deploy lock,
    strongest first."""
    params = {"schemas": schemas, "deploy_1": locks.DEPLOY[0], "deploy_2": locks.DEPLOY[1]}
    return [LockHolder(*r) for r in conn.execute(sql_file("lock_holders.sql"), params).fetchall()]


def writing_sessions(conn: psycopg.Connection[TupleRow]) -> list[LockHolder]:
    """Sessions of the server in a transaction that has written, which creating a
    logical slot waits for, longest first."""
    return [LockHolder(*r) for r in conn.execute(sql_file("writing_sessions.sql")).fetchall()]


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
        return bool(
            self.created or self.replaced or self.dropped or self.slot_sql or self.migrated
        )


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
    known = {m.version for m in bundle.migrations}
    newer = sorted(set(control.applied) - known)
    if newer:
        raise DatabaseError(
            f"database {database.label}: its control schema is at version {control.version},"
            f" newer than this replicator knows ({max(known, default=0)}): a later release"
            " deployed it; upgrade replicator"
        )
    migrations = [m for m in bundle.migrations if m.version not in control.applied]
    # Releases before versioning recorded the control schema as an artifact of its own.
    legacy_control = "control" in deployed
    deployed = {name: d for name, d in deployed.items() if name != "control"}
    if drifted:
        stale = tuple(f"map/{name}/" for name in drifted)
        deployed = {
            name: DeployedArtifact(name, "", d.drop_sql)
            if name.startswith(stale) or name == "dependencies"
            else d
            for name, d in deployed.items()
        }
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
    version = max(known, default=0)
    summary = ", ".join(
        [
            *([f"control schema to version {version}"] if migrations else []),
            *(
                f"{len(names)} to {verb}"
                for verb, names in (("create", created), ("replace", replaced), ("drop", dropped))
            ),
        ]
    )
    slot_sql = (
        render_template(
            "create_slot.sql.j2", slot=literal(database.slot), slot_name=comment(database.slot)
        )
        if database.slot is not None and not has_slot
        else ""
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
    sql = render_template(
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
        deploy_lock=Sql(f"{locks.DEPLOY[0]}, {locks.DEPLOY[1]}"),
        lock_timeout=literal(_lock_timeout_text()),
        owner=ident(bundle.roles.owner) if bundle.roles else None,
        runtime=ident(bundle.roles.runtime) if bundle.roles else None,
        migrations=[
            {
                "label": Sql(m.label),
                "sql": Sql(m.sql.strip()),
                "version": literal(m.version),
                "name_literal": literal(m.name),
                "sha256": literal(m.sha256),
            }
            for m in migrations
        ],
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


def removal_backlog(plan: DatabasePlan, conn: psycopg.Connection[TupleRow]) -> list[str]:
    """Per map direction the plan removes from this database, the changes still waiting
    for it here (queued or parked where it is captured, held where it is applied), each
    with the ways on: drain them, or discard them on purpose."""
    found: list[str] = []
    for name in plan.dropped:
        parts = name.split("/")
        if len(parts) != 4 or parts[0] != "map":
            continue
        _, map_name, direction, kind = parts
        label = f"map {map_name} ({direction})"
        discard = f"replicator discard {map_name} --direction {direction} --reason TEXT"
        if kind in ("capture", "wal"):
            row = conn.execute(
                "SELECT (SELECT count(*) FROM replicator.change_queue"
                "         WHERE map_name = %(map)s AND direction = %(direction)s)"
                "     + (SELECT count(*) FROM replicator.wal_parked"
                "         WHERE map_name = %(map)s AND direction = %(direction)s),"
                "       (SELECT state FROM replicator.map_state"
                "         WHERE map_name = %(map)s AND direction = %(direction)s)",
                {"map": map_name, "direction": direction},
            ).fetchone()
            queued, state = (int(row[0]), str(row[1])) if row else (0, "running")
            unread = _unread(conn, map_name, direction) if kind == "wal" else 0
            if not queued and not unread:
                continue
            them = "it" if queued + unread == 1 else "them"
            waiting = [
                *([counted(queued, "queued change")] if queued else []),
                *([f"{counted(unread, 'change')} unread in its slot"] if unread else []),
            ]
            drain = (
                f"run the applier until {'it is' if them == 'it' else 'they are'} applied"
                if state in ("running", "catching_up")
                else f"replicator resume {map_name} (it is {state}) and run the applier"
            )
            first = "run the applier (it queues what the slot holds), then " if unread else ""
            found.append(
                f"{label} is removed but still has {' and '.join(waiting)}: to apply {them},"
                f" {drain}; to throw {them} away, {first}{discard}; then deploy again"
            )
        elif kind == "apply":
            row = conn.execute(
                "SELECT count(*) FROM replicator.held_change WHERE map_name = %s AND direction = %s",
                (map_name, direction),
            ).fetchone()
            if row is None or not row[0]:
                continue
            held = int(row[0])
            them = "it" if held == 1 else "them"
            found.append(
                f"{label} is removed but still has {counted(held, 'held change')}, waiting for a"
                f" parent (replicator held list {map_name}): once the parent is there, replicator"
                f" held retry --map {map_name}; to throw {them} away, {discard}; then deploy again"
            )
    return found


def _unread(conn: psycopg.Connection[TupleRow], map_name: str, direction: str) -> int:
    """Changes of a WAL-captured map direction's table still unread in the slot, which
    the listener would queue (the replicator's own writes aside). 0 while the applier
    holds the slot: it is reading it, and queues them within a poll."""
    found = conn.execute(
        "SELECT l.slot_name, d.schema_name, d.table_name"
        "  FROM replicator.wal_listener AS l"
        "  JOIN pg_replication_slots AS s ON s.slot_name = l.slot_name AND NOT s.active"
        "  JOIN replicator.map_dependency AS d ON d.map_name = %s AND d.kind = 'table'"
        "   AND d.side = %s AND d.lookup IS NULL",
        (map_name, "left" if direction == "to_right" else "right"),
    ).fetchone()
    if found is None:
        return 0
    slot, schema, table = found
    skip = conn.execute(
        f"SELECT coalesce(string_agg(roident::text, ','), '') FROM pg_replication_origin"
        f" WHERE roname IN (SELECT {origins.name_sql('purpose')}"
        f" FROM unnest(%s::text[]) AS purpose)",
        (list(origins.ALL),),
    ).fetchone()
    row = conn.execute(
        "SELECT count(*) FROM pg_logical_slot_peek_changes(%s, NULL, NULL,"
        " 'format-version', '2', 'add-tables', %s, 'filter-origins', %s,"
        " 'add-msg-prefixes', 'replicator')"
        " WHERE data::jsonb->>'action' IN ('I', 'U', 'D', 'T')",
        (slot, wal2json_table(schema, table), skip[0] if skip else ""),
    ).fetchone()
    return int(row[0]) if row else 0


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
        for line in removal_backlog(plan, conn)
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


@dataclass(frozen=True)
class UndeployPlan:
    """What undeploy removes from one database, the SQL that does it, and the changes
    still waiting there (which it refuses to lose unless told to discard them)."""

    role: Side
    label: str
    sql: str
    waiting: int  # queued, parked and held changes here


def undeploy_database(
    conn: psycopg.Connection[TupleRow],
    config: Config,
    role: Side,
    discard: bool,
) -> UndeployPlan | None:
    """The undeploy SQL of the database ``role`` reaches, built from what its deploys
    recorded; None if nothing is deployed there."""
    deployed = read_deployed(conn)
    if not deployed:
        return None
    row = conn.execute(
        "SELECT (SELECT count(*) FROM replicator.change_queue)"
        " + (SELECT count(*) FROM replicator.held_change)"
        " + (SELECT count(*) FROM replicator.wal_parked)"
    ).fetchone()
    waiting = int(row[0]) if row else 0
    slots = [
        str(r[0]) for r in conn.execute("SELECT slot_name FROM replicator.wal_listener ORDER BY 1")
    ]
    label = config.label(role)
    schemas = tuple(dict.fromkeys(config.side(side).schema for side in config.hosted(role)))
    sql = render_template(
        "undeploy.sql.j2",
        label=comment(label),
        label_literal=literal(label),
        role=Sql(role),
        guard=database_guard(label, schemas),
        owner=ident(config.roles.owner) if config.roles else None,
        deploy_lock=Sql(f"{locks.DEPLOY[0]}, {locks.DEPLOY[1]}"),
        discard=discard,
        # The WAL artifact's own drop would remove the slot mid-transaction: the slot
        # and origins go last instead, and the schema takes its function.
        drops=[
            {"name": Sql(d.name), "sql": Sql(d.drop_sql.strip())}
            for name, d in reversed(list(deployed.items()))
            if d.drop_sql.strip() and name != "wal"
        ],
        slots=[{"name": Sql(slot), "literal": literal(slot)} for slot in slots],
        origins=Sql(f"ARRAY[{', '.join(literal(o) for o in origins.ALL)}]::text[]"),
    )
    return UndeployPlan(role, label, sql, waiting)
