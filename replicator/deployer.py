"""Plans and applies a compiled bundle. The plan is the exact SQL deploy runs,
so a DBA can review it, or apply it by hand with ``psql -1 -f``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import psycopg
from psycopg.rows import TupleRow

from replicator import locks
from replicator.compiler import Bundle, DatabaseBundle, render_template
from replicator.connections import connect
from replicator.model import Config, Side
from replicator.quoting import Sql, comment, dollar_quoted, ident, literal
from replicator.resources import sql_file

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

    @property
    def pending(self) -> bool:
        return bool(self.created or self.replaced or self.dropped or self.slot_sql)


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
) -> DatabasePlan:
    """Compare the bundle with what is deployed; render the SQL that closes the gap.

    A drifted map's artifacts are created again even when their text is the same: a
    table dropped and created again, or a DROP COLUMN ... CASCADE, took its triggers."""
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
    summary = ", ".join(
        f"{len(names)} to {verb}"
        for verb, names in (("create", created), ("replace", replaced), ("drop", dropped))
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
    sql = render_template(
        "plan.sql.j2",
        label=comment(database.label),
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
    return DatabasePlan(database, created, replaced, dropped, sql, slot_sql)


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
            )
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
