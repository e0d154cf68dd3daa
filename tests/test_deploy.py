"""plan shows exactly what deploy runs; deploying twice changes nothing; edited
and removed maps are replaced and dropped without losing queued changes."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from devtools.throwaway import ThrowawayServer
from replicator.cli import main as cli_main
from replicator.core.errors import DeployRefused
from replicator.inspect.migrations import control_migrations
from replicator.operations import deployer
from tests.support import USMF, Project, example_project, queued, replicator, rows, wait_for

GROUPS_MAP = """
[[map]]
name = "customer_groups"
left = "customer_groups"
right = "customer_group"
direction = "to_right"

  [[map.field]]
  left = "dataareaid"
  right = "companyid"
  key = true
  lookup = "companies"

  [[map.field]]
  left = "customer_group"
  right = "group_code"
  key = true

  [[map.field]]
  left = "description"
  right = "name"
  default = { right = "(no description)" }
"""


@pytest.fixture
def project(tmp_path: Path, pg: object, fresh_db: Callable[..., str]) -> Project:
    url = fresh_db(pg)
    return example_project(tmp_path, url, url)


def generated_objects(url: str) -> list[tuple[object, ...]]:
    """Every function and trigger the replicator owns, with the transaction that last wrote it."""
    return rows(
        url,
        "SELECT p.proname, p.xmin::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = 'replicator'"
        " UNION ALL SELECT t.tgname, t.xmin::text FROM pg_trigger t WHERE t.tgname LIKE 'replicator_%'"
        " ORDER BY 1",
    )


def test_plan_prints_the_sql_and_exits_2_until_deployed(project: Project) -> None:
    code, text = project.plan()
    assert code == 2
    assert 'CREATE OR REPLACE FUNCTION "replicator"."write_customer_groups_to_right"' in text
    assert "-- ==== create map/customers_person/to_left/capture ====" in text
    project.deploy()
    code, text = project.plan()
    assert code == 0
    assert "nothing to do" in text


def test_deploying_the_same_maps_twice_changes_nothing(project: Project) -> None:
    project.deploy()
    before = generated_objects(project.left_url)
    deployments = rows(project.left_url, "SELECT count(*) FROM replicator.deployment")
    assert "already up to date" in project.deploy()
    assert generated_objects(project.left_url) == before
    assert rows(project.left_url, "SELECT count(*) FROM replicator.deployment") == deployments


def test_the_plan_applied_with_psql_is_the_same_deploy(project: Project) -> None:
    code, text = project.plan()
    assert code == 2
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-d", project.left_url, "-f", "-"],
        input=text.encode(),
        check=True,
        capture_output=True,
    )
    assert project.plan() == (0, project.plan()[1])
    assert "nothing to do" in project.plan()[1]


def test_an_edited_map_replaces_only_what_changed_and_keeps_queued_changes(
    project: Project,
) -> None:
    project.deploy()
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customer_groups VALUES ('usmf', '10', NULL), ('usmf', '20', 'Retail')"
        )
    assert queued(project.left_url) == 2
    project.write_map("customer_groups.toml", GROUPS_MAP)
    code, text = project.plan()
    assert code == 2
    assert "replace map/customer_groups/to_right/apply" in text
    # The new map flows one way only: the right side's capture goes away.
    assert "drop map/customer_groups/to_left/capture" in text
    assert "map/customers_organization" not in text
    project.deploy()
    assert queued(project.left_url) == 2
    project.drain()
    assert rows(
        project.right_url, "SELECT group_code, name FROM cds.customer_group ORDER BY 1"
    ) == [
        ("10", "(no description)"),
        ("20", "Retail"),
    ]


def test_a_removed_map_with_queued_changes_is_refused_until_they_are_applied(
    project: Project,
) -> None:
    project.deploy()
    with project.left() as erp:
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-1')")
    project.remove_map("loyalty_cards.toml")
    with pytest.raises(DeployRefused) as refused:
        project.deploy()
    assert str(refused.value) == (
        "deploy refused, nothing changed:\n  map loyalty_cards (to_right) is removed but still"
        " has 1 queued change: to apply it, run the applier until it is applied; to throw it"
        " away, replicator discard loyalty_cards --direction to_right --reason TEXT; then"
        " deploy again"
    )
    # Nothing changed: the trigger still captures.
    with project.left() as erp:
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-2')")
    assert queued(project.left_url) == 2
    project.drain()
    project.deploy()
    assert rows(
        project.left_url,
        "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'replicator_loyalty_cards%'",
    ) == [(0,)]
    assert rows(
        project.left_url,
        "SELECT count(*) FROM replicator.map_state WHERE map_name = 'loyalty_cards'",
    ) == [(0,)]
    with project.left() as erp:
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-3')")
    assert queued(project.left_url) == 0


def test_sigterm_during_deploy_says_nothing_was_applied_and_leaves_no_session_waiting(
    project: Project,
) -> None:
    # An application's open transaction holds a lock the capture trigger needs.
    application = psycopg.connect(project.left_url)
    application.execute("INSERT INTO fno.customer_groups VALUES ('usmf', 'W', 'Wholesale')")
    waiting = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock'"
    )
    deploying = subprocess.Popen(
        [sys.executable, "-m", "replicator.cli", "--config", str(project.config_path), "deploy"],
        env=project.env(),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: rows(project.left_url, waiting) == [(1,)], "deploy to wait on the lock")
        deploying.send_signal(signal.SIGTERM)
        _, stderr = deploying.communicate(timeout=60)
    finally:
        deploying.kill()
    assert (deploying.returncode, stderr) == (
        1,
        "replicator: deploy was interrupted (SIGTERM): nothing was applied\n",
    )
    # Its server session stopped waiting the moment it was told: the application's
    # transaction still holds the lock.
    assert rows(project.left_url, waiting) == [(0,)]
    application.commit()
    application.close()
    assert rows(project.left_url, "SELECT to_regclass('replicator.deployed_artifact')") == [(None,)]
    latest = len(control_migrations())
    assert f"database fno+cds: control schema at version {latest}, 109 created" in project.deploy()


def test_one_database_behind_two_connection_strings_is_deployed_once(
    tmp_path: Path, pg: object, fresh_db: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The CRM's connection names an application, the ERP's does not: what the server
    says (its system identifier, the database's oid) decides that both are one database."""
    url = fresh_db(pg)
    project = example_project(tmp_path, url, url + "?application_name=crm")
    assert cli_main(["--config", str(project.config_path), "deploy"]) == 0
    assert capsys.readouterr().out.startswith("database fno+cds: ")
    assert cli_main(["--config", str(project.config_path), "plan"]) == 0
    assert "database fno+cds: nothing to do" in capsys.readouterr().out
    with project.left() as erp:
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-1')")
    totals = project.drain()  # the applier asks the servers too: one transaction per batch
    assert (totals.applied, totals.failed) == (1, 0)
    assert rows(url, "SELECT card_number FROM cds.loyalty_card") == [("LC-1",)]


