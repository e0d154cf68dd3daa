"""Convergence under fire (issue 7): an ERP and a CRM write the same few rows at once,
inserting, updating overlapping and disjoint fields and deleting, while the applier is
SIGKILLed and restarted at random points and, once per run, a server restarts. After the
backlog drains, both sides hold the same rows, every conflict is in the conflict log, and
no change was queued or applied twice.

Each seed is one such history, on its own keys, in a project deployed once per setting
(topology and capture). ``random.Random`` seeded with the setting and the seed decides
the writes, their grouping into transactions, the kill and restart points; the
interleaving of the two writers and the applier is the machine's.

    REPLICATOR_CONVERGENCE_SEEDS=500   seeds per setting (default 13: 52 histories)
    REPLICATOR_CONVERGENCE_SEED=17     only seed 17 (a failure prints its own line)
    REPLICATOR_CONVERGENCE_DISJOINT=1  each side writes keys of its own: no conflicts
"""

from __future__ import annotations

import datetime
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from psycopg import sql

from devtools.throwaway import ThrowawayServer
from tests.support import (
    Project,
    applier_log,
    start_applier,
    wait_for,
    wait_for_applier_sessions_to_end,
)

# (topology, capture as in tests.support.CAPTURES).
SETTINGS = (
    ("one_database", "trigger"),
    ("two_servers", "trigger"),
    ("two_servers", "wal_both"),
    ("two_servers", "wal_left"),
)
SEEDS = int(os.environ.get("REPLICATOR_CONVERGENCE_SEEDS", "13"))
ONLY_SEED = os.environ.get("REPLICATOR_CONVERGENCE_SEED")
SEED_LIST = [int(ONLY_SEED)] if ONLY_SEED else list(range(SEEDS))
# The seeds whose history includes a server restart: one per setting in the CI-sized run.
RESTART_EVERY, RESTART_AT = 50, 5

# Writers on both sides share keys, so they conflict. REPLICATOR_CONVERGENCE_DISJOINT=1
# gives each side keys of its own: nothing can conflict, and the harness itself (kills,
# restarts, drain, the checks) is what is under test.
OVERLAPPING = not os.environ.get("REPLICATOR_CONVERGENCE_DISJOINT")

# Three maps, one per policy; under left_wins and right_wins field c has the other
# side's policy (newest_wins decides whole rows: its fields have none of their own).
TABLES: dict[str, tuple[str, str | None]] = {
    # table: (the map's policy, field c's policy)
    "lw": ("left_wins", "right_wins"),
    "rw": ("right_wins", "left_wins"),
    "nw": ("newest_wins", None),
}
FIELDS = ("a", "b", "c")
SCHEMAS = {"left": "erp", "right": "crm"}

TABLE_DDL = "CREATE TABLE {table} (k text PRIMARY KEY, a text, b text, c text)"

MAP = """
[[map]]
name = "{table}"
left = "{table}"
right = "{table}"
direction = "both"
{conflict}
  [[map.field]]
  left = "k"
  right = "k"
  key = true

  [[map.field]]
  left = "a"
  right = "a"

  [[map.field]]
  left = "b"
  right = "b"

  [[map.field]]
  left = "c"
  right = "c"
{field_conflict}
"""

# Every row write to the replicated tables, by the application or the replicator, with
# the row before and after it, in the order this database made them. ``at`` orders
# writes of the two servers: they share one clock.
AUDIT_DDL = """
CREATE SCHEMA IF NOT EXISTS audit;
CREATE TABLE IF NOT EXISTS audit.history (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    side     text        NOT NULL,
    tbl      text        NOT NULL,
    k        text        NOT NULL,
    op       text        NOT NULL,
    applying boolean     NOT NULL,
    old      jsonb,
    new      jsonb
);
CREATE OR REPLACE FUNCTION audit.record_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit.history (side, tbl, k, op, applying, old, new)
    VALUES (TG_ARGV[0], TG_TABLE_NAME,
            CASE WHEN TG_OP = 'DELETE' THEN OLD.k ELSE NEW.k END, TG_OP,
            coalesce(current_setting('replicator.applying', true), '') = 'on',
            CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
            CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);
    RETURN NULL;
END $$;
-- Every change ever queued here, by a capture trigger or the WAL listener.
CREATE TABLE IF NOT EXISTS audit.queued (direction text, map_name text, op text, k text);
CREATE OR REPLACE FUNCTION audit.record_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit.queued VALUES (NEW.direction, NEW.map_name, NEW.op, NEW.image->>'k');
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER record_queued AFTER INSERT ON replicator.change_queue
FOR EACH ROW EXECUTE FUNCTION audit.record_queued();
"""

