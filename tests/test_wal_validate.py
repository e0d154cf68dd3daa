"""Before WAL capture is deployed, validate says what the server and the tables lack:
logical WAL, a free slot, wal2json allowed as an output plugin, a role that may use
slots, and replica identities that carry the columns an update or delete needs."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from devtools.throwaway import ThrowawayServer, create_roles
from replicator.commands import lifecycle as commands
from replicator.core.errors import DeployRefused, MapError
from replicator.inspect.walcheck import server_problems
from replicator.operations import deployer
from tests.support import Project, cli, rows

DDL = """
CREATE SCHEMA erp;
CREATE SCHEMA crm;
CREATE TABLE erp.item (
    recid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code  varchar(20) NOT NULL UNIQUE,
    stage text,
    name  text
);
CREATE TABLE crm.item (
    id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code  varchar(20) NOT NULL UNIQUE,
    name  text
);
"""

ITEMS = """
[[map]]
name = "items"
left = "item"
right = "item"
direction = "{direction}"
{extra}

  [[map.field]]
  left = "code"
  right = "code"
  key = true

  [[map.field]]
  left = "name"
  right = "name"
"""

WHERE = "maps/items.toml: map 'items': "

WAL_LEVEL = (
    'erp+crm: wal_level is "replica"; WAL capture needs wal_level = logical:'
    " ALTER SYSTEM SET wal_level = logical, then restart the server"
)
NO_FREE_SLOT = (
    "erp+crm: max_replication_slots = 4 is too small for WAL capture: its slot"
    " replicator_erp needs one of the slots (4 in use), and its 4 replication origins a"
    " state each (0 held by others): ALTER SYSTEM SET max_replication_slots = 5, then"
    " restart the server, or drop slots and origins that are no longer needed (see"
    " pg_replication_slots and pg_replication_origin_status)"
)
NO_WALSENDER = (
    "erp+crm: max_wal_senders = 0 leaves WAL capture no walsender to stream its slot"
    " through (the applier holds one per database with WAL capture): ALTER SYSTEM SET"
    " max_wal_senders = 10, then restart the server"
)
ONLY_PGOUTPUT = (
    "erp+crm: output_plugin_libraries lists pgoutput but not wal2json, so creating or"
    " reading WAL capture's slot fails with 'library \"wal2json\" may not be used as an"
    " output plugin': ALTER SYSTEM SET output_plugin_libraries = 'pgoutput', 'wal2json',"
    " then reload the configuration (SELECT pg_reload_conf())"
)


def wal_project(
    root: Path,
    url: str,
    *,
    left: str = "wal",
    right: str = "trigger",
    extra: str = "",
    direction: str = "to_right",
) -> Project:
    """The erp/crm item tables in one database, captured as ``left``/``right`` say.
    The map flows one way unless ``direction`` says both (which needs more of the
    replica identity: see test_a_map_both_ways_needs_the_whole_row_before_an_update)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(DDL.encode())
    (root / "maps").mkdir(parents=True)
    (root / "replicator.toml").write_text(
        f'maps = "maps"\n[left]\nname = "erp"\nschema = "erp"\nconninfo_env = "REPLICATOR_LEFT"\n'
        f'capture = "{left}"\n'
        f'[right]\nname = "crm"\nschema = "crm"\nconninfo_env = "REPLICATOR_RIGHT"\n'
        f'capture = "{right}"\n'
    )
    project = Project(root, url, url)
    project.write_map("items.toml", ITEMS.format(extra=extra, direction=direction))
    return project


def validate_problems(project: Project) -> list[str]:
    """What ``replicator validate`` reports, [] when it accepts."""
    try:
        commands.cmd_validate(project.config(), io.StringIO())
    except MapError as exc:
        return [str(p) for p in exc.problems]
    return []


def run_sql(project: Project, statement: str) -> None:
    with project.left() as conn:
        conn.execute(statement.encode())


@pytest.fixture
def fresh(
    tmp_path: Path, pg: ThrowawayServer, fresh_db: Callable[..., str]
) -> Callable[..., Project]:
    """A factory: a project on a fresh database of the shared server."""
    return lambda **how: wal_project(tmp_path / "project", fresh_db(pg), **how)


