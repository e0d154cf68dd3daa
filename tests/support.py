"""Helpers the tests share: a project on disk (config + maps) wired to real
databases, capturing by triggers or from the WAL, an in-process applier, and a
write audit for counting echoes."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg
import pytest
from psycopg.rows import TupleRow

from devtools.throwaway import ThrowawayServer, as_role, create_roles, replica_identity_full
from replicator.cli import main
from replicator.commands import lifecycle as commands
from replicator.core import origins
from replicator.maps.config import load_config
from replicator.maps.model import Config, Side
from replicator.runtime.applier import Applier, Totals

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "customer-master"

# How a project captures changes, by the name tests show: the sides read from the WAL
# (wal2json slot); the others have capture triggers.
# (topology, capture) for tests that take both: triggers and WAL on both sides in
# each topology, and WAL on one side with triggers on the other across two servers.
SPINE: tuple[tuple[str, str], ...] = (
    ("one_database", "trigger"),
    ("two_servers", "trigger"),
    ("one_database", "wal_both"),
    ("two_servers", "wal_both"),
    ("two_servers", "wal_left"),
)


def spine_with_slow(fast: set[tuple[str, str]]) -> pytest.MarkDecorator:
    """The SPINE as a test's own parametrize of (topology, capture), the pairs not in
    ``fast`` marked slow: for a long fault run that make test keeps a few of."""
    return pytest.mark.parametrize(
        ("topology", "capture"),
        [
            pytest.param(*pair, marks=[] if pair in fast else [pytest.mark.slow], id="-".join(pair))
            for pair in SPINE
        ],
        indirect=True,
    )


CAPTURES: dict[str, tuple[Side, ...]] = {
    "trigger": (),
    "wal_left": ("left",),
    "wal_both": ("left", "right"),
}

# Counts every row written to the audited tables, whoever wrote it.
AUDIT_DDL = """
CREATE SCHEMA IF NOT EXISTS audit;
CREATE TABLE IF NOT EXISTS audit.writes (
    id bigint GENERATED ALWAYS AS IDENTITY, table_name text, op text, applying boolean);
CREATE OR REPLACE FUNCTION audit.record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit.writes (table_name, op, applying)
    VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP,
            coalesce(current_setting('replicator.applying', true), '') = 'on');
    RETURN NULL;
