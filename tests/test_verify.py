"""replicator verify and repair, as a DBA uses them: both sides compared under the
maps without copying them, the differing keys named, and a repair that rewrites
only those rows, through the apply path, without anything coming back."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from replicator.core import origins
from replicator.inspect.connections import under_origin
from replicator.operations import verify, verifyreport
from replicator.operations.checked import check
from tests.support import (
    USMF,
    Project,
    audit,
    cli,
    example_project,
    queued,
    rows,
    writes,
)


@pytest.fixture
def project(example: Callable[..., Project], topology: str) -> Project:
    project = example(topology)
    return project


def behind_the_back(url: str, *statements: str) -> None:
    """Write as nobody the replicator hears: capture triggers skip the session (as they
    skip the replicator's own writes) and, with WAL capture, so does the slot."""
    with psycopg.connect(url, autocommit=True) as conn:
        under_origin(conn, origins.ADMIN)
        conn.execute("SET replicator.applying = 'on'")
        for statement in statements:
            conn.execute(statement.encode())


def customer_master(project: Project) -> None:
    """Rows of several maps, lookups included, written in the ERP and in the CRM."""
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale'), ('usmf', '20', 'Retail')"
        )
        erp.execute("INSERT INTO fno.payment_schedules VALUES ('usmf', 'S1', 'Thirds', 'Percent')")
        erp.execute(
            "INSERT INTO fno.payment_schedule_lines VALUES ('usmf', 'S1', 1, 33.333333, 1, 0),"
            " ('usmf', 'S1', 2, 66.666667, 2, 0)"
        )
        erp.execute("INSERT INTO fno.payment_days VALUES ('usmf', 'D15', 'the 15th')")
        erp.execute(
            "INSERT INTO fno.payment_terms VALUES ('usmf', 'N30', 'Net 30', 30, 'S1', 'D15')"
        )
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name, customer_group,"
            " payment_terms, credit_limit, blocked, email) VALUES"
            " ('usmf', 'C1', 'Contoso Retail', '10', 'N30', 1234.567891, 'Invoice', 'a@example.org'),"
            " ('usmf', 'C2', 'Fabrikam', '20', NULL, 0, 'No', NULL)"
        )
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, party_type, name)"
            " VALUES ('usmf', 'P1', 'Person', 'Ann Marie Smith')"
        )
        erp.execute(
            "INSERT INTO fno.loyalty_cards (card_number, tier, issued_on)"
            " SELECT 'LC-' || g, 'Basic', DATE '2026-01-01' + g FROM generate_series(1, 20) AS g"
        )
    with project.right() as crm:
        crm.execute(
            "INSERT INTO cds.account (companyid, accountnumber, name, creditlimit, credit_hold)"
            f" VALUES ({USMF}, 'K1', 'Made in the CRM', 99.1234, 'full_hold')"
        )
    project.drain()
    # Written in the CRM with more decimals than the ERP keeps: the ERP's copy is
    # rounded, as the map says, and verify compares it so.
    with project.right() as crm:
        crm.execute(
            "INSERT INTO cds.payment_schedule_line (companyid, paymentscheduleid, line_number,"
            f" percentage) SELECT {USMF}, paymentscheduleid, 3, 12.3456789012"
            " FROM cds.payment_schedule WHERE name = 'S1'"
        )
    project.drain()


def verified(
    project: Project, *names: str, chunk: int = 1000, leaf: int = 64
) -> tuple[list[verify.Difference], list[verify.Verified]]:
    config = project.config()
    checked = check(config)
    maps, catalogs = checked.maps, checked.catalogs
    with verify.opened(config, maps, catalogs, None, chunk, leaf) as verifier:
        found = [
            d for m in verify.selected_maps(maps, list(names)) for d in verifier.differences(m)
        ]
    return found, verifier.found


