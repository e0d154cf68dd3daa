"""Failure is a first-class path: poison rows, SIGKILL, server restarts, SIGTERM; with
capture triggers and with WAL capture."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from devtools.throwaway import ThrowawayServer
from tests.support import (
    USMF,
    Project,
    applier_log,
    audit,
    cli,
    count,
    example_project,
    queued,
    rows,
    running_applier,
    spine_with_slow,
    start_applier,
    wait_for,
    wait_for_applier_sessions_to_end,
    writes,
)

BACKLOG = 10_000
# The applier's session waiting for a lock held by the test.
WAITING_APPLIER = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE application_name = 'replicator applier' AND wait_event_type = 'Lock'"
    " AND datname = current_database()"
)


def set_batch_size(project: Project, size: int) -> None:
    text = project.config_path.read_text().replace("batch_size = 1000", f"batch_size = {size}")
    project.config_path.write_text(text)


@pytest.fixture
def project(example: Callable[..., Project], topology: str, capture: str) -> Project:
    project = example(topology, capture)
    audit(project.right_url, "cds.customer_group")
    return project


def test_a_poison_row_lands_in_the_error_log_and_its_neighbours_apply(project: Project) -> None:
    with project.right() as crm:
        crm.execute(
            "ALTER TABLE cds.customer_group ADD CONSTRAINT no_poison CHECK (name <> 'poison')"
        )
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customer_groups VALUES"
            " ('usmf', '10', 'Wholesale'), ('usmf', '20', 'poison'), ('usmf', '30', 'Online')"
        )
    totals = project.drain()
    assert (totals.applied, totals.failed) == (2, 1)
    assert rows(project.right_url, "SELECT group_code FROM cds.customer_group ORDER BY 1") == [
        ("10",),
        ("30",),
    ]
    logged = rows(
        project.right_url,
        "SELECT map_name, direction, op, key, image->>'description', sqlstate, message FROM replicator.error_log",
    )
    assert logged == [
        (
            "customer_groups",
            "to_right",
            "I",
            {"dataareaid": "usmf", "customer_group": "20"},
            "poison",
            "23514",
            'new row for relation "customer_group" violates check constraint "no_poison"',
        )
    ]
    assert queued(project.left_url) == 0


# make test keeps one trigger and one WAL pair; make test-slow runs the other three.
@spine_with_slow({("one_database", "trigger"), ("two_servers", "wal_both")})
def test_sigkill_during_a_backlog_applies_every_change_exactly_once(project: Project) -> None:
    set_batch_size(project, 250)
    middle = str(BACKLOG // 2)
    with project.right() as crm:
        # The CRM already has one of the groups under another name: the ERP's (the
        # master's) version wins that conflict, an update of the row held below.
        crm.execute(
            f"INSERT INTO cds.customer_group (companyid, group_code, name) VALUES ({USMF}, %s, %s)",
            (middle, "the CRM's name"),
        )
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customer_groups SELECT 'usmf', g::text, 'group ' || g"
            f" FROM generate_series(1, {BACKLOG}) AS g"
        )
    # Hold that row, so the applier stops mid-backlog with a batch in flight: kill it there.
    with project.right() as blocker, blocker.transaction():
        blocker.execute(
            "SELECT FROM cds.customer_group WHERE group_code = %s FOR UPDATE", (middle,)
        )
        applier = start_applier(project)
        wait_for(lambda: rows(project.right_url, WAITING_APPLIER) == [(1,)], "the applier to block")
        assert 0 < count(project.right_url, "cds.customer_group") < BACKLOG
        applier.send_signal(signal.SIGKILL)
        applier.wait()
    wait_for_applier_sessions_to_end(project.left_url, project.right_url)
    # And once more wherever it happens to be.
    before = count(project.right_url, "cds.customer_group")
    applier = start_applier(project)
    wait_for(
        lambda: count(project.right_url, "cds.customer_group") > before, "progress after a restart"
    )
    applier.send_signal(signal.SIGKILL)
    applier.wait()
    wait_for_applier_sessions_to_end(project.left_url, project.right_url)
    assert project.drain().failed == 0
    assert count(project.right_url, "cds.customer_group") == BACKLOG
    assert queued(project.left_url) == 0
    # Exactly once: one insert per row it did not have, and no second write of any row.
    assert Counter(writes(project.right_url, "cds.customer_group")) == {
        ("INSERT", True): BACKLOG - 1,
        ("INSERT", False): 1,
        ("UPDATE", True): 1,
    }


def test_sigterm_finishes_the_batch_and_exits_0(project: Project) -> None:
    applier = start_applier(project)
    with project.left() as erp:
        erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale')")
    wait_for(lambda: count(project.right_url, "cds.customer_group") == 1, "the change to arrive")
    applier.send_signal(signal.SIGTERM)
    assert applier.wait(timeout=30) == 0


def test_a_second_applier_for_the_same_databases_is_refused(project: Project) -> None:
    with running_applier(project):
        with project.left() as erp:
            erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale')")
        wait_for(lambda: count(project.right_url, "cds.customer_group") == 1, "the first applier")
        second = start_applier(project)
        assert second.wait(timeout=30) == 1
        assert b"another applier is already running fno\xe2\x86\x92cds" in applier_log(second)


def test_the_applier_survives_a_database_restart(tmp_path: Path, capture: str) -> None:
    with ThrowawayServer() as server:
        url = server.create_database("restart")
        project = example_project(tmp_path, url, url, capture=capture)
        project.deploy()
        with running_applier(project) as applier:
            with project.left() as erp:
                erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '1', 'before')")
            wait_for(lambda: count(url, "cds.customer_group") == 1, "the first change")
            server.restart()
            with psycopg.connect(url, autocommit=True) as erp:
                erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '2', 'after')")
            wait_for(lambda: count(url, "cds.customer_group") == 2, "the change after the restart")
        assert b"retrying in" in applier_log(applier)


def test_no_password_appears_when_a_database_cannot_be_reached(
    tmp_path: Path, pg: ThrowawayServer
) -> None:
    project = example_project(tmp_path, pg.url("postgres"), pg.url("postgres"))
    secret_url = "postgresql://someone:s3cret-pass@127.0.0.1:1/nowhere"
    env = {**project.env(), "REPLICATOR_LEFT": secret_url, "REPLICATOR_RIGHT": secret_url}
    result = subprocess.run(
        [sys.executable, "-m", "replicator.cli", "--config", str(project.config_path), "status"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert b"cannot connect to the left side 'fno'" in result.stderr
    assert b"s3cret-pass" not in result.stderr + result.stdout
    assert os.environ.get("REPLICATOR_LEFT") != secret_url


def test_the_applier_survives_its_connections_being_terminated(project: Project) -> None:
    with running_applier(project):
        with project.left() as erp:
            erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '1', 'before')")
        wait_for(lambda: count(project.right_url, "cds.customer_group") == 1, "the first change")
        # Losing one connection makes the applier drop and reopen all of them (its
        # WAL listener's too).
        terminated = rows(
            project.left_url,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database()"
            " AND application_name IN ('replicator applier', 'replicator listener')",
        )
        # The applier's connection, and the WAL listener's two (reading, queueing).
        wal = project.config().wal_sides("left")
        assert terminated == [(1 + (2 if wal else 0),)]
        with project.left() as erp:
            erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '2', 'after')")
        wait_for(lambda: count(project.right_url, "cds.customer_group") == 2, "the change after")


def test_a_change_that_keeps_meeting_serialization_failures_goes_to_the_error_log(
    tmp_path: Path, two_sides: tuple[str, str]
) -> None:
    """The CRM hides card LC-7 from the replicator's updates (row level security that
    binds its owner role, added after deploy). The update of LC-7 can never be written:
    the batch is retried a few times, then its last try logs LC-7 and applies the rest."""
    left, right = two_sides
    project = example_project(tmp_path, left, right)
    project.deploy()
    with project.left() as erp:
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-1'), ('LC-7')")
    project.drain()
    with project.right() as crm:
        crm.execute(
            "ALTER TABLE cds.loyalty_card ENABLE ROW LEVEL SECURITY;"
            " ALTER TABLE cds.loyalty_card FORCE ROW LEVEL SECURITY;"
            " CREATE POLICY seen ON cds.loyalty_card FOR SELECT USING (true);"
            " CREATE POLICY added ON cds.loyalty_card FOR INSERT WITH CHECK (true);"
            " CREATE POLICY removed ON cds.loyalty_card FOR DELETE USING (true);"
            " CREATE POLICY changed ON cds.loyalty_card FOR UPDATE USING (card_number <> 'LC-7')"
        )
    with project.left() as erp:
        erp.execute("UPDATE fno.loyalty_cards SET tier = 'Gold'")
    totals = project.drain()  # ends: before, it retried for as long as it ran
    assert (totals.applied, totals.failed) == (1, 1)
    assert rows(right, "SELECT card_number, tier FROM cds.loyalty_card ORDER BY 1") == [
        ("LC-1", "Gold"),
        ("LC-7", "Basic"),
    ]
    assert rows(
        right, "SELECT map_name, op, key::text, sqlstate, message FROM replicator.error_log"
    ) == [
        (
            "loyalty_cards",
            "U",
            '{"card_number": "LC-7"}',
            "40001",
            "replicator: map loyalty_cards: a row of cds.loyalty_card changed while a batch"
            " was applied to it",
        )
    ]
    assert queued(left) == 0


# Waits out its 10 s give_up_after: a long fault run (make test-slow).
@pytest.mark.slow
def test_an_unreachable_database_is_retried_until_the_deadline_the_log_and_status_give(
    tmp_path: Path, pg: ThrowawayServer, fresh_db: Callable[..., str]
) -> None:
    """The CRM's server is gone (its address refuses connections). The applier retries
    for give_up_after ("5m" unless set), saying in its log, and in the status of the
    ERP's database, how long it has been retrying and when it gives up; then it exits 1."""
    left = fresh_db(pg)
    project = example_project(tmp_path, left, fresh_db(pg))
    project.deploy()
    config = project.config_path
    config.write_text(
        config.read_text().replace("batch_size = 1000", 'batch_size = 1000\ngive_up_after = "10s"')
    )
    gone = Project(project.root, left, "postgresql://postgres@127.0.0.1:1/cds")
    started = time.monotonic()
    applier = start_applier(gone)
    wait_for(
        lambda: rows(left, "SELECT count(*) FROM replicator.applier_retry") == [(1,)],
        "the applier's note",
    )
    status = cli(gone, "status")
    assert status.returncode == 1
    assert re.fullmatch(
        r"applier: retrying for \d+ s \(since [-\d :+]+\); it gives up in \d+ s \(at [-\d :+]+\):"
        r" cannot connect to the right side 'cds' \(environment variable REPLICATOR_RIGHT, .*\):"
        r" .*Connection refused \(noted in fno \d+ s ago\)\n\n",
        status.stdout,
    ), status.stdout
    assert "replicator: cannot connect to the right side 'cds'" in status.stderr
    assert applier.wait(timeout=60) == 1
    assert 10 <= time.monotonic() - started < 30
    log = applier_log(applier).decode()
    assert re.search(
        r"Connection refused; retrying in [\d.]+ s \(retrying for \d+ s, since [-\d :+T]+;"
        r" gives up in \d+ s, at [-\d :+T]+\)",
        log,
    ), log
    assert re.search(
        r"replicator: gave up after 1\d s of retrying \(the limit is 10 s\): cannot connect to"
        r" the right side 'cds'",
        log,
    ), log
    assert cli(gone, "status").stdout.startswith("applier: gave up at ")
