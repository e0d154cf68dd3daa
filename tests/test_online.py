"""Online mode: the other side is written inside the writer's own transaction."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tests.support import Project, example_project, queued, rows


@pytest.fixture
def project(tmp_path: Path, pg: object, fresh_db: Callable[..., str]) -> Project:
    url = fresh_db(pg)
    project = example_project(tmp_path, url, url)
    text = (project.root / "maps" / "loyalty_cards.toml").read_text()
    project.write_map(
        "loyalty_cards.toml",
        text.replace('direction = "both"', 'direction = "both"\nmode = "online"'),
    )
    project.deploy()
    return project


def test_both_sides_commit_together(project: Project) -> None:
    with project.left() as erp, erp.transaction():
        erp.execute("INSERT INTO fno.loyalty_cards (card_number, tier) VALUES ('LC-1', 'Gold')")
        # Visible on the other side before the writer even commits.
        assert erp.execute("SELECT card_number, tier FROM cds.loyalty_card").fetchall() == [
            ("LC-1", "Gold")
        ]
    with project.right() as crm:
        crm.execute("UPDATE cds.loyalty_card SET is_blocked = true")
    assert rows(project.left_url, "SELECT blocked FROM fno.loyalty_cards") == [(True,)]
    assert queued(project.left_url) == 0


def test_a_failed_write_fails_the_writer_naming_the_map_and_key(project: Project) -> None:
    with project.right() as crm:
        crm.execute(
            "ALTER TABLE cds.loyalty_card ADD CONSTRAINT known_tier CHECK (tier IN ('Basic', 'Gold'))"
        )
    with project.left() as erp, pytest.raises(psycopg.errors.CheckViolation) as caught:
        erp.execute("INSERT INTO fno.loyalty_cards (card_number, tier) VALUES ('LC-9', 'Platinum')")
    assert str(caught.value).startswith(
        "replicator: map loyalty_cards could not write key (card_number)=(LC-9)"
        ' to cds.loyalty_card: new row for relation "loyalty_card" violates check constraint'
        ' "known_tier"'
    )
    assert rows(project.left_url, "SELECT count(*) FROM fno.loyalty_cards") == [(0,)]
    assert rows(project.right_url, "SELECT count(*) FROM cds.loyalty_card") == [(0,)]


def test_later_writes_of_the_same_transaction_are_still_captured(project: Project) -> None:
    with project.left() as erp, erp.transaction():
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-1')")
        erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale')")
    # The online write did not hide the queued map's change that followed it.
    assert queued(project.left_url) == 1
    project.drain()
    assert rows(project.right_url, "SELECT group_code FROM cds.customer_group") == [("10",)]


def test_a_key_change_and_a_delete_follow_on_the_other_side(project: Project) -> None:
    with project.left() as erp:
        erp.execute("INSERT INTO fno.loyalty_cards (card_number, tier) VALUES ('LC-1', 'Gold')")
        erp.execute("UPDATE fno.loyalty_cards SET tier = 'Basic'")
        # A new key: the old row goes on the other side, the new one comes.
        erp.execute("UPDATE fno.loyalty_cards SET card_number = 'LC-2'")
    assert rows(project.right_url, "SELECT card_number, tier FROM cds.loyalty_card") == [
        ("LC-2", "Basic")
    ]
    with project.right() as crm:
        crm.execute("DELETE FROM cds.loyalty_card")
    assert rows(project.left_url, "SELECT count(*) FROM fno.loyalty_cards") == [(0,)]
    assert queued(project.left_url) == 0
