"""The customer-master template's business rules, on one database and on two servers:
lookups and held children, companies, lines after headers, name parts, sticky
sellable, money, and null handling."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from replicator.commands import lifecycle as commands
from replicator.core.errors import DeployRefused, MapError
from replicator.operations.status import status_rows
from tests.support import USMF, Project, audit, example_project, queued, rows, writes

GROUP_OF_ACCOUNT = (
    "SELECT a.accountnumber, g.group_code FROM cds.account a"
    " LEFT JOIN cds.customer_group g USING (customergroupid) ORDER BY 1"
)


@pytest.fixture
def project(example: Callable[..., Project], topology: str, capture: str) -> Project:
    project = example(topology, capture)
    audit(project.right_url, "cds.account")
    return project


def held(project: Project) -> list[tuple[object, ...]]:
    """(map, direction, waiting for) of every held change, on either database."""
    found: list[tuple[object, ...]] = []
    for url in dict.fromkeys((project.left_url, project.right_url)):
        found += rows(url, "SELECT map_name, direction, waiting_for FROM replicator.held_change")
    return found


def errors(project: Project) -> list[tuple[object, ...]]:
    found: list[tuple[object, ...]] = []
    for url in dict.fromkeys((project.left_url, project.right_url)):
        found += rows(url, "SELECT map_name, message FROM replicator.error_log")
    return found


def write_customer_before_its_group(project: Project) -> None:
    """Customer A in group 10, which does not exist yet: the ERP's foreign key is
    dropped first, as in an ERP without it."""
    with project.left() as erp:
        erp.execute(
            "ALTER TABLE fno.customers DROP CONSTRAINT customers_dataareaid_customer_group_fkey"
        )
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name, customer_group)"
            " VALUES ('usmf', 'A', 'Alpha', '10')"
        )


def test_a_lookup_crosses_as_the_other_sides_reference_both_ways(project: Project) -> None:
    with project.left() as erp:
        erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale')")
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name, customer_group)"
            " VALUES ('usmf', 'A', 'Alpha', '10')"
        )
    project.drain()
    # The CRM holds the group's uuid, not its code.
    assert rows(project.right_url, GROUP_OF_ACCOUNT) == [("A", "10")]
    with project.right() as crm:
        crm.execute(
            f"INSERT INTO cds.customer_group (companyid, group_code, name) VALUES ({USMF}, '30', 'Online')"
        )
        crm.execute(
            "UPDATE cds.account SET customergroupid ="
            " (SELECT customergroupid FROM cds.customer_group WHERE group_code = '30')"
        )
    project.drain()
    assert rows(project.left_url, "SELECT account_num, customer_group FROM fno.customers") == [
        ("A", "30")
    ]
    assert held(project) == [] and errors(project) == []


def test_a_child_whose_parent_has_not_arrived_is_held_then_applied(project: Project) -> None:
    write_customer_before_its_group(project)
    totals = project.drain()
    assert totals.failed == 0
    # Not dropped, not written with a null group: held, and status says so.
    assert rows(project.right_url, "SELECT count(*) FROM cds.account") == [(0,)]
    assert held(project) == [("customers_organization", "to_right", "customer_groups")]
    status = {(r.map, r.flow): r for r in status_rows(project.config())}
    assert status[("customers_organization", "fno→cds")].held == 1
    assert status[("customers_organization", "fno→cds")].applied_total == 0
    with project.left() as erp:
        erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale')")
    project.drain()
    assert rows(project.right_url, GROUP_OF_ACCOUNT) == [("A", "10")]
    assert held(project) == [] and errors(project) == []
    assert writes(project.right_url, "cds.account") == [("INSERT", True)]
    status = {(r.map, r.flow): r for r in status_rows(project.config())}
    assert status[("customers_organization", "fno→cds")].applied_total == 1


def test_a_newer_change_of_a_held_child_wins_over_the_held_one(project: Project) -> None:
    write_customer_before_its_group(project)
    project.drain()
    assert len(held(project)) == 1
    # The ERP drops the group from the customer before the group ever arrives.
    with project.left() as erp:
        erp.execute("UPDATE fno.customers SET customer_group = NULL, name = 'Alpha 2'")
    project.drain()
    assert held(project) == []
    assert rows(project.right_url, "SELECT name, customergroupid FROM cds.account") == [
        ("Alpha 2", None)
    ]
    with project.left() as erp:
        erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale')")
    project.drain()
    # The old held change did not come back to overwrite the newer one.
    assert rows(project.right_url, "SELECT name, customergroupid FROM cds.account") == [
        ("Alpha 2", None)
    ]


def test_the_same_account_number_in_two_companies_is_two_crm_rows(project: Project) -> None:
    with project.left() as erp:
        erp.execute("INSERT INTO fno.companies VALUES ('demf', 'Contoso Germany')")
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name) VALUES"
            " ('usmf', 'C-1', 'Contoso Inc'), ('demf', 'C-1', 'Contoso GmbH')"
        )
    project.drain()
    assert rows(
        project.right_url,
        "SELECT c.company_code, a.accountnumber, a.name FROM cds.account a"
        " JOIN cds.company c USING (companyid) ORDER BY 1",
    ) == [("demf", "C-1", "Contoso GmbH"), ("usmf", "C-1", "Contoso Inc")]
    with project.right() as crm:
        crm.execute(
            "UPDATE cds.account SET name = 'Contoso Deutschland GmbH' WHERE companyid ="
            " (SELECT companyid FROM cds.company WHERE company_code = 'demf')"
        )
    project.drain()
    assert rows(
        project.left_url, "SELECT dataareaid, account_num, name FROM fno.customers ORDER BY 1"
    ) == [("demf", "C-1", "Contoso Deutschland GmbH"), ("usmf", "C-1", "Contoso Inc")]
    assert held(project) == [] and errors(project) == []


def test_lines_follow_their_headers_and_leave_before_them(project: Project) -> None:
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.payment_schedules VALUES ('usmf', 'Thirds', 'In thirds', 'Percent')"
        )
        erp.execute(
            "INSERT INTO fno.payment_schedule_lines VALUES ('usmf', 'Thirds', 1, 33.333333, 0, 0),"
            " ('usmf', 'Thirds', 2, 33.333333, 1, 0), ('usmf', 'Thirds', 3, 33.333334, 2, 0)"
        )
    project.drain()
    assert rows(
        project.right_url,
        "SELECT s.name, s.allocation::text, l.line_number, l.percentage FROM cds.payment_schedule s"
        " JOIN cds.payment_schedule_line l USING (paymentscheduleid) ORDER BY 3",
    ) == [
        ("Thirds", "percent", 1, Decimal("33.3333330000")),
        ("Thirds", "percent", 2, Decimal("33.3333330000")),
        ("Thirds", "percent", 3, Decimal("33.3333340000")),
    ]
    # A CRM line arrives in the ERP under its header's name.
    with project.right() as crm:
        crm.execute(
            "INSERT INTO cds.payment_schedule_line (companyid, paymentscheduleid, line_number, percentage)"
            f" SELECT {USMF}, paymentscheduleid, 4, 0.5 FROM cds.payment_schedule"
        )
    project.drain()
    assert rows(
        project.left_url,
        "SELECT schedule_name, line_num, percent FROM fno.payment_schedule_lines WHERE line_num = 4",
    ) == [("Thirds", 4, Decimal("0.500000"))]
    # The ERP deletes the header; its lines go with it (cascade), and in the CRM the
    # lines are deleted before the header, which the CRM's foreign key requires.
    with project.right() as crm:
        crm.execute(
            "ALTER TABLE cds.payment_schedule_line DROP CONSTRAINT payment_schedule_line_paymentscheduleid_fkey,"
            " ADD FOREIGN KEY (paymentscheduleid) REFERENCES cds.payment_schedule"
        )
    with project.left() as erp:
        erp.execute("DELETE FROM fno.payment_schedules")
    totals = project.drain()
    assert totals.failed == 0
    assert rows(project.right_url, "SELECT count(*) FROM cds.payment_schedule_line") == [(0,)]
    assert rows(project.right_url, "SELECT count(*) FROM cds.payment_schedule") == [(0,)]
    assert errors(project) == []


def test_a_full_name_crosses_as_its_parts_and_back(project: Project) -> None:
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, party_type, name) VALUES"
            " ('usmf', 'P-1', 'Person', 'Ada Augusta Lovelace'), ('usmf', 'P-2', 'Person', 'Plato')"
        )
    project.drain()
    assert rows(
        project.right_url,
        "SELECT customer_number, firstname, middlename, lastname FROM cds.contact ORDER BY 1",
    ) == [("P-1", "Ada", "Augusta", "Lovelace"), ("P-2", "Plato", None, None)]
    with project.right() as crm:
        crm.execute("UPDATE cds.contact SET middlename = NULL WHERE customer_number = 'P-1'")
    project.drain()
    assert rows(project.left_url, "SELECT name FROM fno.customers WHERE account_num = 'P-1'") == [
        ("Ada Lovelace",)
    ]
    assert queued(project.left_url) == 0 and queued(project.right_url) == 0


def test_a_contact_that_became_sellable_stays_sellable(project: Project) -> None:
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.contact_persons (dataareaid, contact_person_id, first_name, last_name)"
            " VALUES ('usmf', 'CP-1', 'Grace', 'Hopper')"
        )
    project.drain()
    assert rows(project.right_url, "SELECT contactpersonid, is_sellable FROM cds.contact") == [
        ("CP-1", False)
    ]
    # The CRM makes the contact a customer; the ERP gets a person customer for it.
    with project.right() as crm:
        crm.execute("UPDATE cds.contact SET is_sellable = true, customer_number = 'P-9'")
    project.drain()
    assert rows(
        project.left_url, "SELECT account_num, party_type::text, name FROM fno.customers"
    ) == [("P-9", "Person", "Grace Hopper")]
    # An ERP edit of the contact person writes is_sellable = false: it does not flip back.
    with project.left() as erp:
        erp.execute("UPDATE fno.contact_persons SET email = 'grace@navy.example'")
    project.drain()
    assert rows(project.right_url, "SELECT emailaddress1, is_sellable FROM cds.contact") == [
        ("grace@navy.example", True)
    ]


def test_a_null_erp_email_keeps_the_crm_email(project: Project) -> None:
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name, email)"
            " VALUES ('usmf', 'A', 'Alpha', 'a@example.org')"
        )
    project.drain()
    with project.left() as erp:
        erp.execute("UPDATE fno.customers SET email = NULL, name = 'Alpha 2'")
    project.drain()
    assert rows(project.right_url, "SELECT name, emailaddress1 FROM cds.account") == [
        ("Alpha 2", "a@example.org")
    ]


def test_a_null_is_refused_into_the_error_log_when_the_map_says_so(project: Project) -> None:
    terms = (project.root / "maps" / "payment_terms.toml").read_text()
    assert 'left = "description"' in terms
    project.write_map(
        "payment_terms.toml",
        terms.replace(
            'left = "description"', 'left = "description"\n  on_null = { right = "refuse" }'
        ),
    )
    project.deploy()
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.payment_terms (dataareaid, payment_term_id, description)"
            " VALUES ('usmf', 'N1', NULL), ('usmf', 'N2', 'Net 2')"
        )
    totals = project.drain()
    assert (totals.applied, totals.failed) == (1, 1)
    assert errors(project) == [
        (
            "payment_terms",
            "map payment_terms: field description: the value is null and on_null says refuse",
        )
    ]


def test_credit_limits_round_only_because_the_map_says_so(project: Project) -> None:
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name, credit_limit)"
            " VALUES ('usmf', 'A', 'Alpha', 1234.567891)"
        )
    project.drain()
    assert rows(project.right_url, "SELECT creditlimit FROM cds.account") == [
        (Decimal("1234.5679"),)
    ]


def test_a_four_decimal_money_column_is_refused_until_the_map_or_column_says_how(
    tmp_path: Path, pg: object, fresh_db: Callable[..., str]
) -> None:
    url = fresh_db(pg)
    project = example_project(tmp_path, url, url)
    customers = (project.root / "maps" / "customers.toml").read_text()
    rounding = '  to_right = "CAST(round(credit_limit, 4) AS numeric(38, 4))"\n'
    assert rounding in customers
    project.write_map("customers.toml", customers.replace(rounding, ""))
    with pytest.raises(MapError) as refused:
        commands.cmd_validate(project.config(), io.StringIO())
    assert [str(p) for p in refused.value.problems] == [
        "maps/customers.toml: map 'customers_organization': field 'credit_limit': left → right:"
        " numeric(32,6) into numeric(38,4) would round to 4 decimal places"
        " (fno.customers.credit_limit into cds.account.creditlimit); widen the column, make the"
        " field one-way, or write the conversion you accept as to_right"
    ]
    # Widening the CRM column is the other way out.
    with project.right() as crm:
        crm.execute("ALTER TABLE cds.account ALTER COLUMN creditlimit TYPE numeric(38, 10)")
    commands.cmd_validate(project.config(), io.StringIO())


def test_removing_a_map_with_held_changes_is_refused(project: Project) -> None:
    write_customer_before_its_group(project)
    project.drain()
    project.remove_map("customers.toml")
    with pytest.raises(DeployRefused) as refused:
        project.deploy()
    assert str(refused.value) == (
        "deploy refused, nothing changed:\n  map customers_organization (to_right) is removed"
        " but still has 1 held change, waiting for a parent (replicator held list"
        " customers_organization): once the parent is there, replicator held retry --map"
        " customers_organization; to throw it away, replicator discard customers_organization"
        " --direction to_right --reason TEXT; then deploy again"
    )
    assert len(held(project)) == 1