# --- the server -----------------------------------------------------------------


@pytest.fixture(scope="module")
def replica_server() -> Iterator[ThrowawayServer]:
    """A server as many are configured: wal_level replica, all its slots taken by
    standbys (as many as WAL capture's origins need states), and no walsenders."""
    with ThrowawayServer(
        {"wal_level": "replica", "max_replication_slots": "4", "max_wal_senders": "0"}
    ) as server:
        with server.connect() as conn:
            for n in range(1, 5):
                conn.execute(f"SELECT pg_create_physical_replication_slot('standby_{n}')")
        yield server


def test_a_server_without_logical_wal_or_a_free_slot_is_refused_by_validate_and_deploy(
    tmp_path: Path, replica_server: ThrowawayServer
) -> None:
    name = "no_logical_wal"
    replica_server.create_database(name)
    try:
        project = wal_project(tmp_path / "project", replica_server.url(name))
        expected = [WAL_LEVEL, NO_FREE_SLOT, NO_WALSENDER]
        # The maps themselves are fine (erp.item's identity covers code once it is
        # the identity index), so only the server is wrong.
        run_sql(project, "ALTER TABLE erp.item REPLICA IDENTITY USING INDEX item_code_key")
        assert validate_problems(project) == expected
        with pytest.raises(MapError) as caught:
            commands.cmd_deploy(project.config(), io.StringIO())
        assert [str(p) for p in caught.value.problems] == expected

        result = cli(project, "validate")
        assert result.returncode == 1
        assert result.stderr.splitlines()[1:] == [f"  {line}" for line in expected]
    finally:
        replica_server.drop_database(name)


def test_a_server_whose_sides_use_triggers_is_not_asked_for_wal(
    tmp_path: Path, replica_server: ThrowawayServer
) -> None:
    name = "triggers_only"
    replica_server.create_database(name)
    try:
        project = wal_project(tmp_path / "project", replica_server.url(name), left="trigger")
        with replica_server.connect(name) as conn:
            assert server_problems(conn, project.config(), "left") == []
        out = io.StringIO()
        assert commands.cmd_validate(project.config(), out) == 0
    finally:
        replica_server.drop_database(name)


def test_our_own_slot_needs_no_free_one(tmp_path: Path, replica_server: ThrowawayServer) -> None:
    """Deployed once, the slot exists: a full server is no longer a problem. (A physical
    slot stands in for it, as this server cannot make logical ones; validate also says
    that a physical slot holds the name.)"""
    name = "slot_exists"
    replica_server.create_database(name)
    try:
        project = wal_project(tmp_path / "project", replica_server.url(name))
        with replica_server.connect(name) as conn:
            conn.execute("SELECT pg_drop_replication_slot('standby_1')")
            conn.execute("SELECT pg_create_physical_replication_slot('replicator_erp')")
            try:
                found = server_problems(conn, project.config(), "left")
            finally:
                conn.execute("SELECT pg_drop_replication_slot('replicator_erp')")
                conn.execute("SELECT pg_create_physical_replication_slot('standby_1')")
        assert found == [
            WAL_LEVEL,
            "erp+crm: the slot replicator_erp that WAL capture needs here is taken by a"
            " physical slot of the same server (slot names are per server; this one is named"
            " after the left side, 'erp'): give the left side another name in"
            ' replicator.toml ([left] name = "..."), which names its slot replicator_<name>',
            NO_WALSENDER,
        ]
    finally:
        replica_server.drop_database(name)


