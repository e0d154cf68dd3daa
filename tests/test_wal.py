"""WAL capture: changes read from a logical slot (wal2json) cross like trigger-captured
ones, once, and never come back; unchanged TOAST values stay; TRUNCATE follows the
map's policy; the slot is set up by deploy and watched by status."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from devtools.throwaway import ThrowawayServer
from replicator.runtime import walstream
from replicator.runtime.listener import Listener
from tests.support import (
    Project,
    audit,
    cli,
    count,
    queued,
    rows,
    running_applier,
    start_applier,
    wait_for,
    wait_for_applier_sessions_to_end,
    writes,
)

ITEMS_DDL = """
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE {schema}.items (
    code  text PRIMARY KEY,
    name  text NOT NULL,
    notes text,
    price numeric(12, 4),
    body  text
);
-- Conflicts between both sides are judged by the whole row before an update.
ALTER TABLE {schema}.items REPLICA IDENTITY FULL;
"""

ITEMS_MAP = """
[[map]]
name = "items"
left = "items"
right = "items"
direction = "both"
on_truncate = "{on_truncate}"

  [[map.field]]
  left = "code"
  right = "code"
  key = true

  [[map.field]]
  left = "name"
  right = "name"

  [[map.field]]
  left = "price"
  right = "price"

  [[map.field]]
  left = "body"
  right = "body"
"""


def items_project(
    tmp_path: Path,
    left: str,
    right: str,
    captures: tuple[str, str] = ("wal", "wal"),
    on_truncate: str = "refuse",
) -> Project:
    root = tmp_path / "project"
    (root / "maps").mkdir(parents=True)
    (root / "replicator.toml").write_text(
        'maps = "maps"\n'
        f'[left]\nname = "erp"\nschema = "erp"\nconninfo_env = "REPLICATOR_LEFT"\ncapture = "{captures[0]}"\n'
        f'[right]\nname = "crm"\nschema = "crm"\nconninfo_env = "REPLICATOR_RIGHT"\ncapture = "{captures[1]}"\n'
    )
    for url, schema in ((left, "erp"), (right, "crm")):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(ITEMS_DDL.format(schema=schema).encode())
    project = Project(root, left, right)
    project.write_map("items.toml", ITEMS_MAP.format(on_truncate=on_truncate))
    return project


def committed(url: str, statement: str) -> None:
    """Run ``statement`` and wait for its commit to be flushed, so the slot sees it."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = on")
        conn.execute(statement.encode())


@pytest.fixture
def project(tmp_path: Path, two_sides: tuple[str, str]) -> Project:
    left, right = two_sides
    project = items_project(tmp_path, left, right)
    project.deploy()
    audit(left, "erp.items")
    audit(right, "crm.items")
    return project


def test_a_change_crosses_once_and_nothing_comes_back(project: Project) -> None:
    committed(project.left_url, "INSERT INTO erp.items VALUES ('A', 'anvil', 'x', 12.5, 'b')")
    assert project.drain().applied == 1
    assert rows(project.right_url, "SELECT code, name, price FROM crm.items") == [
        ("A", "anvil", 12.5)
    ]
    committed(project.right_url, "UPDATE crm.items SET name = 'ANVIL'")
    assert project.drain().applied == 1
    assert rows(project.left_url, "SELECT name FROM erp.items") == [("ANVIL",)]
    assert project.drain().applied == 0
    assert writes(project.right_url, "crm.items") == [("INSERT", True), ("UPDATE", False)]
    assert writes(project.left_url, "erp.items") == [("INSERT", False), ("UPDATE", True)]
    assert queued(project.left_url) == 0 and queued(project.right_url) == 0


def test_an_update_of_unmapped_columns_writes_nothing_on_the_other_side(project: Project) -> None:
    committed(project.left_url, "INSERT INTO erp.items VALUES ('A', 'anvil', 'x', 1, 'b')")
    project.drain()
    committed(project.left_url, "UPDATE erp.items SET notes = 'only the ERP has notes'")
    project.drain()
    assert writes(project.right_url, "crm.items") == [("INSERT", True)]