def test_deploy_waits_for_a_lock_only_so_long_and_names_who_holds_it(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deployer, "LOCK_TIMEOUT_SECONDS", 1)
    with psycopg.connect(project.left_url, application_name="erp batch job") as batch:
        batch.execute("UPDATE fno.customers SET name = name")  # and then it idles
        pid = batch.info.backend_pid
        with pytest.raises(DeployRefused) as refused:
            project.deploy()
    message = str(refused.value)
    assert re.fullmatch(
        "deploy refused, nothing changed: database fno\\+cds: no lock within 1 s"
        " \\(lock_timeout\\) on the tables deploy changes: pid (\\d+) \\(role postgres,"
        " application 'erp batch job', idle in transaction for \\d+ s\\) holds"
        " RowExclusiveLock on fno.customers. End or commit that transaction"
        " \\(SELECT pg_terminate_backend\\(\\1\\) ends the session\\), then deploy again",
        message,
    ), message
    assert f"pid {pid} " in message
    assert rows(project.left_url, "SELECT to_regclass('replicator.deployment')") == [(None,)]
    project.deploy()  # the batch job has ended


def psql(url: str, path: Path) -> subprocess.CompletedProcess[str]:
    """The README's line: psql -v ON_ERROR_STOP=1 -1 -f FILE DATABASE."""
    return subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", str(path), url],
        capture_output=True,
        text=True,
        check=False,
    )


