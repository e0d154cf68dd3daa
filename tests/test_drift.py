"""Drift: a table under a deployed map changes (a mapped column renamed, dropped,
retyped; a table renamed). The applier notices before applying, the map goes
failed with a message naming the column and the fix, the application's writes go
on, what can be captured stays captured, the other maps go on, and nothing fails
batch after batch into the error log. After the map is edited and deployed,
replicator resume applies the backlog."""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg
import pytest

from replicator.runtime import applier as applier_module
from replicator.runtime.applier import Applier
from tests.support import USMF, Project, cli, rows

CUSTOMERS = "customers_organization", "customers_person"
ACCOUNTS = "SELECT accountnumber, name, creditlimit FROM cds.account ORDER BY 1"
CARDS_CRM = "SELECT card_number, tier FROM cds.loyalty_card ORDER BY 1"
CARDS_ERP = "SELECT card_number, tier FROM fno.loyalty_cards ORDER BY 1"


@pytest.fixture
def project(example: Callable[..., Project], capture: str) -> Project:
    """The example in one database, deployed, with one customer and one card across."""
    project = example("one_database", capture)
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name, credit_limit)"
            " VALUES ('usmf', 'C-1', 'Fabrikam', 100)"
        )
        erp.execute("INSERT INTO fno.loyalty_cards (card_number, tier) VALUES ('LC-1', 'Gold')")
    project.drain()
    assert rows(project.right_url, ACCOUNTS) == [("C-1", "Fabrikam", 100)]
    return project


def state(project: Project, map_name: str, direction: str = "to_right") -> tuple[str, str | None]:
    found = rows(
        project.left_url,
        "SELECT state, state_reason FROM replicator.map_state"
        f" WHERE map_name = '{map_name}' AND direction = '{direction}'",
    )
    return found[0]


def queued_for(project: Project, map_name: str, direction: str = "to_right") -> int:
    """Changes of the map kept for later: queued, or (WAL capture) parked."""
    found = rows(
        project.left_url,
        "SELECT (SELECT count(*) FROM replicator.change_queue"
        f"         WHERE map_name = '{map_name}' AND direction = '{direction}')"
        " + (SELECT coalesce(sum(jsonb_array_length(changes)), 0) FROM replicator.wal_parked"
        f"    WHERE map_name = '{map_name}' AND direction = '{direction}')",
    )
    return int(found[0][0])


def open_errors(project: Project) -> int:
    return int(rows(project.left_url, "SELECT count(*) FROM replicator.error_log")[0][0])


def edit_map(project: Project, file: str, old: str, new: str) -> None:
    path = project.root / "maps" / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def resume(project: Project, *maps: str) -> None:
    done = cli(project, "resume", *maps)
    assert done.returncode == 0, done.stderr


def drift_messages(project: Project) -> list[str]:
    return [str(r[0]) for r in rows(project.left_url, "SELECT message FROM replicator.drift()")]


