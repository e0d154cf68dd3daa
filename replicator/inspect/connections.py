"""Connections to the sides' databases, with errors that never show a password."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow

from replicator.core import origins
from replicator.core.errors import ConnectError, DatabaseError
from replicator.inspect.migrations import control_migrations, read_control_schema
from replicator.maps.config import redacted, scrubbed
from replicator.maps.model import SIDES, Config, Side

# Built-ins first, and nothing an application may create in: every generated
# function says the same (SET search_path = pg_catalog, pg_temp).
SAFE_SEARCH_PATH = "pg_catalog, pg_temp"


# Where the DBA's conninfo (or a service it names, or PGCONNECT_TIMEOUT) says nothing
# else: a connection attempt gives up after CONNECT_TIMEOUT seconds rather than
# psycopg's 130, and TCP keepalives find a server that vanished (a host down, a
# network cut) within about a minute rather than the system's two hours, so the
# applier notices, retries and, past its deadline, gives up on time.
CONNECT_TIMEOUT = 10
KEEPALIVES = {"keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


def connect(
    config: Config, role: Side, autocommit: bool = True, timeout: int | None = None
) -> psycopg.Connection[TupleRow]:
    """A connection to the database of side ``role``; ConnectError names the side.
    ``timeout``: seconds the attempt may take, whatever the conninfo says."""
    side = config.side(role)
    return open_connection(
        side.conninfo,
        f"the {role} side {side.name!r} ({side.conninfo_source}, {redacted(side.conninfo)})",
        autocommit=autocommit,
        timeout=timeout,
    )


def _unless_set(conninfo: str, timeout: int | None) -> dict[str, int]:
    """Connection parameters the replicator adds (see CONNECT_TIMEOUT) to ``conninfo``."""
    if timeout is not None:
        return {"connect_timeout": timeout}
    try:
        given = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return {}  # connecting says what is wrong with it
    if "service" in given or "PGSERVICE" in os.environ:
        return {}  # a service file may set them: libpq would let ours win
    added = {k: v for k, v in KEEPALIVES.items() if k not in given}
    if "connect_timeout" not in given and "PGCONNECT_TIMEOUT" not in os.environ:
        added["connect_timeout"] = CONNECT_TIMEOUT
    return added


def open_connection(
    conninfo: str,
    what: str,
    autocommit: bool = True,
    timeout: int | None = None,
    replication: bool = False,
) -> psycopg.Connection[TupleRow]:
    """Connect to ``conninfo``, or raise ConnectError saying it could not reach ``what``.

    Every connection the replicator opens comes through here. The error keeps no
    reference to psycopg's: that one carries the failed connection, password and all.

    The session's search_path is pinned to the built-ins (SAFE_SEARCH_PATH) whatever
    the role, the database or the conninfo set: the SQL the replicator runs names
    every table with its schema, and a function planted in a schema the path would
    otherwise hold (``public.upper(character varying)``, an exact match that beats
    the built-in ``upper(text)``) is never called by sync, verify or repair.

    ``replication``: a walsender connection of the database (it can stream a slot)."""
    added: dict[str, int | str] = dict(_unless_set(conninfo, timeout))
    if replication:
        added["replication"] = "database"
    try:
        conn = psycopg.connect(make_conninfo(conninfo, **added), autocommit=autocommit)
    except psycopg.OperationalError as exc:
        reason = scrubbed(str(exc).strip(), conninfo)
    else:
        if replication:
            return conn  # it runs no SQL, only the replication protocol's commands
        conn.execute("SELECT pg_catalog.set_config('search_path', %s, false)", (SAFE_SEARCH_PATH,))
        if not autocommit:
            conn.commit()
        return conn
    raise ConnectError(f"cannot connect to {what}: {reason}")


def require_deployed(conn: psycopg.Connection[TupleRow], config: Config, role: Side) -> None:
    """Raise DatabaseError, saying to deploy, unless a deploy has prepared the database
    that side ``role`` reaches: every command but validate, plan and deploy reads or
    calls what deploy creates there."""
    row = conn.execute("SELECT to_regproc('replicator.apply_batch')").fetchone()
    if row is None or row[0] is None:
        raise DatabaseError(
            f"nothing is deployed on the {config.side(role).name} database:"
            " run replicator deploy first"
        )
    # This release's code calls what its migrations create, and only that.
    version = read_control_schema(conn).version
    known = len(control_migrations())
    if version < known:
        raise DatabaseError(
            f"the control schema on the {config.side(role).name} database is at version"
            f" {version}, this replicator needs {known}: run replicator deploy"
        )
    if version > known:
        raise DatabaseError(
            f"the control schema on the {config.side(role).name} database is at version"
            f" {version}, deployed by a later release than this one ({known}): upgrade"
            " replicator"
        )


# A database as its server knows it: the cluster's system identifier (set by initdb,
# the same on a physical standby) and the database's oid.
IDENTITY = (
    "SELECT (SELECT system_identifier FROM pg_control_system()),"
    " (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def shares_database(config: Config) -> bool:
    """Whether both sides reach one database, as the servers say (ConnectError if a
    side cannot be reached)."""
    if config.left.conninfo == config.right.conninfo:
        return True
    seen = []
    for role in SIDES:
        with connect(config, role) as conn:
            seen.append(conn.execute(IDENTITY).fetchone())
    return seen[0] == seen[1]


def identified(config: Config) -> Config:
    """``config`` knowing whether both sides share a database by what the servers say,
    not by the conninfo strings. Left as it is when a side cannot be reached: the
    command's own connection then says so (and the applier asks once it connects)."""
    if config.shared_database is not None:
        return config
    try:
        return dataclasses.replace(config, shared_database=shares_database(config))
    except ConnectError:
        return config


@contextlib.contextmanager
def every_database(config: Config) -> Iterator[dict[Side, psycopg.Connection[TupleRow]]]:
    """One connection per database (one, or one per side), closed afterwards."""
    with contextlib.ExitStack() as stack:
        yield {role: stack.enter_context(connect(config, role)) for role in config.databases}


def own_origin_ids(conn: psycopg.Connection[TupleRow]) -> str:
    """The ids of the replicator's own origins on ``conn``'s database, as wal2json's
    filter-origins takes them ("1,3"; "" where it has none): what a slot leaves out."""
    row = conn.execute(
        f"SELECT coalesce(string_agg(roident::text, ','), '') FROM pg_replication_origin"
        f" WHERE roname IN (SELECT {origins.name_sql('purpose')}"
        f" FROM unnest(%s::text[]) AS purpose)",
        (list(origins.ALL),),
    ).fetchone()
    return str(row[0]) if row else ""


def under_origin(conn: psycopg.Connection[TupleRow], purpose: str) -> None:
    """Mark the session's writes as the replicator's own (``purpose``) where its database
    has WAL capture, so its slot's listener leaves them out (loop safety). A database
    without WAL capture has no such origin, and its triggers skip the writes anyway."""
    # Two statements: a role without WAL capture here may not call the setup at all.
    row = conn.execute(
        f"SELECT name FROM (SELECT {origins.name_sql('%s')} AS name) AS o"
        f" WHERE pg_replication_origin_oid(name) IS NOT NULL",
        (purpose,),
    ).fetchone()
    if row is not None:
        conn.execute("SELECT pg_replication_origin_session_setup(%s)", (row[0],))