# -- the rig: servers, databases, one deployed project per setting -----------------------


class Servers:
    """The module's servers, started on first use, with commit timestamps for newest_wins.
    Their own (not the session's): one of them is restarted."""

    def __init__(self) -> None:
        self.started: list[ThrowawayServer] = []

    def get(self, index: int) -> ThrowawayServer:
        while len(self.started) <= index:
            self.started.append(ThrowawayServer({"track_commit_timestamp": "on"}))
        return self.started[index]

    def stop(self) -> None:
        for server in self.started:
            server.stop()


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    made = Servers()
    yield made
    made.stop()


@dataclass
class Rig:
    """One setting's project, deployed, with the servers behind each side."""

    setting: str
    project: Project
    server: dict[str, ThrowawayServer]  # by side
    wal_urls: tuple[str, ...]  # databases whose slot the applier reads

    @property
    def urls(self) -> dict[str, str]:
        return {"left": self.project.left_url, "right": self.project.right_url}

    @property
    def databases(self) -> list[str]:
        return list(dict.fromkeys(self.urls.values()))


@pytest.fixture(scope="module", params=SETTINGS, ids=[f"{t}-{c}" for t, c in SETTINGS])
def rig(
    request: pytest.FixtureRequest, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Rig]:
    topology, capture = request.param
    setting = f"{topology}-{capture}"
    server = {"left": servers.get(0)}
    server["right"] = servers.get(1) if topology == "two_servers" else server["left"]
    name = f"conv_{topology}_{capture}"
    left_url = server["left"].create_database(name)
    urls = {
        "left": left_url,
        "right": left_url if topology == "one_database" else server["right"].create_database(name),
    }
    wal = {"trigger": (), "wal_left": ("left",), "wal_both": ("left", "right")}[capture]
    root = tmp_path_factory.mktemp(setting) / "project"
    (root / "maps").mkdir(parents=True)
    # Small batches: a backlog takes several, so kills land between them, and a key's
    # changes are split across batches.
    (root / "replicator.toml").write_text(
        'maps = "maps"\nbatch_size = 5\n'
        + "".join(
            f'[{side}]\nname = "{SCHEMAS[side]}"\nschema = "{SCHEMAS[side]}"\n'
            f'conninfo_env = "REPLICATOR_{side.upper()}"\n'
            f'capture = "{"wal" if side in wal else "trigger"}"\n'
            for side in ("left", "right")
        )
    )
    for side, url in urls.items():
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMAS[side])))
            for table in TABLES:
                target = sql.Identifier(SCHEMAS[side], table)
                conn.execute(sql.SQL(TABLE_DDL).format(table=target))
                # Before-images of updates and deletes, whole: conflicts are found by them.
                conn.execute(sql.SQL("ALTER TABLE {} REPLICA IDENTITY FULL").format(target))
    project = Project(root, urls["left"], urls["right"])
    for table, (policy, field_policy) in TABLES.items():
        project.write_map(
            f"{table}.toml",
            MAP.format(
                table=table,
                conflict=f'conflict = "{policy}"',
                field_conflict=f'  conflict = "{field_policy}"' if field_policy else "",
            ),
        )
    project.deploy()
    for url in dict.fromkeys(urls.values()):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(AUDIT_DDL.encode())
    for side, url in urls.items():
        with psycopg.connect(url, autocommit=True) as conn:
            for table in TABLES:
                conn.execute(
                    sql.SQL(
                        "CREATE TRIGGER audit_history AFTER INSERT OR UPDATE OR DELETE ON {}"
                        " FOR EACH ROW EXECUTE FUNCTION audit.record_row({})"
                    ).format(sql.Identifier(SCHEMAS[side], table), sql.Literal(side))
                )
    yield Rig(setting, project, server, tuple(urls[side] for side in dict.fromkeys(wal)))
    for side in ("left", "right") if topology == "two_servers" else ("left",):
        if server[side].running:
            server[side].drop_database(name)