END $$;
-- Fired by whoever writes: the applications, and the replicator's owner role.
GRANT USAGE ON SCHEMA audit TO PUBLIC;
GRANT INSERT ON audit.writes TO PUBLIC;
"""


@dataclass
class Project:
    """A replicator.toml and its maps directory, pointing at real databases."""

    root: Path
    left_url: str
    right_url: str

    @property
    def config_path(self) -> Path:
        return self.root / "replicator.toml"

    def config(self, user: str | None = None) -> Config:
        """The project's config, connecting as the superuser (a DBA's commands), or as
        ``user`` (``self.runtime``: the role the applier logs in as in production)."""
        env = self.env(user)
        os.environ["REPLICATOR_LEFT"] = env["REPLICATOR_LEFT"]
        os.environ["REPLICATOR_RIGHT"] = env["REPLICATOR_RIGHT"]
        return load_config(self.config_path)

    def env(self, user: str | None = None) -> dict[str, str]:
        left, right = self.left_url, self.right_url
        if user is not None:
            left, right = as_role(left, user), as_role(right, user)
        return {**os.environ, "REPLICATOR_LEFT": left, "REPLICATOR_RIGHT": right}

    @property
    def runtime(self) -> str | None:
        """The [roles] runtime role, if the project names one."""
        roles = load_config(self.config_path).roles
        return roles.runtime if roles else None

    def grant_roles(self) -> None:
        """What the DBA runs once as a superuser (replicator plan --roles), if [roles] is set."""
        config = self.config()
        if config.roles is not None:
            create_roles(config)

    def write_map(self, name: str, text: str) -> None:
        (self.root / "maps" / name).write_text(text)

    def remove_map(self, name: str) -> None:
        (self.root / "maps" / name).unlink()

    def deploy(self) -> str:
        self.grant_roles()
        out = io.StringIO()
        assert commands.cmd_deploy(self.config(), out) == 0
        return out.getvalue()

    def plan(self) -> tuple[int, str]:
        out = io.StringIO()
        code = commands.cmd_plan(self.config(), out)
        return code, out.getvalue()

    def drain(self, batch_size: int = 1000) -> Totals:
        """Apply until both queues are empty, in this process.

        Everything committed before is applied, WAL capture included: test servers
        commit asynchronously, and a slot decodes a commit only once it is flushed."""
        config = self.config(self.runtime)
        for role in config.databases:
            if config.wal_sides(role):
                wait_for_wal_flush(self.left_url if role == "left" else self.right_url)
        applier = Applier(config, batch_size=batch_size, poll_interval=0.05)
        return applier.run(until_idle=True)

    def left(self) -> psycopg.Connection[TupleRow]:
        return psycopg.connect(self.left_url, autocommit=True)

    def right(self) -> psycopg.Connection[TupleRow]:
        return psycopg.connect(self.right_url, autocommit=True)


def example_project(
    tmp_path: Path, left_url: str, right_url: str, capture: str = "trigger"
) -> Project:
    """The customer-master example, its schemas created in the given databases, and
    the company usmf on both sides (before anything is deployed, so nothing queued).

    ``capture`` names an entry of CAPTURES: its WAL sides say ``capture = "wal"``, and
    their tables get REPLICA IDENTITY FULL, because the maps filter on non-key columns
    and the CRM's maps match rows by integration keys rather than by primary key."""
    root = tmp_path / "project"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("*.sql"))
    config = root / "replicator.toml"
    for side in CAPTURES[capture]:
        config.write_text(config.read_text().replace(f"[{side}]\n", f'[{side}]\ncapture = "wal"\n'))
    with psycopg.connect(left_url, autocommit=True) as conn:
        conn.execute((EXAMPLE / "fno.sql").read_bytes())
        conn.execute("INSERT INTO fno.companies VALUES ('usmf', 'Contoso USA')")
    with psycopg.connect(right_url, autocommit=True) as conn:
        conn.execute((EXAMPLE / "cds.sql").read_bytes())
        conn.execute("INSERT INTO cds.company (company_code, name) VALUES ('usmf', 'Contoso USA')")
    for side in CAPTURES[capture]:
        url, schema = (left_url, "fno") if side == "left" else (right_url, "cds")
        replica_identity_full(url, schema)
    project = Project(root, left_url, right_url)
    project.grant_roles()  # the DBA's one-time step, as a superuser
    return project


