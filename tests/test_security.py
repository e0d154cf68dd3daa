"""Least privilege: the customer-master example deployed with its [roles] (the owner
deploys, the runtime role applies), written to by an application role, as a DBA sets
it up from the README's security chapter.

The application may fire the capture triggers and nothing more: it cannot read or
change the queue and the logs, call the apply functions, or hide a write from capture
by setting the replicator's marker. Every generated function pins its search_path (or
binds its names when it is created), so a function or table planted earlier on a
writer's path is never used."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from devtools.throwaway import ThrowawayServer, as_role
from replicator.commands import lifecycle as commands
from replicator.core.errors import MapError, PrivilegeError
from replicator.maps.loader import load_maps
from tests.support import (
    Project,
    cli,
    example_project,
    items_map,
    queued,
    rows,
    schemas_project,
)

APP = "erp_app"  # the ERP's own login: owns nothing of the replicator
# The functions every database gets, whatever its maps: the control schema's, drift's and
# the dispatchers (apply_batch, absorb_batch).
CONTROL_FUNCTIONS = {
    "absorb_batch",
    "absorb_unclean",
    "ack_batch",
    "apply_batch",
    "apply_queued",
    "apply_remote",
    "caught_up",
    "clean_crossings",
    "commit_stamp",
    "drift",
    "follow_renames",
    "log_batch",
    "log_error",
    "outgoing",
    "peek_batch",
    "plan_for_batch",
    "record_dependency",
    "refused_null",
    "renamed_keys",
    "retry_error",
    "runnable_ids",
    "supersede_errors",
    "unmapped_value",
    "unpark_wal",
}
CUSTOMER = (
    "INSERT INTO fno.customers (dataareaid, account_num, name, credit_limit, blocked, email)"
    " VALUES ('usmf', %s, 'Contoso', 100, 'No', 'ap@contoso.example')"
)


@pytest.fixture
def undeployed(
    tmp_path: Path, pg: ThrowawayServer, fresh_db: Callable[[ThrowawayServer], str]
) -> Project:
    """The example in one database, its roles created (plan --roles), not yet deployed."""
    url = fresh_db(pg)
    return example_project(tmp_path, url, url)


@pytest.fixture
def project(undeployed: Project) -> Project:
    project = undeployed
    with project.left() as conn:
        conn.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP}')"
            f" THEN CREATE ROLE {APP} LOGIN; END IF; END $$"
        )
        conn.execute(f"GRANT USAGE ON SCHEMA fno, cds TO {APP}")
        conn.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA fno, cds TO {APP}")
    project.deploy()
    return project


def app(project: Project) -> psycopg.Connection[psycopg.rows.TupleRow]:
    return psycopg.connect(as_role(project.left_url, APP), autocommit=True)


def crm_accounts(project: Project) -> list[tuple[object, ...]]:
    return rows(project.right_url, "SELECT accountnumber FROM cds.account ORDER BY 1")


# What an application session might try against the replicator's own objects.
TAMPERING = [
    "SELECT * FROM replicator.change_queue",
    "UPDATE replicator.change_queue SET image = '{}'",
    "DELETE FROM replicator.change_queue",
    "INSERT INTO replicator.change_queue (map_name, direction, op, image)"
    " VALUES ('customers', 'to_right', 'I', '{}')",
    "SELECT * FROM replicator.error_log",
    "DELETE FROM replicator.error_log",
    "SELECT * FROM replicator.map_state",
    "UPDATE replicator.map_state SET state = 'paused'",
    "SELECT * FROM replicator.activity_log",
    "SELECT * FROM replicator.conflict_log",
    "DELETE FROM replicator.versions",
    "SELECT replicator_write.customers_to_right('[]', true)",
    "SELECT replicator.apply_batch('to_left', '[]')",
    "SELECT replicator.ack_batch('to_right', ARRAY[1]::bigint[], now())",
    "SELECT pg_replication_origin_session_setup('replicator_apply')",
]


@pytest.mark.parametrize("statement", TAMPERING)
def test_an_application_role_cannot_touch_the_queue_the_logs_or_the_apply_functions(
    project: Project, statement: str
) -> None:
    with app(project) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement.encode())


def test_an_application_role_fires_the_capture_and_its_write_crosses(project: Project) -> None:
    with app(project) as conn:
        conn.execute(CUSTOMER, ("US-APP",))
    assert queued(project.left_url) == 1
    project.drain()
    assert crm_accounts(project) == [("US-APP",)]


def test_an_application_cannot_hide_a_write_behind_the_replicators_marker(
    project: Project,
) -> None:
    with app(project) as conn:
        # What the apply functions set, and what an initial sync adds.
        conn.execute("SET replicator.applying = 'on'")
        conn.execute("SET replicator.sync_log = 'customers'")
        conn.execute(CUSTOMER, ("US-HIDDEN",))
        conn.execute("UPDATE fno.customers SET name = 'Contoso (renamed)'")
    assert queued(project.left_url) == 2
    project.drain()
    assert rows(project.right_url, "SELECT accountnumber, name FROM cds.account") == [
        ("US-HIDDEN", "Contoso (renamed)")
    ]
    # Nor does it pass its update off as a row an initial sync overwrote.
    assert rows(
        project.left_url, "SELECT count(*) FROM replicator.activity_log WHERE kind = 'overwrite'"
    ) == [(0,)]


def test_the_applier_runs_as_the_runtime_role_which_holds_nothing_on_the_applications_tables(
    project: Project,
) -> None:
    runtime = project.env(project.runtime)["REPLICATOR_LEFT"]
    with psycopg.connect(runtime, autocommit=True) as conn:
        [(superuser,)] = conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchall()
        assert superuser is False
        for statement in (
            "SELECT * FROM fno.customers",
            "SELECT * FROM cds.account",
            "DELETE FROM cds.account",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement.encode())
    with app(project) as conn:
        conn.execute(CUSTOMER, ("US-RUNTIME",))
    totals = project.drain()  # as the runtime role
    assert (totals.applied, totals.failed) == (1, 0)
    assert crm_accounts(project) == [("US-RUNTIME",)]


def test_every_generated_function_pins_its_search_path_and_only_capture_apply_and_sync_run_as_owner(
    project: Project,
) -> None:
    functions = rows(
        project.left_url,
        "SELECT p.proname, p.prosecdef, pg_get_userbyid(p.proowner),"
        # A standard-SQL body (commit_stamp's) binds its names when it is created, under
        # the deploying session's pinned path: it needs none of its own, and so inlines.
        "       coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)"
        "       OR p.prosqlbody IS NOT NULL,"
        "       EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a"
        "                WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')"
        "  FROM pg_proc p WHERE p.pronamespace = 'replicator'::regnamespace ORDER BY 1",
    )
    maps = load_maps(project.config().maps_dir, project.root)
    kinds: tuple[str, ...] = ("apply", "write", "capture", "snapshot", "resend", "absorb")
    kinds += ("sync", "sync_rows")  # replicator sync's fast path and its read of rows
    if project.left_url == project.right_url:
        kinds += ("sync_direct",)  # replicator sync's read and write in one database
    per_map = {
        f"{kind}_{table_map.name}_{direction}"
        for table_map in maps.maps
        for direction in table_map.directions
        for kind in kinds
    }
    assert {str(name) for name, *_ in functions} == per_map | CONTROL_FUNCTIONS
    unpinned = [name for name, _, _, pinned, _ in functions if not pinned]
    public = [name for name, _, _, _, executable in functions if executable]
    owners = {owner for _, _, owner, _, _ in functions}
    definers = {str(name).split("_")[0] for name, definer, _, _, _ in functions if definer}
    assert (unpinned, public, owners) == ([], [], {"replicator_owner"})
    # Those that act on the applications' tables for someone who may not: the capture
    # triggers (fired by the applications), the apply functions (called by the applier),
    # the sync functions (sync's fast path, called by replicator sync).
    assert definers == {"capture", "write", "sync"}
    # The writes themselves: each map direction's, by the writer of its target side.
    writers = rows(
        project.left_url,
        "SELECT p.proname, p.prosecdef, pg_get_userbyid(p.proowner),"
        "       'search_path=pg_catalog, pg_temp' = ANY (p.proconfig),"
        "       EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a"
        "                WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')"
        "  FROM pg_proc p WHERE p.pronamespace = 'replicator_write'::regnamespace ORDER BY 1",
    )
    assert writers == sorted(
        (
            f"{table_map.name}_{direction}{suffix}",
            True,
            f"replicator_{'right' if direction == 'to_right' else 'left'}_writer",
            True,
            False,
        )
        for table_map in maps.maps
        for direction in table_map.directions
        for suffix in ("", "_sync")  # the apply's writes, and the sync's fast path's inserts
    )


# Same-named objects a hostile role could place before pg_catalog on a session's path:
# each records that it was used; current_setting and has_schema_privilege would also
# make the capture trigger take the write for the replicator's own.
TRAP = """
CREATE SCHEMA trap;
CREATE TABLE trap.used (what text);
CREATE TABLE trap.change_queue (LIKE replicator.change_queue);
CREATE FUNCTION trap.current_setting(text, boolean) RETURNS text LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO trap.used VALUES ('current_setting'); RETURN 'on'; END $$;
CREATE FUNCTION trap.has_schema_privilege(text, text) RETURNS boolean LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO trap.used VALUES ('has_schema_privilege'); RETURN true; END $$;
CREATE FUNCTION trap.to_jsonb(anyelement) RETURNS jsonb LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO trap.used VALUES ('to_jsonb'); RETURN '{}'; END $$;
CREATE FUNCTION trap.now() RETURNS timestamptz LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO trap.used VALUES ('now'); RETURN '2000-01-01'; END $$;
CREATE FUNCTION trap.pg_notify(text, text) RETURNS void LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO trap.used VALUES ('pg_notify'); END $$;
GRANT USAGE ON SCHEMA trap TO PUBLIC;
GRANT ALL ON ALL TABLES IN SCHEMA trap TO PUBLIC;
"""


def test_functions_and_tables_planted_earlier_on_the_search_path_are_not_used(
    project: Project,
) -> None:
    with project.left() as conn:
        conn.execute(TRAP.encode())
        database = conn.info.dbname
        for role in (APP, "replicator_runtime"):
            conn.execute(
                f"ALTER ROLE {role} IN DATABASE {database} SET search_path = trap, pg_catalog, public"
            )
    with app(project) as conn:
        # The trap works: an unqualified call in this session finds it.
        assert conn.execute("SELECT current_setting('replicator.applying', true)").fetchone() == (
            "on",
        )
        conn.execute("DELETE FROM trap.used")
        conn.execute(CUSTOMER, ("US-TRAP",))
        conn.execute("UPDATE fno.customers SET credit_limit = 200")
    project.drain()
    assert crm_accounts(project) == [("US-TRAP",)]
    assert rows(project.right_url, "SELECT creditlimit FROM cds.account") == [(200,)]
    assert rows(project.left_url, "SELECT what FROM trap.used") == []
    assert rows(project.left_url, "SELECT count(*) FROM trap.change_queue") == [(0,)]


def test_deploy_acts_as_the_owner_whoever_connects_and_refuses_the_runtime_role(
    undeployed: Project,
) -> None:
    project, url = undeployed, undeployed.left_url
    with pytest.raises(PrivilegeError) as refused:
        commands.cmd_deploy(project.config("replicator_runtime"), io.StringIO())
    assert str(refused.value) == (
        "deploy refused, nothing changed: role replicator_runtime may not act as the owner"
        " role replicator_owner: deploy as replicator_owner, as a superuser, or as a member"
        ' of replicator_owner (GRANT "replicator_owner" TO "replicator_runtime")'
    )
    assert rows(url, "SELECT to_regclass('replicator.deployment') IS NULL") == [(True,)]
    # The owner's own login deploys; a superuser's deploy (every other test) acts as it.
    assert commands.cmd_deploy(project.config("replicator_owner"), io.StringIO()) == 0
    assert rows(
        url,
        "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class"
        " WHERE relnamespace = 'replicator'::regnamespace",
    ) == [("replicator_owner",)]


def test_deploy_before_the_roles_exist_says_what_to_run(undeployed: Project) -> None:
    project = undeployed
    config = project.root / "replicator.toml"
    config.write_text(config.read_text().replace('"replicator_owner"', '"nobody_owns_this"'))
    with pytest.raises(PrivilegeError) as refused:
        commands.cmd_deploy(project.config(), io.StringIO())
    assert str(refused.value) == (
        'deploy refused, nothing changed: the owner role "nobody_owns_this" does not exist:'
        " run the SQL of replicator plan --roles as a superuser first"
    )


def test_deploy_before_the_roles_sql_ran_here_says_what_to_run(undeployed: Project) -> None:
    project = undeployed
    with project.left() as conn:
        conn.execute("DROP SCHEMA replicator")  # as if the roles SQL never ran on this database
    with pytest.raises(MapError) as refused:
        commands.cmd_deploy(project.config(), io.StringIO())
    assert str(refused.value) == (
        "1 problem found; nothing was deployed\n  database fno+cds has no schema replicator"
        " yet: run the SQL of replicator plan --roles as a superuser first"
    )


def test_deploy_of_a_map_on_a_table_the_owner_may_not_use_says_what_to_run(
    project: Project,
) -> None:
    """A missing privilege is an error (exit 1), found by validate too: exit 3 means a
    deploy that would throw changes away."""
    with project.left() as conn:
        conn.execute("REVOKE TRIGGER ON fno.loyalty_cards FROM replicator_owner")
        conn.execute("REVOKE UPDATE ON fno.loyalty_cards FROM replicator_left_writer")
    lacking = (
        "database fno+cds: the owner role replicator_owner lacks TRIGGER on"
        ' "fno"."loyalty_cards" (and 1 more): run the SQL of replicator plan --roles as a'
        " superuser; it grants what the maps need"
    )
    for verb in ("validate", "deploy"):
        refused = cli(project, verb)
        assert (refused.returncode, refused.stderr) == (
            1,
            f"replicator: 1 problem found; nothing was deployed\n  {lacking}\n",
        )
    project.deploy()  # Project.deploy runs the roles SQL first, as the message says


def test_wal_capture_runs_with_nothing_but_the_roles_sql(
    tmp_path: Path,
    pg: ThrowawayServer,
    pg2: ThrowawayServer,
    fresh_db: Callable[[ThrowawayServer], str],
) -> None:
    """The ERP captured from the WAL, two servers: the SQL of plan --roles run as a
    superuser is all the owner needs to validate and deploy, and all the runtime role
    needs to read the slot and apply (the origin status view reads a function that
    must be granted too)."""
    project = example_project(tmp_path, fresh_db(pg), fresh_db(pg2), "wal_left")
    owner = project.env("replicator_owner")
    validated = cli(project, "validate", env=owner)
    assert (validated.returncode, validated.stderr) == (0, "")
    assert "warning" not in validated.stdout
    assert cli(project, "deploy", env=owner).returncode == 0
    with project.left() as conn:
        conn.execute(CUSTOMER, ("US-WAL",))
    totals = project.drain()  # as the runtime role
    assert (totals.applied, totals.failed) == (1, 0)
    assert crm_accounts(project) == [("US-WAL",)]
    status = cli(project, "status", env=owner)
    assert (status.returncode, status.stderr) == (0, "")


def test_plan_roles_prints_the_superuser_sql_and_asks_for_roles_when_none_are_named(
    undeployed: Project,
) -> None:
    printed = cli(undeployed, "plan", "--roles")
    assert printed.returncode == 0
    assert printed.stdout.startswith(
        "-- replicator roles for database fno+cds (reached through the left side's connection)"
    )
    assert 'GRANT SELECT, TRIGGER ON "fno"."customers" TO "replicator_owner";' in printed.stdout
    assert (
        'GRANT SELECT, INSERT, UPDATE, DELETE ON "fno"."customers" TO "replicator_left_writer";'
        in printed.stdout
    )
    config = undeployed.config_path
    config.write_text(config.read_text().split("\n[roles]")[0])
    refused = cli(undeployed, "plan", "--roles")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.strip().endswith(
        "no [roles] section: name the owner and runtime roles"
        ' ([roles] owner = "replicator_owner", runtime = "replicator_runtime")'
    )


# An application role that may create in public (every role could before PostgreSQL 15)
# plants upper(character varying): an exact match for a varchar column, so a session
# whose path holds public calls it instead of the built-in upper(text). Each call is
# counted by a sequence, which no rollback undoes.
PLANTED_UPPER = """
CREATE SEQUENCE public.upper_calls;
GRANT USAGE ON SEQUENCE public.upper_calls TO PUBLIC;
CREATE FUNCTION public.upper(character varying) RETURNS text LANGUAGE plpgsql AS
    $$ BEGIN PERFORM nextval('public.upper_calls'); RETURN pg_catalog.upper($1::text); END $$;