# An incompressible value well over the TOAST threshold: stored out of line.
BIG = "SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 4000)"


@pytest.mark.parametrize("identity", ["DEFAULT", "FULL"])
def test_an_update_that_leaves_a_toasted_value_alone_leaves_it_alone_over_there(
    project: Project, identity: str
) -> None:
    committed(project.left_url, f"ALTER TABLE erp.items REPLICA IDENTITY {identity}")
    committed(project.left_url, f"INSERT INTO erp.items SELECT 'A', 'anvil', '', 1, ({BIG})")
    project.drain()
    big = "SELECT md5(body), length(body), name FROM {}.items"
    original = rows(project.left_url, big.format("erp"))
    assert original[0][1] == 128_000
    assert rows(project.right_url, big.format("crm")) == original
    committed(project.left_url, "UPDATE erp.items SET name = 'ANVIL'")
    assert project.drain().applied == 1
    assert rows(project.right_url, big.format("crm")) == [(original[0][0], 128_000, "ANVIL")]


@pytest.mark.parametrize("capture", ["trigger", "wal"])
def test_a_truncate_is_refused_into_the_error_log_by_default(
    tmp_path: Path, fresh_db: Callable[[ThrowawayServer], str], pg: ThrowawayServer, capture: str
) -> None:
    url = fresh_db(pg)
    project = items_project(tmp_path, url, url, captures=(capture, capture))
    project.deploy()
    committed(url, "INSERT INTO erp.items (code, name) VALUES ('A', 'anvil'), ('B', 'bolt')")
    project.drain()
    committed(url, "TRUNCATE erp.items")
    committed(url, "INSERT INTO erp.items (code, name) VALUES ('C', 'clamp')")
    totals = project.drain()
    assert (totals.applied, totals.failed) == (1, 1)
    assert rows(url, "SELECT code FROM crm.items ORDER BY 1") == [("A",), ("B",), ("C",)]
    assert rows(
        url, "SELECT map_name, direction, op, sqlstate, message FROM replicator.error_log"
    ) == [
        (
            "items",
            "to_right",
            "T",
            "0A000",
            'replicator: map items does not replicate a TRUNCATE of erp.items (on_truncate = "refuse")',
        )
    ]


@pytest.mark.parametrize("capture", ["trigger", "wal"])
def test_a_truncate_replicates_as_deletes_when_the_map_says_so(
    tmp_path: Path, fresh_db: Callable[[ThrowawayServer], str], pg: ThrowawayServer, capture: str
) -> None:
    url = fresh_db(pg)
    project = items_project(
        tmp_path, url, url, captures=(capture, capture), on_truncate="replicate"
    )
    project.deploy()
    committed(url, "INSERT INTO erp.items (code, name) VALUES ('A', 'anvil'), ('B', 'bolt')")
    project.drain()
    # In one batch: rows written before the TRUNCATE are gone, rows after it stay.
    committed(url, "INSERT INTO erp.items (code, name) VALUES ('Z', 'zip')")
    committed(url, "TRUNCATE erp.items")
    committed(url, "INSERT INTO erp.items (code, name) VALUES ('C', 'clamp')")
    totals = project.drain()
    assert totals.failed == 0
    assert rows(url, "SELECT code FROM crm.items ORDER BY 1") == [("C",)]
    # The deletes on the CRM were the replicator's: nothing comes back.
    assert rows(url, "SELECT code FROM erp.items ORDER BY 1") == [("C",)]
    assert project.drain().applied == 0


def queue_inserts(url: str) -> int:
    """Changes ever queued here (the audit counts inserts into the queue)."""
    return len([w for w in writes(url, "replicator.change_queue") if w[0] == "INSERT"])