# -- a seed's plan --------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One application write: an insert of every field, an update of some, or a delete.
    Every value written is new to the whole run, so a value names the write that made it."""

    kind: str  # insert | update | delete
    table: str
    key: str
    values: tuple[tuple[str, str], ...]  # (field, value)

    def statement(self, schema: str) -> tuple[sql.Composed, tuple[str, ...]]:
        table = sql.Identifier(schema, self.table)
        if self.kind == "insert":
            query = sql.SQL(
                "INSERT INTO {} (k, a, b, c) VALUES (%s, %s, %s, %s) ON CONFLICT (k) DO NOTHING"
            ).format(table)
            return query, (self.key, *(value for _, value in self.values))
        if self.kind == "update":
            sets = sql.SQL(", ").join(
                sql.SQL("{} = %s").format(sql.Identifier(name)) for name, _ in self.values
            )
            query = sql.SQL("UPDATE {} SET {} WHERE k = %s").format(table, sets)
            return query, (*(value for _, value in self.values), self.key)
        return sql.SQL("DELETE FROM {} WHERE k = %s").format(table), (self.key,)


@dataclass(frozen=True)
class Plan:
    setting: str
    seed: int
    writes: dict[str, tuple[tuple[Op, ...], ...]]  # per side, its transactions in order
    pauses: dict[str, tuple[float, ...]]  # per side, seconds before each transaction
    applier_up: bool  # running when the writers start
    toggles: tuple[int, ...]  # ops done (both sides) at which the applier is killed/started
    restart: tuple[int, str] | None  # (ops done, side) for the server restart
    kill_while_draining: bool

    @property
    def prefix(self) -> str:
        return f"s{self.seed}k"

    @property
    def total(self) -> int:
        return sum(len(txn) for txns in self.writes.values() for txn in txns)


def make_plan(setting: str, seed: int, overlapping: bool = OVERLAPPING) -> Plan:
    rng = random.Random(f"{setting}/{seed}")
    keys = {table: [f"s{seed}k{table}{n}" for n in range(rng.randint(2, 3))] for table in TABLES}
    writes: dict[str, tuple[tuple[Op, ...], ...]] = {}
    pauses: dict[str, tuple[float, ...]] = {}
    for side in ("left", "right"):
        letter = side[0].upper()
        ops: list[Op] = []
        for n in range(rng.randint(16, 30)):
            table = rng.choice(list(TABLES))
            key = rng.choice(keys[table]) + ("" if overlapping else letter)
            kind = rng.choices(("insert", "update", "delete"), weights=(3, 5, 1.5))[0]
            fields: tuple[str, ...] = ()
            if kind == "insert":
                fields = FIELDS
            elif kind == "update":
                fields = rng.choice((("a",), ("b",), ("c",), ("a", "b"), ("b", "c"), FIELDS))
            values = tuple((name, f"{letter}{seed}.{n}{name}") for name in fields)
            ops.append(Op(kind, table, key, values))
        txns: list[tuple[Op, ...]] = []
        while ops:
            size = 1 if rng.random() < 0.75 else rng.randint(2, 3)
            txns.append(tuple(ops[:size]))
            ops = ops[size:]
        writes[side] = tuple(txns)
        pauses[side] = tuple(rng.uniform(0, 0.006) for _ in txns)
    total = sum(len(txn) for txns in writes.values() for txn in txns)
    toggles = tuple(sorted(rng.sample(range(1, total), rng.choice((1, 1, 2, 2, 3)))))
    restart = None
    if seed % RESTART_EVERY == RESTART_AT:
        restart = (rng.randrange(total // 4, 3 * total // 4), rng.choice(("left", "right")))
    return Plan(
        setting,
        seed,
        writes,
        pauses,
        applier_up=rng.random() < 0.6,
        toggles=toggles,
        restart=restart,
        kill_while_draining=rng.random() < 0.5,
    )


# -- playing it -----------------------------------------------------------------------------


class Writer(threading.Thread):
    """One application: its transactions in order, riding out a server restart. What it
    managed to commit is read from the audit afterwards, not counted here."""

    def __init__(
        self, url: str, schema: str, txns: tuple[tuple[Op, ...], ...], pauses: tuple[float, ...]
    ) -> None:
        super().__init__(daemon=True)
        self.url, self.schema, self.txns, self.pauses = url, schema, txns, pauses
        self.done = 0  # ops attempted
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            conn = self._connect()
            for txn, pause in zip(self.txns, self.pauses, strict=True):
                time.sleep(pause)  # pacing, so the applier interleaves: not synchronisation
                try:
                    with conn.transaction():
                        for op in txn:
                            conn.execute(*op.statement(self.schema))
                except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
                    pass  # rolled back: the audit shows it never happened
                except psycopg.OperationalError:
                    conn.close()  # the server restarts; a transaction cut off never committed
                    conn = self._connect()
                self.done += len(txn)
            conn.close()
        except BaseException as exc:  # reported by the test, with the seed
            self.failure = exc
            self.done = 1 << 30

    def _connect(self) -> psycopg.Connection[Any]:
        deadline = time.monotonic() + 60
        while True:
            try:
                return psycopg.connect(self.url, autocommit=True)
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


@dataclass
class Applier:
    """The background ``replicator run`` of one history: started, SIGKILLed, started again."""

    rig: Rig
    process: subprocess.Popen[bytes] | None = None
    logs: list[bytes] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def start(self) -> None:
        assert self.process is None
        self.process = start_applier(self.rig.project)

    def kill(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            self.problems.append(f"the applier exited by itself with {self.process.returncode}")
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.logs.append(applier_log(self.process))
        self.process = None
        wait_for_applier_sessions_to_end(*self.rig.databases)

    def stop(self) -> None:
        """SIGTERM: a running applier finishes its batch and must exit 0."""
        process = self.process
        if process is None:
            return
        if b"connected" not in applier_log(process):
            # Still starting (its signal handlers may not be in place): one more kill.
            self.kill()
            return
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
        self.logs.append(applier_log(process))
        self.process = None
        if code != 0:
            self.problems.append(f"the applier exited {code} on SIGTERM")


def play(rig: Rig, plan: Plan, applier: Applier) -> list[str]:
    """Run the history; returns problems met on the way (a writer's unexpected error)."""
    if plan.applier_up:
        applier.start()
    writers = [
        Writer(rig.urls[side], SCHEMAS[side], plan.writes[side], plan.pauses[side])
        for side in ("left", "right")
    ]
    for writer in writers:
        writer.start()

    def done() -> int:
        return sum(w.done for w in writers)

    events: list[tuple[int, str]] = [(at, "toggle") for at in plan.toggles]
    if plan.restart is not None:
        events.append((plan.restart[0], "restart"))
    for at, what in sorted(events):
        wait_for(lambda at=at: done() >= at, f"the writers to reach op {at}")  # type: ignore[misc]
        if what == "restart":
            assert plan.restart is not None
            rig.server[plan.restart[1]].restart()
        elif applier.process is None:
            applier.start()
        else:
            applier.kill()
    for writer in writers:
        writer.join(timeout=120)
    problems = [
        f"{side} writer: {w.failure!r}"
        for side, w in zip(SCHEMAS, writers, strict=True)
        if w.failure
    ]
    # Drain: the slots read past everything written, both queues empty.
    marks = {}
    for url in rig.wal_urls:
        with psycopg.connect(url, autocommit=True) as conn:
            marks[url] = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()
    if applier.process is None:
        applier.start()
    if plan.kill_while_draining:
        process = applier.process
        assert process is not None
        wait_for(
            lambda: b"applied" in applier_log(process) or drained(rig, marks), "a batch to kill"
        )
        applier.kill()
        applier.start()
    wait_for(lambda: drained(rig, marks), "the backlog to drain", timeout=180)
    applier.stop()
    leftover = rig.project.drain()
    if leftover.applied or leftover.failed:
        problems.append(f"after the applier stopped, drain found {leftover} more")
    return problems + applier.problems


def drained(rig: Rig, marks: dict[str, Any]) -> bool:
    for url, mark in marks.items():
        with psycopg.connect(url, autocommit=True) as conn:
            behind = conn.execute(
                "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"
                " AND slot_name LIKE 'replicator%%' AND confirmed_flush_lsn < %s",
                mark,
            ).fetchone()
        if behind != (0,):
            return False
    for url in rig.databases:
        with psycopg.connect(url, autocommit=True) as conn:
            if conn.execute("SELECT count(*) FROM replicator.change_queue").fetchone() != (0,):
                return False
    return True


# -- what happened ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """A row write on one side, by its application or by the replicator."""

    side: str
    seq: int  # position among that side's writes
    at: datetime.datetime
    table: str
    key: str
    op: str  # INSERT | UPDATE | DELETE
    applying: bool
    old: dict[str, Any] | None
    new: dict[str, Any] | None

    @property
    def sets(self) -> dict[str, str]:
        """The fields this write gave a value (all of them for an insert)."""
        if self.new is None:
            return {}
        return {
            f: self.new[f] for f in FIELDS if self.old is None or self.old.get(f) != self.new.get(f)
        }

    def __str__(self) -> str:
        who = "replicator" if self.applying else "app"
        what = " ".join(f"{f}={v}" for f, v in self.sets.items())
        return f"{self.at:%H:%M:%S.%f} {self.side:5} {who:10} {self.op:6} {self.table}.{self.key} {what}"


@dataclass
class History:
    writes: dict[str, list[Write]]  # per side, in order
    queued: Counter[tuple[str, str, str, str]]  # (direction, map, op, key)
    conflicts: list[dict[str, Any]]  # conflict_log rows of both sides, with "side"
    errors: list[tuple[Any, ...]]
    held: int
    final: dict[str, dict[tuple[str, str], tuple[Any, ...]]]  # per side: (table, key) -> row

    def of(self, side: str, table: str, key: str) -> list[Write]:
        return [w for w in self.writes[side] if (w.table, w.key) == (table, key)]


def read_history(rig: Rig, plan: Plan) -> History:
    like = plan.prefix + "%"
    writes: dict[str, list[Write]] = {}
    for side, url in rig.urls.items():
        with psycopg.connect(url) as conn:
            found = conn.execute(
                "SELECT at, tbl, k, op, applying, old, new FROM audit.history"
                " WHERE side = %s AND k LIKE %s ORDER BY id",
                (side, like),
            ).fetchall()
        writes[side] = [Write(side, n, *row) for n, row in enumerate(found)]
    queued: Counter[tuple[str, str, str, str]] = Counter()
    conflicts: list[dict[str, Any]] = []
    errors: list[tuple[Any, ...]] = []
    held = 0
    for url in rig.databases:
        with psycopg.connect(url) as conn:
            queued.update(
                tuple(row)
                for row in conn.execute(
                    "SELECT direction, map_name, op, k FROM audit.queued WHERE k LIKE %s", (like,)
                )
            )
            if conn.execute("SELECT to_regclass('replicator.conflict_log')").fetchone() != (None,):
                # Logged where the change arrived: on the target of its direction.
                conflicts += [
                    {"side": "right" if row[0]["direction"] == "to_right" else "left", **row[0]}
                    for row in conn.execute(
                        "SELECT to_jsonb(c) FROM replicator.conflict_log AS c"
                        " WHERE c.key->>'k' LIKE %s ORDER BY id",
                        (like,),
                    )
                ]
            errors += conn.execute(
                "SELECT map_name, direction, key, state, message FROM replicator.error_log"
                " WHERE key->>'k' LIKE %s",
                (like,),
            ).fetchall()
            held += conn.execute(
                "SELECT count(*) FROM replicator.held_change WHERE image->>'k' LIKE %s", (like,)
            ).fetchone()[0]  # type: ignore[index]
    final: dict[str, dict[tuple[str, str], tuple[Any, ...]]] = {}
    for side, url in rig.urls.items():
        final[side] = {}
        with psycopg.connect(url) as conn:
            for table in TABLES:
                query = sql.SQL("SELECT k, a, b, c FROM {} WHERE k LIKE %s").format(
                    sql.Identifier(SCHEMAS[side], table)
                )
                for row in conn.execute(query, (like,)):
                    final[side][(table, row[0])] = tuple(row[1:])
    return History(writes, queued, conflicts, errors, held, final)


# -- the invariants ----------------------------------------------------------------------------

OTHER = {"left": "right", "right": "left"}
QUEUE_OP = {"INSERT": "I", "UPDATE": "U", "DELETE": "D"}
SOURCE_DIRECTION = {"left": "to_right", "right": "to_left"}


def check(history: History) -> list[str]:
    problems: list[str] = []
    problems += check_in_step(history)
    problems += check_queued_once(history)
    problems += check_applied_once(history)
    problems += check_conflicts_logged(history)
    problems += [f"open or logged error: {e}" for e in history.errors]
    if history.held:
        problems.append(f"{history.held} changes still held")
    problems += [
        f"conflict still waiting: {c}" for c in history.conflicts if c.get("outcome") == "waiting"
    ]
    return problems


def check_in_step(history: History) -> list[str]:
    """Convergence: under the identity maps, both sides hold exactly the same rows."""
    left, right = history.final["left"], history.final["right"]
    return [
        f"{table}.{key} differs: left {left.get((table, key))}, right {right.get((table, key))}"
        for table, key in sorted(left.keys() | right.keys())
        if left.get((table, key)) != right.get((table, key))
    ]


def check_queued_once(history: History) -> list[str]:
    """Exactly once into the queue: every application write is captured, by its trigger
    or from the WAL, once (a listener replaying a transaction after a SIGKILL would queue
    it twice), and nothing else is queued (the replicator's own writes never are)."""
    made: Counter[tuple[str, str, str, str]] = Counter(
        (SOURCE_DIRECTION[w.side], w.table, QUEUE_OP[w.op], w.key)
        for side in SCHEMAS
        for w in history.writes[side]
        if not w.applying
    )
    if made == history.queued:
        return []
    return [
        f"{direction} {table}.{key} op {op}: written {made[(direction, table, op, key)]} times"
        f" by the application, queued {history.queued[(direction, table, op, key)]} times"
        for direction, table, op, key in sorted(made.keys() | history.queued.keys())
        if made[(direction, table, op, key)] != history.queued[(direction, table, op, key)]
    ]


def check_applied_once(history: History) -> list[str]:
    """Exactly once onto the target. Every value is written by one application write, so
    a value the replicator writes into a field arrives with that write's change (or a later
    one of the same row, which carries it too). If the same value arrives twice while the
    row lives on (no delete of the key on that side in between), a change was applied twice,
    over what had changed since. A replay onto an unchanged row writes nothing (the apply
    functions skip rows that would not change) and did no harm. A row deleted and brought
    back by a conflict may carry old values again: a new life."""
    problems = []
    for side in SCHEMAS:
        arrived: dict[tuple[str, str, str, str], tuple[int, Write]] = {}
        lives: Counter[tuple[str, str]] = Counter()
        for w in history.writes[side]:
            if w.op == "DELETE":
                lives[(w.table, w.key)] += 1
            if not w.applying:
                continue
            life = lives[(w.table, w.key)]
            for name, value in w.sets.items():
                where = (w.table, w.key, name, value)
                if where in arrived and arrived[where][0] == life:
                    problems.append(
                        f"applied twice on {side}: {w.table}.{w.key} {name}={value}\n"
                        f"    {arrived[where][1]}\n    {w}"
                    )
                arrived[where] = (life, w)
    return problems


@dataclass
class Row:
    """The writes to one row, on both sides, and when one side's write had crossed."""

    writes: dict[str, list[Write]]

    def app(self, side: str) -> list[Write]:
        return [w for w in self.writes[side] if not w.applying]

    def seen(self, source: Write, made: Write) -> bool:
        """Whether the application write ``source`` had reached the other side when the
        write ``made`` was made there: a write on that side before it shows a value of
        ``source`` or of a later write of its side (the newest change of a key carries the
        ones it overtook). A delete leaves no value: it counts as crossed once the other
        side deleted the row (or, no row left there, inserted one) after it, a generous
        reading that can only excuse a pair, never accuse one."""
        later = [w for w in self.app(source.side) if w.seq >= source.seq]
        values = {value for w in later for value in w.sets.values()}
        deleted = min((w.at for w in later if w.op == "DELETE"), default=None)
        for w in self.writes[made.side]:
            if w.seq > made.seq:
                break
            if w.seq < made.seq and w.new and values & {w.new[f] for f in FIELDS}:
                return True
            if (
                deleted
                and w.at > deleted
                and (w.op == "INSERT" or (w.op, w.applying) == ("DELETE", True))
            ):
                return True
        return False

    def undone(self, write: Write, other: Write) -> bool:
        """Whether ``write``'s side deleted the row after it before ``other`` reached that
        side: the pair's conflict is then the delete's with ``other`` (an insert and a
        delete of one key that cross in one batch cancel out, and judge nothing)."""
        return any(
            w.op == "DELETE" and w.seq > write.seq and not self.seen(other, w)
            for w in self.app(write.side)
        )

    def own_row_deleted(self, write: Write) -> bool:
        """A delete of a row holding nothing the other side wrote: its side only takes back
        a row of its own, which the other side never had."""
        if write.op != "DELETE" or write.old is None:
            return False
        theirs = {v for w in self.app(OTHER[write.side]) for v in w.sets.values()}
        return not theirs & {write.old[f] for f in FIELDS}


def check_conflicts_logged(history: History) -> list[str]:
    """Every conflict is in the log, checked from the writes alone, three ways, each
    needing at least one conflict_log row for the key (on either side):

    1. Concurrent writes: an application write on each side, neither of which had
       crossed when the other was made (see Row.seen), are a conflict, whatever their
       fields: the later change to arrive meets a row that differs from its before-image.
       Two deletes agree, and an insert against a delete meets no row, so those pairs are
       left out, as is a write its own side deleted before the other's crossed
       (Row.undone) and a delete of a row its side alone had written (Row.own_row_deleted).
    2. Lost values: a value that is not in the final row was overwritten (or its row
       deleted) by a later write of its own side, by a write of the other side made after
       it had crossed, or else by a conflict.
    3. Lost deletes: a row deleted on one side that ends up holding only values its
       side knew before the delete came back by a conflict, or a replay."""
    problems = []
    conflicted = {(c.get("map_name"), (c.get("key") or {}).get("k")) for c in history.conflicts}
    keys = {(w.table, w.key) for side in SCHEMAS for w in history.writes[side]}
    for table, key in sorted(keys):
        if (table, key) in conflicted:
            continue
        row = Row({side: history.of(side, table, key) for side in SCHEMAS})
        final = history.final["left"].get((table, key))
        final_values = dict(zip(FIELDS, final, strict=True)) if final else {}
        for left in row.app("left"):
            for right in row.app("right"):
                if {left.op, right.op} in ({"DELETE"}, {"DELETE", "INSERT"}):
                    continue
                if row.undone(left, right) or row.undone(right, left):
                    continue
                if row.own_row_deleted(left) or row.own_row_deleted(right):
                    continue
                if not row.seen(left, right) and not row.seen(right, left):
                    problems.append(
                        f"no conflict logged for {table}.{key}, written on both sides at once:"
                        f"\n    {left}\n    {right}"
                    )
        for side in SCHEMAS:
            other = OTHER[side]
            for w in row.app(side):
                for name, value in w.sets.items():
                    if final_values.get(name) == value:
                        continue
                    own = any(
                        later.seq > w.seq and (later.op == "DELETE" or name in later.sets)
                        for later in row.app(side)
                    )
                    causal = any(
                        (there.op == "DELETE" or name in there.sets) and row.seen(w, there)
                        for there in row.app(other)
                    )
                    if not own and not causal:
                        problems.append(
                            f"{name}={value} of {table}.{key} was lost, and no conflict logged:"
                            f"\n    {w}"
                        )
                if w.op == "DELETE" and final:
                    known = {
                        v
                        for before in row.writes[side]
                        if before.seq < w.seq and before.new
                        for v in before.new.values()
                    }
                    if set(final_values.values()) <= known:
                        problems.append(
                            f"{table}.{key} came back after a delete, and no conflict logged:"
                            f"\n    {w}\n    final row {final}"
                        )
    return problems


# -- the test -----------------------------------------------------------------------------------


def report(plan: Plan, history: History, problems: list[str], logs: list[bytes]) -> str:
    """What a failure prints: the seed and how to run it again, the problems, and the
    history of the rows involved."""
    setting = plan.setting
    lines = [
        f"seed {plan.seed} of {setting} did not converge. Run it again with:",
        f"    REPLICATOR_CONVERGENCE_SEED={plan.seed} .venv/bin/pytest tests/test_convergence.py"
        f" -k '{setting}'",
        f"plan: applier {'up' if plan.applier_up else 'down'} at the start, killed/started"
        f" after ops {list(plan.toggles)} of {plan.total}, server restart {plan.restart},"
        f" killed while draining: {plan.kill_while_draining}",
        "problems:",
        *(f"  {p}" for p in problems),
    ]
    involved = sorted(
        {
            (t, k)
            for side in SCHEMAS
            for w in history.writes[side]
            for t, k in [(w.table, w.key)]
            if any(f"{t}.{k}" in p for p in problems)
        }
    ) or sorted({(w.table, w.key) for side in SCHEMAS for w in history.writes[side]})
    for table, key in involved:
        lines.append(f"history of {table}.{key}:")
        both = sorted(
            history.of("left", table, key) + history.of("right", table, key), key=lambda w: w.at
        )
        lines += [f"  {w}" for w in both]
        lines += [
            f"  conflict logged on {c['side']}: {c.get('op')} {c.get('outcome')}"
            f" fields {c.get('fields')} incoming {c.get('incoming')} at {c.get('incoming_at')}"
            f" local {c.get('local')} at {c.get('local_at')}"
            for c in history.conflicts
            if (c.get("map_name"), (c.get("key") or {}).get("k")) == (table, key)
        ]
        lines.append(
            f"  final: left {history.final['left'].get((table, key))},"
            f" right {history.final['right'].get((table, key))}"
        )
    tail = b"".join(logs)[-3000:].decode(errors="replace")
    lines += ["the applier's log (end):", tail]
    return "\n".join(lines)


@pytest.mark.parametrize(
    "seed",
    # make test keeps the first seed of each setting (kills included); the rest is slow.
    [pytest.param(seed, marks=[pytest.mark.slow] if i else []) for i, seed in enumerate(SEED_LIST)],
)
def test_concurrent_writes_on_both_sides_converge_once_with_every_conflict_logged(
    rig: Rig, seed: int
) -> None:
    plan = make_plan(rig.setting, seed)
    applier = Applier(rig)
    try:
        problems = play(rig, plan, applier)
    finally:
        if applier.process is not None:
            applier.process.kill()
            applier.process.wait()
            wait_for_applier_sessions_to_end(*rig.databases)
    history = read_history(rig, plan)
    problems += check(history)
    assert not problems, report(plan, history, problems, applier.logs)
