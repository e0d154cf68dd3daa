"""Held changes, as a DBA meets them: a child whose parent the parent map filters out
is warned of by validate and reported by sync; held changes are listed, retried and
discarded with a reason; the backlog of a removed map is drained or discarded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from replicator.throwaway import ThrowawayServer
from tests.erpcrm import erpcrm_project
from tests.support import Project, replicator, rows


@pytest.fixture
def project(
    tmp_path: Path, pg: ThrowawayServer, fresh_db: Callable[[ThrowawayServer], str]
) -> Project:
    url = fresh_db(pg)
    return erpcrm_project(tmp_path / "project", url, url)


FILTERED_PARENT = (
    "warning: maps/contacts.toml: map 'contacts': field 'customer_id': a row of erp.contacts"
    " can point at a row of erp.customers that the left_filter of map customers"
    " (kind = 'company') keeps out: such a change of contacts (to_right) waits in"
    " replicator.held_change for a parent that never crosses (replicator held lists them);"
    " give map contacts a left_filter that keeps those rows out too, or widen the filter of"
    " map customers\n"
)


def test_validate_warns_of_a_child_whose_parent_the_parent_map_filters_out(
    project: Project,
) -> None:
    validated = replicator(project, "validate")
    assert (validated.returncode, validated.stderr) == (0, "")
    assert validated.stdout == FILTERED_PARENT + "2 maps (4 directions) are valid\n"


SEED = """
INSERT INTO erp.customers (id, name, kind) VALUES (1, 'Contoso', 'company'), (2, 'Ann Lee', 'person');
INSERT INTO erp.contacts (id, customer_id, name) VALUES (10, 1, 'Bo Ek'), (20, 2, 'Ann Lee');
"""


def seeded(project: Project) -> Project:
    """Deployed, with a company and a person in the ERP, and a contact of each."""
    with project.left() as conn:
        conn.execute(SEED.encode())
    project.deploy()
    return project


def test_sync_reports_the_rows_it_leaves_held_and_says_so_in_its_exit_code(
    project: Project,
) -> None:
    synced = replicator(seeded(project), "sync")
    assert (synced.returncode, synced.stderr) == (4, "")
    assert synced.stdout.splitlines()[-2:] == [
        "contacts (erp→crm): 1 row held, waiting for a parent that crm does not have:"
        " replicator held contacts lists them",
        "copied 2 rows of 2 maps; 1 row held",
    ]
    assert rows(project.right_url, "SELECT full_name FROM crm.contacts") == [("Bo Ek",)]
