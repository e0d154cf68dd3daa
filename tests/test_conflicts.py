"""Conflicts: both sides change a row before either change crosses over. The map's
declared policy decides, the same way on both sides; edits of different fields both
survive; every conflict is logged; a manual one waits for replicator resolve."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from devtools.throwaway import ThrowawayServer
from tests.support import Project, cli, rows

ITEMS_DDL = """
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE {schema}.items (
    code  text PRIMARY KEY,
    name  text NOT NULL,
    price numeric(12, 2)
);
-- WAL capture judges a conflict by the whole row before an update.
ALTER TABLE {schema}.items REPLICA IDENTITY FULL;
"""

ITEMS_MAP = """
[[map]]
name = "items"
left = "items"
right = "items"
direction = "both"
{policy}

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
  {price_policy}
"""

SIDES_OF = {
    "trigger": ("trigger", "trigger"),
    "wal_both": ("wal", "wal"),
    "wal_left": ("wal", "trigger"),
}


def items(
    tmp_path: Path,
    two_sides: tuple[str, str],
    capture: str,
    policy: str | None,
    price: str | None = None,
) -> Project:
    left, right = two_sides
    captures = SIDES_OF[capture]
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
    project.write_map(
        "items.toml",
        ITEMS_MAP.format(
            policy=f'conflict = "{policy}"' if policy else "",
            price_policy=f'conflict = "{price}"' if price else "",
        ),
    )
    project.deploy()
    return project


def run(url: str, statement: str) -> None:
    """One committed statement, flushed so a WAL slot sees it at once."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = on")
        conn.execute(statement.encode())


def both(project: Project) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    query = "SELECT code, name, price::text FROM {}.items ORDER BY code"
    return rows(project.left_url, query.format("erp")), rows(project.right_url, query.format("crm"))


def conflicts(project: Project) -> list[tuple[str, str, str, dict[str, object]]]:
    """(direction, key code, outcome, fields) of every logged conflict, both databases."""
    found: set[tuple[str, str, str, str]] = set()
    for url in {project.left_url, project.right_url}:
        for direction, key, outcome, fields in rows(
            url,
            "SELECT direction, key->>'code', outcome, fields::text FROM replicator.conflict_log",
        ):
            found.add((str(direction), str(key), str(outcome), str(fields)))
    return [(d, k, o, json.loads(f)) for d, k, o, f in sorted(found)]


def seeded(project: Project, *values: str) -> None:
    run(project.left_url, f"INSERT INTO erp.items VALUES {', '.join(values)}")
    project.drain()


@pytest.fixture
def make(tmp_path: Path, two_sides: tuple[str, str], capture: str):  # type: ignore[no-untyped-def]
    def build(policy: str | None = None, price: str | None = None) -> Project:
        return items(tmp_path, two_sides, capture, policy, price)

    return build


def test_the_same_field_edited_on_both_sides_goes_to_the_master_by_default(make) -> None:  # type: ignore[no-untyped-def]
    project = make()
    seeded(project, "('A', 'anvil', 10)")
    run(project.left_url, "UPDATE erp.items SET name = 'ERP anvil'")
    run(project.right_url, "UPDATE crm.items SET name = 'CRM anvil'")
    project.drain()
    left, right = both(project)
    assert left == right == [("A", "ERP anvil", "10.00")]
    # Each side judged the other's change, and says so.
    assert conflicts(project) == [
        ("to_left", "A", "kept_local", {"name": {"policy": "left_wins", "took": "local"}}),
        ("to_right", "A", "took_incoming", {"name": {"policy": "left_wins", "took": "incoming"}}),
    ]


def test_right_wins_keeps_the_crm_edit_on_both_sides(make) -> None:  # type: ignore[no-untyped-def]
    project = make("right_wins")
    seeded(project, "('A', 'anvil', 10)")
    run(project.left_url, "UPDATE erp.items SET name = 'ERP anvil'")
    run(project.right_url, "UPDATE crm.items SET name = 'CRM anvil'")
    project.drain()
    left, right = both(project)
    assert left == right == [("A", "CRM anvil", "10.00")]
    assert {(d, o) for d, _, o, _ in conflicts(project)} == {
        ("to_left", "took_incoming"),
        ("to_right", "kept_local"),
    }


def test_edits_of_different_fields_both_survive(make) -> None:  # type: ignore[no-untyped-def]
    project = make()
    seeded(project, "('A', 'anvil', 10)")
    run(project.left_url, "UPDATE erp.items SET name = 'ERP anvil'")
    run(project.right_url, "UPDATE crm.items SET price = 12")
    project.drain()
    left, right = both(project)
    assert left == right == [("A", "ERP anvil", "12.00")]
    # No field was written on both sides: nothing to decide, nothing to log.
    assert conflicts(project) == []


