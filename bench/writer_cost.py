"""What capture costs the writers: pgbench single-row upserts on a mapped table.

Configurations, each in a fresh database on one throw-away server: no capture;
trigger capture (queued mode) with no applier; the same with an applier
draining; online mode (the other side written in the writer's transaction).
They run interleaved for several rounds so machine noise spreads evenly, and
the figures reported are ratios of median TPS to the no-capture median
measured in the same run.

    .venv/bin/python bench/writer_cost.py [--seconds 15] [--clients 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

from replicator import commands
from replicator.config import load_config
from replicator.throwaway import ThrowawayServer

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "customer-master"
PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"
UPSERT = """\\set id random(1, 10000)
\\set n random(1, 365)
INSERT INTO fno.payment_terms VALUES ('usmf', :id, 'x', :n)
ON CONFLICT (dataareaid, payment_term_id) DO UPDATE SET net_days = EXCLUDED.net_days;
"""
CONFIGURATIONS = ("no capture", "trigger capture", "trigger capture + applier", "online")


def prepare(server: ThrowawayServer, name: str, configuration: str, work: Path) -> tuple[str, Path]:
    url = server.create_database(name)
    with psycopg.connect(url, autocommit=True) as conn:
        for ddl in ("fno.sql", "cds.sql"):
            conn.execute((EXAMPLE / ddl).read_bytes())
    project = work / name
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("*.sql"))
    if configuration == "online":
        terms = project / "maps" / "payment_terms.toml"
        terms.write_text(
            terms.read_text().replace('direction = "both"', 'direction = "both"\nmode = "online"')
        )
    if configuration != "no capture":
        os.environ["REPLICATOR_LEFT"] = os.environ["REPLICATOR_RIGHT"] = url
        commands.cmd_deploy(load_config(project / "replicator.toml"), io.StringIO())
    return url, project


def pgbench_tps(
    server: ThrowawayServer, database: str, script: Path, seconds: int, clients: int
) -> float:
    result = subprocess.run(
        [
            PGBENCH,
            "-n",
            "-M",
            "prepared",
            "-T",
            str(seconds),
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
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in result.stdout.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    raise RuntimeError(f"no tps in pgbench output:\n{result.stdout}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tps: dict[str, list[float]] = {c: [] for c in CONFIGURATIONS}
    with ThrowawayServer() as server, tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        script = work / "upsert.sql"
        script.write_text(UPSERT)
        for round_number in range(args.rounds):
            for index, configuration in enumerate(CONFIGURATIONS):
                name = f"bench_{round_number}_{index}"
                url, project = prepare(server, name, configuration, work)
                applier = None
                if configuration.endswith("applier"):
                    applier = subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "replicator.cli",
                            "--config",
                            str(project / "replicator.toml"),
                            "run",
                        ],
                        env={**os.environ, "REPLICATOR_LEFT": url, "REPLICATOR_RIGHT": url},
                        stderr=subprocess.DEVNULL,
                    )
                try:
                    tps[configuration].append(
                        pgbench_tps(server, name, script, args.seconds, args.clients)
                    )
                finally:
                    if applier is not None:
                        applier.terminate()
                        applier.wait(timeout=60)
                server.drop_database(name)
    baseline = statistics.median(tps["no capture"])
    report = {
        c: {
            "median_tps": round(statistics.median(v), 1),
            "min": round(min(v), 1),
            "max": round(max(v), 1),
            "ratio": round(statistics.median(v) / baseline, 3),
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
