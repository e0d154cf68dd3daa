"""A password in a side's conninfo never reaches what a DBA sees: not the CLI's output,
not the applier's log, not status, metrics or the logs in the database, not an
exception or anything chained to it.

The sides connect as a role that must give its password (scram-sha-256), on servers
of this module's own, so a wrong password really fails to log in. One side's conninfo
is a URI, the other's libpq keywords, both handed over in the environment variables
replicator.toml names."""

from __future__ import annotations

import io
import json
import logging
import signal
import socket
import traceback
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from devtools.throwaway import ThrowawayServer
from replicator.commands import statusview
from replicator.core.errors import ReplicatorError
from replicator.inspect.connections import connect
from replicator.maps.config import load_config
from replicator.maps.model import Side
from replicator.runtime.applier import Applier
from replicator.runtime.listener import Listener
from replicator.runtime.retrying import Backoff
from tests.support import (
    Project,
    applier_log,
    cli,
    count,
    example_project,
    rows,
    start_applier,
    wait_for,
)

PASSWORD = "s3cr3t-Pa55word-xyzzy"
# Wrong, and still holding PASSWORD: a leak of either shows.
WRONG_PASSWORD = PASSWORD + "-not-this-one"
ROLE = "replicator_app"
NAMES: dict[Side, str] = {"left": "fno", "right": "cds"}


# -- the servers and a project connecting with a password -------------------------------


def require_password(server: ThrowawayServer) -> None:
    """``ROLE`` logs in with PASSWORD over TCP; every other role keeps trust."""
    hba = Path(server.base_dir) / "data" / "pg_hba.conf"
    hba.write_text(f"host all {ROLE} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    with server.connect() as conn:
        # Superuser: the applier sets up replication origins, which only a superuser may.
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                sql.Identifier(ROLE), sql.Literal(PASSWORD)
            )
        )
        conn.execute("SELECT pg_reload_conf()")


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[Side, ThrowawayServer]]:
    """The ERP's server and the CRM's, each asking ROLE for its password."""
    with ThrowawayServer() as erp, ThrowawayServer() as crm:
        require_password(erp)
        require_password(crm)
        yield {"left": erp, "right": crm}


def uri(server: ThrowawayServer, dbname: str, password: str = PASSWORD, port: int = 0) -> str:
    return (
        f"postgresql://{ROLE}:{quote(password, safe='')}@127.0.0.1:{port or server.port}/{dbname}"
    )


def keywords(server: ThrowawayServer, dbname: str, password: str = PASSWORD, port: int = 0) -> str:
    return (
        f"host=127.0.0.1 port={port or server.port} dbname={dbname} user={ROLE}"
        f" password='{password}'"
    )


# How each side's conninfo is written.
FORMS: dict[Side, Callable[..., str]] = {"left": uri, "right": keywords}


@dataclass
class Secured:
    project: Project
    servers: dict[Side, ThrowawayServer]
    dbnames: dict[Side, str]

    def conninfo(self, role: Side, **changes: object) -> str:
        return FORMS[role](self.servers[role], **{"dbname": self.dbnames[role], **changes})

    def env(self, role: Side | None = None, **changes: object) -> dict[str, str]:
        """The project's environment, the conninfo of ``role`` changed by ``changes``."""
        env = self.project.env()
        if role is not None:
            env[f"REPLICATOR_{role.upper()}"] = self.conninfo(role, **changes)
        return env


@pytest.fixture
def secured(tmp_path: Path, servers: dict[Side, ThrowawayServer]) -> Iterator[Secured]:
    """The customer-master example across the two servers, deployed through conninfos
    holding PASSWORD (the left as a URI, the right as keywords)."""
    dbnames: dict[Side, str] = {}
    for role, server in servers.items():
        dbnames[role] = f"s_{uuid.uuid4().hex[:12]}"
        server.create_database(dbnames[role], template="template0")
    example = example_project(
        tmp_path, servers["left"].url(dbnames["left"]), servers["right"].url(dbnames["right"])
    )
    project = Project(
        example.root,
        uri(servers["left"], dbnames["left"]),
        keywords(servers["right"], dbnames["right"]),
    )
    # Every command here logs in as the password-checked role (tests/test_security.py
    # covers the [roles] split).
    config = project.config_path
    config.write_text(config.read_text().split("\n[roles]")[0])
    project.deploy()
    yield Secured(project, servers, dbnames)
    for role, server in servers.items():
        if server.running:
            server.drop_database(dbnames[role])


# -- what a DBA sees ------------------------------------------------------------------


def assert_secret_free(seen: str, *mentions: str) -> None:
    """``seen`` holds no password and does say ``mentions`` (so it is the output we
    mean to check, not an empty one)."""
    assert seen.strip(), "nothing was captured"
    for mention in mentions:
        assert mention in seen, f"{mention!r} not in:\n{seen}"
    at = seen.find(PASSWORD)
    assert at < 0, f"the password leaked: ...{seen[max(0, at - 300) : at + 100]}..."