@pytest.mark.parametrize("capture", ["trigger", "wal_left"], indirect=True)
def test_a_renamed_column_fails_its_maps_until_the_map_follows_and_nothing_is_lost(
    project: Project, capture: str
) -> None:
    with project.left() as erp:
        # Captured under the old name, not applied yet.
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name, credit_limit)"
            " VALUES ('usmf', 'C-3', 'Litware', 300)"
        )
        erp.execute("ALTER TABLE fno.customers RENAME COLUMN credit_limit TO credit_max")
        # The application's writes go on as before.
        erp.execute("UPDATE fno.customers SET credit_max = 500 WHERE account_num = 'C-1'")
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name, credit_max)"
            " VALUES ('usmf', 'C-2', 'Contoso', 7)"
        )
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-2')")
    project.drain()
    renamed = (
        'map customers_organization: fno.customers column "credit_limit" was renamed to'
        ' "credit_max"; edit the map (field credit_limit) and run replicator deploy'
    )
    reason = state(project, "customers_organization")[1]
    assert state(project, "customers_organization")[0] == "failed"
    assert reason is not None and reason.startswith(renamed)
    assert reason.endswith("; then replicator resume customers_organization")
    if capture != "trigger":
        assert "kept in replicator.wal_parked and queued after the fix" in reason
    # Both ways: the CRM's changes would land in a column that is not there any more.
    # The other map of the table does not use the column and goes on.
    assert state(project, "customers_organization", "to_left")[0] == "failed"
    assert state(project, "customers_person") == ("running", None)
    # Nothing was applied with a null credit limit, nothing went to the error log,
    # the other maps went on.
    assert rows(project.right_url, ACCOUNTS) == [("C-1", "Fabrikam", 100)]
    assert open_errors(project) == 0
    assert rows(project.right_url, CARDS_CRM) == [("LC-1", "Gold"), ("LC-2", "Basic")]
    assert queued_for(project, "customers_organization") == 3
    status = json.loads(cli(project, "status", "--json").stdout)["maps"]
    shown = {(r["map"], r["direction"]): r for r in status}
    assert shown[("customers_organization", "to_right")]["state"] == "failed"
    assert shown[("customers_organization", "to_right")]["state_reason"] == reason
    text = cli(project, "status").stdout
    assert f"customers_organization (to_right, fno→cds) failed: {reason}" in text
    logged = rows(
        project.left_url,
        "SELECT message FROM replicator.activity_log WHERE kind = 'drift'"
        " AND map_name = 'customers_organization' AND direction = 'to_right'",
    )
    assert logged == [(f"running → failed: {reason}",)]

    # Draining again takes nothing of the failed maps and logs nothing.
    project.drain()
    assert open_errors(project) == 0
    assert queued_for(project, "customers_organization") == 3

    # The fix: the map follows the rename, deploy, resume.
    edit_map(project, "customers.toml", "credit_limit", "credit_max")
    project.deploy()
    project.drain()  # WAL capture: the parked changes are queued, the map still failed
    assert drift_messages(project) == []
    assert queued_for(project, "customers_organization") == 3
    resume(project, "customers_organization")
    project.drain()
    assert rows(project.right_url, ACCOUNTS) == [
        ("C-1", "Fabrikam", 500),
        ("C-2", "Contoso", 7),
        ("C-3", "Litware", 300),
    ]
    assert state(project, "customers_organization")[0] == "running"
    assert open_errors(project) == 0


@pytest.mark.parametrize("capture", ["trigger"], indirect=True)
def test_a_renamed_filter_column_does_not_fail_the_applications_writes(
    project: Project,
) -> None:
    """The capture trigger reads the filter's column by name: the write goes through,
    the change is noted as not captured, and replicator sync copies it after the fix."""
    with project.left() as erp:
        erp.execute("ALTER TABLE fno.customers RENAME COLUMN party_type TO kind")
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name) VALUES ('usmf', 'C-2', 'Contoso')"
        )
        erp.execute("UPDATE fno.customers SET name = 'Fabrikam Inc' WHERE account_num = 'C-1'")
    assert rows(
        project.left_url,
        "SELECT map_name, op, image->>'account_num' FROM replicator.uncaptured ORDER BY id",
    ) == [
        ("customers_organization", "I", "C-2"),
        ("customers_person", "I", "C-2"),
        ("customers_organization", "U", "C-1"),
        ("customers_person", "U", "C-1"),
    ]
    project.drain()
    status, reason = state(project, "customers_organization")
    assert status == "failed"
    assert reason == (
        'map customers_organization: fno.customers column "party_type" was renamed to "kind";'
        " edit the map (field party_type, left_filter) and run replicator deploy;"
        " changes of fno.customers are not captured meanwhile (the capture trigger reads this"
        " column); after the fix run replicator sync customers_organization;"
        " then replicator resume customers_organization"
    )
    edit_map(project, "customers.toml", "party_type", "kind")
    project.deploy()
    resume(project, *CUSTOMERS)
    done = cli(project, "sync", *CUSTOMERS)
    assert done.returncode == 0, done.stderr
    project.drain()
    assert rows(project.right_url, ACCOUNTS) == [
        ("C-1", "Fabrikam Inc", 100),
        ("C-2", "Contoso", 0),
    ]