def test_a_role_without_replication_is_told_to_get_it(
    tmp_path: Path, replica_server: ThrowawayServer
) -> None:
    """It also cannot see output_plugin_libraries (superuser only): that check is left
    to the server, which names the setting itself when the slot is created."""
    name = "plain_role"
    replica_server.create_database(name)
    try:
        project = wal_project(tmp_path / "project", replica_server.url(name))
        with replica_server.connect(name) as conn:
            conn.execute("CREATE ROLE app LOGIN")
        try:
            url = replica_server.url(name).replace("postgres@", "app@")
            with psycopg.connect(url, autocommit=True) as conn:
                found = server_problems(conn, project.config(), "left")
        finally:
            with replica_server.connect(name) as conn:
                conn.execute("DROP ROLE app")
        assert found == [
            WAL_LEVEL,
            NO_FREE_SLOT,
            NO_WALSENDER,
            'erp+crm: role "app" may not use replication slots, which WAL capture reads:'
            ' ALTER ROLE "app" REPLICATION',
        ]
    finally:
        replica_server.drop_database(name)


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        pytest.param("pgoutput", ONLY_PGOUTPUT, id="without wal2json"),
        pytest.param(
            'pgoutput, "Test Plugin"',
            "erp+crm: output_plugin_libraries lists pgoutput, Test Plugin but not wal2json, so"
            " creating or reading WAL capture's slot fails with 'library \"wal2json\" may not be"
            " used as an output plugin': ALTER SYSTEM SET output_plugin_libraries = 'pgoutput',"
            " 'Test Plugin', 'wal2json', then reload the configuration (SELECT pg_reload_conf())",
            id="a quoted name",
        ),
        pytest.param(
            "''",
            "erp+crm: output_plugin_libraries is empty, so creating or reading WAL capture's slot"
            " fails with 'library \"wal2json\" may not be used as an output plugin': ALTER SYSTEM"
            " SET output_plugin_libraries = 'wal2json', then reload the configuration (SELECT"
            " pg_reload_conf())",
            id="empty",
        ),
    ],
)
def test_wal2json_missing_from_the_plugin_allow_list_is_reported_with_the_fix(
    fresh: Callable[..., Project], allowed: str, expected: str
) -> None:
    project = fresh()
    with project.left() as conn:
        if (
            conn.execute(
                "SELECT FROM pg_settings WHERE name = 'output_plugin_libraries'"
            ).fetchone()
            is None
        ):
            pytest.skip("this PostgreSQL build has no output_plugin_libraries")
        conn.execute(f"SET output_plugin_libraries = {allowed}".encode())
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="may not be used"):
            conn.execute("SELECT pg_create_logical_replication_slot('refused', 'wal2json')")
        assert server_problems(conn, project.config(), "left") == [expected]

        # The statement in the message is the fix: as a session SET it lets the slot be made.
        fix = expected.split("ALTER SYSTEM SET ", 1)[1].split(", then", 1)[0]
        conn.execute(f"SET {fix}".encode())
        assert server_problems(conn, project.config(), "left") == []
        conn.execute("SELECT pg_create_logical_replication_slot('replicator_erp', 'wal2json')")


def test_validate_reads_the_allow_list_the_database_gives_its_sessions(
    fresh: Callable[..., Project],
) -> None:
    project = fresh()
    with project.left() as conn:
        if (
            conn.execute(
                "SELECT FROM pg_settings WHERE name = 'output_plugin_libraries'"
            ).fetchone()
            is None
        ):
            pytest.skip("this PostgreSQL build has no output_plugin_libraries")
        database = conn.info.dbname
        conn.execute(
            psycopg.sql.SQL("ALTER DATABASE {} SET output_plugin_libraries = 'pgoutput'").format(
                psycopg.sql.Identifier(database)
            )
        )
    run_sql(project, "ALTER TABLE erp.item REPLICA IDENTITY FULL")
    assert validate_problems(project) == [ONLY_PGOUTPUT]


def test_a_server_ready_for_wal_capture_passes(fresh: Callable[..., Project]) -> None:
    project = fresh()
    run_sql(project, "ALTER TABLE erp.item REPLICA IDENTITY USING INDEX item_code_key")
    assert validate_problems(project) == []


# --- replica identity -----------------------------------------------------------