def exception_text(exc: BaseException) -> str:
    """Everything an exception carries that a handler, logger or error tracker may
    print: message, repr, traceback, and the same for every exception chained to it,
    including the connection psycopg attaches to a failed connection attempt."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        one = todo.pop()
        if id(one) in seen:
            continue
        seen.add(id(one))
        parts += [str(one), repr(one), repr(one.args)]
        if isinstance(one, psycopg.Error) and one.pgconn is not None:
            parts.append(repr(one.pgconn))
        todo += [e for e in (one.__cause__, one.__context__) if e is not None]
    return "\n".join(parts)


def log_tables(url: str) -> str:
    """Every row of the replicator's error, activity and conflict logs and map states."""
    tables = ("error_log", "activity_log", "conflict_log", "map_state")
    return "\n".join(
        str(row)
        for table in tables
        for row in rows(url, f"SELECT row_to_json(t)::text FROM replicator.{table} AS t")
    )


def use_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """The sides' conninfos of ``env`` in this process's environment, for this test."""
    for role in NAMES:
        monkeypatch.setenv(f"REPLICATOR_{role.upper()}", env[f"REPLICATOR_{role.upper()}"])


def free_port() -> int:
    """A port nothing listens on (once the probe socket is closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- commands that cannot connect -----------------------------------------------------

# side broken, how, and what the message then says about it
BREAKAGES: dict[str, tuple[Side, dict[str, object], str]] = {
    "wrong password in a URI": (
        "left",
        {"password": WRONG_PASSWORD},
        "password authentication failed",
    ),
    "wrong password in keywords": (
        "right",
        {"password": WRONG_PASSWORD},
        "password authentication failed",
    ),
    "nothing listening": ("right", {"port": free_port()}, "Connection refused"),
    "unknown database": ("left", {"dbname": "no_such_db"}, '"no_such_db" does not exist'),
}

COMMANDS = (
    ("validate",),
    ("plan",),
    ("deploy",),
    ("status",),
    ("status", "--json"),
    ("sync",),
    ("verify",),
    ("repair", "--from", "left"),
    ("errors",),
    ("errors", "--json"),
    ("conflicts",),
    ("pause", "customer_groups"),
    ("resume", "customer_groups"),
    ("retry", "--all"),
    ("skip", "1"),
    ("resolve", "1", "--take", "left"),
    ("purge", "--older-than", "30d"),
)


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_every_command_that_cannot_connect_names_the_side_but_not_the_password(
    secured: Secured, breakage: str
) -> None:
    role, changes, reason = BREAKAGES[breakage]
    env = secured.env(role, **changes)
    for command in COMMANDS:
        result = cli(secured.project, *command, env=env)
        assert result.returncode == 1, command
        assert_secret_free(
            result.stdout + result.stderr,
            f"cannot connect to the {role} side '{NAMES[role]}'",
            f"user={ROLE}",
            reason,
        )


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_the_exception_from_connect_carries_no_password(
    secured: Secured, breakage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    role, changes, reason = BREAKAGES[breakage]
    use_env(monkeypatch, secured.env(role, **changes))
    config = load_config(secured.project.config_path)
    with pytest.raises(ReplicatorError) as raised:
        connect(config, role)
    assert_secret_free(exception_text(raised.value), f"the {role} side '{NAMES[role]}'", reason)
    # The config itself, as a debugger or a log of locals would show it.
    assert_secret_free(repr(config), f"name='{NAMES[role]}'")


def test_the_wal_listener_that_cannot_connect_says_so_without_the_password(
    secured: Secured,
) -> None:
    listener = Listener(secured.conninfo("right", password=WRONG_PASSWORD), "cds", limit=10)
    assert_secret_free(repr(listener), "cds")
    with pytest.raises(ReplicatorError) as raised:
        listener.open()
    assert_secret_free(exception_text(raised.value), "cds", "password authentication failed")


# Conninfos libpq cannot even parse; its message quotes the part it tripped on.
UNPARSABLE = {
    "bad percent escape in a URI": f"postgresql://{ROLE}:{PASSWORD}%zz@127.0.0.1/db",
    "unclosed IPv6 bracket in a URI": f"postgresql://{ROLE}:{PASSWORD}@[::1:5432/db",
    "unclosed quote in keywords": f"host=127.0.0.1 user={ROLE} password='{PASSWORD}",
}


@pytest.mark.parametrize("case", list(UNPARSABLE))
def test_a_conninfo_libpq_cannot_parse_is_refused_without_showing_it(
    secured: Secured, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**secured.env(), "REPLICATOR_RIGHT": UNPARSABLE[case]}
    result = cli(secured.project, "status", env=env)
    assert result.returncode == 1
    assert_secret_free(
        result.stdout + result.stderr, "[right]", "environment variable REPLICATOR_RIGHT"
    )
    use_env(monkeypatch, env)
    with pytest.raises(ReplicatorError) as raised:
        load_config(secured.project.config_path)
    assert_secret_free(exception_text(raised.value), "[right]", "not valid")


def test_the_in_process_applier_that_gives_up_logs_and_raises_no_password(
    secured: Secured, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_env(monkeypatch, secured.env("right", password=WRONG_PASSWORD))
    config = load_config(secured.project.config_path)
    applier = Applier(
        config, batch_size=10, poll_interval=0.05, backoff=Backoff(first=0.01, give_up_after=0.2)
    )
    with (
        caplog.at_level(logging.INFO, logger="replicator"),
        pytest.raises(ReplicatorError) as raised,
    ):
        applier.run(until_idle=True)
    assert_secret_free(exception_text(raised.value), "gave up")
    assert_secret_free(
        caplog.text, "the right side 'cds'", "password authentication failed", "retrying in"
    )
    assert_secret_free(repr(applier), "cds")


# -- a running applier -----------------------------------------------------------------


@contextmanager
def password_changed(server: ThrowawayServer) -> Iterator[None]:
    """ROLE's password on ``server`` is another one, and its sessions are cut, for the
    block; then it is PASSWORD again (the module's other tests log in with it)."""

    def set_password(password: str) -> None:
        with server.connect() as conn:
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(ROLE), sql.Literal(password)
                )
            )

    set_password("another-one")
    try:
        with server.connect() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (ROLE,),
            )
        yield
    finally:
        set_password(PASSWORD)