def test_each_database_gets_a_file_psql_applies_there_and_a_file_for_the_other_stops(
    tmp_path: Path, pg: ThrowawayServer, pg2: ThrowawayServer, fresh_db: Callable[..., str]
) -> None:
    """Two servers: plan --side and plan --roles --side write one file per database; on
    the wrong database a file stops at its first statement and psql exits non-zero."""
    project = example_project(tmp_path, fresh_db(pg), fresh_db(pg2))
    files = {}
    for side, url in (("left", project.left_url), ("right", project.right_url)):
        roles = replicator(project, "plan", "--roles", "--side", side)
        plan = replicator(project, "plan", "--side", side)
        assert (roles.returncode, plan.returncode) == (0, 2)
        assert plan.stderr.startswith(
            f"database {'fno' if side == 'left' else 'cds'}: migrate the control schema"
            " 0001_baseline, 0002_gone_as_of, 0003_absorb_by_ids, 0004_crossing_cost,"
            " 0005_clean_crossings, 0006_wal_stamps, 0007_queue_key_hash,"
            " 0008_versions_hot, 0009_small_batch_plans, 0010_queue_insert_unchecked; create "
        )
        files[side] = tmp_path / f"plan-{side}.sql"
        files[side].write_text(plan.stdout)
        (tmp_path / f"roles-{side}.sql").write_text(roles.stdout)
        assert psql(url, tmp_path / f"roles-{side}.sql").returncode == 0
    wrong = psql(project.left_url, files["right"])
    assert wrong.returncode == 3  # psql: a statement of the script failed
    database = project.left_url.rsplit("/", 1)[1]
    assert (
        "replicator: this file is for the cds database (schema cds), but psql is connected to"
        f" database {database}, which lacks it"
    ) in wrong.stderr
    assert rows(project.left_url, "SELECT to_regclass('replicator.change_queue')") == [(None,)]
    for side, url in (("left", project.left_url), ("right", project.right_url)):
        applied = psql(url, files[side])
        assert applied.returncode == 0, applied.stderr
    planned = replicator(project, "plan")
    assert planned.returncode == 0
    assert planned.stderr == "database fno: nothing to do\ndatabase cds: nothing to do\n"


def test_plan_after_an_edit_says_what_changes_against_what_is_deployed(project: Project) -> None:
    project.deploy()
    project.write_map("customer_groups.toml", GROUPS_MAP)
    planned = replicator(project, "plan")
    assert planned.returncode == 2
    assert planned.stderr == (
        "database fno+cds: replace map/customer_groups/to_right/apply, dispatch, absorb,"
        " registry, dependencies;"
        " drop map/customer_groups/to_right/absorb, map/customer_groups/to_left/snapshot,"
        " map/customer_groups/to_left/capture, map/customer_groups/to_left/apply,"
        " map/customer_groups/to_left/absorb\n"
    )
    assert "--   replace map/customer_groups/to_right/apply\n" in planned.stdout


@pytest.mark.parametrize("capture", ["trigger", "wal_left"])
def test_undeploy_removes_everything_deploy_made_and_refuses_while_changes_wait(
    tmp_path: Path, pg: ThrowawayServer, fresh_db: Callable[..., str], capture: str
) -> None:
    url = fresh_db(pg)
    project = example_project(tmp_path, url, url, capture)
    project.deploy()
    with project.right() as crm:
        crm.execute(
            f"INSERT INTO cds.customer_group (companyid, group_code, name) VALUES ({USMF}, '9', 'x')"
        )
    planned = replicator(project, "plan", "--undeploy")
    assert planned.returncode == 2
    assert "DROP SCHEMA replicator CASCADE;" in planned.stdout
    assert ("pg_drop_replication_slot" in planned.stdout) == (capture != "trigger")
    refused = replicator(project, "undeploy")
    assert (refused.returncode, refused.stderr) == (
        3,
        "replicator: undeploy refused, nothing changed: 1 change still queued, parked or held"
        " on database fno+cds: run the applier until they are applied (replicator run --once),"
        " or replicator undeploy --discard-queued to throw them away\n",
    )
    done = replicator(project, "undeploy", "--discard-queued")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "database fno+cds: the replicator is removed (1 waiting change discarded)\n"
    )
    assert rows(
        url,
        "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'replicator'),"
        " (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'replicator_%'),"
        " (SELECT count(*) FROM pg_replication_slots WHERE database = current_database()),"
        " (SELECT count(*) FROM pg_replication_origin"
        "   WHERE roname LIKE '%/' || current_database())",
    ) == [(0, 0, 0, 0)]
    assert replicator(project, "status").stderr == (
        "replicator: nothing is deployed on the fno database: run replicator deploy first\n"
    )
    assert replicator(project, "undeploy").stdout == "nothing is deployed\n"
    # The application's writes go on uncaptured, and a deploy starts afresh.
    with project.left() as erp:
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-1')")
    project.deploy()
    assert queued(url) == 0
