"""The five histories that diverged when conflicts were judged by comparing values with
a before-image (issue "Convergence by construction"), each played through the CLI as
the trial played it: one server, databases l and r, t(id, a, b) on each, one map t
both ways. "pause" is ``replicator pause t --direction to_right``, "run" is
``replicator run --once``. Each ends equal on both sides, with the policy's winner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from devtools.throwaway import ThrowawayServer
from replicator.runtime.applier import Applier
from tests.support import Project, cli, queued, rows, wait_for, wait_for_wal_flush

MAP = """
[[map]]
name = "t"
left = "t"
right = "t"
direction = "both"
{conflict}

  [[map.field]]
  left = "id"
  right = "id"
  key = true

  [[map.field]]
  left = "a"
  right = "a"

  [[map.field]]
  left = "b"
  right = "b"
"""


@pytest.fixture(params=["trigger", "wal"])
def make(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    pg: ThrowawayServer,
    fresh_db: Callable[..., str],
) -> Callable[..., Project]:
    """make(policy): the project on two databases of one server, capturing both sides by
    triggers or from the WAL."""

    def build(policy: str | None = None) -> Project:
        capture = str(request.param)
        left, right = fresh_db(pg), fresh_db(pg)
        for url, schema in ((left, "l"), (right, "r")):
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    f"CREATE SCHEMA {schema};"
                    f" CREATE TABLE {schema}.t (id int PRIMARY KEY, a int, b text);"
                    f" ALTER TABLE {schema}.t REPLICA IDENTITY FULL".encode()
                )
        root = tmp_path / "project"
        (root / "maps").mkdir(parents=True)
        (root / "replicator.toml").write_text(
            'maps = "maps"\n'
            f'[left]\nname = "l"\nschema = "l"\nconninfo_env = "REPLICATOR_LEFT"\ncapture = "{capture}"\n'
            f'[right]\nname = "r"\nschema = "r"\nconninfo_env = "REPLICATOR_RIGHT"\ncapture = "{capture}"\n'
        )
        (root / "maps" / "t.toml").write_text(
            MAP.format(conflict=f'conflict = "{policy}"' if policy else "")
        )
        project = Project(root, left, right)
        assert cli(project, "deploy").returncode == 0
        return project

    return build


def sql(project: Project, side: str, statement: str) -> None:
    url = project.left_url if side == "l" else project.right_url
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement.encode())
    wait_for_wal_flush(url)  # as a DBA's psql would have it durable before the next step


def pause(project: Project) -> None:
    assert cli(project, "pause", "t", "--direction", "to_right").returncode == 0


def resume(project: Project) -> None:
    assert cli(project, "resume", "t", "--direction", "to_right").returncode == 0


def run(project: Project) -> None:
    done = cli(project, "run", "--once")
    assert done.returncode == 0, done.stderr


def both(project: Project) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    return (
        rows(project.left_url, "SELECT id, a, b FROM l.t ORDER BY id"),
        rows(project.right_url, "SELECT id, a, b FROM r.t ORDER BY id"),
    )


def seeded(project: Project) -> None:
    """Both hold (1, 0, 'x')."""
    sql(project, "l", "INSERT INTO l.t VALUES (1, 0, 'x')")
    run(project)
    assert both(project) == ([(1, 0, "x")], [(1, 0, "x")])


def test_a_merged_row_ends_the_same_on_both_sides(make: Callable[..., Project]) -> None:
    project = make()
    pause(project)
    sql(project, "l", "INSERT INTO l.t VALUES (1, 0, 'L')")
    sql(project, "r", "INSERT INTO r.t VALUES (1, 0, 'R')")
    run(project)  # the right's insert meets the left's row
    sql(project, "r", "UPDATE r.t SET a = 138")
    resume(project)
    run(project)
    run(project)
    # Both inserts are concurrent in every field, and so is the right's a = 138 (it had
    # not seen the left's insert): the left wins each.
    assert both(project) == ([(1, 0, "L")], [(1, 0, "L")])


def test_the_same_value_written_on_both_sides_is_still_two_writes(
    make: Callable[..., Project],
) -> None:
    project = make()
    seeded(project)
    pause(project)
    sql(project, "l", "UPDATE l.t SET a = 5")
    sql(project, "r", "UPDATE r.t SET a = 5")
    run(project)
    sql(project, "r", "UPDATE r.t SET a = 9")  # it had not seen the left's a = 5
    run(project)
    resume(project)
    run(project)
    run(project)
    assert both(project) == ([(1, 5, "x")], [(1, 5, "x")])


def test_a_stale_delete_loses_to_the_update_it_had_not_seen(
    make: Callable[..., Project],
) -> None:
    project = make()
    seeded(project)
    pause(project)
    sql(project, "l", "UPDATE l.t SET a = 5")
    sql(project, "l", "UPDATE l.t SET a = 0")
    sql(project, "r", "DELETE FROM r.t")
    run(project)
    resume(project)
    run(project)
    run(project)
    # The left wins: its updates stand, the row stays on both sides.
    assert both(project) == ([(1, 0, "x")], [(1, 0, "x")])


@pytest.mark.parametrize("policy", [None, "newest_wins"])
def test_a_b_a_on_one_side_is_still_its_newest_write(
    make: Callable[..., Project], policy: str | None
) -> None:
    project = make(policy)
    seeded(project)
    pause(project)
    sql(project, "r", "UPDATE r.t SET a = 5")
    run(project)
    sql(project, "r", "UPDATE r.t SET a = 9")
    sql(project, "l", "UPDATE l.t SET a = 7")
    sql(project, "l", "UPDATE l.t SET a = 5")
    run(project)
    resume(project)
    run(project)
    run(project)
    # The left's a = 5 had seen the right's a = 5, not its a = 9: concurrent, and the left
    # wins (by default: it is the master side; newest_wins: it wrote last).
    assert both(project) == ([(1, 5, "x")], [(1, 5, "x")])


@pytest.mark.parametrize("delete_crossed_first", [False, True], ids=["queued", "crossed"])
def test_a_change_merged_into_a_row_deleted_here_is_kept_when_the_row_comes_back(
    make: Callable[..., Project], delete_crossed_first: bool
) -> None:
    """Found by a random history: the right's a = 5 meets the left's delete and the left
    keeps the row deleted with a = 5 merged in; the right's later b = 'y' brings the row
    back (newer than the delete). It must come back with a = 5, whether the left's delete
    still waits to cross or crossed in between."""
    project = make("newest_wins")
    seeded(project)
    pause(project)
    sql(project, "r", "UPDATE r.t SET a = 5")
    sql(project, "l", "DELETE FROM l.t")
    run(project)  # a = 5 crosses: the left's newer delete keeps the row deleted
    if delete_crossed_first:
        assert cli(project, "pause", "t", "--direction", "to_left").returncode == 0
    sql(project, "r", "UPDATE r.t SET b = 'y'")
    if delete_crossed_first:
        resume(project)
        run(project)  # the delete crosses; the right's b = 'y' is newer: the row stays there
        assert cli(project, "resume", "t", "--direction", "to_left").returncode == 0
    run(project)
    resume(project)
    run(project)
    run(project)
    assert both(project) == ([(1, 5, "y")], [(1, 5, "y")])


def test_purge_keeps_the_clock_of_a_row_deleted_and_inserted_again(
    make: Callable[..., Project],
) -> None:
    """purge forgets the clocks of rows deleted long ago. A row the left deleted and
    inserted again is not one: with its clock gone, the left's next write would not say
    it had seen the right's, and the right (winning concurrent writes) would keep its
    own value while the left kept the new one."""
    project = make("right_wins")
    seeded(project)
    sql(project, "r", "UPDATE r.t SET b = 'z'")
    run(project)
    sql(project, "l", "DELETE FROM l.t")
    run(project)
    sql(project, "l", "INSERT INTO l.t VALUES (1, 0, 'x')")
    run(project)
    purged = cli(project, "purge", "--older-than", "0s")
    assert purged.returncode == 0, purged.stderr
    for url in (project.left_url, project.right_url):
        assert rows(url, "SELECT count(*) FROM replicator.versions") == [(1,)]
    sql(project, "l", "UPDATE l.t SET b = 'w'")  # it had seen the right's b = 'z'
    run(project)
    run(project)
    assert both(project) == ([(1, 0, "w")], [(1, 0, "w")])


def test_a_living_rows_clock_is_rewritten_in_place(make: Callable[..., Project]) -> None:
    """Each change applied rewrites its row's clock. While the row is not deleted that
    can be a HOT update (migration 0008): the clock's new version then adds no entry
    to the clocks' primary key, a B-tree on jsonb keys."""
    project = make()
    sql(project, "l", "INSERT INTO l.t SELECT g, 0, 'x' FROM generate_series(1, 500) AS g")
    run(project)
    for value in ("a", "b", "c"):
        sql(project, "l", f"UPDATE l.t SET b = '{value}'")
        run(project)
    assert both(project)[1] == [(n, 0, "c") for n in range(1, 501)]
    statistics = (
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables"
        " WHERE relid = 'replicator.versions'::regclass"
    )
    # The applier's sessions report their counts as they end.
    wait_for(lambda: rows(project.right_url, statistics)[0][0] >= 1500, "the clocks' updates")
    updated, hot = rows(project.right_url, statistics)[0]
    # A page cannot keep every next version of its rows when a batch changes them all:
    # about half are HOT here (the pages' free space, 0008), two or three in a hundred
    # on pages filled up.
    assert hot * 3 > updated, (updated, hot)