"""


def test_sync_verify_and_repair_never_call_a_function_planted_in_public(
    tmp_path: Path, pg: ThrowawayServer, fresh_db: Callable[[ThrowawayServer], str]
) -> None:
    url = fresh_db(pg)
    project = schemas_project(
        tmp_path / "project",
        url,
        "CREATE SCHEMA l; CREATE SCHEMA r;"
        " CREATE TABLE l.items (id int PRIMARY KEY, name varchar(50));"
        " CREATE TABLE r.items (id int PRIMARY KEY, name text);"
        " INSERT INTO l.items SELECT g, 'item ' || g FROM generate_series(1, 20) AS g;"
        + PLANTED_UPPER,
        {"items.toml": items_map("upper(name) <> 'SKIP'", "upper(name)")},
    )
    project.deploy()

    def calls() -> int:
        [(last, called)] = rows(url, "SELECT last_value, is_called FROM public.upper_calls")
        return int(last) if called else 0

    # The trap works: a session on the default path calls it for a varchar.
    assert rows(url, "SELECT upper(name) FROM l.items WHERE id = 1") == [("ITEM 1",)]
    assert calls() == 1
    # As a superuser, as the issue ran them: calls made by each command.
    made: dict[str, int] = {}
    before = calls()
    assert cli(project, "sync").returncode == 0
    made["sync"], before = calls() - before, calls()
    assert rows(url, "SELECT count(*) FROM r.items WHERE name LIKE 'ITEM %'") == [(20,)]
    with project.right() as conn:
        conn.execute("UPDATE r.items SET name = 'changed' WHERE id <= 3")
    verified = cli(project, "verify", "--quiet")
    assert verified.returncode == 2, verified.stderr
    made["verify"], before = calls() - before, calls()
    repaired = cli(project, "repair", "--from", "left", "--quiet")
    assert repaired.returncode == 0, repaired.stderr
    made["repair"] = calls() - before
    assert rows(url, "SELECT count(*) FROM r.items WHERE name = 'changed'") == [(0,)]
    assert made == {"sync": 0, "verify": 0, "repair": 0}


ROW_SECURITY = (
    "maps/customers.toml: map 'customers_organization': cds.account has row level security"
    " forced and it applies to roles replicator_right_writer and replicator_owner, which the"
    " replicator reads and writes the table as: rows its policies hide would be neither"
    ' copied nor replicated. Let them bypass it (ALTER ROLE "replicator_right_writer"'
    ' BYPASSRLS and ALTER ROLE "replicator_owner" BYPASSRLS, as a superuser) or give them a'
    ' policy that shows every row (CREATE POLICY replicator ON "cds"."account"'
    ' TO "replicator_right_writer", "replicator_owner" USING (true) WITH CHECK (true))'
)


def test_row_level_security_binding_the_owner_is_refused_until_it_sees_every_row(
    project: Project,
) -> None:
    with project.left() as conn:
        conn.execute("ALTER TABLE cds.account ENABLE ROW LEVEL SECURITY")
        conn.execute("ALTER TABLE cds.account FORCE ROW LEVEL SECURITY")
        conn.execute("CREATE POLICY hide ON cds.account USING (accountnumber NOT LIKE 'X%')")
    with pytest.raises(MapError) as refused:
        commands.cmd_validate(project.config(), io.StringIO())
    assert [str(p) for p in refused.value.problems] == [ROW_SECURITY]
    # The policy the message names lets it through; so would BYPASSRLS.
    statement = ROW_SECURITY.split("every row (", 1)[1].removesuffix(")")
    with project.left() as conn:
        conn.execute(statement.encode())
    assert commands.cmd_validate(project.config(), io.StringIO()) == 0
    with project.left() as conn:
        conn.execute("DROP POLICY replicator ON cds.account")
        conn.execute("ALTER ROLE replicator_owner BYPASSRLS")
    try:
        # The writer still may not see every row.
        with pytest.raises(MapError) as refused:
            commands.cmd_validate(project.config(), io.StringIO())
        assert "applies to role replicator_right_writer, which" in str(refused.value.problems[0])
        with project.left() as conn:
            conn.execute("ALTER ROLE replicator_right_writer BYPASSRLS")
        assert commands.cmd_validate(project.config(), io.StringIO()) == 0
    finally:
        with project.left() as conn:  # roles are per server
            conn.execute("ALTER ROLE replicator_owner NOBYPASSRLS")
            conn.execute("ALTER ROLE replicator_right_writer NOBYPASSRLS")


# The attack: the ERP's application adds an ordinary trigger to its own table,
# hoping to borrow the replicator's rights when a CRM change is applied there. It tries
# what its own role may not: read a CRM column no map names, rewrite a CRM row, stop
# the map; and writes what it managed into the row (it may write that table).
SNOOP = """
CREATE FUNCTION l.snoop() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_secret text;
    v_done text;
