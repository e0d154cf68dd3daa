"""Changes cross both ways, once, and never come back: on one database and on two servers,
captured by triggers or read from the WAL."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from devtools.throwaway import ThrowawayServer
from tests.support import USMF, Project, audit, items_map, queued, rows, schemas_project, writes


@pytest.fixture
def project(example: Callable[..., Project], topology: str, capture: str) -> Project:
    project = example(topology, capture)
    audit(project.left_url, "fno.customers", "fno.customer_groups")
    audit(project.right_url, "cds.account", "cds.contact", "cds.customer_group")
    return project


def test_an_erp_customer_shows_up_in_the_crm_once_and_nothing_comes_back(project: Project) -> None:
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name, credit_limit, blocked, email)"
            " VALUES ('usmf', 'US-001', 'Contoso', 25000.125, 'Invoice', 'ap@contoso.example')"
        )
    totals = project.drain()
    assert totals.applied == 1 and totals.failed == 0
    assert rows(
        project.right_url,
        "SELECT c.company_code, accountnumber, a.name, creditlimit, credit_hold::text,"
        " emailaddress1, relationship_type FROM cds.account a JOIN cds.company c USING (companyid)",
    ) == [
        (
            "usmf",
            "US-001",
            "Contoso",
            Decimal("25000.1250"),
            "invoice_hold",
            "ap@contoso.example",
            "customer",
        )
    ]
    assert writes(project.right_url, "cds.account") == [("INSERT", True)]
    assert writes(project.left_url, "fno.customers") == [("INSERT", False)]
    assert project.drain().applied == 0
    assert queued(project.left_url) == 0 and queued(project.right_url) == 0


def test_a_crm_account_arrives_in_the_erp_as_an_organization(project: Project) -> None:
    with project.right() as crm:
        crm.execute(
            "INSERT INTO cds.account (companyid, accountnumber, name, credit_hold)"
            f" VALUES ({USMF}, 'CRM-1', 'Northwind', 'full_hold')"
        )
    project.drain()
    assert rows(
        project.left_url,
        "SELECT account_num, name, party_type::text, blocked, credit_limit FROM fno.customers",
    ) == [("CRM-1", "Northwind", "Organization", "All", Decimal("0.000000"))]
    assert writes(project.left_url, "fno.customers") == [("INSERT", True)]
    assert writes(project.right_url, "cds.account") == [("INSERT", False)]
    assert project.drain().applied == 0


def test_updates_and_deletes_cross_both_ways(project: Project) -> None:
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale'), ('usmf', '20', 'Retail')"
        )
    project.drain()
    with project.right() as crm:
        crm.execute("UPDATE cds.customer_group SET name = 'Big wholesale' WHERE group_code = '10'")
        crm.execute("DELETE FROM cds.customer_group WHERE group_code = '20'")
    project.drain()
    assert rows(
        project.left_url, "SELECT customer_group, description FROM fno.customer_groups"
    ) == [("10", "Big wholesale")]
    with project.left() as erp:
        erp.execute(
            "UPDATE fno.customer_groups SET description = 'Wholesale' WHERE customer_group = '10'"
        )
        erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '30', 'Online')")
    project.drain()
    assert rows(
        project.right_url, "SELECT group_code, name FROM cds.customer_group ORDER BY 1"
    ) == [
        ("10", "Wholesale"),
        ("30", "Online"),
    ]
    # Every replicator write happened once, on the side that did not write it.
    # (In a batch, new rows are written before changed ones.)
    assert sorted(w for w in writes(project.right_url, "cds.customer_group") if w[1]) == [
        ("INSERT", True),
        ("INSERT", True),
        ("INSERT", True),
        ("UPDATE", True),
    ]
    # Deletes apply before inserts and updates (children's deletes before their parents').
    assert [w for w in writes(project.left_url, "fno.customer_groups") if w[1]] == [
        ("DELETE", True),
        ("UPDATE", True),
    ]


def test_an_update_of_unmapped_columns_queues_nothing(project: Project) -> None:
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name) VALUES ('usmf', 'A', 'Alpha')"
        )
    project.drain()
    with project.left() as erp:
        erp.execute("UPDATE fno.customers SET modified_by = 'nightly job'")
    assert queued(project.left_url) == 0  # a capture trigger queues nothing
    assert project.drain().applied == 0  # nor does the WAL's listener
    # A no-op update of a mapped column is not a change either.
    with project.left() as erp:
        erp.execute("UPDATE fno.customers SET name = name")
    assert queued(project.left_url) == 0
    assert project.drain().applied == 0


def test_an_upsert_crosses_as_the_insert_or_the_update_it_made(project: Project) -> None:
    upsert = (
        "INSERT INTO fno.customers (dataareaid, account_num, name) VALUES ('usmf', 'UP-1', %s)"
        " ON CONFLICT (dataareaid, account_num) DO UPDATE SET name = excluded.name"
    )
    with project.left() as erp:
        erp.execute(upsert, ("First",))
    assert project.drain().applied == 1
    # It updates now, and also fires the insert's statement trigger, which finds nothing.
    with project.left() as erp:
        erp.execute(upsert, ("Second",))
    assert project.drain().applied == 1
    assert rows(project.right_url, "SELECT accountnumber, name FROM cds.account") == [
        ("UP-1", "Second")
    ]
    assert writes(project.right_url, "cds.account") == [("INSERT", True), ("UPDATE", True)]
    assert project.drain().applied == 0


def test_a_customer_whose_type_changes_moves_from_account_to_contact(project: Project) -> None:
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name) VALUES ('usmf', 'P-1', 'Ada')"
        )
    project.drain()
    assert rows(project.right_url, "SELECT accountnumber FROM cds.account") == [("P-1",)]
    with project.left() as erp:
        erp.execute("UPDATE fno.customers SET party_type = 'Person' WHERE account_num = 'P-1'")
    project.drain()
    assert rows(project.right_url, "SELECT accountnumber FROM cds.account") == []
    assert rows(
        project.right_url,
        "SELECT customer_number, firstname, lastname, is_sellable FROM cds.contact",
    ) == [("P-1", "Ada", None, True)]
    # And back: an organization again leaves the contacts for the accounts.
    with project.left() as erp:
        erp.execute(
            "UPDATE fno.customers SET party_type = 'Organization' WHERE account_num = 'P-1'"
        )
    project.drain()
    assert rows(project.right_url, "SELECT accountnumber FROM cds.account") == [("P-1",)]
    assert rows(project.right_url, "SELECT customer_number FROM cds.contact") == []
    # Nothing echoed back into the ERP row.
    assert [w for w in writes(project.left_url, "fno.customers") if w[1]] == []


def test_a_crm_record_that_changes_type_moves_in_the_erp_too(project: Project) -> None:
    with project.right() as crm:
        crm.execute(
            "INSERT INTO cds.account (companyid, accountnumber, name)"
            f" VALUES ({USMF}, 'X-1', 'Ada Lovelace')"
        )
    project.drain()
    assert rows(project.left_url, "SELECT account_num, party_type::text FROM fno.customers") == [
        ("X-1", "Organization")
    ]
    # The CRM turns the account into a sellable contact: the ERP customer becomes a person.
    with project.right() as crm, crm.transaction():
        crm.execute("DELETE FROM cds.account WHERE accountnumber = 'X-1'")
        crm.execute(
            "INSERT INTO cds.contact (companyid, customer_number, firstname, lastname, is_sellable)"
            f" VALUES ({USMF}, 'X-1', 'Ada', 'Lovelace', true)"
        )
    project.drain()
    assert rows(
        project.left_url, "SELECT account_num, party_type::text, name FROM fno.customers"
    ) == [("X-1", "Person", "Ada Lovelace")]


def test_a_key_change_removes_the_old_key_and_creates_the_new_one(project: Project) -> None:
    with project.left() as erp:
        erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale')")
    project.drain()
    with project.left() as erp:
        erp.execute(
            "UPDATE fno.customer_groups SET customer_group = '11' WHERE customer_group = '10'"
        )
    project.drain()
    assert rows(project.right_url, "SELECT group_code, name FROM cds.customer_group") == [
        ("11", "Wholesale")
    ]


def test_several_changes_of_one_key_in_one_batch_end_as_the_last_one(project: Project) -> None:
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'a'), ('usmf', '20', 'x')"
        )
        erp.execute("UPDATE fno.customer_groups SET description = 'b' WHERE customer_group = '10'")
        erp.execute("UPDATE fno.customer_groups SET description = 'c' WHERE customer_group = '10'")
        erp.execute("DELETE FROM fno.customer_groups WHERE customer_group = '20'")
    project.drain()
    assert rows(project.right_url, "SELECT group_code, name FROM cds.customer_group") == [
        ("10", "c")
    ]


def test_a_value_the_value_map_does_not_know_goes_to_the_error_log(project: Project) -> None:
    # The ERP's check constraint is widened behind the map's back.
    with project.left() as erp:
        erp.execute("ALTER TABLE fno.customers DROP CONSTRAINT customers_blocked_check")
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name, blocked)"
            " VALUES ('usmf', 'A', 'Alpha', 'Payment'), ('usmf', 'B', 'Beta', 'No')"
        )
    totals = project.drain()
    assert (totals.applied, totals.failed) == (1, 1)
    assert rows(project.right_url, "SELECT accountnumber FROM cds.account") == [("B",)]
    assert rows(project.right_url, "SELECT map_name, key, message FROM replicator.error_log") == [
        (
            "customers_organization",
            {"dataareaid": "usmf", "account_num": "A"},
            "map customers_organization: field blocked: value 'Payment' has no entry in the"
            " value_map and no fallback",
        )
    ]


def test_with_on_delete_ignore_a_delete_stays_on_its_side(project: Project) -> None:
    groups = (project.root / "maps" / "customer_groups.toml").read_text()
    project.write_map(
        "customer_groups.toml",
        groups.replace('direction = "both"', 'direction = "both"\non_delete = "ignore"'),
    )
    project.deploy()
    with project.left() as erp:
        erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale')")
    project.drain()
    with project.left() as erp:
        erp.execute("DELETE FROM fno.customer_groups")
    project.drain()
    assert rows(project.right_url, "SELECT group_code FROM cds.customer_group") == [("10",)]


def test_with_on_delete_mark_a_delete_sets_the_mark_on_the_other_side(project: Project) -> None:
    customers = (project.root / "maps" / "customers.toml").read_text()
    project.write_map(
        "customers.toml",
        customers.replace(
            "right_filter = \"relationship_type = 'customer'\"\n",
            'right_filter = "relationship_type = \'customer\'"\non_delete = "mark"\n'
            'mark.right = { column = "relationship_type", value = "former_customer" }\n'
            'mark.left = { column = "blocked", value = "All" }\n',
        ),
    )
    project.deploy()
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name) VALUES"
            " ('usmf', 'A', 'Alpha'), ('usmf', 'B', 'Beta')"
        )
    project.drain()
    with project.left() as erp:
        erp.execute("DELETE FROM fno.customers WHERE account_num = 'A'")
    with project.right() as crm:
        crm.execute("DELETE FROM cds.account WHERE accountnumber = 'B'")
    project.drain()
    assert rows(project.right_url, "SELECT accountnumber, relationship_type FROM cds.account") == [
        ("A", "former_customer")
    ]
    assert rows(project.left_url, "SELECT account_num, blocked FROM fno.customers") == [
        ("B", "All")
    ]
    assert project.drain().applied == 0  # the marks themselves are not echoed


# A row trigger on the target table that notes the plan_cache_mode its statements run with.
RECORD_PLAN_MODE = """
CREATE TABLE r.plan_modes (mode text NOT NULL);
CREATE FUNCTION r.record_plan_mode() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO r.plan_modes VALUES (current_setting('plan_cache_mode'));
    RETURN NULL;
