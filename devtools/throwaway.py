"""Throwaway PostgreSQL servers for tests and the demo.

Each :class:`ThrowawayServer` is a private PostgreSQL 15 cluster in a temp
directory, on a free port of 127.0.0.1, configured for logical decoding with
wal2json. It is built on ``testing.postgresql`` and adds what that library
lacks for our use:

* running as root (CI does): initdb and postgres refuse to run as root, so when
  we are root they are started through tiny wrapper scripts that hand the data
  directory to the ``postgres`` OS user and ``exec setpriv`` into the real
  binary. ``exec`` (rather than ``runuser``, which forks and waits) matters:
  the process testing.postgresql signals *is* the postmaster, so a shutdown
  signal reaches it directly and stopping never hangs;
* a restart that keeps the data (the base directory is ours, not the library's
  auto-deleted temp dir), which replication tests need to simulate an outage;
* a server that dies with its owner: the postmaster gets SIGINT (fast
  shutdown) when the process that started it dies, even by SIGKILL, so a
  killed test run leaves no postgres behind.

Nothing here depends on pytest; ``devtools.demo`` uses it as well.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import tempfile
import time
import weakref
from collections.abc import Iterator
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import testing.postgresql  # type: ignore[import-untyped, unused-ignore]
from psycopg import sql

from replicator.maps.loader import load_maps
from replicator.maps.model import Config
from replicator.sqlgen.roles import compile_roles

#: Where Debian's postgresql-15 package puts the server binaries.
PG_BIN = os.environ.get("REPLICATOR_PG_BIN", "/usr/lib/postgresql/15/bin")

#: The OS user that owns the clusters when we run as root.
PG_OS_USER = "postgres"

#: Where the clusters' data lives: memory (/dev/shm) where the machine has it. The data
#: is thrown away anyway, and on a disk every CREATE DATABASE ... TEMPLATE and WAL write
#: of a test run costs ten times as much. REPLICATOR_PG_TMPDIR chooses another place.
DATA_PARENT = os.environ.get(
    "REPLICATOR_PG_TMPDIR",
    "/dev/shm" if os.access("/dev/shm", os.W_OK | os.X_OK) else tempfile.gettempdir(),
)

# Settings every throwaway server gets. fsync/synchronous_commit/
# full_page_writes are off because the data is disposable and it makes the
# suite much faster; wal_level and the slot/sender limits are what logical
# decoding needs, with room for many tests' slots at once; commit timestamps
# are what conflict = "newest_wins" compares.
# Catch: logical decoding only sees WAL that has been flushed, and with
# synchronous_commit=off a commit is flushed by the WAL writer up to
# wal_writer_delay later (200ms by default). 10ms keeps that lag small, but a
# change is still not decodable the instant its COMMIT returns: poll for it,
# or SET synchronous_commit = on in the writing session.
BASE_ARGS = (
    "-h 127.0.0.1 -F -c logging_collector=off -c wal_level=logical"
    " -c max_replication_slots=20 -c max_wal_senders=20 -c fsync=off"
    " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    " -c wal_writer_delay=10ms -c track_commit_timestamp=on"
)

# Same encoding and collation on every machine, whatever the environment's
# locale (a bare Debian CI box would otherwise give SQL_ASCII).
INITDB_ARGS = "-U postgres -A trust --encoding=UTF8 --locale=C"

# Seconds to wait for each step of a shutdown before escalating to the next
# signal: SIGINT (fast: roll back, checkpoint, keep data), SIGQUIT (immediate:
# crash-like but children are reaped), SIGKILL.
SHUTDOWN_STEPS = ((signal.SIGINT, 30.0), (signal.SIGQUIT, 10.0), (signal.SIGKILL, 10.0))

# The wrapper: chown the base directory (the parent of -D) to postgres,
# because testing.postgresql creates its data/ and tmp/ subdirectories as
# root; cd / so the binary never trips over an unreadable working directory;
# then become postgres *in place* (exec) with a parent-death signal.
_WRAPPER = """#!/bin/sh
set -e
prev=
for arg in "$@"; do
    if [ "$prev" = "-D" ]; then
        chown -R {user}: "$(dirname "$arg")"
    fi
    prev=$arg