def test_equal_sides_exit_0(project: Project) -> None:
    customer_master(project)
    done = cli(project, "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.endswith("all 13 maps equal\n")
    assert "customers_organization: equal (3 rows in fno, 3 in cds" in done.stdout


def test_a_row_changed_behind_the_replicators_back_is_found_with_its_key(
    project: Project,
) -> None:
    customer_master(project)
    behind_the_back(
        project.right_url,
        "UPDATE cds.account SET name = 'Contoso (edited in the CRM)' WHERE accountnumber = 'C1'",
        "UPDATE cds.loyalty_card SET tier = 'Gold' WHERE card_number = 'LC-7'",
    )
    done = cli(project, "verify")
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert (
        "customers_organization: dataareaid=usmf, account_num=C1:"
        " differs in name (fno and cds hold different values)"
    ) in lines
    assert (
        "loyalty_cards: card_number=LC-7: differs in tier (fno and cds hold different values)"
    ) in lines
    assert lines[-1] == "2 differences in 2 of 13 maps"
    only = cli(project, "verify", "loyalty_cards", "--json")
    assert only.returncode == 2
    document = json.loads(only.stdout)
    assert document["equal"] is False
    assert document["differences"] == [
        {
            "map": "loyalty_cards",
            "key": ["LC-7"],
            "label": "card_number=LC-7",
            "kind": "differs",
            "left": {"card_number": "LC-7"},
            "right": {"card_number": "LC-7"},
            "fields": {"tier": {"left": "Basic", "right": "Gold"}},
        }
    ]


def test_rows_missing_on_either_side_are_found(project: Project) -> None:
    customer_master(project)
    behind_the_back(
        project.left_url,
        "DELETE FROM fno.loyalty_cards WHERE card_number = 'LC-3'",
        "INSERT INTO fno.loyalty_cards (card_number, tier) VALUES ('LC-NEW', 'Basic')",
    )
    behind_the_back(
        project.right_url,
        f"INSERT INTO cds.customer_group (companyid, group_code) VALUES ({USMF}, '30')",
    )
    found, summaries = verified(project, "loyalty_cards", "customer_groups")
    assert sorted((d.map, d.label, d.kind) for d in found) == [
        ("customer_groups", "dataareaid=usmf, customer_group=30", "missing_left"),
        ("loyalty_cards", "card_number=LC-3", "missing_left"),
        ("loyalty_cards", "card_number=LC-NEW", "missing_right"),
    ]
    assert [(v.map, v.rows, v.differences) for v in summaries] == [
        ("customer_groups", {"left": 2, "right": 3}, 1),
        ("loyalty_cards", {"left": 20, "right": 20}, 2),
    ]


def test_a_changed_reference_is_found_through_the_lookup(project: Project) -> None:
    """The ERP holds group codes, the CRM group uuids: both are compared as the group's
    key, so a customer moved to another group in the CRM alone is found."""
    customer_master(project)
    behind_the_back(
        project.right_url,
        "UPDATE cds.account SET customergroupid = (SELECT customergroupid"
        " FROM cds.customer_group WHERE group_code = '20') WHERE accountnumber = 'C1'",
        "UPDATE cds.payment_schedule_line SET line_number = 9 WHERE line_number = 2",
    )
    found, _ = verified(project, "customers_organization", "payment_schedule_lines")
    assert sorted((d.map, d.label, d.kind) for d in found) == [
        ("customers_organization", "dataareaid=usmf, account_num=C1", "differs"),
        (
            "payment_schedule_lines",
            "dataareaid=usmf, schedule_name=usmf/S1, line_num=2",
            "missing_right",
        ),
        (
            "payment_schedule_lines",
            "dataareaid=usmf, schedule_name=usmf/S1, line_num=9",
            "missing_left",
        ),
    ]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bisection_reads_only_the_rows_of_the_buckets_that_differ(project: Project) -> None:
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.loyalty_cards (card_number, tier)"
            " SELECT 'LC-' || lpad(g::text, 5, '0'), 'Basic' FROM generate_series(1, 3000) AS g"
        )
    project.drain()
    behind_the_back(
        project.right_url,
        "UPDATE cds.loyalty_card SET is_blocked = true WHERE card_number = 'LC-00017'",
        "DELETE FROM cds.loyalty_card WHERE card_number = 'LC-01500'",
        "INSERT INTO cds.loyalty_card (card_number) VALUES ('LC-99999')",
    )
    found, [summary] = verified(project, "loyalty_cards", chunk=50, leaf=4)
    assert sorted((d.label, d.kind) for d in found) == [
        ("card_number=LC-00017", "differs"),
        ("card_number=LC-01500", "missing_right"),
        ("card_number=LC-99999", "missing_left"),
    ]
    # 3,000 rows in 256 buckets of about 12: the three that differ are split once
    # more (one query per side), and only their few rows are read (one per side).
    assert summary.queries == 4
    assert summary.rows_read <= 2 * 3 * 4
    # On a terminal, a progress bar on stderr; the differences on stdout.
    out, err = io.StringIO(), Terminal()
    assert verifyreport.cmd_verify(project.config(), out, err, ["loyalty_cards"], chunk=50) == 2
    assert "\rverify loyalty_cards [" in err.getvalue()
    assert "loyalty_cards: card_number=LC-99999: missing left (only cds has it)" in out.getvalue()


@pytest.fixture
def captured(example: Callable[..., Project], topology: str, capture: str) -> Project:
    project = example(topology, capture)
    return project


