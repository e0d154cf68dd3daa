"""What the [roles] owner, runtime and writer roles may do on each database, asked of the
database: the checks behind validate's and deploy's "run the SQL of replicator plan
--roles" messages. Each problem names the database, the role and what it lacks.
"""

from __future__ import annotations

import psycopg
from psycopg.rows import TupleRow

from replicator.core.quoting import ident
from replicator.inspect.connections import connect
from replicator.maps.grants import PRIVILEGE_ORDER, WAL_FUNCTIONS, table_privileges
from replicator.maps.model import CONTROL_SCHEMA, WRITE_SCHEMA, Config, MapSet, Side

RUN_ROLES = "run the SQL of replicator plan --roles as a superuser"


def acting_problems(config: Config) -> list[str]:
    """A missing owner, or a connection that may not act as it (the plan begins with
    SET LOCAL ROLE owner); [] without [roles]."""
    if config.roles is None:
        return []
    found: list[str] = []
    for role in config.databases:
        with connect(config, role) as conn:
            problem = _acting_problem(conn, config.roles.owner)
        if problem is not None:
            found.append(problem)
    return found


def prepared_problems(config: Config, maps: MapSet) -> list[str]:
    """What the roles SQL of these maps grants and a database lacks: the schemas owned by
    the owner, the writers, each role's rights on each mapped table, and for WAL capture the
    replication attribute and the origin functions; [] without [roles]."""
    if config.roles is None:
        return []
    found: list[str] = []
    for role in config.databases:
        with connect(config, role) as conn:
            problem = _prepared_problem(conn, config, maps, role)
        if problem is not None:
            found.append(problem)
    return found


def _acting_problem(conn: psycopg.Connection[TupleRow], owner: str) -> str | None:
    row = conn.execute(
        "SELECT current_user, (SELECT pg_has_role(current_user, oid, 'MEMBER')"
        " FROM pg_roles WHERE rolname = %s)",
        (owner,),
    ).fetchone()
    assert row is not None
    user, member = str(row[0]), row[1]
    if member is None:
        return f"the owner role {ident(owner)} does not exist: {RUN_ROLES} first"
    if not member:
        return (
            f"role {user} may not act as the owner role {owner}: deploy as {owner}, as a"
            f" superuser, or as a member of {owner} (GRANT {ident(owner)} TO {ident(user)})"
        )
    return None


def _prepared_problem(
    conn: psycopg.Connection[TupleRow], config: Config, maps: MapSet, role: Side
) -> str | None:
    assert config.roles is not None
    owner, runtime = config.roles.owner, config.roles.runtime
    database = config.label(role)
    exists = conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (owner,)).fetchone()
    if not exists or not exists[0]:
        return f"the owner role {ident(owner)} does not exist: {RUN_ROLES} first"
    for schema in (CONTROL_SCHEMA, WRITE_SCHEMA):
        row = conn.execute(
            "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s", (schema,)
        ).fetchone()
        if row is None:
            return f"database {database} has no schema {schema} yet: {RUN_ROLES} first"
        if row[0] != owner:
            return (
                f"database {database}: the schema {schema} belongs to {row[0]}, not to {owner}:"
                f" {RUN_ROLES} first"
            )
    missing = [
        problem
        for side in config.hosted(role)
        for problem in _writer_missing(conn, owner, config.roles.writer(side))
    ]
    missing += [
        f"the {'owner' if name == owner else 'writer'} role {name} lacks {privilege} on {table}"
        for name, tables in table_privileges(config, maps, config.hosted(role)).items()
        for table, granted in tables.items()
        for (privilege,) in conn.execute(
            "SELECT p FROM unnest(%s::text[]) AS p WHERE to_regclass(%s) IS NOT NULL"
            " AND to_regrole(%s) IS NOT NULL"
            " AND NOT has_table_privilege(%s, to_regclass(%s), p) ORDER BY p",
            ([p for p in PRIVILEGE_ORDER if p in granted], table, ident(name), name, table),
        ).fetchall()
    ]
    if config.wal_sides(role):
        missing += _wal_missing(conn, owner, runtime)
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        return f"database {database}: {missing[0]}{more}: {RUN_ROLES}; it grants what the maps need"
    return None


def _writer_missing(conn: psycopg.Connection[TupleRow], owner: str, writer: str) -> list[str]:
    """What a side's writer needs to be: a role the owner is a member of (it creates and
    replaces the writer's functions), that may use the writers' schema (the capture
    triggers skip its writes)."""
    row = conn.execute(
        "SELECT pg_has_role(%s, r.oid, 'MEMBER'), has_schema_privilege(r.oid, %s, 'USAGE')"
        " FROM pg_roles AS r WHERE r.rolname = %s",
        (owner, WRITE_SCHEMA, writer),
    ).fetchone()
    if row is None:
        return [f"the writer role {writer} does not exist"]
    member, usage = row
    return (
        [] if member else [f"the owner role {owner} is not a member of the writer role {writer}"]
    ) + ([] if usage else [f"the writer role {writer} lacks USAGE on schema {WRITE_SCHEMA}"])


def _wal_missing(conn: psycopg.Connection[TupleRow], owner: str, runtime: str) -> list[str]:
    """What WAL capture needs of both roles (deploy creates origins as the owner, the
    applier reads the slot as the runtime role) and they lack."""
    missing: list[str] = []
    for what, name in (("owner", owner), ("runtime", runtime)):
        row = conn.execute(
            "SELECT rolreplication FROM pg_roles WHERE rolname = %s", (name,)
        ).fetchone()
        if row is None:
            missing.append(f"the {what} role {name} does not exist")
            continue
        if not row[0]:
            missing.append(f"the {what} role {name} lacks the REPLICATION attribute")
        missing += [
            f"the {what} role {name} lacks EXECUTE on {function}"
            for (function,) in conn.execute(
                "SELECT f FROM unnest(%s::text[]) AS f"
                " WHERE NOT has_function_privilege(%s, f::regprocedure, 'EXECUTE')",
                (list(WAL_FUNCTIONS), name),
            ).fetchall()
        ]
    return missing
