"""WAL capture: changes read from a logical slot (wal2json) cross like trigger-captured
ones, once, and never come back; unchanged TOAST values stay; TRUNCATE follows the
map's policy; the slot is set up by deploy and watched by status."""

from __future__ import annotations

import io
from pathlib import Path

import psycopg
import pytest

from tests.support import Project, audit, queued, rows, wait_for, writes

ITEMS_DDL = """
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE {schema}.items (
    code  text PRIMARY KEY,
    name  text NOT NULL,
    notes text,
    price numeric(12, 4),
    body  text
);
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
