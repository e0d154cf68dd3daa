"""Benchmark databases: the customer-master example, deployed or not, and the
workload written into it.

    .venv/bin/python -m bench.databases CONFIG   # the applier of measured_applier()
"""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench.harness import wait_until
from devtools.throwaway import ThrowawayServer, as_role, create_roles, replica_identity_full
from replicator.commands import lifecycle as commands
from replicator.maps.config import load_config
from replicator.runtime import applier
from replicator.runtime.listener import Listener

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "customer-master"

CUSTOMERS = """
INSERT INTO fno.customers (dataareaid, account_num, name, credit_limit, blocked, email)
SELECT 'usmf', %(prefix)s || g, 'Customer ' || g, g %% 10000 + 0.123456,
       (ARRAY['No', 'Invoice', 'All'])[g %% 3 + 1], 'c' || g || '@example.org'
  FROM generate_series(1, %(rows)s) AS g
"""

CARDS = """
INSERT INTO fno.loyalty_cards (card_number, tier, issued_on)
SELECT %(prefix)s || g, 'Basic', DATE '2026-01-01' + g %% 300
  FROM generate_series(1, %(rows)s) AS g
"""

# Arrival time of every row the CRM receives, for latency (section 5 only: a trigger
# that fires for every row written, which native LR's throughput target does not pay).
ARRIVALS = """
CREATE TABLE public.bench_arrival (key text PRIMARY KEY, at timestamptz NOT NULL);
CREATE FUNCTION public.bench_arrived() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.bench_arrival VALUES (NEW.accountnumber, clock_timestamp());
    RETURN NULL;
END $$;
CREATE TRIGGER bench_arrived AFTER INSERT ON cds.account
FOR EACH ROW EXECUTE FUNCTION public.bench_arrived();
-- It fires for the replicator's writes, as the replicator's owner role.
GRANT INSERT ON public.bench_arrival TO PUBLIC;
"""


def example_databases(
    servers: tuple[ThrowawayServer, ...], name: str, arrivals: bool = False
) -> tuple[str, str]:
    """(left url, right url): both schemas in one database, or fno on the first server and
    cds on the second; company usmf on both sides; with ``arrivals``, ARRIVALS on cds."""
    left = servers[0].create_database(name)
    right = servers[-1].create_database(name) if len(servers) > 1 else left
    with psycopg.connect(left, autocommit=True) as conn:
        conn.execute((EXAMPLE / "fno.sql").read_bytes())
        conn.execute("INSERT INTO fno.companies VALUES ('usmf', 'Contoso USA')")
    with psycopg.connect(right, autocommit=True) as conn:
        conn.execute((EXAMPLE / "cds.sql").read_bytes())
        conn.execute("INSERT INTO cds.company (company_code, name) VALUES ('usmf', 'Contoso USA')")
        if arrivals:
            conn.execute(ARRIVALS.encode())
    return left, right


def drop(servers: tuple[ThrowawayServer, ...], name: str) -> None:
    for server in servers:
        server.drop_database(name)


def project(
    work: Path,
    name: str,
    left: str,
    right: str,
    online: str | None = None,
    capture: str = "trigger",
) -> Path:
    """A copy of the example pointing at the urls (with ``online``, that map made
    online; with ``capture = "wal"``, both sides read from their WAL slot); returns
    its replicator.toml."""
    root = work / name
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("*.sql"))
    if capture != "trigger":
        config_path = root / "replicator.toml"
        text = config_path.read_text()
        for variable in ("REPLICATOR_LEFT", "REPLICATOR_RIGHT"):
            text = text.replace(
                f'conninfo_env = "{variable}"',
                f'conninfo_env = "{variable}"\ncapture = "{capture}"',
            )
        config_path.write_text(text)
    if online is not None:
        path = root / "maps" / f"{online}.toml"
        path.write_text(
            path.read_text().replace('direction = "both"', 'direction = "both"\nmode = "online"')
        )
    return root / "replicator.toml"


def environment(left: str, right: str, config_path: Path | None = None) -> dict[str, str]:
    """The connections to the sides; with ``config_path``, as its [roles] runtime role, the
    way the applier logs in in production."""
    roles = load_config(config_path).roles if config_path else None
    if roles is not None:
        left, right = as_role(left, roles.runtime), as_role(right, roles.runtime)
    return {**os.environ, "REPLICATOR_LEFT": left, "REPLICATOR_RIGHT": right}


def deploy(config_path: Path, left: str, right: str) -> None:
    """Deploy the project; a side with WAL capture first gets its replica identities."""
    os.environ.update(REPLICATOR_LEFT=left, REPLICATOR_RIGHT=right)
    config = load_config(config_path)
    for side, url in ((config.left, left), (config.right, right)):
        if side.capture == "wal":
            replica_identity_full(url, side.schema)
    if config.roles is not None:
        create_roles(config)
    commands.cmd_deploy(config, io.StringIO())


def start_applier(config_path: Path, left: str, right: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "replicator.cli", "--config", str(config_path), "run", *extra],
        env=environment(left, right, config_path),
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=120)


def count(url: str, table: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}".encode()).fetchone()
    return int(row[0]) if row else 0


def wait_for_rows(url: str, table: str, rows: int, timeout: float, what: str) -> None:
    """Wait until ``table`` holds at least ``rows`` rows. One connection, a count every
    20 ms: a new connection each time would fork a backend that competes for the CPU
    with what is being measured."""
    query = f"SELECT count(*) >= {int(rows)} FROM {table}".encode()
    with psycopg.connect(url, autocommit=True) as conn:
        wait_until(lambda: conn.execute(query).fetchone() == (True,), timeout, what, 0.02)


def peak_rss_mb(process: subprocess.Popen[bytes]) -> float:
    """Wait for ``process`` and return its peak resident set (VmHWM), in MB."""
    peak = 0
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.05)
    return peak / 1024


class _RecordedListener(Listener):
    """A Listener that leaves itself in ``opened``, so its peak_held outlives the run."""

    opened: list[Listener] = []

    def open(self) -> None:
        _RecordedListener.opened.append(self)
        super().open()


def measured_applier(config_path: Path, left: str, right: str) -> subprocess.Popen[bytes]:
    """``replicator run --once`` in a child that, once done, prints one JSON line on
    stdout: the seconds cmd_run took, the listeners' peak_held and its own peak RSS."""
    return subprocess.Popen(
        [sys.executable, "-m", "bench.databases", str(config_path)],
        cwd=EXAMPLE.parent.parent,  # where the bench package is, wherever we were started
        env=environment(left, right, config_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def main() -> int:
    """The child of measured_applier: cmd_run exactly as the CLI calls it, with each
    Listener recorded; stdout carries only the JSON line."""
    applier.Listener = _RecordedListener  # type: ignore[attr-defined]
    config = load_config(Path(sys.argv[1]))
    started = time.perf_counter()
    exit_code = commands.cmd_run(config, once=True)
    seconds = time.perf_counter() - started
    peak_held = max((listener.peak_held for listener in _RecordedListener.opened), default=0)
    peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: kB
    print(json.dumps({"seconds": seconds, "peak_held": peak_held, "peak_rss_kb": peak_rss_kb}))
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
