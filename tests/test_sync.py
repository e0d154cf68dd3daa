"""Initial sync: rows that existed before replication, prerequisites first, master
side winning, resumable after a kill, and writes during the copy neither lost
nor applied twice."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from tests.support import (
    USMF,
    Project,
    cli,
    example_project,
    rows,
    wait_for,
    wait_for_applier_sessions_to_end,
)

CARDS = 3000


@pytest.fixture
def project(tmp_path: Path, two_sides: tuple[str, str]) -> Project:
    left, right = two_sides
    return example_project(tmp_path, left, right)


def cards(url: str, table: str) -> list[tuple[object, ...]]:
    return rows(url, f"SELECT card_number, tier FROM {table} ORDER BY 1")


def test_rows_on_both_sides_are_matched_and_the_master_wins(project: Project) -> None:
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale'), ('usmf', '20', 'Retail')"
        )
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name, customer_group)"
            " VALUES ('usmf', 'A', 'Alpha', '20')"
        )
    with project.right() as crm:
        crm.execute(
            "INSERT INTO cds.customer_group (companyid, group_code, name) VALUES"
            f" ({USMF}, '20', 'Retail (CRM spelling)'), ({USMF}, '30', 'Online')"
        )
    project.deploy()
    done = cli(project, "sync", "customers_organization", "customer_groups")
    assert done.returncode == 0, done.stderr
    # Into the master (the ERP) first what only the CRM has, then the ERP's rows over.
    assert done.stdout.endswith("copied 6 rows of 2 maps\n")
    # Plain lines when not on a terminal.
    assert "customer_groups (cds→fno): 2/2 rows" in done.stdout
    assert "customer_groups (fno→cds): 3/3 rows" in done.stdout
    assert rows(
        project.right_url, "SELECT group_code, name FROM cds.customer_group ORDER BY 1"
    ) == [
        ("10", "Wholesale"),
        ("20", "Retail"),
        ("30", "Online"),
    ]
    assert rows(
        project.left_url, "SELECT customer_group, description FROM fno.customer_groups ORDER BY 1"
    ) == [("10", "Wholesale"), ("20", "Retail"), ("30", "Online")]
    # Groups first, so the customer's group reference resolves.
    assert rows(
        project.right_url,
        "SELECT a.accountnumber, g.group_code FROM cds.account a JOIN cds.customer_group g"
        " USING (customergroupid)",
    ) == [("A", "20")]
    overwritten = rows(
        project.right_url,
        "SELECT map_name, detail->'before'->>'name', detail->'after'->>'name'"
        " FROM replicator.activity_log WHERE kind = 'overwrite'",
    )
    assert overwritten == [("customer_groups", "Retail (CRM spelling)", "Retail")]
    # Nothing was captured as a change, and the maps run again.
    assert project.drain().applied == 0
    states = rows(project.left_url, "SELECT DISTINCT state FROM replicator.map_state")
    assert states == [("running",)]


def start_sync(project: Project, *args: str) -> subprocess.Popen[bytes]:
    """replicator sync ARGS in the background, to be killed."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "replicator.cli",
            "--config",
            str(project.config_path),
            "sync",
            *args,
        ],
        env=project.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def load_cards(project: Project) -> None:
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.loyalty_cards (card_number, tier)"
            f" SELECT 'LC-' || lpad(g::text, 6, '0'), 'Basic' FROM generate_series(1, {CARDS}) AS g"
        )


COPIED = "SELECT coalesce(max(copied), 0) FROM replicator.sync_progress"


def sync_under_way(project: Project) -> subprocess.Popen[bytes]:
    """The cards loaded and deployed, and their sync in the background, 50 rows a
    chunk, once it has copied one."""
    load_cards(project)
    project.deploy()
    sync = start_sync(project, "loyalty_cards", "--chunk", "50")
    wait_for(lambda: int(rows(project.right_url, COPIED)[0][0]) > 0, "the sync to copy a chunk")
    return sync


def finish_sync(project: Project) -> None:
    """Sync the cards again: it goes on from the last chunk written, and the progress
    row counts every row once."""
    done = cli(project, "sync", "loyalty_cards", "--chunk", "500")
    assert done.returncode == 0, done.stderr
    assert f"loyalty_cards (fno→cds): {CARDS}/{CARDS} rows" in done.stdout
    assert cards(project.right_url, "cds.loyalty_card") == cards(
        project.left_url, "fno.loyalty_cards"
    )
    assert rows(
        project.right_url,
        "SELECT copied FROM replicator.sync_progress WHERE direction = 'to_right'",
    ) == [(CARDS,)]