@pytest.mark.parametrize("capture", ["trigger"], indirect=True)
def test_a_dropped_column_takes_the_update_trigger_with_it_and_deploy_brings_it_back(
    project: Project,
) -> None:
    with project.left() as erp:
        # PostgreSQL itself refuses while the capture trigger watches the column...
        with pytest.raises(psycopg.errors.DependentObjectsStillExist) as refused:
            erp.execute("ALTER TABLE fno.customers DROP COLUMN email")
        assert "trigger replicator_customers_organization_to_right_upd" in str(
            refused.value.diag.message_detail
        )
        # ...and CASCADE drops the update triggers with it.
        erp.execute("ALTER TABLE fno.customers DROP COLUMN email CASCADE")
        erp.execute("UPDATE fno.customers SET name = 'Fabrikam Inc' WHERE account_num = 'C-1'")
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name) VALUES ('usmf', 'C-2', 'Contoso')"
        )
    project.drain()
    messages = drift_messages(project)
    assert (
        'map customers_organization: fno.customers column "email" was dropped;'
        " edit the map (field email) and run replicator deploy"
    ) in messages
    assert (
        'map customers_organization: fno.customers capture trigger "replicator_customers_organization_to_right_upd"'
        " is gone (DROP COLUMN ... CASCADE drops it with a column it watches): updates of"
        " fno.customers are not captured; edit the map if a column it used is gone, run"
        " replicator deploy (it creates the trigger again), then replicator sync"
        " customers_organization"
    ) in messages
    assert state(project, "customers_organization")[0] == "failed"
    # The insert was captured (its trigger is still there); the update was not.
    assert queued_for(project, "customers_organization") == 1
    assert open_errors(project) == 0

    edit_map(
        project,
        "customers.toml",
        """  [[map.field]]
  left = "email"
  right = "emailaddress1"
  on_null = { right = "keep" }
""",
        "",
    )
    edit_map(
        project,
        "customers.toml",
        """  [[map.field]]
  left = "email"
  right = "emailaddress1"
""",
        "",
    )
    project.deploy()
    assert drift_messages(project) == []
    triggers = rows(
        project.left_url,
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'fno.customers'::regclass"
        " AND tgname LIKE '%upd' ORDER BY 1",
    )
    assert triggers == [
        ("replicator_customers_organization_to_right_upd",),
        ("replicator_customers_person_to_right_upd",),
    ]
    resume(project, *CUSTOMERS)
    assert cli(project, "sync", *CUSTOMERS).returncode == 0
    project.drain()
    assert rows(project.right_url, ACCOUNTS) == [
        ("C-1", "Fabrikam Inc", 100),
        ("C-2", "Contoso", 0),
    ]