def test_a_running_applier_logs_outages_and_a_changed_password_without_showing_it(
    secured: Secured,
) -> None:
    project, crm = secured.project, secured.servers["right"]
    crm_url = crm.url(secured.dbnames["right"])  # as postgres, trusted
    port = free_port()
    applier = start_applier(project, "--metrics", f"127.0.0.1:{port}")
    try:

        def change(code: str) -> None:
            with project.left() as erp:
                erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', %s, 'x')", (code,))

        def arrived(code: str) -> Callable[[], bool]:
            query = f"SELECT count(*) FROM cds.customer_group WHERE group_code = '{code}'"
            return lambda: rows(crm_url, query) == [(1,)]

        change("1")
        wait_for(arrived("1"), "the first change")

        # The CRM's role gets another password, and the applier's sessions are cut.
        with password_changed(crm):
            wait_for(
                lambda: b"password authentication failed" in applier_log(applier),
                "the applier to fail to log in",
            )
            # A scrape now reads the status through a connection that fails too.
            with pytest.raises(urllib.error.HTTPError) as scraped:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10)
            assert_secret_free(scraped.value.read().decode(), "server error")
        change("2")
        wait_for(arrived("2"), "the change after the password came back")

        # The CRM's server goes away for a while.
        with crm.down():
            wait_for(
                lambda: b"Connection refused" in applier_log(applier),
                "the applier to find nothing listening",
            )
        change("3")
        wait_for(arrived("3"), "the change after the outage")

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            assert_secret_free(response.read().decode(), "replicator_applied")
    finally:
        applier.send_signal(signal.SIGTERM)
        assert applier.wait(timeout=30) == 0
    assert_secret_free(
        applier_log(applier).decode(),
        "the right side 'cds'",
        "password authentication failed",
        "Connection refused",
        "retrying in",
        "connected; applying",
    )
    assert count(crm_url, "cds.customer_group") == 3


# -- what the replicator records and reports -------------------------------------------


def test_a_poison_row_and_the_status_show_no_password(secured: Secured) -> None:
    project = secured.project
    with psycopg.connect(project.right_url, autocommit=True) as crm:
        crm.execute(
            "ALTER TABLE cds.customer_group ADD CONSTRAINT no_poison CHECK (name <> 'poison')"
        )
    with project.left() as erp:
        erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '20', 'poison')")
    assert project.drain().failed == 1
    commands_seen = []
    for command in (("status",), ("status", "--json"), ("errors", "--json"), ("conflicts",)):
        result = cli(project, *command)
        assert result.returncode == 0, result.stderr
        commands_seen.append(result.stdout + result.stderr)
    assert_secret_free("\n".join(commands_seen), "customer_groups", "no_poison")
    status = json.loads(cli(project, "status", "--json").stdout)
    assert status["maps"], "status lists the maps"
    assert_secret_free(log_tables(project.right_url), "no_poison", "deploy")
    assert_secret_free(log_tables(project.left_url), "customer_groups")
    out = io.StringIO()
    statusview.cmd_status(project.config(), out)
    assert_secret_free(out.getvalue(), "customer_groups")


def test_the_sessions_show_no_password_to_the_server(secured: Secured) -> None:
    """What pg_stat_activity shows of the replicator's sessions (application_name, and
    the query text) holds no password."""
    project = secured.project
    applier = start_applier(project)
    try:
        query = (
            "SELECT coalesce(string_agg(application_name || ' ' || query, E'\\n'), '')"
            " FROM pg_stat_activity WHERE usename = %s"
        )

        def seen() -> str:
            with secured.servers["right"].connect() as conn:
                row = conn.execute(query, (ROLE,)).fetchone()
            return str(row[0]) if row else ""

        wait_for(lambda: "replicator applier" in seen(), "the applier's session")
        assert_secret_free(seen(), "replicator applier")
    finally:
        applier.send_signal(signal.SIGTERM)
        assert applier.wait(timeout=30) == 0