def test_repair_from_left_rewrites_only_the_differing_rows_and_nothing_comes_back(
    captured: Project,
) -> None:
    project = captured
    customer_master(project)
    behind_the_back(
        project.right_url,
        "UPDATE cds.loyalty_card SET tier = 'Gold' WHERE card_number = 'LC-7'",
        "DELETE FROM cds.loyalty_card WHERE card_number = 'LC-3'",
        "INSERT INTO cds.loyalty_card (card_number) VALUES ('LC-EXTRA')",
        "UPDATE cds.account SET name = 'edited in the CRM' WHERE accountnumber = 'C1'",
    )
    audit(project.right_url, "cds.loyalty_card", "cds.account")
    dry = cli(project, "repair", "loyalty_cards", "--from", "left", "--dry-run")
    assert (dry.returncode, dry.stderr) == (2, "")
    assert dry.stdout.splitlines()[-1] == (
        "dry run: 3 rows would be rewritten or deleted; nothing was written"
    )
    assert "loyalty_cards: card_number=LC-7: would rewrite on cds (tier)" in dry.stdout
    assert writes(project.right_url, "cds.loyalty_card") == []
    done = cli(project, "repair", "--from", "left")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "loyalty_cards: card_number=LC-EXTRA: delete on cds (not in fno)" in done.stdout
    assert "loyalty_cards: card_number=LC-3: add to cds" in done.stdout
    assert "loyalty_cards (fno→cds): 2 rows written, 1 deleted, 0 failed" in done.stdout
    # Only the differing rows were written, each once, by the replicator.
    assert sorted(writes(project.right_url, "cds.loyalty_card")) == [
        ("DELETE", True),
        ("INSERT", True),
        ("UPDATE", True),
    ]
    assert writes(project.right_url, "cds.account") == [("UPDATE", True)]
    assert cli(project, "verify").returncode == 0
    # Nothing came back: no change queued on either side, none to apply.
    assert queued(project.left_url) == 0
    assert project.drain().applied == 0
    assert rows(
        project.right_url,
        "SELECT map_name, direction, detail->>'written', detail->>'deleted'"
        " FROM replicator.activity_log WHERE kind = 'repair' AND map_name IN"
        " ('loyalty_cards', 'customers_organization', 'companies') ORDER BY map_name",
    ) == [
        ("companies", "to_right", "0", "0"),
        ("customers_organization", "to_right", "1", "0"),
        ("loyalty_cards", "to_right", "2", "1"),
    ]


def test_repair_from_right_deletes_what_the_crm_lacks_through_its_lookups(
    project: Project,
) -> None:
    customer_master(project)
    behind_the_back(
        project.right_url,
        "DELETE FROM cds.account WHERE accountnumber = 'C2'",
        "UPDATE cds.payment_schedule_line SET line_number = 9 WHERE line_number = 2",
    )
    done = cli(
        project, "repair", "customers_organization", "payment_schedule_lines", "--from", "right"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "customers_organization (cds→fno): 0 rows written, 1 deleted, 0 failed" in done.stdout
    assert "payment_schedule_lines (cds→fno): 1 rows written, 1 deleted, 0 failed" in done.stdout
    assert rows(project.left_url, "SELECT account_num FROM fno.customers ORDER BY 1") == [
        ("C1",),
        ("K1",),
        ("P1",),
    ]
    assert rows(project.left_url, "SELECT line_num FROM fno.payment_schedule_lines ORDER BY 1") == [
        (1,),
        (3,),
        (9,),
    ]
    assert cli(project, "verify").returncode == 0
    assert project.drain().applied == 0


def test_repair_refuses_a_map_that_does_not_flow_from_that_side(
    tmp_path: Path, pg: object, fresh_db: Callable[..., str]
) -> None:
    url = fresh_db(pg)
    project = example_project(tmp_path, url, url)
    cards = project.root / "maps" / "loyalty_cards.toml"
    cards.write_text(cards.read_text().replace('direction = "both"', 'direction = "to_right"'))
    project.deploy()
    done = cli(project, "repair", "loyalty_cards", "companies", "--from", "right")
    assert done.returncode == 1
    assert done.stderr == (
        "replicator: cannot repair --from right: map loyalty_cards flows to_right, never from"
        " the right side. Repair them --from the other side, or name the maps to repair\n"
    )


def test_an_email_the_crm_kept_when_the_erp_cleared_it_is_no_difference(
    project: Project,
) -> None:
    """on_null = { right = "keep" }: a null from the ERP leaves the CRM's email, so the
    two sides hold different values and are still in step under the map."""
    customer_master(project)
    with project.right() as crm:
        crm.execute(
            "UPDATE cds.account SET emailaddress1 = 'crm@example.org' WHERE accountnumber = 'C2'"
        )
    project.drain()
    with project.left() as erp:
        erp.execute("UPDATE fno.customers SET email = NULL WHERE account_num = 'C2'")
    project.drain()
    assert rows(
        project.right_url, "SELECT emailaddress1 FROM cds.account WHERE accountnumber = 'C2'"
    ) == [("crm@example.org",)]
    found, [summary] = verified(project, "customers_organization")
    assert found == []
    assert summary.rows_read == 2  # compared field by field, then found equal
    # The other way round the email is written, null or not: a CRM null is a difference.
    behind_the_back(
        project.left_url,
        "UPDATE fno.customers SET email = 'erp@example.org' WHERE account_num = 'C2'",
    )
    behind_the_back(
        project.right_url, "UPDATE cds.account SET emailaddress1 = NULL WHERE accountnumber = 'C2'"
    )
    found, _ = verified(project, "customers_organization")
    assert [(d.label, d.kind) for d in found] == [("dataareaid=usmf, account_num=C2", "differs")]