def test_a_delete_against_an_update_goes_to_the_policy_on_both_sides(
    make: Callable[..., Project],
) -> None:
    project = make()
    sql(project, "l", "INSERT INTO l.t VALUES (1, NULL, 'a')")
    run(project)
    sql(project, "l", "DELETE FROM l.t")
    sql(project, "r", "UPDATE r.t SET b = 'edited right'")
    run(project)
    run(project)
    assert both(project) == ([], [])
    conflicts = rows(
        project.left_url, "SELECT direction, outcome FROM replicator.conflict_log"
    ) + rows(project.right_url, "SELECT direction, outcome FROM replicator.conflict_log")
    # The right's update met the left's delete, and the delete met the right's update.
    assert sorted(conflicts) == [("to_left", "kept_local"), ("to_right", "took_incoming")]


@pytest.mark.parametrize("make", ["wal"], indirect=True)
def test_a_wal_change_read_after_the_replicator_wrote_its_row_sends_the_row_as_it_ends(
    make: Callable[..., Project],
) -> None:
    """The left's write commits, then a change of the same row from the right is applied
    there before the left's slot is read (the applier reads slots first in each round;
    here it is made to apply without reading, as happens when a write commits between
    the two). The left's change was not known when the row was judged: the left sends
    the row as it then is, and both sides end with it."""
    project = make("right_wins")
    seeded(project)
    sql(project, "r", "UPDATE r.t SET a = 1")
    sql(project, "l", "UPDATE l.t SET a = 5")  # concurrent with the right's a = 1
    applier = Applier(project.config(), batch_size=100, poll_interval=0.05)
    applier._connect()
    try:
        applier._listeners["right"].poll()  # the right's a = 1 is queued
        applier._one_batch("to_left")  # and lands on the left, whose slot is unread
    finally:
        applier._close()
    assert both(project)[0] == [(1, 1, "x")]
    run(project)
    run(project)
    assert both(project) == ([(1, 1, "x")], [(1, 1, "x")])


