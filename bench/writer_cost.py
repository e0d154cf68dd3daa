"""What capture costs the writers: pgbench single-row upserts on a mapped table.

Configurations, each in a fresh database on one throw-away server: no capture;
a bare trigger (a row trigger that only inserts ``to_jsonb(NEW)`` into a table: what
any trigger-based capture costs at least); trigger capture (queued mode) with no applier; the same with an applier
draining; online mode (the other side written in the writer's transaction);
WAL capture (a wal2json slot, no triggers) with no applier, so the slot only
retains WAL; the same with the applier decoding and draining.
They run interleaved for several rounds so machine noise spreads evenly, and
the figures reported are ratios of median TPS to the no-capture median (and,
for trigger capture, to the bare trigger's) measured in the same run.

Every upsert changes a mapped column (an update moves the card's date a day on),
so each commit is exactly one captured change: section 11 counts on that.

    .venv/bin/python -m bench.writer_cost [--seconds 15] [--clients 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

from bench.databases import deploy, example_databases, project, start_applier, stop
from devtools.throwaway import ThrowawayServer

PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"
# Loyalty cards: a mapped table without lookups, so online mode can map it too.
UPSERT = """\\set id random(1, 10000)
\\set n random(1, 365)
INSERT INTO fno.loyalty_cards (card_number, tier, issued_on) VALUES (:id, 'Basic', DATE '2026-01-01' + :n::integer)
ON CONFLICT (card_number) DO UPDATE SET issued_on = fno.loyalty_cards.issued_on + 1;
"""
# The least a trigger-based capture does: one row trigger, one insert of the new row.
BARE_TRIGGER = """
CREATE TABLE public.bench_bare_capture (image jsonb NOT NULL);
CREATE FUNCTION public.bench_bare_capture() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.bench_bare_capture VALUES (to_jsonb(NEW));
    RETURN NULL;
END $$;
CREATE TRIGGER bench_bare_capture AFTER INSERT OR UPDATE ON fno.loyalty_cards
FOR EACH ROW EXECUTE FUNCTION public.bench_bare_capture();
"""
CONFIGURATIONS = (
    "no capture",
    "bare trigger",
    "trigger capture",
    "trigger capture + applier",
    "online",
    "WAL capture",
    "WAL capture + applier",
)


def prepare(server: ThrowawayServer, name: str, configuration: str, work: Path) -> tuple[str, Path]:
    url, _ = example_databases((server,), name)
    config_path = project(
        work,
        name,
        url,
        url,
        online="loyalty_cards" if configuration == "online" else None,
        capture="wal" if configuration.startswith("WAL") else "trigger",
    )
    if configuration == "bare trigger":
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(BARE_TRIGGER.encode())
    elif configuration != "no capture":
        deploy(config_path, url, url)
    return url, config_path


def pgbench_command(
    server: ThrowawayServer, database: str, script: Path, seconds: float, clients: int
) -> list[str]:
    """pgbench running ``script`` for ``seconds`` on ``clients`` connections."""
    return [
        PGBENCH,
        "-n",
        "-M",
        "prepared",
        "-T",
        str(round(seconds)),
        "-c",
        str(clients),
        "-j",
        "2",
        "-f",
        str(script),
        "-h",
        "127.0.0.1",
        "-p",
        str(server.port),
        "-U",
        "postgres",
        database,
    ]


def pgbench_tps(
    server: ThrowawayServer, database: str, script: Path, seconds: int, clients: int
) -> float:
    result = subprocess.run(
        pgbench_command(server, database, script, seconds, clients),
        capture_output=True,
        text=True,
        check=True,
    )
    for line in result.stdout.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    raise RuntimeError(f"no tps in pgbench output:\n{result.stdout}")


def measure(
    server: ThrowawayServer, work: Path, seconds: int, clients: int, rounds: int
) -> dict[str, list[float]]:
    """TPS per configuration, interleaved round by round."""
    tps: dict[str, list[float]] = {c: [] for c in CONFIGURATIONS}
    script = work / "upsert.sql"
    script.write_text(UPSERT)
    for round_number in range(rounds):
        for index, configuration in enumerate(CONFIGURATIONS):
            name = f"writer_{round_number}_{index}"
            url, config_path = prepare(server, name, configuration, work)
            applier = (
                start_applier(config_path, url, url) if configuration.endswith("applier") else None
            )
            try:
                tps[configuration].append(pgbench_tps(server, name, script, seconds, clients))
            finally:
                if applier is not None:
                    stop(applier)
            server.drop_database(name)
    return tps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with ThrowawayServer() as server, tempfile.TemporaryDirectory() as scratch:
        tps = measure(server, Path(scratch), args.seconds, args.clients, args.rounds)
    baseline = statistics.median(tps["no capture"])
    bare = statistics.median(tps["bare trigger"])
    report = {
        c: {
            "median_tps": round(statistics.median(v), 1),
            "min": round(min(v), 1),
            "max": round(max(v), 1),
            "ratio": round(statistics.median(v) / baseline, 3),
            "ratio_to_bare_trigger": round(statistics.median(v) / bare, 3),
        }
        for c, v in tps.items()
    }
    print(
        json.dumps(
            {
                "seconds": args.seconds,
                "clients": args.clients,
                "rounds": args.rounds,
                "configurations": report,
            },
            indent=2,
        )
    )
    for configuration, figures in report.items():
        print(
            f"{configuration:28} {figures['median_tps']:>10} tps  {figures['ratio']:.3f}x",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