class ExampleTemplates:
    """The customer-master example deployed once per pair of servers and capture, and
    kept as template databases: a test gets copies of them (CREATE DATABASE ...
    TEMPLATE costs a fraction of building and deploying the example). What belongs to
    the server rather than the database, a copy cannot carry: its replication origins
    and logical slot are made again for the copy."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # (left port, right port, capture) -> (left template, right template)
        self.templates: dict[tuple[int, int, str], tuple[str, str]] = {}

    def copy(
        self,
        tmp_path: Path,
        left: ThrowawayServer,
        right: ThrowawayServer,
        capture: str,
        fresh_db: Callable[..., str],
    ) -> Project:
        key = (left.port, right.port, capture)
        if key not in self.templates:
            self.templates[key] = self._build(left, right, capture)
        left_template, right_template = self.templates[key]
        left_url = fresh_db(left, left_template)
        right_url = left_url if right is left else fresh_db(right, right_template)
        root = tmp_path / "project"
        shutil.copytree(self.root / left_template / "project", root)
        wal_databases = (left_url if side == "left" else right_url for side in CAPTURES[capture])
        for url in dict.fromkeys(wal_databases):
            remake_wal_capture(url)
        return Project(root, left_url, right_url)

    def _build(
        self, left: ThrowawayServer, right: ThrowawayServer, capture: str
    ) -> tuple[str, str]:
        name = f"example_{len(self.templates)}"
        left_name = right_name = f"{name}_left"
        left_url = right_url = left.create_database(left_name, template="template0")
        if right is not left:
            right_name = f"{name}_right"
            right_url = right.create_database(right_name, template="template0")
        example_project(self.root / left_name, left_url, right_url, capture).deploy()
        # A template's slot would hold WAL back and take the name its copies need.
        for server, database in {(left, left_name), (right, right_name)}:
            with server.connect() as conn:
                conn.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                    " WHERE database = %s",
                    (database,),
                )
        return left_name, right_name


def remake_wal_capture(url: str) -> None:
    """What a copy of a deployed database lacks for WAL capture: the replication origins
    of its own name, and the logical slot its listener reads."""
    with psycopg.connect(url, autocommit=True) as conn:
        for purpose in origins.ALL:
            conn.execute(
                f"SELECT pg_replication_origin_create(name)"
                f" FROM (SELECT {origins.name_sql('%s')} AS name) AS o"
                f" WHERE pg_replication_origin_oid(name) IS NULL",
                (purpose,),
            )
        conn.execute(
            "SELECT pg_create_logical_replication_slot(slot_name, 'wal2json')"
            " FROM replicator.wal_listener"
        )


def items_map(left_filter: str, name_to_right: str | None = None, *more: str) -> str:
    """The issues' map "items": l.items to r.items by id, the rows ``left_filter``
    admits, with their name (computed by ``name_to_right`` if given) and ``more`` columns."""
    fields = [
        ("id", "key = true"),
        ("name", f"to_right = {json.dumps(name_to_right)}" if name_to_right else ""),
    ]
    fields += [(column, "") for column in more]
    return (
        '[[map]]\nname = "items"\nleft = "items"\nright = "items"\ndirection = "to_right"\n'
        f"left_filter = {json.dumps(left_filter)}\n"
        + "".join(
            f'\n  [[map.field]]\n  left = "{column}"\n  right = "{column}"\n'
            + (f"  {extra}\n" if extra else "")
            for column, extra in fields
        )
    )


def schemas_project(root: Path, url: str, ddl: str, maps: dict[str, str]) -> Project:
    """A project whose sides are the schemas l and r of one database, as the issues'
    reproductions set it up: ``ddl`` (run as the superuser) creates them and their
    tables, ``maps`` are the map files by name. Not deployed."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ddl.encode())
    (root / "maps").mkdir(parents=True)
    (root / "replicator.toml").write_text(
        'maps = "maps"\n[left]\nschema = "l"\nconninfo_env = "REPLICATOR_LEFT"\n'
        '[right]\nschema = "r"\nconninfo_env = "REPLICATOR_RIGHT"\n'
    )
    project = Project(root, url, url)
    for name, text in maps.items():
        project.write_map(name, text)
    return project


def wait_for_wal_flush(url: str) -> None:
    """Make the WAL written so far flushed, so a slot can decode every commit made
    before this call. Test servers commit asynchronously, and their WAL writer flushes
    only up to the last such commit, not what was inserted after it: a synchronous
    commit of a transaction of its own flushes everything before its commit record.
    PostgreSQL commits a transaction that wrote no WAL before its commit record
    asynchronously whatever the setting, so this one writes a logical message (with a
    prefix the listener does not read)."""
    with psycopg.connect(url) as conn:
        conn.execute("SET LOCAL synchronous_commit = on")
        conn.execute("SELECT pg_logical_emit_message(true, 'replicator-tests', 'flush')")
        conn.commit()


# The CRM's uuid of company usmf, for writing CRM rows in tests.
USMF = "(SELECT companyid FROM cds.company WHERE company_code = 'usmf')"


def audit(url: str, *tables: str) -> None:
    """Record every write to ``tables`` in audit.writes."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(AUDIT_DDL.encode())
        for table in tables:
            schema, name = table.split(".")
            conn.execute(
                psycopg.sql.SQL(
                    "CREATE TRIGGER audit_writes AFTER INSERT OR UPDATE OR DELETE ON {} "
                    "FOR EACH ROW EXECUTE FUNCTION audit.record()"
                ).format(psycopg.sql.Identifier(schema, name))
            )


def writes(url: str, table: str) -> list[tuple[str, bool]]:
    """(op, written by the replicator) for each audited write to ``table``, in order."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT op, applying FROM audit.writes WHERE table_name = %s ORDER BY id", (table,)
        ).fetchall()
    return [(str(r[0]), bool(r[1])) for r in rows]