@pytest.mark.parametrize(
    ("switch_off", "said", "fix"),
    [
        ("DISABLE TRIGGER", "is disabled", "deploy"),
        (
            "ENABLE REPLICA TRIGGER",
            "fires only for replica sessions (ENABLE REPLICA TRIGGER)",
            "ENABLE TRIGGER",
        ),
    ],
    ids=["disabled", "replica_only"],
)
@pytest.mark.parametrize("capture", ["trigger"], indirect=True)
def test_a_capture_trigger_switched_off_fails_its_map_until_it_fires_again(
    project: Project, switch_off: str, said: str, fix: str
) -> None:
    """The application's owner may switch a capture trigger off (a superuser here); what
    it would have captured is lost until then, so the map fails and says how to go on."""
    trigger = "replicator_customers_organization_to_right_upd"
    with project.left() as erp:
        erp.execute(f"ALTER TABLE fno.customers {switch_off} {trigger}")
        erp.execute("UPDATE fno.customers SET name = 'Fabrikam Inc' WHERE account_num = 'C-1'")
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-2')")
    project.drain()
    assert state(project, "customers_organization") == (
        "failed",
        f'map customers_organization: fno.customers capture trigger "{trigger}" {said}:'
        " updates of fno.customers are not captured; run replicator deploy (it creates the"
        " trigger again, enabled) or, as the table's owner, ALTER TABLE fno.customers"
        f" ENABLE TRIGGER {trigger}, then replicator sync customers_organization; then"
        " replicator resume customers_organization",
    )
    # The other maps go on, the one sharing the table included; nothing is logged as failing.
    assert state(project, "customers_person") == ("running", None)
    assert rows(project.right_url, CARDS_CRM) == [("LC-1", "Gold"), ("LC-2", "Basic")]
    assert open_errors(project) == 0
    if fix == "deploy":
        project.deploy()
    else:
        with project.left() as erp:
            erp.execute(f"ALTER TABLE fno.customers {fix} {trigger}")
    assert drift_messages(project) == []
    resume(project, "customers_organization")
    assert cli(project, "sync", "customers_organization").returncode == 0
    project.drain()
    assert rows(project.right_url, ACCOUNTS) == [("C-1", "Fabrikam Inc", 100)]
    # Firing again: updates cross as before.
    with project.left() as erp:
        erp.execute("UPDATE fno.customers SET credit_limit = 250 WHERE account_num = 'C-1'")
    project.drain()
    assert rows(project.right_url, ACCOUNTS) == [("C-1", "Fabrikam Inc", 250)]


@pytest.mark.parametrize("capture", ["wal_left"], indirect=True)
def test_a_dropped_column_parks_wal_changes_until_the_map_is_fixed(project: Project) -> None:
    with project.left() as erp:
        erp.execute("ALTER TABLE fno.customers DROP COLUMN email")
        erp.execute("UPDATE fno.customers SET name = 'Fabrikam Inc' WHERE account_num = 'C-1'")
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name) VALUES ('usmf', 'C-2', 'Contoso')"
        )
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-2')")
    project.drain()
    reason = state(project, "customers_organization")[1]
    assert reason is not None and reason.startswith(
        'map customers_organization: fno.customers column "email" was dropped;'
        " edit the map (field email) and run replicator deploy; changes of fno.customers"
        " decoded meanwhile are kept in replicator.wal_parked and queued after the fix"
    )
    # The slot went on for the other maps.
    assert rows(project.right_url, CARDS_CRM) == [("LC-1", "Gold"), ("LC-2", "Basic")]
    assert queued_for(project, "customers_organization") == 2
    assert open_errors(project) == 0
    for old in (
        """  [[map.field]]
  left = "email"
  right = "emailaddress1"
  on_null = { right = "keep" }
""",
        """  [[map.field]]
  left = "email"
  right = "emailaddress1"
""",
    ):
        edit_map(project, "customers.toml", old, "")
    project.deploy()
    resume(project, *CUSTOMERS)
    project.drain()
    assert rows(project.right_url, ACCOUNTS) == [
        ("C-1", "Fabrikam Inc", 100),
        ("C-2", "Contoso", 0),
    ]
    assert rows(project.left_url, "SELECT count(*) FROM replicator.wal_parked") == [(0,)]
    assert drift_messages(project) == []


