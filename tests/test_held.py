"""Held changes, as a DBA meets them: a child whose parent the parent map filters out
is warned of by validate and reported by sync; held changes are listed, retried and
discarded with a reason; the backlog of a removed map is drained or discarded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from devtools.throwaway import ThrowawayServer
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
    " replicator.held_change for a parent that never crosses (replicator held list shows them);"
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


def seeded(project: Project, seed: str = SEED) -> Project:
    """Deployed, with a company and a person in the ERP, and a contact of each."""
    with project.left() as conn:
        conn.execute(seed.encode())
    project.deploy()
    return project


# A company and its contact, already in step on both sides.
COMPANY = """
INSERT INTO erp.customers (id, name, kind) VALUES (1, 'Contoso', 'company');
INSERT INTO erp.contacts (id, customer_id, name) VALUES (10, 1, 'Bo Ek');
"""


def in_step(project: Project) -> Project:
    seeded(project, COMPANY)
    assert replicator(project, "sync").returncode == 0
    return project


def test_sync_reports_the_rows_it_leaves_held_and_says_so_in_its_exit_code(
    project: Project,
) -> None:
    synced = replicator(seeded(project), "sync")
    assert (synced.returncode, synced.stderr) == (4, "")
    assert synced.stdout.splitlines()[-2:] == [
        "contacts (erp→crm): 1 row held, waiting for a parent that crm does not have:"
        " replicator held list contacts shows them",
        "copied 2 rows of 2 maps; 1 row held",
    ]
    assert rows(project.right_url, "SELECT full_name FROM crm.contacts") == [("Bo Ek",)]


PERSON_CONTACT = """
INSERT INTO erp.customers (id, name, kind) VALUES (3, 'Cy Ode', 'person');
INSERT INTO erp.contacts (id, customer_id, name) VALUES (30, 3, 'Cy Ode');
"""


def test_held_changes_are_listed_retried_once_the_parent_is_there_and_discarded_with_a_reason(
    project: Project,
) -> None:
    seeded(project)
    assert replicator(project, "sync").returncode == 4
    with project.left() as conn:
        conn.execute(PERSON_CONTACT.encode())
    project.drain()
    listed = replicator(project, "held", "list", "contacts")
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert [c.strip() for c in lines[0].split("|")] == [
        "id",
        "database",
        "map",
        "direction",
        "op",
        "key",
        "waiting for",
        "held since",
    ]
    held = [[c.strip() for c in line.split("|")] for line in lines[2:-1]]
    assert [(h[2], h[3], h[4], h[5]) for h in held] == [
        ("contacts", "to_right", "I", '{"id": 20}'),
        ("contacts", "to_right", "I", '{"id": 30}'),
    ]
    assert lines[-1] == "(2 rows)"
    # Retried while the parent is missing: still held.
    again = replicator(project, "held", "retry", "--map", "contacts")
    assert (again.returncode, again.stdout) == (
        0,
        "erp+crm: retried 2 held changes: 0 applied, 2 still held\n",
    )
    # The CRM gets the person's account by hand; the contact can now cross.
    with project.right() as conn:
        conn.execute("INSERT INTO crm.accounts (erp_id, name) VALUES (2, 'Ann Lee')")
    first = held[0][0]
    retried = replicator(project, "held", "retry", first)
    assert (retried.returncode, retried.stdout) == (
        0,
        "erp+crm: retried 1 held change: 1 applied, 0 still held\n",
    )
    assert rows(project.right_url, "SELECT full_name FROM crm.contacts ORDER BY 1") == [
        ("Ann Lee",),
        ("Bo Ek",),
    ]
    discarded = replicator(
        project, "held", "discard", held[1][0], "--reason", "a person's contact stays in the ERP"
    )
    assert (discarded.returncode, discarded.stdout) == (
        0,
        "erp+crm: discarded 1 held change (kept in replicator.activity_log, kind 'discard')\n",
    )
    assert replicator(project, "held", "list").stdout.splitlines()[-1] == "(0 rows)"
    [(message, image)] = rows(
        project.left_url,
        "SELECT message, detail->'held'->0->'image'->>'name' FROM replicator.activity_log"
        " WHERE kind = 'discard'",
    )
    assert (message, image) == (
        "discarded 1 held change: a person's contact stays in the ERP",
        "Cy Ode",
    )
    assert replicator(project, "status", "--check").stdout.count("held") == 0


def test_a_removed_paused_map_is_drained_by_resuming_it_then_removed(project: Project) -> None:
    in_step(project)
    replicator(project, "pause", "contacts", "--direction", "to_right")
    with project.left() as conn:
        conn.execute("INSERT INTO erp.contacts (id, customer_id, name) VALUES (11, 1, 'Di Fo')")
    project.remove_map("contacts.toml")
    refused = replicator(project, "deploy")
    assert (refused.returncode, refused.stdout) == (3, "")
    assert refused.stderr == (
        "replicator: deploy refused, nothing changed:\n"
        "  map contacts (to_right) is removed but still has 1 queued change: to apply it,"
        " replicator resume contacts (it is paused) and run the applier; to throw it away,"
        " replicator discard contacts --direction to_right --reason TEXT; then deploy again\n"
    )
    resumed = replicator(project, "resume", "contacts")
    assert (resumed.returncode, resumed.stderr) == (0, "")
    assert resumed.stdout == (
        "contacts (erp→crm): paused → catching_up; it is no longer in the maps files: once the"
        " applier has applied its backlog, replicator deploy removes it\n"
        "contacts (crm→erp): already running; it is no longer in the maps files: once the"
        " applier has applied its backlog, replicator deploy removes it\n"
    )
    project.drain()
    assert rows(project.right_url, "SELECT full_name FROM crm.contacts ORDER BY 1") == [
        ("Bo Ek",),
        ("Di Fo",),
    ]
    assert replicator(project, "deploy").returncode == 0
    assert rows(
        project.left_url, "SELECT count(*) FROM replicator.map_state WHERE map_name = 'contacts'"
    ) == [(0,)]


def test_the_backlog_of_a_removed_map_is_discarded_on_purpose_and_logged(
    project: Project,
) -> None:
    in_step(project)
    replicator(project, "pause", "contacts")
    with project.left() as conn:
        conn.execute("INSERT INTO erp.contacts (id, customer_id, name) VALUES (11, 1, 'Di Fo')")
    live = replicator(project, "discard", "contacts", "--reason", "not needed")
    assert (live.returncode, live.stderr) == (
        1,
        "replicator: map contacts is still in maps/contacts.toml: discard throws away only the"
        " backlog of a map or direction removed from the maps files (remove it there first)\n",
    )
    project.remove_map("contacts.toml")
    discarded = replicator(project, "discard", "contacts", "--reason", "contacts stay apart")
    assert (discarded.returncode, discarded.stderr) == (0, "")
    assert discarded.stdout.splitlines()[0] == (
        "contacts (erp→crm): discarded 1 queued change, 0 parked WAL changes and 0 held"
        " changes (kept in replicator.activity_log, kind 'discard'); replicator deploy now"
        " removes it"
    )
    assert replicator(project, "deploy").returncode == 0
    assert rows(
        project.left_url,
        "SELECT message, detail->'queued'->0->'image'->>'name' FROM replicator.activity_log"
        " WHERE kind = 'discard'",
    ) == [
        (
            "discarded 1 queued change and 0 parked WAL changes of a removed map:"
            " contacts stay apart",
            "Di Fo",
        )
    ]