END $$;
CREATE TRIGGER record_plan_mode AFTER INSERT ON r.items
FOR EACH ROW EXECUTE FUNCTION r.record_plan_mode();
"""


def test_the_target_tables_own_triggers_keep_their_plans_in_a_large_batch(
    tmp_path: Path, pg: ThrowawayServer, fresh_db: Callable[[ThrowawayServer], str]
) -> None:
    """The apply plans its own statements for a large batch's size (force_custom_plan);
    the target table's triggers (its foreign keys' checks, an application's) run as in
    any session, plan_cache_mode auto, so their statements keep their plans instead of
    being planned anew for every row written."""
    url = fresh_db(pg)
    project = schemas_project(
        tmp_path,
        url,
        "CREATE SCHEMA l; CREATE SCHEMA r;"
        " CREATE TABLE l.items (id int PRIMARY KEY, name varchar(50));"
        " CREATE TABLE r.items (id int PRIMARY KEY, name varchar(50));" + RECORD_PLAN_MODE,
        {"items.toml": items_map("true")},
    )
    project.deploy()
    with project.left() as conn:
        conn.execute("INSERT INTO l.items SELECT g, 'item ' || g FROM generate_series(1, 100) AS g")
    totals = project.drain()
    assert (totals.applied, totals.failed) == (100, 0)
    assert rows(url, "SELECT mode, count(*) FROM r.plan_modes GROUP BY mode") == [("auto", 100)]
