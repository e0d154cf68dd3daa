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
    text = (project.root / "maps" / "payment_terms.toml").read_text()
    project.write_map(
        "payment_terms.toml",
        text.replace('direction = "both"', 'direction = "both"\nmode = "online"'),
    )
    project.deploy()
    return project


def test_both_sides_commit_together(project: Project) -> None:
    with project.left() as erp, erp.transaction():
        erp.execute("INSERT INTO fno.payment_terms VALUES ('usmf', 'Net30', 'Net 30', 30)")
        # Visible on the other side before the writer even commits.
        assert erp.execute("SELECT code, due_days FROM cds.payment_term").fetchall() == [
            ("Net30", 30)
        ]
    with project.right() as crm:
        crm.execute("UPDATE cds.payment_term SET due_days = 45")
    assert rows(project.left_url, "SELECT net_days FROM fno.payment_terms") == [(45,)]
    assert queued(project.left_url) == 0


def test_a_failed_write_fails_the_writer_naming_the_map_and_key(project: Project) -> None:
    with project.right() as crm:
        crm.execute("ALTER TABLE cds.payment_term ADD CONSTRAINT sane_days CHECK (due_days < 365)")
    with project.left() as erp, pytest.raises(psycopg.errors.CheckViolation) as caught:
        erp.execute("INSERT INTO fno.payment_terms VALUES ('usmf', 'Net400', 'Too long', 400)")
    assert str(caught.value).startswith(
        "replicator: map payment_terms could not write key (dataareaid, payment_term_id)=(usmf, Net400)"
        ' to cds.payment_term: new row for relation "payment_term" violates check constraint "sane_days"'
    )
    assert rows(project.left_url, "SELECT count(*) FROM fno.payment_terms") == [(0,)]
    assert rows(project.right_url, "SELECT count(*) FROM cds.payment_term") == [(0,)]


def test_later_writes_of_the_same_transaction_are_still_captured(project: Project) -> None:
    with project.left() as erp, erp.transaction():
        erp.execute("INSERT INTO fno.payment_terms VALUES ('usmf', 'Net30', 'Net 30', 30)")
        erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale')")
    # The online write did not hide the queued map's change that followed it.
    assert queued(project.left_url) == 1
    project.drain()
    assert rows(project.right_url, "SELECT group_code FROM cds.customer_group") == [("10",)]