@pytest.mark.parametrize("capture", ["trigger"], indirect=True)
def test_a_retyped_column_fails_its_map_until_deployed_again(project: Project) -> None:
    # A column the capture trigger watches cannot be retyped at all.
    with (
        project.left() as erp,
        pytest.raises(psycopg.errors.FeatureNotSupported, match="used in a trigger"),
    ):
        erp.execute("ALTER TABLE fno.customers ALTER COLUMN credit_limit TYPE numeric(30, 6)")
    # A column only written here (loyalty cards flowing one way) can be.
    edit_map(project, "loyalty_cards.toml", 'direction = "both"', 'direction = "to_right"')
    project.deploy()
    with project.right() as crm:
        crm.execute("ALTER TABLE cds.loyalty_card ALTER COLUMN tier TYPE varchar(20)")
    with project.left() as erp:
        erp.execute("INSERT INTO fno.loyalty_cards (card_number, tier) VALUES ('LC-2', 'Silver')")
    project.drain()
    assert state(project, "loyalty_cards") == (
        "failed",
        'map loyalty_cards: cds.loyalty_card column "tier" changed type from character'
        " varying(10) to character varying(20); check the map (field tier) with replicator"
        " validate and run replicator deploy; then replicator resume loyalty_cards",
    )
    assert rows(project.right_url, CARDS_CRM) == [("LC-1", "Gold")]
    project.deploy()
    resume(project, "loyalty_cards")
    project.drain()
    assert rows(project.right_url, CARDS_CRM) == [("LC-1", "Gold"), ("LC-2", "Silver")]


@pytest.mark.parametrize("capture", ["trigger"], indirect=True)
def test_a_renamed_table_keeps_capturing_and_applies_after_the_map_follows(
    project: Project,
) -> None:
    with project.left() as erp:
        erp.execute("ALTER TABLE fno.loyalty_cards RENAME TO loyalty_card_list")
        erp.execute("INSERT INTO fno.loyalty_card_list (card_number) VALUES ('LC-2')")
    with project.right() as crm:
        crm.execute("INSERT INTO cds.loyalty_card (card_number, tier) VALUES ('LC-3', 'Gold')")
    project.drain()
    assert state(project, "loyalty_cards") == (
        "failed",
        "map loyalty_cards: fno.loyalty_cards was renamed to fno.loyalty_card_list; edit the map"
        ' (left = "loyalty_card_list") and run replicator deploy;'
        " then replicator resume loyalty_cards",
    )
    assert state(project, "loyalty_cards", "to_left")[0] == "failed"
    assert open_errors(project) == 0
    assert queued_for(project, "loyalty_cards") == 1
    assert queued_for(project, "loyalty_cards", "to_left") == 1
    edit_map(project, "loyalty_cards.toml", 'left = "loyalty_cards"', 'left = "loyalty_card_list"')
    project.deploy()
    resume(project, "loyalty_cards")
    project.drain()
    assert rows(project.right_url, CARDS_CRM) == [
        ("LC-1", "Gold"),
        ("LC-2", "Basic"),
        ("LC-3", "Gold"),
    ]
    assert rows(project.left_url, "SELECT card_number FROM fno.loyalty_card_list ORDER BY 1") == [
        ("LC-1",),
        ("LC-2",),
        ("LC-3",),
    ]


