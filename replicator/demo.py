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

from replicator import commands
from replicator.config import load_config
from replicator.throwaway import ThrowawayServer

ERP_WRITES = """
INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale'), ('usmf', '20', 'Retail');
INSERT INTO fno.payment_terms VALUES ('usmf', 'Net30', 'Net 30 days', 30);
INSERT INTO fno.customers (dataareaid, account_num, party_type, name, customer_group,
                           payment_terms, credit_limit, blocked, email)
VALUES ('usmf', 'US-001', 'Organization', 'Contoso Retail', '10', 'Net30', 25000.125, 'No',
        'ap@contoso.example'),
       ('usmf', 'US-002', 'Organization', 'Fabrikam', '20', 'Net30', 1000, 'Invoice', NULL),
       ('usmf', 'US-003', 'Person', 'Ada Lovelace', '20', NULL, 0, 'No', 'ada@example.org');
UPDATE fno.customers SET blocked = 'All' WHERE account_num = 'US-002';
UPDATE fno.customers SET modified_by = 'batch job' WHERE account_num = 'US-001';  -- unmapped: stays home
"""

CRM_WRITES = """
INSERT INTO cds.account (company_code, accountnumber, name, credit_hold, emailaddress1)
VALUES ('usmf', 'CRM-100', 'Northwind Traders', 'none', 'hello@northwind.example');
INSERT INTO cds.customer_group (company_code, group_code, name) VALUES ('usmf', '30', 'Online');
UPDATE cds.account SET name = 'Contoso Retail Group' WHERE accountnumber = 'US-001';
"""

SHOW = [
    (
        "fno.customer_groups",
        "SELECT dataareaid, customer_group, description FROM fno.customer_groups ORDER BY 1, 2",
    ),
    (
        "cds.customer_group",
        "SELECT company_code, group_code, name FROM cds.customer_group ORDER BY 1, 2",
    ),
    (
        "fno.customers",
        "SELECT dataareaid, account_num, party_type, name, blocked, credit_limit FROM fno.customers ORDER BY 1, 2",
    ),
    (
        "cds.account",
        "SELECT company_code, accountnumber, name, credit_hold, creditlimit FROM cds.account ORDER BY 1, 2",
    ),
    (
        "cds.contact",
        "SELECT company_code, customer_number, fullname, is_sellable FROM cds.contact ORDER BY 1, 2",
    ),
    ("fno.payment_terms", "SELECT * FROM fno.payment_terms ORDER BY 1, 2"),
    (
        "cds.payment_term",
        "SELECT company_code, code, name, due_days FROM cds.payment_term ORDER BY 1, 2",
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


def wait_until_drained(config_path: Path, timeout: float = 60.0) -> None:
    config = load_config(config_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(row.queued == 0 for row in commands.status_rows(config)):
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
        say("replicator validate")
        commands.cmd_validate(config, sys.stdout)
        say("replicator deploy")
        commands.cmd_deploy(config, sys.stdout)
        say("replicator run (in the background)")
        applier = subprocess.Popen(
            [sys.executable, "-m", "replicator.cli", "--config", str(config_path), "run"],
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
            say("replicator status")
            commands.cmd_status(config, sys.stdout)
        finally:
            applier.terminate()
            applier.wait(timeout=30)
        say(f"applier stopped (exit {applier.returncode}); stopping the throw-away server")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
