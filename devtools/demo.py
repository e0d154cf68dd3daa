"""``make demo``: the customer master on a throw-away PostgreSQL.

Starts a server, creates the example's two schemas, deploys its maps, runs
the applier, writes rows on each side, prints what arrived where and the
status table, and stops everything it started.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg.rows import TupleRow

from devtools.throwaway import ThrowawayServer, as_role, create_roles
from replicator.commands import lifecycle as commands
from replicator.commands import statusview
from replicator.core.exitcodes import ExitCode
from replicator.maps.config import load_config
from replicator.maps.loader import load_maps
from replicator.maps.model import SIDES, Config
from replicator.operations.status import status_rows
from replicator.sqlgen.probes import count_sql

ERP_WRITES = """
INSERT INTO fno.companies VALUES ('usmf', 'Contoso USA'), ('demf', 'Contoso Germany');
INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale'), ('usmf', '20', 'Retail'),
                                       ('demf', '10', 'Großhandel');
INSERT INTO fno.payment_schedules VALUES ('usmf', 'Half-Half', 'Two halves', 'Percent');
INSERT INTO fno.payment_schedule_lines VALUES ('usmf', 'Half-Half', 1, 50, 0, 30),
                                              ('usmf', 'Half-Half', 2, 50, 1, 30);
INSERT INTO fno.payment_days VALUES ('usmf', 'Fridays', 'Pay on Fridays');
INSERT INTO fno.payment_day_lines VALUES ('usmf', 'Fridays', 1, 'Friday', NULL);
INSERT INTO fno.payment_terms VALUES ('usmf', 'Net30', 'Net 30 days', 30, NULL, NULL),
                                     ('usmf', 'Split', 'Half now, half later', 0, 'Half-Half', 'Fridays');
INSERT INTO fno.customer_payment_methods VALUES ('usmf', 'CHK', 'Cheque', 'Check'),
                                                ('usmf', 'WIRE', 'Wire transfer', 'Electronic');
INSERT INTO fno.loyalty_cards VALUES ('LC-0001', 'Gold', '2026-01-15', false);
INSERT INTO fno.name_affixes VALUES ('Dr.', 'Prefix', 'Doctor'), ('Jr.', 'Suffix', 'Junior');
INSERT INTO fno.customers (dataareaid, account_num, party_type, name, customer_group,
                           payment_terms, payment_method, credit_limit, blocked, email)
VALUES ('usmf', 'US-001', 'Organization', 'Contoso Retail', '10', 'Net30', 'WIRE', 25000.125,
        'No', 'ap@contoso.example'),
       ('usmf', 'US-002', 'Organization', 'Fabrikam', '20', 'Split', 'CHK', 1000, 'Invoice', NULL),
       ('demf', 'US-002', 'Organization', 'Fabrikam GmbH', '10', NULL, NULL, 0, 'No', NULL),
       ('usmf', 'US-003', 'Person', 'Ada Augusta Lovelace', '20', NULL, NULL, 0, 'No',
        'ada@example.org');
INSERT INTO fno.contact_persons VALUES ('usmf', 'CP-1', 'Grace', 'Hopper', 'grace@contoso.example',
                                        'US-001', NULL);
UPDATE fno.customers SET blocked = 'All' WHERE account_num = 'US-002' AND dataareaid = 'usmf';
UPDATE fno.customers SET modified_by = 'batch job' WHERE account_num = 'US-001';  -- unmapped: stays home
"""

CRM_WRITES = """
INSERT INTO cds.customer_group (companyid, group_code, name)
SELECT companyid, '30', 'Online' FROM cds.company WHERE company_code = 'usmf';
INSERT INTO cds.account (companyid, accountnumber, name, customergroupid, credit_hold, emailaddress1)
SELECT c.companyid, 'CRM-100', 'Northwind Traders', g.customergroupid, 'none', 'hello@northwind.example'
  FROM cds.company c JOIN cds.customer_group g USING (companyid)
 WHERE c.company_code = 'usmf' AND g.group_code = '30';