def test_newest_wins_takes_the_later_commit_on_both_sides(make) -> None:  # type: ignore[no-untyped-def]
    project = make("newest_wins")
    seeded(project, "('A', 'anvil', 10), ('B', 'bolt', 1)")
    run(project.left_url, "UPDATE erp.items SET name = 'older ERP' WHERE code = 'A'")
    run(project.right_url, "UPDATE crm.items SET name = 'newer CRM' WHERE code = 'A'")
    run(project.right_url, "UPDATE crm.items SET name = 'older CRM' WHERE code = 'B'")
    run(project.left_url, "UPDATE erp.items SET name = 'newer ERP' WHERE code = 'B'")
    project.drain()
    left, right = both(project)
    assert left == right == [("A", "newer CRM", "10.00"), ("B", "newer ERP", "1.00")]
    assert len(conflicts(project)) == 4


def test_newest_wins_decides_per_field_and_keeps_an_older_edit_of_another_field(make) -> None:  # type: ignore[no-untyped-def]
    project = make("newest_wins")
    seeded(project, "('A', 'anvil', 10)")
    run(project.left_url, "UPDATE erp.items SET name = 'older ERP'")
    run(project.right_url, "UPDATE crm.items SET price = 12")
    project.drain()
    # A clock per field: the newer edit of price does not overrule the older one of name.
    left, right = both(project)
    assert left == right == [("A", "older ERP", "12.00")]
    assert conflicts(project) == []


def test_a_field_can_declare_its_own_policy(make) -> None:  # type: ignore[no-untyped-def]
    project = make("left_wins", price="right_wins")
    seeded(project, "('A', 'anvil', 10)")
    run(project.left_url, "UPDATE erp.items SET name = 'ERP anvil', price = 11")
    run(project.right_url, "UPDATE crm.items SET name = 'CRM anvil', price = 12")
    project.drain()
    left, right = both(project)
    assert left == right == [("A", "ERP anvil", "12.00")]
    to_right = [c for c in conflicts(project) if c[0] == "to_right"]
    assert to_right == [
        (
            "to_right",
            "A",
            "merged",
            {
                "name": {"policy": "left_wins", "took": "incoming"},
                "price": {"policy": "right_wins", "took": "local"},
            },
        )
    ]


def test_sequential_edits_are_no_conflict(make) -> None:  # type: ignore[no-untyped-def]
    project = make()
    seeded(project, "('A', 'anvil', 10)")
    run(project.right_url, "UPDATE crm.items SET name = 'CRM anvil'")
    project.drain()
    run(project.left_url, "UPDATE erp.items SET price = 11")
    project.drain()
    run(project.right_url, "UPDATE crm.items SET name = 'CRM anvil 2', price = 12")
    project.drain()
    left, right = both(project)
    assert left == right == [("A", "CRM anvil 2", "12.00")]
    assert conflicts(project) == []


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("left_wins", []),  # the ERP deleted it: gone on both sides
        ("right_wins", [("A", "CRM anvil", "10.00")]),  # the CRM's edit brings it back
        ("newest_wins", [("A", "CRM anvil", "10.00")]),  # an edited row is kept
    ],
)
def test_a_delete_against_an_update(make, policy: str, expected: list[tuple[object, ...]]) -> None:  # type: ignore[no-untyped-def]
    project = make(policy)
    seeded(project, "('A', 'anvil', 10)")
    run(project.left_url, "DELETE FROM erp.items")
    run(project.right_url, "UPDATE crm.items SET name = 'CRM anvil'")
    project.drain()
    left, right = both(project)
    assert left == right == expected
    outcomes = {(d, o) for d, _, o, _ in conflicts(project)}
    kept = bool(expected)
    assert outcomes == {
        ("to_right", "kept_local" if kept else "took_incoming"),
        ("to_left", "took_incoming" if kept else "kept_local"),
    }


def test_the_same_new_key_inserted_on_both_sides(make) -> None:  # type: ignore[no-untyped-def]
    project = make()
    run(project.left_url, "INSERT INTO erp.items VALUES ('N', 'ERP new', 1)")
    run(project.right_url, "INSERT INTO crm.items VALUES ('N', 'CRM new', 1)")
    project.drain()
    left, right = both(project)
    assert left == right == [("N", "ERP new", "1.00")]
    assert conflicts(project) == [
        ("to_left", "N", "kept_local", {"name": {"policy": "left_wins", "took": "local"}}),
        ("to_right", "N", "took_incoming", {"name": {"policy": "left_wins", "took": "incoming"}}),
    ]