@pytest.mark.parametrize("capture", ["trigger"], indirect=True)
def test_drift_met_by_a_failing_batch_fails_the_map_at_once(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A column renamed on the target between two checks: the batch fails into the error
    log once, the map goes failed at once, later batches are not taken. The recovery the
    drift message names (edit, deploy, resume) applies the logged change too: resuming a
    failed map retries its open errors first."""
    monkeypatch.setattr(applier_module, "DRIFT_CHECK", 3600.0)
    applier = Applier(project.config(), batch_size=100, poll_interval=0.05)
    applier.run(until_idle=True)  # checked drift: none
    with project.right() as crm:
        crm.execute("ALTER TABLE cds.loyalty_card RENAME COLUMN tier TO level")
    with project.left() as erp:
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-2')")
    applier.run(until_idle=True)
    assert open_errors(project) == 1
    assert state(project, "loyalty_cards")[0] == "failed"
    with project.left() as erp:
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-3')")
    applier.run(until_idle=True)
    assert open_errors(project) == 1
    assert queued_for(project, "loyalty_cards") == 1
    # The database's message names the apply function's alias; the listing, the table.
    listed = cli(project, "errors", "--json")
    assert [e["message"] for e in json.loads(listed.stdout)] == [
        "column tier of cds.loyalty_card does not exist (renamed or dropped since the deploy?"
        " see replicator status and the Drift section of the README)"
    ]
    edit_map(project, "loyalty_cards.toml", 'right = "tier"', 'right = "level"')
    project.deploy()
    resumed = cli(project, "resume", "loyalty_cards")
    assert (resumed.returncode, resumed.stderr) == (0, "")
    assert resumed.stdout.splitlines()[0] == (
        "loyalty_cards (fno→cds): failed → catching_up; retried its 1 open error first: 1 applied"
    )
    project.drain()
    assert rows(project.right_url, "SELECT card_number FROM cds.loyalty_card ORDER BY 1") == [
        ("LC-1",),
        ("LC-2",),
        ("LC-3",),
    ]


@pytest.mark.parametrize("capture", ["wal_left"], indirect=True)
def test_a_renamed_table_under_wal_capture_says_to_sync_after_the_fix(project: Project) -> None:
    """The slot reads tables by name: what is written under the new name before the map
    follows is not decoded for it, and the message says so."""
    with project.left() as erp:
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-2')")
        erp.execute("ALTER TABLE fno.loyalty_cards RENAME TO loyalty_card_list")
        erp.execute("INSERT INTO fno.loyalty_card_list (card_number) VALUES ('LC-3')")
    project.drain()
    assert state(project, "loyalty_cards") == (
        "failed",
        "map loyalty_cards: fno.loyalty_cards was renamed to fno.loyalty_card_list; edit the map"
        ' (left = "loyalty_card_list") and run replicator deploy; changes made under the new'
        " name are not decoded (the slot reads tables by name): after the fix run replicator"
        " sync loyalty_cards; then replicator resume loyalty_cards",
    )
    # Decoded under the old name: parked, not lost.
    assert queued_for(project, "loyalty_cards") == 1
    edit_map(project, "loyalty_cards.toml", 'left = "loyalty_cards"', 'left = "loyalty_card_list"')
    project.deploy()
    resume(project, "loyalty_cards")
    project.drain()
    assert rows(project.right_url, CARDS_CRM) == [("LC-1", "Gold"), ("LC-2", "Basic")]
    assert cli(project, "sync", "loyalty_cards").returncode == 0
    project.drain()
    assert rows(project.right_url, CARDS_CRM) == [
        ("LC-1", "Gold"),
        ("LC-2", "Basic"),
        ("LC-3", "Basic"),
    ]


@pytest.mark.parametrize("capture", ["trigger"], indirect=True)
def test_a_target_column_renamed_on_either_topology_fails_both_ways_before_any_batch(
    example: Callable[..., Project], topology: str, capture: str
) -> None:
    """The drift is on the CRM's database; the state of the way into it lives on the
    ERP's. Nothing is tried, so nothing lands in the error log."""
    project = example(topology, capture)
    with project.right() as crm:
        crm.execute("ALTER TABLE cds.loyalty_card RENAME COLUMN tier TO level")
    with project.left() as erp:
        erp.execute("INSERT INTO fno.loyalty_cards (card_number, tier) VALUES ('LC-1', 'Gold')")
    project.drain()
    reason = (
        'map loyalty_cards: cds.loyalty_card column "tier" was renamed to "level"; edit the map'
        " (field tier) and run replicator deploy; then replicator resume loyalty_cards"
    )
    assert state(project, "loyalty_cards") == ("failed", reason)
    crm_state = rows(
        project.right_url,
        "SELECT state, state_reason FROM replicator.map_state"
        " WHERE map_name = 'loyalty_cards' AND direction = 'to_left'",
    )
    assert crm_state == [("failed", reason)]
    errors = rows(project.left_url, "SELECT count(*) FROM replicator.error_log") + rows(
        project.right_url, "SELECT count(*) FROM replicator.error_log"
    )
    assert errors == [(0,), (0,)]
    edit_map(project, "loyalty_cards.toml", 'right = "tier"', 'right = "level"')
    project.deploy()
    resume(project, "loyalty_cards")
    project.drain()
    assert rows(project.right_url, "SELECT card_number, level FROM cds.loyalty_card") == [
        ("LC-1", "Gold")
    ]


@pytest.mark.parametrize("capture", ["trigger"], indirect=True)
def test_a_renamed_parent_table_fails_the_maps_that_look_it_up_and_names_the_map_to_edit(
    project: Project,
) -> None:
    with project.left() as erp:
        erp.execute("ALTER TABLE fno.customer_groups RENAME TO customer_group_list")
        erp.execute("INSERT INTO fno.customer_group_list VALUES ('usmf', '10', 'Retail')")
        # The ERP's reference is read from the customer's own row: its writes go on.
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name, customer_group)"
            " VALUES ('usmf', 'C-2', 'Contoso', '10')"
        )
    project.drain()
    assert state(project, "customers_organization") == (
        "failed",
        "map customers_organization: fno.customer_groups (looked up through map"
        " customer_groups) was renamed to fno.customer_group_list; edit map customer_groups"
        ' (left = "customer_group_list") and run replicator deploy;'
        " then replicator resume customers_organization",
    )
    assert state(project, "customer_groups")[0] == "failed"
    edit_map(
        project, "customer_groups.toml", 'left = "customer_groups"', 'left = "customer_group_list"'
    )
    project.deploy()
    resume(project, "customer_groups", *CUSTOMERS)
    project.drain()
    assert rows(
        project.right_url,
        "SELECT a.accountnumber, g.group_code FROM cds.account AS a"
        " LEFT JOIN cds.customer_group AS g ON g.customergroupid = a.customergroupid ORDER BY 1",
    ) == [("C-1", None), ("C-2", "10")]