UPDATE cds.account SET name = 'Contoso Retail Group' WHERE accountnumber = 'US-001';
-- A contact person becomes a customer: sellable, with a customer number.
UPDATE cds.contact SET is_sellable = true, customer_number = 'US-004' WHERE contactpersonid = 'CP-1';
"""

SHOW = [
    (
        "fno.customers",
        "SELECT dataareaid, account_num, party_type, name, customer_group, payment_terms, blocked, credit_limit FROM fno.customers ORDER BY 1, 2",
    ),
    (
        "cds.account (references resolved to codes for reading)",
        "SELECT c.company_code, a.accountnumber, a.name, g.group_code, t.code AS payment_term,"
        " a.credit_hold, a.creditlimit FROM cds.account a JOIN cds.company c USING (companyid)"
        " LEFT JOIN cds.customer_group g USING (customergroupid)"
        " LEFT JOIN cds.payment_term t USING (paymenttermid) ORDER BY 1, 2",
    ),
    (
        "cds.contact",
        "SELECT customer_number, contactpersonid, firstname, middlename, lastname, is_sellable"
        " FROM cds.contact ORDER BY 1, 2",
    ),
]


def say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def print_query(conn: psycopg.Connection[TupleRow], title: str, query: str) -> None:
    cur = conn.execute(query.encode())
    names = [d.name for d in cur.description or []]
    rows = [["" if v is None else str(v) for v in row] for row in cur.fetchall()]
    widths = [
        max(len(n), *(len(r[i]) for r in rows)) if rows else len(n) for i, n in enumerate(names)
    ]
    print(f"\n{title}")
    print("  " + " | ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)))
    for row in rows:
        print("  " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def print_counts(conn: psycopg.Connection[TupleRow], config: Config) -> bool:
    """Per map, the rows each side holds under the map's filters; True when all agree."""
    maps = load_maps(config.maps_dir, config.path.parent)
    print(f"\n  {'map':<26} {config.left.name:>6} {config.right.name:>6}")
    agree = True
    for table_map in maps.maps:
        counts = [
            conn.execute(count_sql(table_map, side, config.side(side).schema)).fetchone()
            for side in SIDES
        ]
        left, right = (row[0] if row else None for row in counts)
        agree = agree and left == right
        mark = "" if left == right else "   <- differ"
        print(f"  {table_map.name:<26} {left:>6} {right:>6}{mark}")
    print("\n  both sides agree" if agree else "\n  the sides DIFFER")
    return agree


def wait_until_drained(config_path: Path, timeout: float = 60.0) -> None:
    config = load_config(config_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(row.queued == 0 for row in status_rows(config)):
            return
        time.sleep(0.2)
    raise RuntimeError("the queues did not drain within a minute; see the applier's log above")


def main(argv: list[str]) -> int:
    example = Path(argv[0] if argv else "examples/customer-master").resolve()
    config_path = example / "replicator.toml"
    with ThrowawayServer() as server:
        url = server.create_database("customer_master")
        os.environ["REPLICATOR_LEFT"] = url
        os.environ["REPLICATOR_RIGHT"] = url
        with psycopg.connect(url, autocommit=True) as conn:
            for ddl in ("fno.sql", "cds.sql"):
                conn.execute((example / ddl).read_bytes())
        say(f"throw-away PostgreSQL on {url}; schemas fno and cds created")
        config = load_config(config_path)
        say("replicator plan --roles, run by the superuser: the owner and runtime roles")
        create_roles(config)
        say("replicator validate")
        commands.cmd_validate(config, sys.stdout)
        say("replicator deploy (as the superuser, acting as the owner role)")
        commands.cmd_deploy(config, sys.stdout)
        assert config.roles is not None
        runtime = as_role(url, config.roles.runtime)
        say(f"replicator run (in the background), logged in as {config.roles.runtime}")
        applier = subprocess.Popen(
            [sys.executable, "-m", "replicator.cli", "--config", str(config_path), "run"],
            env={**os.environ, "REPLICATOR_LEFT": runtime, "REPLICATOR_RIGHT": runtime},
        )
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                say("the ERP writes customer groups, payment terms and customers")
                conn.execute(ERP_WRITES.encode())
                wait_until_drained(config_path)
                say("the CRM writes an account, a customer group, and renames an ERP customer")
                conn.execute(CRM_WRITES.encode())
                wait_until_drained(config_path)
                say("what arrived where")
                for title, query in SHOW:
                    print_query(conn, title, query)
                say("rows per map on each side (under the map's filters)")
                agree = print_counts(conn, config)
            say("replicator status")
            statusview.cmd_status(config, sys.stdout)
        finally:
            applier.terminate()
            applier.wait(timeout=30)
        say(f"applier stopped (exit {applier.returncode}); stopping the throw-away server")
    return ExitCode.OK if agree and applier.returncode == ExitCode.OK else ExitCode.ERROR


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
