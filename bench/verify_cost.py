"""What replicator verify costs: customers as organizations (four lookups, a value
map, a rounded amount) with the same rows on both sides, verified equal, then
again with a few rows changed behind the replicator's back.

Both sides are loaded directly (no capture deployed: verify needs none, only the
roles SQL a DBA runs once), in one database and on two servers. Figures are rows per side per second.

    BENCH_VERIFY_ROWS=1000000 .venv/bin/python -m bench.verify_cost
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.databases import CUSTOMERS, drop, example_databases, project
from devtools.throwaway import ThrowawayServer, create_roles
from replicator.core.exitcodes import ExitCode
from replicator.maps.config import load_config
from replicator.operations.verifyreport import cmd_verify

# The CRM's accounts as the map writes them from CUSTOMERS.
ACCOUNTS = """
INSERT INTO cds.account (companyid, accountnumber, name, creditlimit, credit_hold,
                         emailaddress1, relationship_type)
SELECT c.companyid, %(prefix)s || g, 'Customer ' || g, round(g %% 10000 + 0.123456, 4),
       ((ARRAY['none', 'invoice_hold', 'full_hold'])[g %% 3 + 1])::cds.hold_status,
       'c' || g || '@example.org', 'customer'
  FROM generate_series(1, %(rows)s) AS g, cds.company AS c
"""
CHANGED = 10


def measure(
    servers: tuple[ThrowawayServer, ...], work: Path, rows: int, name: str
) -> dict[str, float]:
    """Seconds of verify over ``rows`` customers per side: equal, then CHANGED differing."""
    left, right = example_databases(servers, name)
    with psycopg.connect(left, autocommit=True) as conn:
        conn.execute(CUSTOMERS, {"prefix": "C", "rows": rows})
        conn.execute("VACUUM ANALYZE fno.customers")
    with psycopg.connect(right, autocommit=True) as conn:
        conn.execute(ACCOUNTS, {"prefix": "C", "rows": rows})
        conn.execute("VACUUM ANALYZE cds.account")
    config_path = project(work, name, left, right)
    os.environ.update(REPLICATOR_LEFT=left, REPLICATOR_RIGHT=right)
    config = load_config(config_path)
    if config.roles is not None:
        create_roles(config)
    seconds: dict[str, float] = {}
    for label, expected in (("equal", ExitCode.OK), ("differing", ExitCode.PENDING)):
        if expected == ExitCode.PENDING:
            with psycopg.connect(right, autocommit=True) as conn:
                conn.execute(
                    "UPDATE cds.account SET name = 'changed' WHERE accountnumber = ANY (%s)",
                    ([f"C{g * (rows // CHANGED)}" for g in range(1, CHANGED + 1)],),
                )
        out = io.StringIO()
        started = time.perf_counter()
        code = cmd_verify(config, out, io.StringIO(), ["customers_organization"], quiet=True)
        seconds[label] = time.perf_counter() - started
        if code != expected:
            raise RuntimeError(f"verify exited {code}, not {expected}: {out.getvalue()}")
        if expected == ExitCode.PENDING and f"{CHANGED} differences" not in out.getvalue():
            raise RuntimeError(f"verify did not find the {CHANGED} changed rows: {out.getvalue()}")
    drop(servers, name)
    return seconds


def main() -> int:
    rows = int(os.environ.get("BENCH_VERIFY_ROWS", "1000000"))
    results: dict[str, dict[str, float]] = {}
    with (
        ThrowawayServer() as first,
        ThrowawayServer() as second,
        tempfile.TemporaryDirectory() as scratch,
    ):
        for where, servers in (("one database", (first,)), ("two servers", (first, second))):
            seconds = measure(servers, Path(scratch), rows, f"verify_{len(servers)}")
            results[where] = {
                f"{label}: rows per side per second": round(rows / s)
                for label, s in seconds.items()
            } | {f"{label}: seconds": round(s, 1) for label, s in seconds.items()}
    print(json.dumps({"rows": rows, **results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