def test_transactions_read_again_after_a_crash_are_not_queued_twice(project: Project) -> None:
    """The window between queueing a transaction and advancing the slot: a copy of
    the slot from before the read stands in for a slot whose advance was lost."""
    audit(project.left_url, "replicator.change_queue")
    with psycopg.connect(project.left_url, autocommit=True) as conn:
        conn.execute("SELECT pg_copy_logical_replication_slot('replicator_erp', 'before_read')")
    for n in range(3):
        committed(project.left_url, f"INSERT INTO erp.items (code, name) VALUES ('K{n}', 'k')")
    project.drain()
    assert queue_inserts(project.left_url) == 3
    with psycopg.connect(project.left_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot('replicator_erp')")
        conn.execute("SELECT pg_copy_logical_replication_slot('before_read', 'replicator_erp')")
        conn.execute("SELECT pg_drop_replication_slot('before_read')")
    committed(project.left_url, "INSERT INTO erp.items (code, name) VALUES ('K3', 'k')")
    project.drain()
    assert queue_inserts(project.left_url) == 4
    assert rows(project.right_url, "SELECT count(*) FROM crm.items") == [(4,)]


def test_a_large_transaction_is_read_a_bounded_chunk_at_a_time(project: Project) -> None:
    committed(
        project.left_url,
        "INSERT INTO erp.items (code, name) SELECT 'K' || n, 'k' FROM generate_series(1, 20000) AS n",
    )
    listener = Listener(project.left_url, "erp", limit=1000, chunk=500)
    listener.open()
    try:
        # A transaction is queued whole, whatever the limit, but never held whole.
        assert listener.poll() == 20000
        assert listener.peak_held == 500
    finally:
        listener.close()
    project.drain()
    assert rows(project.right_url, "SELECT count(*) FROM crm.items") == [(20000,)]


def test_one_read_of_many_small_transactions_queues_them_in_one_transaction(
    project: Project,
) -> None:
    """Not a transaction per source transaction: under many small writes that cost
    more than the capture itself. Its commit records the last one as read, and each
    change keeps its own commit time (newest_wins compares them)."""
    for n in range(50):
        committed(project.left_url, f"INSERT INTO erp.items (code, name) VALUES ('K{n}', 'k')")
    listener = Listener(project.left_url, "erp", limit=1000)
    listener.open()
    try:
        assert listener.poll() == 50
        assert rows(
            project.left_url,
            "SELECT count(*), count(DISTINCT q.xmin::text),"
            "       count(*) FILTER (WHERE q.stamp = replicator.commit_stamp(i.xmin))"
            "  FROM replicator.change_queue AS q JOIN erp.items AS i ON i.code = q.key->>'code'",
        ) == [(50, 1, 50)]
        assert listener.poll() == 0
    finally:
        listener.close()
    project.drain()
    assert rows(project.right_url, "SELECT count(*) FROM crm.items") == [(50,)]


def test_a_change_read_after_the_replicator_wrote_its_row_crosses_as_the_row_is_now(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The left's update of K1 commits after a round has read the left's slot and
    before it writes the right's update of K1 there; the next round reads that
    update together with a later transaction. Compared with the later one's commit,
    the update would look as if it knew the right's write, and win over there while
    the left kept the right's value. Compared with its own, it is late: the row
    crosses as it is now, and both sides end equal."""
    for code in ("K1", "K2"):
        committed(project.left_url, f"INSERT INTO erp.items (code, name) VALUES ('{code}', 'first')")
    project.drain()
    committed(project.right_url, "UPDATE crm.items SET name = 'right' WHERE code = 'K1'")
    reads = Counter[bool]()
    queue_committed = Listener.queue_committed

    def read_then_write(listener: Listener, most: int, stopping: Callable[[], bool]) -> int:
        left = listener.label.startswith("erp")  # "erp", or "erp+crm" in one database
        reads[left] += 1
        if left and reads[left] == 2:
            committed(project.left_url, "UPDATE erp.items SET name = 'later' WHERE code = 'K2'")
        queued_now = queue_committed(listener, most, stopping)
        if left and reads[left] == 1:
            committed(project.left_url, "UPDATE erp.items SET name = 'early' WHERE code = 'K1'")
        return queued_now

    monkeypatch.setattr(Listener, "queue_committed", read_then_write)
    project.drain()
    assert reads[True] >= 2
    assert rows(project.left_url, "SELECT code, name FROM erp.items ORDER BY code") == [
        ("K1", "right"),
        ("K2", "later"),
    ]
    assert rows(project.right_url, "SELECT code, name FROM crm.items ORDER BY code") == [
        ("K1", "right"),
        ("K2", "later"),
    ]


def test_a_slot_moves_on_while_its_tables_are_idle(
    project: Project, fresh_db: Callable[[ThrowawayServer], str], pg: ThrowawayServer
) -> None:
    """WAL the slot decodes nothing from (another database's, the replicator's own
    writes) must not pile up behind it."""
    listener = Listener(project.left_url, "erp", limit=1000)
    listener.open()
    confirmed = (
        "SELECT pg_wal_lsn_diff(confirmed_flush_lsn, '0/0') FROM pg_replication_slots"
        " WHERE database = current_database()"
    )
    try:
        listener.poll()
        wait_for(lambda: rows(project.left_url, confirmed)[0][0] is not None, "the slot confirmed")
        [(before,)] = rows(project.left_url, confirmed)
        committed(fresh_db(pg), "CREATE TABLE busy AS SELECT generate_series(1, 10000) AS n")
        assert listener.poll() == 0
        # The walsender takes the confirmation in its own time.
        wait_for(lambda: rows(project.left_url, confirmed)[0][0] > before, "the slot moved on")
    finally:
        listener.close()


def test_a_stream_left_unread_while_batches_apply_is_kept_alive(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walsender ends a stream it hears nothing from for wal_sender_timeout; the
    applier, applying a long backlog between reads, says now and then that it is there,
    so the next read goes on where the last stopped rather than failing."""
    monkeypatch.setattr(walstream, "KEEP_ALIVE_SECONDS", 0.2)
    quick = make_conninfo(project.left_url, options="-c wal_sender_timeout=1s")
    listener = Listener(quick, "erp", limit=1000)
    listener.open()
    try:
        listener.poll()
        for _ in range(15):  # three times the timeout, as batches would take it
            time.sleep(0.2)
            listener.keep_alive()
        committed(project.left_url, "INSERT INTO erp.items VALUES ('A', 'anvil', 'x', 12.5, 'b')")
        assert listener.poll() == 1
    finally:
        listener.close()


def test_status_shows_the_slot_and_warns_over_the_threshold(project: Project) -> None:
    config = project.config_path.read_text()
    project.config_path.write_text('retained_wal_warning = "0kB"\n' + config)
    project.drain()
    status = json.loads(cli(project, "status", "--json").stdout)
    slots = {s["slot"]: s for s in status["slots"]}
    erp = slots["replicator_erp"]
    assert erp["wal_status"] == "reserved" and erp["retained_bytes"] > 0
    assert erp["warning"] == "retains more WAL than retained_wal_warning (0 bytes)"
    printed = cli(project, "status").stdout
    assert "replicator_erp" in printed and "retains more WAL" in printed


def test_a_lost_slot_fails_its_maps_and_says_how_to_recover(project: Project) -> None:
    with psycopg.connect(project.left_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot('replicator_erp')")
    project.drain()
    state = rows(
        project.left_url,
        "SELECT direction, state, state_reason FROM replicator.map_state ORDER BY direction",
    )
    failed = {d: (s, r) for d, s, r in state}["to_right"]
    assert failed[0] == "failed"
    assert failed[1].startswith("slot replicator_erp on erp")
    assert failed[1].endswith(
        "To recover: run replicator deploy (it creates the slot again), then replicator sync"
        " items to bring the other side back in step, then replicator resume items"
    )
    # Recovery as the message says: deploy makes the slot again, sync, resume.
    committed(project.left_url, "INSERT INTO erp.items (code, name) VALUES ('M', 'missed')")
    assert "slot replicator_erp created" in project.deploy()
    assert cli(project, "sync", "items").returncode == 0
    assert cli(project, "resume", "items").returncode == 0
    committed(project.left_url, "INSERT INTO erp.items (code, name) VALUES ('N', 'new')")
    project.drain()
    assert rows(project.right_url, "SELECT code FROM crm.items ORDER BY 1") == [("M",), ("N",)]


class WriterUntilArrived(threading.Thread):
    """An application committing one row after another into erp.items, never pausing,
    until the CRM shows a row or ``deadline`` seconds pass; ``arrived`` says which."""

    def __init__(self, source: str, target: str, deadline: float) -> None:
        super().__init__(daemon=True)
        self.source, self.target, self.deadline = source, target, deadline
        self.rows = 0
        self.arrived = False

    def run(self) -> None:
        ends = time.monotonic() + self.deadline
        with (
            psycopg.connect(self.source, autocommit=True) as source,
            psycopg.connect(self.target, autocommit=True) as target,
        ):
            while time.monotonic() < ends:
                for _ in range(20):
                    source.execute(
                        "INSERT INTO erp.items (code, name) VALUES (%s, 'x')", (f"W{self.rows}",)
                    )
                    self.rows += 1
                if target.execute("SELECT EXISTS (SELECT FROM crm.items)").fetchone() == (True,):
                    self.arrived = True
                    return


def test_rows_cross_while_the_application_keeps_writing(project: Project) -> None:
    """A steady writer never lets the slot run empty. The applier reads each slot only
    up to where the WAL stood as its round began, then applies, so rows reach the other
    side while the writes go on (it once read until the slot was empty, and applied
    nothing until the writer stopped). batch_size = 1: a poll reads one transaction,
    and one writer outpaces it."""
    project.config_path.write_text("batch_size = 1\n" + project.config_path.read_text())
    writer = WriterUntilArrived(project.left_url, project.right_url, deadline=60)
    with running_applier(project):
        # The applier is up once its listener has read the slot (status: "last read").
        wait_for(
            lambda: rows(project.left_url, "SELECT read_at IS NOT NULL FROM replicator.wal_listener")
            == [(True,)],
            "the applier to read the slot",
        )
        writer.start()
        writer.join()
    assert writer.arrived, f"nothing crossed while the writer committed {writer.rows} rows"
    project.drain()
    assert count(project.right_url, "crm.items") == writer.rows
    assert Counter(writes(project.right_url, "crm.items")) == {("INSERT", True): writer.rows}


BACKLOG = 50_000


def app_writes(url: str, table: str) -> int:
    """Rows the application changed in ``table`` (the audit counts each row write)."""
    return len([w for w in writes(url, table) if not w[1]])


@pytest.mark.slow
def test_sigkill_again_and_again_during_a_backlog_queues_and_applies_each_change_once(
    project: Project,
) -> None:
    audit(project.left_url, "replicator.change_queue")
    for start in range(0, BACKLOG, 1000):
        committed(
            project.left_url,
            "INSERT INTO erp.items (code, name, price)"
            f" SELECT 'K' || n, 'item ' || n, n FROM generate_series({start + 1}, {start + 1000}) AS n",
        )
    arrived = 0
    for _ in range(4):
        applier = start_applier(project)
        wanted = arrived + 2000
        wait_for(
            lambda: count(project.right_url, "crm.items") > wanted,  # noqa: B023
            "progress to kill",
        )
        applier.send_signal(signal.SIGKILL)
        applier.wait()
        wait_for_applier_sessions_to_end(project.left_url, project.right_url)
        arrived = count(project.right_url, "crm.items")
        assert arrived < BACKLOG, "killed after the end: make the backlog larger"
    assert project.drain().failed == 0
    assert rows(project.right_url, "SELECT count(*), sum(price) FROM crm.items") == [
        (BACKLOG, BACKLOG * (BACKLOG + 1) // 2)
    ]
    # Each change read from the slot once into the queue, and written over there once.
    assert queue_inserts(project.left_url) == BACKLOG
    assert Counter(writes(project.right_url, "crm.items")) == {("INSERT", True): BACKLOG}


@pytest.mark.slow
def test_restarting_either_server_under_load_repeats_and_loses_nothing(tmp_path: Path) -> None:
    with ThrowawayServer() as erp_server, ThrowawayServer() as crm_server:
        left = erp_server.create_database("erp")
        right = crm_server.create_database("crm")
        project = items_project(tmp_path, left, right)
        project.deploy()
        audit(left, "replicator.change_queue")
        audit(right, "crm.items")
        written = Writer(left, "erp.items", "L")
        with running_applier(project):
            written.start()
            wait_for(lambda: count(right, "crm.items") > 200, "replication under load")
            for server, name in ((crm_server, "CRM"), (erp_server, "ERP")):
                server.restart()
                before = count(right, "crm.items")
                wait_for(
                    lambda: count(right, "crm.items") > before + 200,  # noqa: B023
                    f"replication after the {name}'s restart",
                )
            written.stop()
            wait_for(lambda: count(right, "crm.items") == written.rows, "the backlog to drain")
        assert queue_inserts(left) == written.rows
        assert Counter(writes(right, "crm.items")) == {("INSERT", True): written.rows}


class Writer(threading.Thread):
    """An application inserting rows into ``table`` in small transactions until stopped,
    riding out a restart of its server; ``rows`` is what it committed."""

    def __init__(self, url: str, table: str, prefix: str) -> None:
        super().__init__(daemon=True)
        self.url, self.table, self.prefix = url, table, prefix
        self.rows = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    while not self.stopping.is_set():
                        conn.execute(
                            f"INSERT INTO {self.table} (code, name)"
                            " SELECT %s || n, 'x' FROM generate_series(%s::int, %s::int) AS n",
                            (self.prefix, self.rows + 1, self.rows + 10),
                        )
                        self.rows += 10
                        time.sleep(0.01)
            except psycopg.OperationalError:
                time.sleep(0.2)  # the server restarts; an insert cut off never committed

    def stop(self) -> None:
        self.stopping.set()
        self.join()
        self.rows = count(self.url, self.table)


SOAK_SECONDS = float(os.environ.get("REPLICATOR_SOAK_SECONDS", "180"))

COUNT_QUEUED = """
CREATE TABLE audit.queued (direction text);
CREATE FUNCTION audit.count_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit.queued VALUES (NEW.direction);
    RETURN NULL;
END $$;
CREATE TRIGGER count_queued AFTER INSERT ON replicator.change_queue
FOR EACH ROW EXECUTE FUNCTION audit.count_queued();
"""


class RandomWriter(threading.Thread):
    """An application inserting, updating and deleting its own rows at random."""

    def __init__(self, url: str, table: str, prefix: str, seed: int) -> None:
        super().__init__(daemon=True)
        self.url, self.table, self.prefix = url, table, prefix
        self.random = random.Random(seed)
        self.stopping = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stopping.is_set():
                code = f"{self.prefix}{self.random.randrange(300)}"
                kind = self.random.random()
                if kind < 0.4:
                    conn.execute(
                        f"INSERT INTO {self.table} (code, name, price) VALUES (%s, 'new', %s)"
                        " ON CONFLICT (code) DO NOTHING",
                        (code, self.random.randrange(1000)),
                    )
                elif kind < 0.8:
                    conn.execute(
                        f"UPDATE {self.table} SET name = %s, price = price + 1 WHERE code = %s",
                        (f"name {self.random.randrange(5)}", code),
                    )
                else:
                    conn.execute(f"DELETE FROM {self.table} WHERE code = %s", (code,))
                time.sleep(self.random.random() / 200)

    def stop(self) -> None:
        self.stopping.set()
        self.join()


@pytest.mark.slow
def test_minutes_of_random_writes_on_both_sides_end_in_step_without_an_echo(
    tmp_path: Path, fresh_db: Callable[[ThrowawayServer], str], pg: ThrowawayServer
) -> None:
    """Both sides in one database: one slot decodes both, and the replicator's writes
    on each side must never be queued again. Every change queued on a side is one an
    application made there."""
    url = fresh_db(pg)
    project = items_project(tmp_path, url, url)
    project.deploy()
    audit(url, "erp.items", "crm.items")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(COUNT_QUEUED.encode())
    writers = [RandomWriter(url, "erp.items", "E", 1), RandomWriter(url, "crm.items", "C", 2)]
    with running_applier(project):
        for writer in writers:
            writer.start()
        time.sleep(SOAK_SECONDS)
        for writer in writers:
            writer.stop()
        committed(url, "SELECT 1")  # everything written is flushed, so the slot sees it
        same = "SELECT code, name, price FROM {}.items ORDER BY code"
        wait_for(
            lambda: (
                queued(url) == 0 and rows(url, same.format("erp")) == rows(url, same.format("crm"))
            ),
            "both sides to agree",
            timeout=300,
        )
    queued_by = dict(rows(url, "SELECT direction, count(*) FROM audit.queued GROUP BY 1"))
    assert queued_by == {
        "to_right": app_writes(url, "erp.items"),
        "to_left": app_writes(url, "crm.items"),
    }
    assert project.drain().applied == 0


def test_a_slot_the_server_invalidates_fails_its_maps_with_the_way_back(tmp_path: Path) -> None:
    """max_slot_wal_keep_size: the server gives up a slot that holds back too much WAL."""
    settings = {"max_slot_wal_keep_size": "1MB", "max_wal_size": "32MB", "min_wal_size": "32MB"}
    with ThrowawayServer(settings) as server:
        url = server.create_database("erp")
        project = items_project(tmp_path, url, url)
        project.deploy()
        committed(url, "INSERT INTO erp.items (code, name) VALUES ('A', 'anvil')")
        project.drain()
        committed(url, "INSERT INTO erp.items (code, name) VALUES ('B', 'bolt')")
        with psycopg.connect(url, autocommit=True) as conn:
            # The applier is not running: WAL piles up behind the slot until the
            # server lets it go at a checkpoint.
            for _ in range(3):
                conn.execute("CREATE TEMP TABLE filler AS SELECT generate_series(1, 50000) AS n")
                conn.execute("DROP TABLE filler")
                conn.execute("SELECT pg_switch_wal()")
            conn.execute("CHECKPOINT")
            lost = conn.execute(
                "SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'replicator_erp'"
            ).fetchone()
        assert lost == ("lost",)
        assert project.drain().applied == 0
        assert rows(
            url, "SELECT state, state_reason FROM replicator.map_state WHERE direction = 'to_right'"
        ) == [
            (
                "failed",
                "slot replicator_erp on erp+crm was invalidated by the server (wal_status lost):"
                " changes made there since were not captured. To recover: run replicator deploy"
                " (it creates the slot again), then replicator sync items to bring the other"
                " side back in step, then replicator resume items",
            )
        ]
        status = json.loads(cli(project, "status", "--json").stdout)["slots"]
        assert [(s["wal_status"], s["warning"]) for s in status] == [
            ("lost", "changes are not captured: replicator deploy, then sync and resume its maps")
        ]
        assert "slot replicator_erp created" in project.deploy()
        assert cli(project, "sync", "items").returncode == 0
        assert cli(project, "resume", "items").returncode == 0
        assert rows(url, "SELECT code FROM crm.items ORDER BY 1") == [("A",), ("B",)]