IDENTITY_CASES = [
    pytest.param(
        "",
        "",
        WHERE + "erp.item: replica identity (DEFAULT: primary key recid) does not include key"
        " column(s) code that WAL capture needs for updates and deletes: ALTER TABLE erp.item"
        " REPLICA IDENTITY USING INDEX item_code_key, or ALTER TABLE erp.item REPLICA IDENTITY"
        " FULL",
        id="primary key not covering the map key",
    ),
    pytest.param(
        "ALTER TABLE erp.item REPLICA IDENTITY NOTHING",
        "",
        WHERE + "erp.item: replica identity (NOTHING) does not include key column(s) code that"
        " WAL capture needs for updates and deletes: ALTER TABLE erp.item REPLICA IDENTITY USING"
        " INDEX item_code_key, or ALTER TABLE erp.item REPLICA IDENTITY FULL",
        id="nothing",
    ),
    pytest.param(
        "ALTER TABLE erp.item REPLICA IDENTITY USING INDEX item_code_key",
        "left_filter = \"stage = 'open'\"",
        WHERE + "erp.item: replica identity (USING INDEX item_code_key: code) does not include"
        " filter column(s) stage that WAL capture needs for updates and deletes: make a unique"
        " index on (code, stage) (NOT NULL columns) the replica identity (ALTER TABLE erp.item"
        " REPLICA IDENTITY USING INDEX ...), or ALTER TABLE erp.item REPLICA IDENTITY FULL",
        id="filter column outside the identity index",
    ),
    pytest.param(
        "ALTER TABLE erp.item DROP CONSTRAINT item_pkey, ALTER COLUMN code DROP NOT NULL",
        "",
        WHERE + "erp.item: replica identity (DEFAULT: no primary key) does not include key"
        " column(s) code that WAL capture needs for updates and deletes: add a primary key on"
        " (code), make a unique index on (code) (NOT NULL columns) the replica identity (ALTER"
        " TABLE erp.item REPLICA IDENTITY USING INDEX ...), or ALTER TABLE erp.item REPLICA"
        " IDENTITY FULL",
        id="no primary key and a nullable key",
    ),
]


@pytest.mark.parametrize(("sql", "extra", "expected"), IDENTITY_CASES)
def test_a_replica_identity_without_the_columns_wal_capture_needs_is_refused(
    fresh: Callable[..., Project], sql: str, extra: str, expected: str
) -> None:
    project = fresh(extra=extra)
    if sql:
        run_sql(project, sql)
    assert validate_problems(project) == [expected]


@pytest.mark.parametrize(
    ("sql", "extra"),
    [
        pytest.param(
            "ALTER TABLE erp.item DROP CONSTRAINT item_pkey, ADD PRIMARY KEY (code)",
            "",
            id="default: a primary key on the map key",
        ),
        pytest.param(
            "ALTER TABLE erp.item REPLICA IDENTITY FULL",
            "left_filter = \"stage = 'open'\"",
            id="full",
        ),
        pytest.param(
            "CREATE UNIQUE INDEX item_code_stage ON erp.item (code, stage);"
            " ALTER TABLE erp.item ALTER COLUMN stage SET DEFAULT 'open', ALTER COLUMN stage SET NOT NULL;"
            " ALTER TABLE erp.item REPLICA IDENTITY USING INDEX item_code_stage",
            "left_filter = \"stage = 'open'\"",
            id="an identity index over key and filter",
        ),
    ],
)
def test_a_replica_identity_with_the_key_and_filter_columns_passes(
    fresh: Callable[..., Project], sql: str, extra: str
) -> None:
    project = fresh(extra=extra)
    run_sql(project, sql)
    assert validate_problems(project) == []


def test_a_map_both_ways_needs_the_whole_row_before_an_update(
    fresh: Callable[..., Project],
) -> None:
    project = fresh(direction="both")
    run_sql(project, "ALTER TABLE erp.item REPLICA IDENTITY USING INDEX item_code_key")
    assert validate_problems(project) == [
        WHERE + "erp.item: replica identity (USING INDEX item_code_key: code) leaves the row"
        " before an update out of the WAL, and a map that flows both ways judges conflicts"
        " by it: ALTER TABLE erp.item REPLICA IDENTITY FULL"
    ]
    run_sql(project, "ALTER TABLE erp.item REPLICA IDENTITY FULL")
    assert validate_problems(project) == []


