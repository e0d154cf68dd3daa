"""Alert rules in replicator.toml: so many errors in a window pause, stop or notify."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from replicator.core.errors import ConfigError
from replicator.maps.config import load_config
from replicator.operations.status import status_rows
from replicator.runtime.applier import Applier
from tests.support import Project, queued, rows

RULE = """
[[alert]]
name = "poison"
errors = "23514"
count = {count}
window = "15m"
actions = [{actions}]
command = "{python} {script} {out}"
"""

WRITE_STDIN = "import sys\nopen(sys.argv[1], 'a').write(sys.stdin.read() + '\\n')\n"


@pytest.fixture
def project(example: Callable[..., Project], topology: str) -> Project:
    project = example(topology)
    with project.right() as crm:
        crm.execute(
            "ALTER TABLE cds.customer_group ADD CONSTRAINT no_poison CHECK (name <> 'poison')"
        )
    return project


def with_rule(project: Project, actions: str, count: int = 2) -> Path:
    """Add the rule; returns the file its command appends alerts to."""
    script = project.root / "page.py"
    script.write_text(WRITE_STDIN)
    out = project.root / "paged.jsonl"
    rule = RULE.format(actions=actions, count=count, python=sys.executable, script=script, out=out)
    project.config_path.write_text(project.config_path.read_text() + rule)
    return out


def add_groups(project: Project, *names: str) -> None:
    with project.left() as erp:
        for name in names:
            erp.execute(
                "INSERT INTO fno.customer_groups VALUES ('usmf', %s, %s)",
                (uuid.uuid4().hex[:10], name),
            )


def state(project: Project) -> str:
    found = {(r.map, r.flow): r for r in status_rows(project.config())}
    return found[("customer_groups", "fno→cds")].state


def test_too_many_errors_pause_the_map_and_notify(project: Project) -> None:
    # The README's example: 10 errors in 15 minutes pause the map and notify.
    paged = with_rule(project, '"pause", "notify"', count=10)
    with psycopg.connect(project.right_url, autocommit=True) as listener:
        listener.execute("LISTEN replicator_alert")
        add_groups(project, *["poison"] * 9, "fine")
        assert project.drain().failed == 9
        assert state(project) == "running"  # 9 errors: below the threshold
        add_groups(project, "poison")
        assert project.drain().failed == 1
        notified = [n.payload for n in listener.notifies(timeout=5, stop_after=1)]
    alert = {
        "rule": "poison",
        "map": "customer_groups",
        "direction": "to_right",
        "errors": 10,
        "window": "0:15:00",
        "actions": ["pause", "notify"],
    }
    assert [json.loads(p) for p in notified] == [alert]
    assert [json.loads(line) for line in paged.read_text().splitlines()] == [alert]
    assert state(project) == "failed"
    # Paused by the rule: new changes wait, other maps go on.
    add_groups(project, "later")
    with project.left() as erp:
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-1')")
    project.drain()
    assert rows(project.right_url, "SELECT count(*) FROM cds.loyalty_card") == [(1,)]
    assert queued(project.left_url) == 1
    assert rows(
        project.right_url,
        "SELECT message FROM replicator.activity_log WHERE kind = 'alert'",
    ) == [("alert poison: 10 errors within 0:15:00; pause, notify",)]


def test_a_stop_action_stops_capturing(project: Project) -> None:
    with_rule(project, '"stop"')
    add_groups(project, "poison", "poison")
    project.drain()
    assert state(project) == "stopped"
    add_groups(project, "missed")
    assert queued(project.left_url) == 0


def test_a_rule_fires_once_per_window(project: Project) -> None:
    paged = with_rule(project, '"notify"')
    add_groups(project, "poison", "poison")
    project.drain()
    add_groups(project, "poison", "poison")
    project.drain()
    assert len(paged.read_text().splitlines()) == 1
    assert state(project) == "running"


def test_a_bad_rule_is_refused_naming_it(project: Project) -> None:
    project.config_path.write_text(
        project.config_path.read_text()
        + '\n[[alert]]\nerrors = "any"\ncount = 10\nwindow = "15m"\nactions = ["page"]\n'
    )
    with pytest.raises(ConfigError) as refused:
        load_config(project.config_path)
    assert str(refused.value) == (
        f"{project.config_path}: [[alert]] #1: actions must be a list of notify, pause, stop"
    )


def test_a_broken_maps_folder_does_not_stop_the_applier_when_an_alert_pauses_a_map(
    project: Project,
) -> None:
    """The applier acts on what is deployed: a DBA halfway through editing a map file
    (not yet valid TOML) does not stop it when a rule fires."""
    with_rule(project, '"pause"')
    applier = Applier(project.config(project.runtime), batch_size=2, poll_interval=0.05)
    project.write_map("customer_groups.toml", "[[map]\nname = ")
    add_groups(project, "poison", "poison")  # the first batch: the rule fires
    with project.left() as erp:
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-1')")
    totals = applier.run(until_idle=True)
    assert (totals.failed, totals.applied) == (2, 1)
    assert state(project) == "failed"
    assert rows(project.right_url, "SELECT count(*) FROM cds.loyalty_card") == [(1,)]
