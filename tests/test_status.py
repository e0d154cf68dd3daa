"""replicator status as monitoring reads it: whether an applier is alive and when it last
polled, per WAL slot when it was last read and how far behind it is, and --check, which
names what needs a DBA and says so in its exit code."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from devtools.throwaway import ThrowawayServer, replica_identity_full
from tests.erpcrm import erpcrm_project
from tests.support import Project, replicator, rows, running_applier, wait_for


@pytest.fixture
def project(
    tmp_path: Path, pg: ThrowawayServer, fresh_db: Callable[[ThrowawayServer], str]
) -> Project:
    url = fresh_db(pg)
    project = erpcrm_project(tmp_path / "project", url, url)
    project.deploy()
    return project


def check(project: Project, *options: str) -> tuple[int, list[str]]:
    ran = replicator(project, "status", "--check", *options)
    assert ran.stderr == ""
    return ran.returncode, ran.stdout.splitlines()


def alive(project: Project) -> bool:
    return bool(json.loads(replicator(project, "status", "--json").stdout)["appliers"][0]["alive"])


def test_status_check_says_what_needs_a_dba_and_exits_4(project: Project) -> None:
    assert check(project) == (
        4,
        ["no applier is running on erp+crm (none has run since the deploy): start replicator run"],
    )
    with running_applier(project):
        wait_for(lambda: alive(project), "the applier's heartbeat")
        assert check(project) == (0, ["ok: nothing needs a DBA"])
        shown = replicator(project, "status").stdout.splitlines()[-1]
        assert re.fullmatch(
            rf"applier on erp\+crm: running on {re.escape(socket.gethostname())} \(pid \d+\)"
            r" since \S+, last polled \d+\.\d s ago",
            shown,
        ), shown
        with project.right() as crm:
            crm.execute("ALTER TABLE crm.accounts ADD CONSTRAINT named CHECK (name <> 'poison')")
        with project.left() as erp:
            erp.execute("INSERT INTO erp.customers (id, name) VALUES (1, 'poison')")
        wait_for(lambda: check(project)[0] == 4, "the error to show")
        assert check(project) == (4, ["1 open error (map customers): replicator errors"])
        assert check(project, "--max-errors", "1") == (0, ["ok: nothing needs a DBA"])
        # A column renamed under a map fails it.
        with project.right() as crm:
            crm.execute("ALTER TABLE crm.contacts RENAME COLUMN email TO mail")
        wait_for(lambda: len(check(project)[1]) == 3, "drift to fail the map")
        code, lines = check(project, "--max-errors", "1")
        assert code == 4
        assert lines[0].startswith(
            'contacts (to_left, crm→erp) failed: map contacts: crm.contacts column "email" was'
            ' renamed to "mail"'
        )
        assert lines[1].startswith("contacts (to_right, erp→crm) failed: map contacts:")
    code, lines = check(project, "--max-errors", "1")
    assert lines[-1].startswith(
        f"no applier is running on erp+crm (the last one, on {socket.gethostname()}, polled at "
    )
    # A backlog older than --max-lag, while its map runs.
    with project.left() as erp:
        erp.execute("INSERT INTO erp.customers (id, name) VALUES (2, 'Fabrikam')")
    code, lines = check(project, "--max-errors", "1", "--max-lag", "0s")
    assert code == 4
    assert re.fullmatch(
        r"customers \(to_right, erp→crm\): the oldest of 1 queued change waits \d+\.\d s,"
        r" more than --max-lag 0 s",
        lines[2],
    ), lines


def test_a_future_capture_time_reads_as_no_age_rather_than_a_negative_one(
    project: Project,
) -> None:
    """Ages are the server's, and never below zero (status once printed "-0.0 s")."""
    with project.left() as erp:
        erp.execute("INSERT INTO erp.customers (id, name) VALUES (1, 'Contoso')")
        erp.execute("UPDATE replicator.change_queue SET captured_at = now() + interval '1 hour'")
    [customers] = [
        m
        for m in json.loads(replicator(project, "status", "--json").stdout)["maps"]
        if (m["map"], m["direction"]) == ("customers", "to_right")
    ]
    assert customers["oldest_queued_seconds"] == 0.0
    table = replicator(project, "status").stdout
    assert "| 0.0 s " in table and "-0.0" not in table


def test_a_wal_slot_shows_when_it_was_last_read_and_its_lag(
    tmp_path: Path, pg: ThrowawayServer, fresh_db: Callable[[ThrowawayServer], str]
) -> None:
    url = fresh_db(pg)
    project = erpcrm_project(tmp_path / "project", url, url)
    config = project.config_path
    config.write_text(config.read_text().replace("[left]\n", '[left]\ncapture = "wal"\n'))
    replica_identity_full(url, "erp")
    project.deploy()
    [slot] = json.loads(replicator(project, "status", "--json").stdout)["slots"]
    assert (slot["last_read_at"], slot["warning"]) == (
        None,
        "never read: start the applier (replicator run)",
    )
    with project.left() as erp:
        erp.execute("INSERT INTO erp.customers (id, name) VALUES (1, 'Contoso')")
    project.drain()
    assert rows(url, "SELECT name FROM crm.accounts") == [("Contoso",)]
    [slot] = json.loads(replicator(project, "status", "--json").stdout)["slots"]
    assert slot["warning"] is None
    assert 0 <= slot["last_read_seconds"] < 60
    assert slot["lag_bytes"] >= 0 and slot["lag_seconds"] == 0.0
    assert "active" not in slot
    table = replicator(project, "status").stdout.split("\n\n")[1].splitlines()
    assert [c.strip() for c in table[0].split("|")] == [
        "database",
        "slot",
        "wal status",
        "last read",
        "lag",
        "oldest unread",
        "retained WAL",
        "warning",
    ]
    cells = [c.strip() for c in table[2].split("|")]
    assert cells[:3] == ["erp+crm", "replicator_erp", "reserved"]
    assert re.fullmatch(r"\d+\.\d s ago", cells[3]) and re.fullmatch(r"\d+ (bytes|kB|MB)", cells[4])