def test_a_killed_sync_continues_where_it_stopped(project: Project) -> None:
    sync = sync_under_way(project)
    sync.send_signal(signal.SIGKILL)
    sync.communicate()  # and its stderr pipe closed
    wait_for_applier_sessions_to_end(project.left_url, project.right_url)
    partial = int(rows(project.right_url, COPIED)[0][0])
    assert partial < CARDS, "the sync finished before it could be killed; make CARDS larger"
    # Still paused for the sync: nothing of the map applies meanwhile.
    assert rows(
        project.left_url,
        "SELECT state, state_reason FROM replicator.map_state"
        " WHERE map_name = 'loyalty_cards' AND direction = 'to_right'",
    ) == [("paused", "initial sync")]
    finish_sync(project)
    assert rows(
        project.left_url,
        "SELECT state FROM replicator.map_state WHERE map_name = 'loyalty_cards'",
    ) == [("running",), ("running",)]


def test_a_sync_whose_source_sessions_are_cut_says_so_and_the_next_run_finishes(
    project: Project,
) -> None:
    """The ERP's sessions are terminated in the middle of the copy, while the next chunk
    may be on its way (read ahead of the CRM's writes): the sync exits 1 with the
    database's message rather than hanging on the read; run again, it goes on from
    the last chunk written, and each row arrives once."""
    sync = sync_under_way(project)
    rows(
        project.left_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND backend_type = 'client backend'",
    )
    _, stderr = sync.communicate(timeout=60)
    assert sync.returncode == 1, "the sync finished before it could be cut; make CARDS larger"
    said = stderr.decode()
    # The server's words depend on whether the session was busy (it is told why) or
    # idle (its next query finds the connection closed) when it was terminated.
    assert re.match(
        "replicator: database error: .*(terminating connection due to administrator command"
        "|server closed the connection unexpectedly)",
        said,
    ), said
    finish_sync(project)


def test_writes_during_the_sync_are_neither_lost_nor_applied_twice(project: Project) -> None:
    load_cards(project)
    project.deploy()
    stop = threading.Event()

    def write() -> None:
        n = 0
        with project.left() as erp:
            while not stop.is_set():
                n += 1
                erp.execute(
                    "UPDATE fno.loyalty_cards SET tier = %s WHERE card_number = %s",
                    (f"T{n % 7}", f"LC-{(n * 37) % CARDS + 1:06d}"),
                )
                erp.execute(
                    "INSERT INTO fno.loyalty_cards (card_number) VALUES (%s)", (f"NEW-{n}",)
                )
                erp.execute(
                    "DELETE FROM fno.loyalty_cards WHERE card_number = %s",
                    (f"LC-{(n * 53) % CARDS + 1:06d}",),
                )

    writer = threading.Thread(target=write)
    writer.start()
    try:
        done = cli(project, "sync", "loyalty_cards", "--chunk", "100")
    finally:
        stop.set()
        writer.join()
    assert done.returncode == 0, done.stderr
    project.drain()
    assert cards(project.right_url, "cds.loyalty_card") == cards(
        project.left_url, "fno.loyalty_cards"
    )
    assert rows(project.right_url, "SELECT count(*) FROM replicator.error_log") == [(0,)]


def progressed(url: str, rows_copied: int) -> bool:
    return (
        int(rows(url, "SELECT coalesce(max(copied), 0) FROM replicator.sync_progress")[0][0])
        >= rows_copied
    )


@pytest.mark.slow
def test_a_million_row_sync_killed_twice_copies_each_row_once(
    tmp_path: Path, pg: object, fresh_db: Callable[..., str]
) -> None:
    url = fresh_db(pg)
    project = example_project(tmp_path, url, url)
    rows_total = 1_000_000
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.loyalty_cards (card_number, tier)"
            f" SELECT 'M-' || g, 'Basic' FROM generate_series(1, {rows_total}) AS g"
        )
    project.deploy()
    copied = "SELECT coalesce(max(copied), 0) FROM replicator.sync_progress"
    for threshold in (200_000, 600_000):
        sync = start_sync(project, "loyalty_cards")
        wait_for(partial(progressed, url, threshold), "the sync to get that far", 300)
        sync.send_signal(signal.SIGKILL)
        sync.wait()
        assert int(rows(url, copied)[0][0]) < rows_total, "finished before the kill"
    done = cli(project, "sync", "loyalty_cards")
    assert done.returncode == 0, done.stderr
    assert rows(url, "SELECT count(*), count(DISTINCT card_number) FROM cds.loyalty_card") == [
        (rows_total, rows_total)
    ]
    assert rows(
        url, "SELECT copied FROM replicator.sync_progress WHERE direction = 'to_right'"
    ) == [(rows_total,)]