def test_a_manual_conflict_waits_and_resolve_replicates_the_choice(make) -> None:  # type: ignore[no-untyped-def]
    project = make("manual")
    seeded(project, "('A', 'anvil', 10)")
    run(project.left_url, "UPDATE erp.items SET name = 'ERP anvil'")
    run(project.right_url, "UPDATE crm.items SET name = 'CRM anvil'")
    project.drain()
    # Neither side is overwritten.
    assert both(project) == ([("A", "ERP anvil", "10.00")], [("A", "CRM anvil", "10.00")])
    listed = json.loads(cli(project, "conflicts", "--waiting", "--json").stdout)
    assert {(c["map"], c["outcome"]) for c in listed} == {("items", "waiting")}
    assert len(listed) == 2  # one per direction
    status = json.loads(cli(project, "status", "--json").stdout)["maps"]
    assert {(s["direction"], s["conflicts_waiting"]) for s in status} == {
        ("to_right", 1),
        ("to_left", 1),
    }
    to_left = next(c for c in listed if c["direction"] == "crm→erp")
    # Logged where the CRM's change arrived: the ERP's database.
    done = cli(project, "resolve", str(to_left["id"]), "--take", "right", "--side", "left")
    assert done.returncode == 0, done.stderr
    assert "the right side's row is queued for the left side" in done.stdout
    project.drain()
    left, right = both(project)
    assert left == right == [("A", "CRM anvil", "10.00")]
    assert json.loads(cli(project, "conflicts", "--waiting", "--json").stdout) == []
    every = json.loads(cli(project, "conflicts", "items", "--json").stdout)
    assert {(c["outcome"], c["taken"]) for c in every} == {("resolved", "right")}
    # Settled: the next edit crosses without a conflict.
    run(project.left_url, "UPDATE erp.items SET price = 11")
    project.drain()
    assert both(project)[1] == [("A", "CRM anvil", "11.00")]
    assert len(json.loads(cli(project, "conflicts", "--json").stdout)) == 2


def test_resolve_refuses_a_conflict_that_is_not_waiting(make) -> None:  # type: ignore[no-untyped-def]
    project = make()
    seeded(project, "('A', 'anvil', 10)")
    run(project.left_url, "UPDATE erp.items SET name = 'ERP anvil'")
    run(project.right_url, "UPDATE crm.items SET name = 'CRM anvil'")
    project.drain()
    # The ERP's database logged the CRM's change it kept its own row against.
    (decided,) = rows(
        project.left_url, "SELECT id FROM replicator.conflict_log WHERE direction = 'to_left'"
    )
    done = cli(project, "resolve", str(decided[0]), "--take", "right", "--side", "left")
    assert done.returncode == 1
    assert (
        f"conflict {decided[0]} is not waiting for a decision: its outcome is kept_local"
        in done.stderr
    )


def test_newest_wins_needs_commit_timestamps_and_validate_says_so(tmp_path: Path) -> None:
    with ThrowawayServer({"track_commit_timestamp": "off"}) as server:
        url = server.url()
        project = items(tmp_path, (url, url), "trigger", "left_wins")
        project.write_map(
            "items.toml", ITEMS_MAP.format(policy='conflict = "newest_wins"', price_policy="")
        )
        done = cli(project, "validate")
    assert done.returncode == 1
    assert (
        'erp+crm: track_commit_timestamp is off, and conflict = "newest_wins" (maps items)'
        " compares commit times: ALTER SYSTEM SET track_commit_timestamp = on, then restart"
        " the server"
    ) in done.stderr


@pytest.mark.parametrize(
    ("policy", "price", "expected"),
    [
        pytest.param(
            "first_wins",
            "loudest",
            [
                "maps/items.toml: map 'items': conflict must be one of left_wins, right_wins,"
                " newest_wins, manual (got 'first_wins')",
                "maps/items.toml: map 'items': field 'price': conflict must be one of"
                " left_wins, right_wins, newest_wins, manual (got 'loudest')",
            ],
            id="unknown policies",
        ),
    ],
)
def test_a_policy_that_cannot_be_is_refused_naming_the_file_map_and_field(
    tmp_path: Path,
    pg: ThrowawayServer,
    fresh_db: Callable[[ThrowawayServer], str],
    policy: str,
    price: str,
    expected: list[str],
) -> None:
    url = fresh_db(pg)
    project = items(tmp_path, (url, url), "trigger", None)
    project.write_map(
        "items.toml",
        ITEMS_MAP.format(policy=f'conflict = "{policy}"', price_policy=f'conflict = "{price}"'),
    )
    done = cli(project, "validate")
    assert done.returncode == 1
    for message in expected:
        assert message in done.stderr
