"""Convergence by construction, checked the way the argument is made: Hypothesis drives
long random histories (inserts, updates of overlapping and disjoint fields, same-value
writes, A-B-A, deletes and re-inserts, pauses, batches of random sizes, an applier
killed between the target's commit and the source's dequeue) against the real
databases and against a pure-Python model of the rules (tests/convergence_model.py).
After a final drain both databases must hold what the model holds, row for row on each
side; for every policy but manual the model's two sides are equal, so the databases'
are; and no side's clock claims more of its own writes than the other side's clock
holds of them (a clean crossing is recorded only where it arrived, so the two need not
be equal: see sql/migrations/0005_clean_crossings.sql).

Shrinking hands back the shortest history that breaks it.

    REPLICATOR_PROPERTY_EXAMPLES=200   histories per setting and policy (default: a few)
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from devtools.throwaway import ThrowawayServer
from replicator.commands import admin
from replicator.maps.model import DIRECTIONS, Direction, source_of, target_of
from replicator.operations.states import Action
from replicator.runtime.applier import Applier
from tests.convergence_model import Model, Policy, Row, Side
from tests.history_steps import FIELDS, KEYS, SIDES, some_values
from tests.support import (
    Project,
    remake_wal_capture,
    rows,
    wait_for_applier_sessions_to_end,
    wait_for_wal_flush,
)

SCHEMAS: dict[Side, str] = {"left": "erp", "right": "crm"}
CAPTURES: dict[str, tuple[str, str]] = {
    "trigger": ("trigger", "trigger"),
    "wal_both": ("wal", "wal"),
    "wal_left": ("wal", "trigger"),
}
# (topology, capture) and (the map's policy, field c's own policy).
SETTINGS = (
    ("one_database", "trigger"),
    ("two_servers", "trigger"),
    ("two_servers", "wal_both"),
    ("two_servers", "wal_left"),
)
POLICIES: tuple[tuple[Policy, Policy], ...] = (
    ("left_wins", "right_wins"),
    ("right_wins", "left_wins"),
    ("newest_wins", "newest_wins"),
    ("manual", "left_wins"),
)
EXAMPLES = int(os.environ.get("REPLICATOR_PROPERTY_EXAMPLES", "0"))

DDL = """
CREATE SCHEMA {schema};
CREATE TABLE {schema}.t (k text PRIMARY KEY, a text, b text, c text);
ALTER TABLE {schema}.t REPLICA IDENTITY FULL;
"""
MAP = """
[[map]]
name = "t"
left = "t"
right = "t"
direction = "both"
conflict = "{policy}"

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
  conflict = "{c_policy}"