def test_the_fix_the_message_names_makes_the_map_valid(fresh: Callable[..., Project]) -> None:
    project = fresh()
    (problem,) = validate_problems(project)
    statement = problem.split("updates and deletes: ", 1)[1].split(", or ", 1)[0]
    assert statement == "ALTER TABLE erp.item REPLICA IDENTITY USING INDEX item_code_key"
    run_sql(project, statement)
    assert validate_problems(project) == []


@pytest.mark.parametrize(
    ("left", "direction"),
    [
        pytest.param("trigger", "both", id="trigger capture on both sides"),
        pytest.param("wal", "to_left", id="the WAL side only receives"),
    ],
)
def test_tables_that_wal_capture_does_not_read_are_not_checked(
    fresh: Callable[..., Project], left: str, direction: str
) -> None:
    project = fresh(left=left, direction=direction)
    run_sql(project, "ALTER TABLE erp.item REPLICA IDENTITY NOTHING")
    run_sql(project, "ALTER TABLE crm.item REPLICA IDENTITY NOTHING")
    run_sql(project, "ALTER TABLE erp.item SET UNLOGGED")
    assert validate_problems(project) == []


def test_an_online_map_is_refused_when_a_side_uses_wal_capture(
    fresh: Callable[..., Project],
) -> None:
    project = fresh(extra='mode = "online"')
    assert (
        WHERE + 'mode online needs capture = "trigger" on both sides, but erp uses WAL capture:'
        " the write made inside the application's transaction carries no replicator origin,"
        " so the slot would capture it and send it back"
    ) in validate_problems(project)


# --- unlogged tables --------------------------------------------------------------

UNLOGGED = (
    WHERE + "erp.item is UNLOGGED: its changes are not written to the WAL, so WAL capture"
    ' never sees them: make it logged (ALTER TABLE "erp"."item" SET LOGGED), or capture the'
    ' left side with triggers (capture = "trigger" in [left])'
)


def test_an_unlogged_table_under_wal_capture_is_refused_with_both_fixes(
    fresh: Callable[..., Project],
) -> None:
    project = fresh()
    run_sql(project, "ALTER TABLE erp.item REPLICA IDENTITY USING INDEX item_code_key")
    run_sql(project, "ALTER TABLE erp.item SET UNLOGGED")
    assert validate_problems(project) == [UNLOGGED]
    deployed = cli(project, "deploy")
    assert deployed.returncode == 1
    assert UNLOGGED in deployed.stderr
    run_sql(project, 'ALTER TABLE "erp"."item" SET LOGGED')
    assert validate_problems(project) == []


# --- slot names are per server ----------------------------------------------------


def test_a_slot_name_another_database_of_the_server_holds_is_refused_and_run_says_so(
    tmp_path: Path, pg: ThrowawayServer, fresh_db: Callable[..., str]
) -> None:
    """Two databases of one server, each with its own replicator, whose WAL sides share
    the name erp: both would read the slot replicator_erp, which only one can hold."""
    first = wal_project(tmp_path / "first", fresh_db(pg))
    second = wal_project(tmp_path / "second", fresh_db(pg))
    for project in (first, second):
        run_sql(project, "ALTER TABLE erp.item REPLICA IDENTITY USING INDEX item_code_key")
    # The second database was deployed while the name was free (an earlier release
    # deployed it anyway); then its slot went, and the first database took the name.
    second.deploy()
    run_sql(second, "SELECT pg_drop_replication_slot('replicator_erp')")
    first.deploy()
    holder = psycopg.conninfo.conninfo_to_dict(first.left_url)["dbname"]
    taken = (
        f"erp+crm: the slot replicator_erp that WAL capture needs here is taken by database"
        f" {holder} of the same server (slot names are per server; this one is named after"
        " the left side, 'erp'): give the left side another name in replicator.toml"
        ' ([left] name = "..."), which names its slot replicator_<name>'
    )
    assert validate_problems(second) == [taken]
    deployed = cli(second, "deploy")
    assert deployed.returncode == 1
    assert taken in deployed.stderr
    # The applier of the second database stops at once, saying why, instead of
    # retrying a slot it can never read.
    ran = cli(second, "run")
    assert ran.returncode == 1
    assert ran.stderr.strip().splitlines()[-1] == (
        f"replicator: slot replicator_erp, which WAL capture of erp+crm reads, belongs to"
        f" database {holder} of the same server: give this side another name in"
        " replicator.toml and run replicator deploy (validate says the same)"
    )
    # Named apart, the second database gets a slot of its own.
    config = second.config_path
    config.write_text(config.read_text().replace('name = "erp"', 'name = "erp_two"'))
    assert validate_problems(second) == []