@pytest.mark.parametrize("capture", ["trigger"], indirect=True)
def test_a_renamed_parent_table_the_crm_capture_reads_does_not_fail_its_writes(
    project: Project,
) -> None:
    """The CRM's reference is a uuid: its capture trigger reads the parent table to find
    the group's key. Renamed, the write goes through and the change is noted."""
    with project.right() as crm:
        crm.execute("ALTER TABLE cds.customer_group RENAME TO customer_groups")
        crm.execute(
            "INSERT INTO cds.account (companyid, accountnumber, name, relationship_type)"
            f" VALUES ({USMF}, 'A-1', 'Adatum', 'customer')"
        )
    assert rows(
        project.right_url, "SELECT map_name, op FROM replicator.uncaptured ORDER BY id"
    ) == [("customers_organization", "I")]
    project.drain()
    status, reason = state(project, "customers_organization", "to_left")
    assert status == "failed"
    assert reason == (
        "map customers_organization: cds.customer_group (looked up through map"
        " customer_groups) was renamed to cds.customer_groups; edit map customer_groups"
        ' (right = "customer_groups") and run replicator deploy; changes of map'
        " customers_organization are not captured meanwhile (its capture trigger looks"
        " references up in this table); after the fix run replicator sync"
        " customers_organization; then replicator resume customers_organization"
    )
    edit_map(
        project, "customer_groups.toml", 'right = "customer_group"', 'right = "customer_groups"'
    )
    project.deploy()
    resume(project, "customer_groups", *CUSTOMERS)
    assert cli(project, "sync", "customers_organization").returncode == 0
    project.drain()
    assert rows(project.left_url, "SELECT account_num, name FROM fno.customers ORDER BY 1") == [
        ("A-1", "Adatum"),
        ("C-1", "Fabrikam"),
    ]