done
cd /
exec setpriv --reuid={user} --regid={user} --init-groups --pdeathsig SIGINT -- {binary} "$@"
"""


def _running_as_root() -> bool:
    return os.geteuid() == 0


@functools.cache
def _launchers() -> tuple[str, str]:
    """Return the (initdb, postgres) executables to hand to testing.postgresql.

    As root these are wrapper scripts, written once per process into a temp
    directory that is removed at exit; otherwise the real binaries.
    """
    initdb = os.path.join(PG_BIN, "initdb")
    postgres = os.path.join(PG_BIN, "postgres")
    for binary in (initdb, postgres):
        if not os.access(binary, os.X_OK):
            raise RuntimeError(f"{binary} not found: install postgresql-15 (see `make postgres`)")
    if not _running_as_root():
        return initdb, postgres
    wrap_dir = tempfile.mkdtemp(prefix="replicator-pgwrap-")
    atexit.register(shutil.rmtree, wrap_dir, True)
    wrappers = []
    for binary in (initdb, postgres):
        path = os.path.join(wrap_dir, os.path.basename(binary))
        with open(path, "w") as f:
            f.write(_WRAPPER.format(user=PG_OS_USER, binary=binary))
        os.chmod(path, 0o700)
        wrappers.append(path)
    return wrappers[0], wrappers[1]


@functools.cache
def server_has_setting(name: str) -> bool:
    """Whether this PostgreSQL build knows the server setting ``name``.

    Some PostgreSQL 15 builds carry a superuser-only ``output_plugin_libraries``
    allow-list that must name wal2json, while stock builds don't have it and
    refuse to start if told about an unknown setting; so we ask the binary
    (``postgres --describe-config``, one setting per line, name first).
    """
    _, postgres = _launchers()
    out = subprocess.run(
        [postgres, "--describe-config"],
        cwd="/",
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return any(line.split("\t", 1)[0] == name for line in out.splitlines())


def _shutdown(pg: Any, owner_pid: int) -> None:
    """Stop the postmaster of ``pg`` (a testing.postgresql.Postgresql), keeping data.

    Replaces the library's terminate(), which SIGKILLs the postmaster after
    10 s and raises: that can leave orphaned backends holding shared memory,
    and then the restart on the same data directory fails.
    """
    proc: subprocess.Popen[bytes] | None = pg.child_process
    if proc is None or owner_pid != os.getpid():
        return  # never started, or we are a forked child that doesn't own it
    for sig, timeout in SHUTDOWN_STEPS:
        if proc.poll() is not None:
            break
        try:
            proc.send_signal(sig)
            proc.wait(timeout)
            break
        except ProcessLookupError:
            break
        except subprocess.TimeoutExpired:
            continue
    pg.child_process = None


def _destroy(pg: Any, base_dir: str, owner_pid: int) -> None:
    """Stop the server and delete its files; safe to call more than once."""
    try:
        _shutdown(pg, owner_pid)
    finally:
        if owner_pid == os.getpid():
            shutil.rmtree(base_dir, ignore_errors=True)


class ThrowawayServer:
    """A private, disposable PostgreSQL server configured for logical decoding.

    Start it by constructing it (initdb + start take a second or two); stop it
    with :meth:`stop` or by using it as a context manager. If neither happens,
    it is stopped when garbage-collected or at interpreter exit, and if the
    process is killed the server shuts itself down (parent-death signal).

    Because of that parent-death signal, create servers from a thread that
    outlives them (normally the main thread): Linux delivers the signal when
    the creating *thread* exits.

    ``extra_settings`` are passed as ``-c name=value``; testing.postgresql
    splits the command line on whitespace, so neither may contain any.
    """

    def __init__(self, extra_settings: dict[str, str] | None = None) -> None:
        args = BASE_ARGS
        if server_has_setting("output_plugin_libraries"):
            # wal2json for WAL capture, pgoutput for native logical replication
            # (the benchmark's yardstick).
            args += " -c output_plugin_libraries=wal2json,pgoutput"
        for key, value in (extra_settings or {}).items():
            if not key or any(c.isspace() for c in key + value):
                raise ValueError(f"setting {key}={value!r}: no whitespace allowed")
            args += f" -c {key}={value}"

        initdb, postgres = _launchers()
        # Our own base directory, passed explicitly, so that the library's
        # terminate()/start() cycle keeps the data (it only deletes temp dirs
        # it created itself); we delete it in stop().
        self.base_dir = tempfile.mkdtemp(prefix="replicator-pg-", dir=DATA_PARENT)
        if _running_as_root():
            shutil.chown(self.base_dir, PG_OS_USER, PG_OS_USER)
        try:
            self._pg: Any = testing.postgresql.Postgresql(
                base_dir=self.base_dir,
                initdb=initdb,
                initdb_args=INITDB_ARGS,
                postgres=postgres,
                postgres_args=args,
                boot_timeout=60,  # slow CI machines
            )
        except BaseException:
            shutil.rmtree(self.base_dir, ignore_errors=True)
            raise
        # Runs on stop(), on garbage collection or at exit, whichever is first;
        # it must not reference self, hence the plain function.
        self._finalizer = weakref.finalize(self, _destroy, self._pg, self.base_dir, os.getpid())

    @property
    def port(self) -> int:
        port: int = self._pg.settings["port"]
        return port

    @property
    def running(self) -> bool:
        return bool(self._pg.is_alive())

    def url(self, dbname: str = "postgres") -> str:
        """A postgresql:// URI for ``dbname`` as the superuser ``postgres`` (trust auth)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{quote(dbname, safe='')}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        """An autocommit connection as ``postgres``; the caller closes it."""
        return psycopg.connect(self.url(dbname), autocommit=True)

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database ``name`` (optionally from ``template``) and return its URL."""
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(query)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name`` even while in use, first its logical replication slots, and
        then the replicator's replication origins for it.

        ``DROP DATABASE ... WITH (FORCE)`` kicks out sessions but refuses while
        replication slots of the database exist, so we drop those first
        (terminating the walsenders of active ones).
        """
        with self.connect() as conn:
            deadline = time.monotonic() + 10
            while True:
                conn.execute(
                    "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots"
                    " WHERE database = %s AND active_pid IS NOT NULL",
                    (name,),
                )
                try:
                    conn.execute(
                        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                        " WHERE database = %s",
                        (name,),
                    )
                    break
                except psycopg.errors.ObjectInUse:
                    # the terminated walsender hasn't released its slot yet
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            # Replication origins belong to the server and outlive the database; each
            # holds one of max_replication_slots' states while it has progress.
            conn.execute(
                "SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin"
                " WHERE roname LIKE %s",
                ("%/" + name,),
            )

    def restart(self) -> None:
        """Fast-shutdown the server and start it again on the same port and data.

        For tests of what replication does across a server outage. Raises if
        the server does not answer queries afterwards.
        """
        with self.down():
            pass

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """The server fast-shut-down (data kept) for the block, then started again on
        the same port and data; raises if it does not answer queries afterwards."""
        _shutdown(self._pg, os.getpid())
        try:
            yield
        finally:
            self._pg.start()  # same settings, so the same port and base_dir
            with self.connect() as conn:
                conn.execute("SELECT 1")

    def stop(self) -> None:
        """Stop the server and delete its data directory. Idempotent."""
        self._finalizer()

    def __enter__(self) -> ThrowawayServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<ThrowawayServer 127.0.0.1:{self.port} {state} {self.base_dir}>"


def replica_identity_full(url: str, schema: str) -> None:
    """Every table of ``schema`` logs its whole old row on update and delete, as WAL
    capture of a map flowing both ways needs (the tests' and benchmark's examples)."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind = 'r'",
            (schema,),
        ).fetchall()
        for (table,) in tables:
            conn.execute(
                sql.SQL("ALTER TABLE {} REPLICA IDENTITY FULL").format(
                    sql.Identifier(schema, table)
                )
            )


def as_role(url: str, role: str) -> str:
    """``url`` logging in as ``role`` instead (a throw-away server trusts local logins)."""
    parts = urlsplit(url)
    return urlunsplit(
        parts._replace(netloc=f"{quote(role, safe='')}@{parts.hostname}:{parts.port}")
    )


def create_roles(config: Config) -> None:
    """What a DBA runs once as a superuser before deploying with [roles] (``replicator
    plan --roles``), run through the config's connections, which must be a superuser's."""
    maps = load_maps(config.maps_dir, config.path.parent)
    for script in compile_roles(config, maps):
        with psycopg.connect(config.side(script.role).conninfo) as conn:
            conn.execute(script.sql.encode())