"""


@dataclass
class Templates:
    """Per setting and policy, the deployed project kept as template databases."""

    root: Path
    built: dict[tuple[str, str, str, str], tuple[str, str]] = field(default_factory=dict)

    def copies(
        self,
        servers: tuple[ThrowawayServer, ThrowawayServer],
        setting: tuple[str, str],
        policies: tuple[Policy, Policy],
    ) -> tuple[Project, list[tuple[ThrowawayServer, str]]]:
        """A project on fresh copies, and the databases to drop afterwards."""
        key = (*setting, *policies)
        if key not in self.built:
            self.built[key] = self._build(servers, setting, policies)
        left_template, right_template = self.built[key]
        made: list[tuple[ThrowawayServer, str]] = []
        urls: list[str] = []
        for server, template in dict.fromkeys(
            ((servers[0], left_template), (servers[1], right_template))
        ):
            name = f"h_{uuid.uuid4().hex[:12]}"
            urls.append(server.create_database(name, template=template))
            made.append((server, name))
        left, right = urls[0], urls[-1]
        captures = CAPTURES[setting[1]]
        for url in dict.fromkeys(
            u for u, c in ((left, captures[0]), (right, captures[1])) if c == "wal"
        ):
            remake_wal_capture(url)
        project = Project(self.root / f"{'_'.join(key)}", left, right)
        return project, made

    def _build(
        self,
        servers: tuple[ThrowawayServer, ThrowawayServer],
        setting: tuple[str, str],
        policies: tuple[Policy, Policy],
    ) -> tuple[str, str]:
        name = f"property_{len(self.built)}"
        left_name, right_name = f"{name}_left", f"{name}_right"
        left = servers[0].create_database(left_name, template="template0")
        if servers[1] is servers[0]:
            right, right_name = left, left_name
        else:
            right = servers[1].create_database(right_name, template="template0")
        captures = CAPTURES[setting[1]]
        root = self.root / "_".join((*setting, *policies))
        (root / "maps").mkdir(parents=True)
        (root / "replicator.toml").write_text(
            'maps = "maps"\nbatch_size = 1000\n'
            f'[left]\nname = "erp"\nschema = "erp"\nconninfo_env = "REPLICATOR_LEFT"\n'
            f'capture = "{captures[0]}"\n'
            f'[right]\nname = "crm"\nschema = "crm"\nconninfo_env = "REPLICATOR_RIGHT"\n'
            f'capture = "{captures[1]}"\n'
        )
        (root / "maps" / "t.toml").write_text(MAP.format(policy=policies[0], c_policy=policies[1]))
        for url, schema in ((left, "erp"), (right, "crm")):
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(DDL.format(schema=schema).encode())
        Project(root, left, right).deploy()
        for server, database in {(servers[0], left_name), (servers[1], right_name)}:
            with server.connect() as conn:
                conn.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                    " WHERE database = %s",
                    (database,),
                )
        return left_name, right_name


@dataclass
class Rig:
    """What one pytest test hands the state machine: where and how to run."""

    templates: Templates
    servers: tuple[ThrowawayServer, ThrowawayServer]
    setting: tuple[str, str]
    policies: tuple[Policy, Policy]


RIG: Rig | None = None  # the rig of the test running now (Hypothesis builds the machine)

class History(RuleBasedStateMachine):
    """One history: writes on both sides, pauses, batches, kills; checked at the end."""

    def __init__(self) -> None:
        super().__init__()
        assert RIG is not None
        self.rig = RIG
        self.project, self.made = RIG.templates.copies(RIG.servers, RIG.setting, RIG.policies)
        self.model = Model(
            FIELDS,
            {"": RIG.policies[0], "a": RIG.policies[0], "b": RIG.policies[0], "c": RIG.policies[1]},
            one_database=RIG.setting[0] == "one_database",
        )
        self.paused: set[Direction] = set()
        # Changes captured from a WAL slot's side that no listener has read yet: a
        # round of the applier reads them, then applies as many (see Applier._one_round).
        self.wal_sides = {
            side
            for side, capture in zip(("left", "right"), CAPTURES[RIG.setting[1]], strict=True)
            if capture == "wal"
        }
        self.unread = 0
        self.applier: Applier | None = None
        self.failed = True  # until the final check passes

    # -- writes ----------------------------------------------------------------------

    def url(self, side: Side) -> str:
        return self.project.left_url if side == "left" else self.project.right_url

    def statement(self, side: Side, key: str, row: Row | None) -> tuple[str, tuple[Any, ...]]:
        table = f"{SCHEMAS[side]}.t"
        if row is None:
            return f"DELETE FROM {table} WHERE k = %s", (key,)
        return (
            f"INSERT INTO {table} (k, a, b, c) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (k) DO UPDATE SET a = EXCLUDED.a, b = EXCLUDED.b, c = EXCLUDED.c",
            (key, row["a"], row["b"], row["c"]),
        )

    @rule(
        side=st.sampled_from(SIDES),
        key=st.sampled_from(KEYS),
        delete=st.booleans(),
        values=some_values,
        again=st.none() | some_values,
    )
    def write(
        self,
        side: Side,
        key: str,
        delete: bool,
        values: dict[str, str | None],
        again: dict[str, str | None] | None,
    ) -> None:
        """One transaction: a delete or an upsert of one row, and maybe a second upsert
        of it (an update after an insert, a re-insert after a delete)."""
        stamp = self.model.commit()
        rows_written: list[Row | None] = [
            None if delete else self.model.upserted(side, key, values)
        ]
        queued = len(self.model.replica(side).queue)
        with psycopg.connect(self.url(side)) as conn:
            conn.execute(*self.statement(side, key, rows_written[0]))
            self.model.write(side, key, rows_written[0], stamp)
            if again is not None:
                second = self.model.upserted(side, key, again)
                conn.execute(*self.statement(side, key, second))
                self.model.write(side, key, second, stamp)
            conn.commit()
        if side in self.wal_sides:
            self.unread += len(self.model.replica(side).queue) - queued

    # -- the applier ---------------------------------------------------------------------

    def open_applier(self, limit: int) -> Applier:
        if self.applier is None:
            config = self.project.config(self.project.runtime)
            self.applier = Applier(config, batch_size=limit, poll_interval=0.05)
            self.applier._connect()
        self.applier.batch_size = limit
        return self.applier

    def close_applier(self) -> None:
        if self.applier is not None:
            self.applier._close()
            self.applier = None
            wait_for_applier_sessions_to_end(self.url("left"), self.url("right"))

    def flush(self) -> None:
        config = self.project.config()
        for role in config.databases:
            if config.wal_sides(role):
                wait_for_wal_flush(self.url(role))

    @rule(limit=st.integers(min_value=1, max_value=6))
    def run(self, limit: int) -> None:
        """One round of the applier: its listeners read what the slots hold, then it
        applies batches of at most ``limit`` changes, one each way in turn, until they
        took as many changes as were read (without slots: one batch each way)."""
        self.flush()
        self.open_applier(limit)._one_round()
        read, self.unread, taken = self.unread, 0, 0
        while True:
            moved = False
            for direction in DIRECTIONS:
                if direction not in self.paused:
                    crossed = len(self.model.cross(source_of(direction), limit))
                    taken, moved = taken + crossed, moved or crossed > 0
            if not moved or taken >= read:
                break

    @rule(limit=st.integers(min_value=1, max_value=6), direction=st.sampled_from(DIRECTIONS))
    def killed_before_dequeue(self, limit: int, direction: Direction) -> None:
        """Two servers: a batch commits on the target and the applier dies before the
        source dequeues it; the next applier finds it applied and dequeues it."""
        if self.rig.setting[0] != "two_servers" or direction in self.paused:
            return
        self.flush()
        applier = self.open_applier(limit)
        for listener in applier._listeners.values():
            listener.queue_committed(applier.read_per_round)
        self.unread = 0
        source, target = applier._conn(source_of(direction)), applier._conn(target_of(direction))
        peeked = source.execute(
            "SELECT ids, batch::text FROM replicator.peek_batch(%s, %s)", (direction, limit)
        ).fetchone()
        assert peeked is not None
        if peeked[0]:
            target.execute("SELECT replicator.apply_remote(%s, %s::jsonb)", (direction, peeked[1]))
        self.close_applier()
        self.model.cross(source_of(direction), limit)

    @rule(direction=st.sampled_from(DIRECTIONS))
    def pause(self, direction: Direction) -> None:
        if direction not in self.paused:
            self.state("pause", direction)
            self.paused.add(direction)

    @rule(direction=st.sampled_from(DIRECTIONS))
    def resume(self, direction: Direction) -> None:
        if direction in self.paused:
            self.state("resume", direction)
            self.paused.discard(direction)

    def state(self, action: Action, direction: Direction) -> None:
        admin.cmd_state(self.project.config(), io.StringIO(), action, ["t"], direction, "")

    # -- the end -------------------------------------------------------------------------

    def teardown(self) -> None:
        try:
            self.check()
            self.failed = False
        finally:
            if self.applier is not None:
                self.applier._close()
            for server, name in reversed(self.made):
                server.drop_database(name)

    def check(self) -> None:
        for direction in list(self.paused):
            self.resume(direction)
        self.close_applier()
        self.flush()
        self.project.drain()
        for _ in range(2):
            for side in ("left", "right"):
                self.model.cross(side, len(self.model.replica(side).queue))
        held = {side: self.held(side) for side in ("left", "right")}
        expected = {side: self.model.replica(side).rows for side in ("left", "right")}
        assert held == expected, f"databases {held}, model {expected}"
        if self.rig.policies[0] != "manual":
            assert expected["left"] == expected["right"], "the model itself diverged"
        self.check_clocks()

    def check_clocks(self) -> None:
        """No side's clock claims more of its own writes, per field and for the row, than
        the other side's clock holds of them (a clean crossing is recorded only where it
        arrived)."""
        left, right = self.clocks("left"), self.clocks("right")
        for key in left.keys() | right.keys():
            for label in ("", "a", "b", "c"):
                here, there = entry(left.get(key), label), entry(right.get(key), label)
                assert here[0] <= there[0], f"{key} {label!r}: left {left.get(key)}, right {right.get(key)}"
                assert there[1] <= here[1], f"{key} {label!r}: left {left.get(key)}, right {right.get(key)}"

    def held(self, side: Side) -> dict[str, Row]:
        found = rows(self.url(side), f"SELECT k, a, b, c FROM {SCHEMAS[side]}.t")
        return {k: {"a": a, "b": b, "c": c} for k, a, b, c in found}

    def clocks(self, side: Side) -> dict[str, Any]:
        found = rows(
            self.url(side),
            f"SELECT key->>'k', clock FROM replicator.versions WHERE side = '{side}'",
        )
        return dict(found)


def entry(clock: dict[str, Any] | None, label: str) -> tuple[int, int]:
    """A field's (left, right) ids in a clock as replicator.versions spells it: its own
    entry, else the row's; [] a field never written."""
    found = (clock or {}).get(label, (clock or {}).get("")) or [0, 0]
    return int(found[0] or 0), int(found[1] or 0)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(tmp_path_factory.mktemp("property"))


def cases() -> Iterator[Any]:
    for index, setting in enumerate(SETTINGS):
        for number, policies in enumerate(POLICIES):
            # make test runs one policy per setting, a few histories each; the rest is slow.
            fast = number == index % len(POLICIES)
            marks = [] if fast else [pytest.mark.slow]
            yield pytest.param(
                setting,
                policies,
                marks=marks,
                id=f"{'-'.join(setting)}-{policies[0]}",
            )


@pytest.mark.parametrize(("setting", "policies"), list(cases()))
def test_random_histories_end_equal_to_the_model_on_both_sides(
    request: pytest.FixtureRequest,
    templates: Templates,
    setting: tuple[str, str],
    policies: tuple[Policy, Policy],
) -> None:
    global RIG
    left: ThrowawayServer = request.getfixturevalue("pg")
    right = left if setting[0] == "one_database" else request.getfixturevalue("pg2")
    slow = request.node.get_closest_marker("slow") is not None
    examples = EXAMPLES or (60 if slow else 8)
    RIG = Rig(templates, (left, right), setting, policies)
    try:
        run_state_machine_as_test(
            History,
            settings=settings(
                max_examples=examples,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=not slow,
                database=None,
            ),
        )
    finally:
        RIG = None