@pytest.mark.parametrize("make", ["wal"], indirect=True)
def test_a_change_waits_while_the_slot_of_its_target_holds_older_writes(
    make: Callable[..., Project],
) -> None:
    """The left deletes a row behind other writes, the right updates it. A round that
    reads only part of the left's slot applies nothing to the left: the right's update
    meets the left's delete once it is queued, and the policy decides, as when both
    are read at once (the left wins by default: the row is gone on both sides)."""
    project = make()
    sql(project, "l", "INSERT INTO l.t VALUES (1, NULL, 'a')")
    run(project)
    for n in range(2, 5):
        sql(project, "l", f"INSERT INTO l.t VALUES ({n}, NULL, 'a')")
    sql(project, "l", "DELETE FROM l.t WHERE id = 1")
    sql(project, "r", "UPDATE r.t SET b = 'edited right' WHERE id = 1")
    applier = Applier(project.config(), batch_size=1, poll_interval=0.05, read_per_round=1)
    applier._connect()
    try:
        assert applier._one_round()  # one transaction of the left's slot read, not its delete
    finally:
        applier._close()
    assert rows(project.left_url, "SELECT id FROM l.t ORDER BY id") == [(2,), (3,), (4,)]
    assert queued(project.right_url) == 1  # the right's update, waiting
    run(project)
    run(project)
    assert both(project) == ([(2, None, "a"), (3, None, "a"), (4, None, "a")],) * 2