BEGIN
    BEGIN
        SELECT string_agg(secret, ',') INTO v_secret FROM r.items;
        v_done := 'read ' || coalesce(v_secret, '');
    EXCEPTION WHEN insufficient_privilege THEN v_done := 'read denied';
    END;
    BEGIN
        UPDATE r.items SET name = 'rewritten';
        v_done := v_done || ', rewrote';
    EXCEPTION WHEN insufficient_privilege THEN v_done := v_done || ', rewrite denied';
    END;
    BEGIN
        UPDATE replicator.map_state SET state = 'stopped';
        v_done := v_done || ', stopped';
    EXCEPTION WHEN insufficient_privilege THEN v_done := v_done || ', stop denied';
    END;
    NEW.name := v_done;
    RETURN NEW;
END
$$;
CREATE TRIGGER snoop BEFORE INSERT OR UPDATE ON l.items FOR EACH ROW EXECUTE FUNCTION l.snoop();
"""


def test_an_application_trigger_runs_with_the_writers_rights_not_the_owners(
    tmp_path: Path, pg: ThrowawayServer, fresh_db: Callable[[ThrowawayServer], str]
) -> None:
    url = fresh_db(pg)
    project = schemas_project(
        tmp_path,
        url,
        "DO $$ BEGIN"
        " IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_l') THEN CREATE ROLE app_l LOGIN; END IF;"
        " IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_r') THEN CREATE ROLE app_r LOGIN; END IF;"
        " END $$;"
        " CREATE SCHEMA l AUTHORIZATION app_l; CREATE SCHEMA r AUTHORIZATION app_r;"
        " SET ROLE app_l; CREATE TABLE l.items (id int PRIMARY KEY, name varchar(50));"
        " SET ROLE app_r;"
        " CREATE TABLE r.items (id int PRIMARY KEY, name varchar(50), secret text);"
        " INSERT INTO r.items VALUES (1, 'first', 's3cret'); RESET ROLE;",
        {
            "items.toml": '[[map]]\nname = "items"\nleft = "items"\nright = "items"\n'
            '\n  [[map.field]]\n  left = "id"\n  right = "id"\n  key = true\n'
            '\n  [[map.field]]\n  left = "name"\n  right = "name"\n'
        },
    )
    config = project.config_path
    config.write_text(
        config.read_text()
        + '\n[roles]\nowner = "replicator_owner"\nruntime = "replicator_runtime"\n'
    )
    project.deploy()
    with psycopg.connect(as_role(url, "app_l"), autocommit=True) as conn:
        conn.execute(SNOOP.encode())
    with psycopg.connect(as_role(url, "app_r"), autocommit=True) as conn:
        conn.execute("INSERT INTO r.items VALUES (2, 'second', 'hidden')")
    totals = project.drain()  # as the runtime role
    assert (totals.applied, totals.failed) == (1, 0)
    # The trigger ran for the replicator's insert, as the left side's writer: it may
    # write l.items, and nothing else.
    assert rows(url, "SELECT id, name FROM l.items") == [
        (2, "read denied, rewrite denied, stop denied")
    ]
    assert rows(url, "SELECT id, name, secret FROM r.items ORDER BY id") == [
        (1, "first", "s3cret"),
        (2, "second", "hidden"),
    ]
    assert rows(url, "SELECT DISTINCT state FROM replicator.map_state") == [("running",)]
