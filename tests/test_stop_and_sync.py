"""A sync after a stop: what the stopped side changed meanwhile was never captured,
while the other side's changes kept crossing, so the sync copies from the stopped
side (not from the map's master) and says so; with both directions stopped, only the
DBA can say which side wins (--from)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from replicator.core.errors import ReplicatorError, SyncRefused
from replicator.core.exitcodes import ExitCode
from replicator.maps.config import load_config
from replicator.maps.loader import load_maps
from replicator.operations import sync, syncwinner
from tests.support import (
    EXAMPLE,
    Project,
    cli,
    rows,
    run_cli,
)

CONTACTS = (
    "SELECT contactpersonid, emailaddress1 FROM cds.contact"
    " WHERE contactpersonid IS NOT NULL ORDER BY 1"
)
PERSONS = "SELECT contact_person_id, email FROM fno.contact_persons ORDER BY 1"


@pytest.fixture
def project(example: Callable[..., Project], topology: str, capture: str) -> Project:
    return example(topology, capture)


def add_contacts(project: Project) -> None:
    """Ann and Bo, known to both sides with their ERP e-mails."""
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.contact_persons (dataareaid, contact_person_id, last_name, email)"
            " VALUES ('usmf', 'CP-1', 'Lee', 'ann@erp.example'),"
            " ('usmf', 'CP-2', 'Ek', 'bo@erp.example')"
        )
    project.drain()
    assert rows(project.right_url, CONTACTS) == [
        ("CP-1", "ann@erp.example"),
        ("CP-2", "bo@erp.example"),
    ]


def crm_email(project: Project, contact: str, email: str) -> None:
    with project.right() as crm:
        crm.execute(
            "UPDATE cds.contact SET emailaddress1 = %s WHERE contactpersonid = %s",
            (email, contact),
        )


def erp_email(project: Project, contact: str, email: str) -> None:
    with project.left() as erp:
        erp.execute(
            "UPDATE fno.contact_persons SET email = %s WHERE contact_person_id = %s",
            (email, contact),
        )


def both_sides(project: Project) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    return rows(project.left_url, PERSONS), rows(project.right_url, CONTACTS)


def stopped_at(project: Project) -> dict[str, bool]:
    """Per direction of contact_persons: whether a stop still waits for a sync (on the
    direction's source database, where its state lives)."""
    return {
        direction: rows(
            url,
            "SELECT stopped_at IS NOT NULL FROM replicator.map_state"
            f" WHERE map_name = 'contact_persons' AND direction = '{direction}'",
        )[0][0]
        for direction, url in (("to_right", project.left_url), ("to_left", project.right_url))
    }


def last_sync(project: Project) -> dict[str, tuple[str, str]]:
    """Per direction of contact_persons, its last sync's activity line (without its
    duration) and the side it says won."""
    found: dict[str, tuple[str, str]] = {}
    for url in dict.fromkeys((project.left_url, project.right_url)):
        for direction, message, side in rows(
            url,
            "SELECT direction, message, detail->>'from' FROM replicator.activity_log"
            " WHERE kind = 'sync' AND map_name = 'contact_persons' ORDER BY id",
        ):
            found[direction] = (message.split(", this run")[0], side)
    return found


def test_a_crm_change_made_while_to_left_was_stopped_survives_the_sync(
    project: Project,
) -> None:
    """Issue 19, item 1, as it was typed: stop the CRM's direction, change a CRM row,
    resume, run the sync resume names. The ERP is the master, yet the CRM's change
    reaches it, and the CRM keeps it."""
    add_contacts(project)
    stopped = cli(project, "stop", "contact_persons", "--direction", "to_left")
    assert (stopped.returncode, stopped.stdout) == (
        0,
        "contact_persons (cds→fno): running → stopped\n",
    )
    crm_email(project, "CP-1", "ann@crm.example")
    project.drain()
    assert rows(project.left_url, PERSONS)[0] == ("CP-1", "ann@erp.example")
    resumed = cli(project, "resume", "contact_persons")
    assert resumed.returncode == 0, resumed.stderr
    first, second = resumed.stdout.splitlines()
    assert first == "contact_persons (fno→cds): already running"
    assert second.startswith(
        "contact_persons (cds→fno): stopped → running; changes made while it was stopped"
    )
    assert second.endswith(
        " were not captured: run replicator sync contact_persons to copy them from cds"
    )
    synced = cli(project, "sync", "contact_persons")
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.splitlines()[0] == (
        "contact_persons: copying from cds, whose changes were not captured while"
        " contact_persons (cds→fno) was stopped"
    )
    wanted = [("CP-1", "ann@crm.example"), ("CP-2", "bo@erp.example")]
    assert both_sides(project) == (wanted, wanted)
    project.drain()
    assert both_sides(project) == (wanted, wanted)
    # The activity log says which side won and why.
    said = "initial sync, cds winning (cds→fno was stopped): 2 rows read, 0 failed, 0 held"
    assert last_sync(project) == {
        "to_right": (f"{said} for a missing parent", "right"),
        "to_left": (f"{said} for a missing parent", "right"),
    }
    # The stop is made good: the next sync is an ordinary one, the master winning.
    assert stopped_at(project) == {"to_right": False, "to_left": False}
    again = cli(project, "sync", "contact_persons")
    assert again.returncode == 0, again.stderr
    assert "copying from" not in again.stdout
    assert both_sides(project) == (wanted, wanted)


@pytest.fixture
def servers(example: Callable[..., Project]) -> Project:
    """The example on two servers, captured by triggers."""
    return example("two_servers", "trigger")


def test_an_erp_change_made_while_to_right_was_stopped_reaches_the_crm(servers: Project) -> None:
    """The README's own stop: the ERP's direction is stopped for a clean-up. What the CRM
    changed meanwhile crossed as usual, and the sync keeps it too."""
    project = servers
    add_contacts(project)
    assert cli(project, "stop", "contact_persons", "--direction", "to_right").returncode == 0
    erp_email(project, "CP-1", "ann@clean.example")
    crm_email(project, "CP-2", "bo@crm.example")
    project.drain()
    assert both_sides(project) == (
        [("CP-1", "ann@clean.example"), ("CP-2", "bo@crm.example")],
        [("CP-1", "ann@erp.example"), ("CP-2", "bo@crm.example")],
    )
    resumed = cli(project, "resume", "contact_persons")
    assert resumed.stdout.splitlines()[0].endswith(
        " were not captured: run replicator sync contact_persons to copy them from fno"
    )
    synced = cli(project, "sync", "contact_persons")
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.splitlines()[0] == (
        "contact_persons: copying from fno, whose changes were not captured while"
        " contact_persons (fno→cds) was stopped"
    )
    wanted = [("CP-1", "ann@clean.example"), ("CP-2", "bo@crm.example")]
    assert both_sides(project) == (wanted, wanted)
    assert stopped_at(project) == {"to_right": False, "to_left": False}


def test_with_both_directions_stopped_sync_refuses_until_told_which_side_wins(
    servers: Project,
) -> None:
    project = servers
    add_contacts(project)
    assert cli(project, "stop", "contact_persons").returncode == 0
    erp_email(project, "CP-1", "ann@clean.example")
    crm_email(project, "CP-2", "bo@crm.example")
    resumed = cli(project, "resume", "contact_persons")
    for line in resumed.stdout.splitlines():
        assert line.endswith(
            " were not captured: with both directions stopped, run replicator sync"
            " contact_persons --from left (fno) or --from right (cds), naming the side whose"
            " rows win"
        ), line
    before = both_sides(project)
    refusal = (
        "replicator: sync refused, nothing was copied: both directions of map"
        " contact_persons were stopped since its last sync, so fno and cds may each have"
        " changes the other lacks; say whose rows win: replicator sync contact_persons"
        " --from left (fno) or --from right (cds)\n"
    )
    for named in (["contact_persons"], []):  # also within a sync of every map
        refused = cli(project, "sync", *named)
        assert (refused.returncode, refused.stdout, refused.stderr) == (
            ExitCode.REFUSED,
            "",
            refusal,
        )
    assert both_sides(project) == before
    assert stopped_at(project) == {"to_right": True, "to_left": True}
    chosen = cli(project, "sync", "contact_persons", "--from", "right")
    assert chosen.returncode == 0, chosen.stderr
    assert (
        chosen.stdout.splitlines()[0] == "contact_persons: copying from cds, as --from right says"
    )
    # The DBA chose the CRM: its rows win, the ERP's clean-up of Ann is undone.
    wanted = [("CP-1", "ann@erp.example"), ("CP-2", "bo@crm.example")]
    assert both_sides(project) == (wanted, wanted)
    said = "initial sync, cds winning (--from right): 2 rows read, 0 failed, 0 held"
    assert last_sync(project) == {
        "to_right": (f"{said} for a missing parent", "right"),
        "to_left": (f"{said} for a missing parent", "right"),
    }
    assert stopped_at(project) == {"to_right": False, "to_left": False}
    assert cli(project, "sync", "contact_persons").returncode == 0


def test_from_wins_over_the_stopped_side(servers: Project) -> None:
    """The DBA may know better than the stop: --from left keeps the ERP's rows."""
    project = servers
    add_contacts(project)
    assert cli(project, "stop", "contact_persons", "--direction", "to_left").returncode == 0
    crm_email(project, "CP-1", "ann@typo.example")
    assert cli(project, "resume", "contact_persons").returncode == 0
    chosen = cli(project, "sync", "contact_persons", "--from", "left")
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stdout.splitlines()[0] == "contact_persons: copying from fno, as --from left says"
    wanted = [("CP-1", "ann@erp.example"), ("CP-2", "bo@erp.example")]
    assert both_sides(project) == (wanted, wanted)
    assert last_sync(project)["to_right"] == (
        "initial sync, fno winning (--from left): 2 rows read, 0 failed, 0 held for a missing"
        " parent",
        "left",
    )
    # The CRM row it overwrote is in the activity log, before and after.
    assert rows(
        project.right_url,
        "SELECT detail->'before'->>'emailaddress1', detail->'after'->>'emailaddress1'"
        " FROM replicator.activity_log WHERE kind = 'overwrite'",
    ) == [("ann@typo.example", "ann@erp.example")]
    assert stopped_at(project) == {"to_right": False, "to_left": False}


def test_a_sync_while_still_stopped_keeps_the_stop_until_one_after_the_resume(
    servers: Project,
) -> None:
    project = servers
    add_contacts(project)
    assert cli(project, "stop", "contact_persons", "--direction", "to_left").returncode == 0
    crm_email(project, "CP-1", "ann@crm.example")
    early = cli(project, "sync", "contact_persons")
    assert early.returncode == 0, early.stderr
    assert early.stdout.splitlines()[0] == (
        "contact_persons: copying from cds, whose changes are not captured while"
        " contact_persons (cds→fno) is stopped: resume it, then sync again"
    )
    assert rows(project.left_url, PERSONS)[0] == ("CP-1", "ann@crm.example")
    # Still stopped after the sync: what the CRM changes now is not captured either.
    crm_email(project, "CP-2", "bo@crm.example")
    assert stopped_at(project) == {"to_right": False, "to_left": True}
    resumed = cli(project, "resume", "contact_persons", "--direction", "to_left")
    assert resumed.stdout.rstrip().endswith("to copy them from cds")
    assert cli(project, "sync", "contact_persons").returncode == 0
    wanted = [("CP-1", "ann@crm.example"), ("CP-2", "bo@crm.example")]
    assert both_sides(project) == (wanted, wanted)
    assert stopped_at(project) == {"to_right": False, "to_left": False}


def test_the_winner_follows_from_then_the_one_stop_then_the_master(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REPLICATOR_LEFT", "dbname=fno")
    monkeypatch.setenv("REPLICATOR_RIGHT", "dbname=cds")
    config = load_config(EXAMPLE / "replicator.toml")
    groups = load_maps(config.maps_dir, config.path.parent).by_name("customer_groups")
    now = datetime.now(UTC)
    to_left = syncwinner.Stop("to_left", now, still=False)
    to_right = syncwinner.Stop("to_right", now, still=False)
    assert syncwinner.choose(config, groups, [], None).side == "left"  # the master
    assert syncwinner.choose(config, groups, [to_left], None).side == "right"
    assert syncwinner.choose(config, groups, [to_right], None).side == "left"
    assert syncwinner.choose(config, groups, [to_left, to_right], "right").side == "right"
    with pytest.raises(SyncRefused):
        syncwinner.choose(config, groups, [to_left, to_right], None)
    assert sync.passes(groups, "right") == [("to_right", True), ("to_left", False)]
    # A map that flows one way copies along it, and cannot be told otherwise.
    one_way = replace(groups, direction="to_left")
    assert syncwinner.choose(config, one_way, [], None).side == "right"
    assert sync.passes(one_way, "right") == [("to_left", False)]
    with pytest.raises(
        ReplicatorError,
        match=r"^cannot sync --from left: map customer_groups flows to_left, never from the"
        r" left side \(fno\)$",
    ):
        syncwinner.choose(config, one_way, [], "left")


def test_sync_help_names_from() -> None:
    shown = run_cli(["sync", "--help"], {})
    assert "--from {left,right}" in shown.stdout