def queued(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM replicator.change_queue").fetchone()
    assert row is not None
    return int(row[0])


def rows(url: str, query: str) -> list[tuple[Any, ...]]:
    """The rows ``query`` returns, each value as psycopg loads it."""
    with psycopg.connect(url) as conn:
        return [tuple(r) for r in conn.execute(query.encode()).fetchall()]


def cli(
    project: Project, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``replicator --config <project> ARGS``, as a DBA runs it, but in this process (see
    run_cli); a few tests (``cli_process``) prove the console script itself."""
    return run_cli(["--config", str(project.config_path), *args], env or project.env())


def replicator(
    project: Project, *args: str, user: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``replicator --config <project> ARGS`` in this process, connecting as the superuser
    or as ``user``."""
    return cli(project, *args, env=project.env(user))


def run_cli(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``replicator ARGV`` in this process: the console script's ``main`` with ``env`` as
    the whole environment and its output captured; the same parser, dispatch and exit
    codes as the command, without a Python start-up per call. An exception it lets
    through is printed as the interpreter would print it, exit code 1."""
    out, err = io.StringIO(), io.StringIO()
    with (
        _environment(env),
        _kept_process_state(),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code: int
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: --help, --version, a usage error
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except Exception:
            traceback.print_exc()
            code = 1
    return subprocess.CompletedProcess(["replicator", *argv], code, out.getvalue(), err.getvalue())


def cli_process(
    project: Project, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``replicator --config <project> ARGS`` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "replicator.cli", "--config", str(project.config_path), *args],
        env=env or project.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """``env`` as the process environment (libpq reads it too) for the block."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _kept_process_state() -> Iterator[None]:
    """What a command may change for its process and a test run must get back: the
    signal handlers ``run`` installs, the log handlers it adds to the root logger."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    root = logging.getLogger()
    log_handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        root.handlers[:] = log_handlers
        root.setLevel(level)


def start_applier(project: Project, *extra: str) -> subprocess.Popen[bytes]:
    """``replicator run`` in the background. Its log goes to a file (read it with
    applier_log): a pipe nobody reads fills up, and the applier then blocks on its
    next log line."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 (kept open with the applier, read later)
    applier = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "replicator.cli",
            "--config",
            str(project.config_path),
            "run",
            *extra,
        ],
        env=project.env(project.runtime),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    APPLIER_LOGS[applier.pid] = log
    return applier


APPLIER_LOGS: dict[int, IO[bytes]] = {}


def applier_log(applier: subprocess.Popen[bytes]) -> bytes:
    """What the applier has logged so far."""
    log = APPLIER_LOGS[applier.pid]
    log.seek(0)
    return log.read()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll a database condition; the deadline only bounds a hang, it times nothing."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def count(url: str, table: str) -> int:
    return int(rows(url, f"SELECT count(*) FROM {table}")[0][0])


@contextlib.contextmanager
def running_applier(project: Project) -> Iterator[subprocess.Popen[bytes]]:
    """``replicator run`` in the background; stopped with SIGTERM at the end of the block,
    where it must exit 0 (if the block itself failed, it is only stopped)."""
    applier = start_applier(project)
    try:
        yield applier
    except BaseException:
        applier.send_signal(signal.SIGTERM)
        applier.wait(timeout=30)
        raise
    applier.send_signal(signal.SIGTERM)
    assert applier.wait(timeout=30) == 0


def wait_for_applier_sessions_to_end(*urls: str) -> None:
    """After a SIGKILL the applier's server backends may still be finishing its batch,
    holding the applier lock (or, reading a WAL slot, the slot): wait until they are gone
    before starting another applier."""
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name IN ('replicator applier', 'replicator listener')"
    )
    for url in dict.fromkeys(urls):
        wait_for(lambda url=url: rows(url, query) == [(0,)], "the killed applier's session to end")  # type: ignore[misc]