def test_deploy_creating_the_slot_waits_only_so_long_for_open_transactions(
    fresh: Callable[..., Project], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A logical slot is made once every transaction of the server that has written
    has ended: deploy gives up after its lock_timeout and names them."""
    monkeypatch.setattr(deployer, "LOCK_TIMEOUT_SECONDS", 1)
    project = fresh()
    run_sql(project, "ALTER TABLE erp.item REPLICA IDENTITY USING INDEX item_code_key")
    with psycopg.connect(project.left_url, application_name="erp batch job") as batch:
        batch.execute("INSERT INTO crm.item (code) VALUES ('open')")  # and then it idles
        with pytest.raises(DeployRefused) as refused:
            project.deploy()
        pid = batch.info.backend_pid
    database = psycopg.conninfo.conninfo_to_dict(project.left_url)["dbname"]
    message = re.sub(r"for \d+ s\)", "for N s)", str(refused.value))
    assert message == (
        "deploy refused, nothing changed: database erp+crm: creating the slot replicator_erp"
        " waited 1 s (lock_timeout) for the server's transactions that have written to end:"
        f" pid {pid} (role postgres, database {database}, application 'erp batch job', idle"
        " in transaction for N s) holds a transaction id. End or commit that transaction"
        f" (SELECT pg_terminate_backend({pid}) ends the session), then deploy again"
    )
    assert rows(
        project.left_url,
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'replicator_erp'",
    ) == [(0,)]


def test_the_owner_role_finds_wal2json_missing_or_says_it_could_not_look(
    fresh: Callable[..., Project],
) -> None:
    """The roles SQL lets the owner read output_plugin_libraries, so validate run as
    the owner refuses what deploy would fail on; a role that may not read it is told
    validate could not check, and how to."""
    project = fresh()
    with project.config_path.open("a") as config:
        config.write('[roles]\nowner = "wal_owner"\nruntime = "wal_runtime"\n')
    create_roles(project.config())
    run_sql(project, "ALTER TABLE erp.item REPLICA IDENTITY FULL")
    with project.left() as conn:
        if (
            conn.execute(
                "SELECT FROM pg_settings WHERE name = 'output_plugin_libraries'"
            ).fetchone()
            is None
        ):
            pytest.skip("this PostgreSQL build has no output_plugin_libraries")
        conn.execute(
            psycopg.sql.SQL("ALTER DATABASE {} SET output_plugin_libraries = 'pgoutput'").format(
                psycopg.sql.Identifier(conn.info.dbname)
            )
        )
    owner = project.env("wal_owner")
    refused = cli(project, "validate", env=owner)
    assert (refused.returncode, refused.stderr) == (
        1,
        f"replicator: 1 problem found; nothing was deployed\n  {ONLY_PGOUTPUT}\n",
    )
    run_sql(project, "REVOKE pg_read_all_settings FROM wal_owner")
    warned = cli(project, "validate", env=owner)
    assert (warned.returncode, warned.stderr) == (0, "")
    assert warned.stdout == (
        'warning: erp+crm: role "wal_owner" may not read output_plugin_libraries (PostgreSQL'
        " shows it only to superusers and members of pg_read_all_settings), so validate could"
        ' not check that it lists wal2json; without it, deploy fails with \'library "wal2json"'
        " may not be used as an output plugin'. The SQL of replicator plan --roles grants the"
        " owner pg_read_all_settings; or a superuser runs SHOW output_plugin_libraries and, if"
        " wal2json is missing, adds it (ALTER SYSTEM SET output_plugin_libraries = ...,"
        " 'wal2json', then SELECT pg_reload_conf())\n"
        "1 map (1 direction) is valid\n"
    )
