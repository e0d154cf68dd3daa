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

from replicator import deployer
from replicator.cli import main as cli_main
from replicator.errors import DeployRefused
from tests.support import Project, example_project, queued, rows, wait_for

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
    with pytest.raises(
        DeployRefused, match=r"map loyalty_cards \(to_right\) still has 1 queued changes"
    ):
        project.deploy()
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
    assert "database fno+cds: 110 created" in project.deploy()


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
