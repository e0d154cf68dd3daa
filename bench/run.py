"""``make bench``: the figures a DBA asks for, each as a ratio to a ceiling or to
native logical replication measured in the same run, on throw-away servers.

    BENCH_ROWS=50000 BENCH_BIG_ROWS=200000 BENCH_REPEAT=3 \
        BENCH_WAL_ROWS=1000000 BENCH_WAL_REPEAT=1 .venv/bin/python -m bench.run

BENCH_VERIFY_ROWS (1,000,000) the customers per side section 10 verifies.
BENCH_WAL_ROWS is the size of the one source transaction section 9 decodes from
a WAL slot, BENCH_WAL_REPEAT how often (once by default: a million rows take
minutes). Writes bench/results.json and prints the table. Each figure is the median of
BENCH_REPEAT repetitions, with min and max. Sections whose feature does not
exist yet say so instead of a figure.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import psycopg
from psycopg.rows import TupleRow

from bench import verify_cost, writer_cost
from bench.databases import (
    CARDS,
    CUSTOMERS,
    count,
    deploy,
    drop,
    example_databases,
    measured_applier,
    peak_rss_mb,
    project,
    start_applier,
    stop,
)
from bench.harness import Figure, Report, rate, repeat, wait_until
from replicator import admin
from replicator.config import load_config
from replicator.throwaway import ThrowawayServer

RESULTS = Path(os.environ.get("BENCH_RESULTS", Path(__file__).resolve().parent / "results.json"))

TRANSFORM = """
SELECT c.companyid, f.account_num, f.name, round(f.credit_limit, 4),
       (CASE f.blocked WHEN 'No' THEN 'none' WHEN 'Invoice' THEN 'invoice_hold'
                       ELSE 'full_hold' END)::cds.hold_status,
       f.email, 'customer'
  FROM fno.customers AS f JOIN cds.company AS c ON c.company_code = f.dataareaid
"""
COLUMNS = (
    "(companyid, accountnumber, name, creditlimit, credit_hold, emailaddress1, relationship_type)"
)
UPSERT_SET = (
    " ON CONFLICT (companyid, accountnumber) DO UPDATE SET name = EXCLUDED.name,"
    " creditlimit = EXCLUDED.creditlimit, credit_hold = EXCLUDED.credit_hold,"
    " emailaddress1 = EXCLUDED.emailaddress1"
)


class Bench:
    def __init__(self, servers: tuple[ThrowawayServer, ThrowawayServer], work: Path) -> None:
        self.servers = servers
        self.work = work
        self.rows = int(os.environ.get("BENCH_ROWS", "50000"))
        self.big = int(os.environ.get("BENCH_BIG_ROWS", "200000"))
        self.wal_rows = int(os.environ.get("BENCH_WAL_ROWS", "1000000"))
        self.wal_times = int(os.environ.get("BENCH_WAL_REPEAT", "1"))
        self.verify_rows = int(os.environ.get("BENCH_VERIFY_ROWS", "1000000"))
        self.times = int(os.environ.get("BENCH_REPEAT", "3"))
        self.latency_seconds = float(os.environ.get("BENCH_LATENCY_SECONDS", "10"))
        self.writer_seconds = int(os.environ.get("BENCH_WRITER_SECONDS", "15"))
        self.report = Report()
        self.serial = 0

    def fresh(self, two_servers: bool = False) -> tuple[str, str, str]:
        self.serial += 1
        name = f"bench_{self.serial}"
        servers = self.servers if two_servers else self.servers[:1]
        left, right = example_databases(servers, name)
        return name, left, right

    def release(self, name: str, two_servers: bool = False) -> None:
        drop(self.servers if two_servers else self.servers[:1], name)

    # 1 ------------------------------------------------------------------------------
    def ceilings(self) -> dict[str, Figure]:
        section = "1. ceilings (one database, no capture)"

        def insert_select(upsert: bool) -> float:
            name, url, _ = self.fresh()
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(CUSTOMERS, {"prefix": "C", "rows": self.rows})
                if upsert:
                    conn.execute(f"INSERT INTO cds.account {COLUMNS} {TRANSFORM}".encode())
                sql = f"INSERT INTO cds.account {COLUMNS} {TRANSFORM}" + (
                    UPSERT_SET if upsert else ""
                )
                measured = rate(self.rows, lambda: conn.execute(sql.encode()))
            self.release(name)
            return measured

        def client(copy: bool) -> float:
            name, url, _ = self.fresh()
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(CUSTOMERS, {"prefix": "C", "rows": self.rows})
                data = conn.execute(
                    TRANSFORM.replace("::cds.hold_status", "::text").encode()
                ).fetchall()
                if copy:

                    def work() -> None:
                        with conn.cursor().copy(
                            f"COPY cds.account {COLUMNS} FROM STDIN".encode()
                        ) as out:
                            for row in data:
                                out.write_row(row)
                else:
                    sql = (
                        f"INSERT INTO cds.account {COLUMNS} VALUES (%s, %s, %s, %s, %s::cds.hold_status, %s, %s)"
                        + UPSERT_SET
                    )

                    def work() -> None:
                        with conn.cursor() as cur:
                            cur.executemany(sql.encode(), data)

                measured = rate(self.rows, work)
            self.release(name)
            return measured

        figures = {
            "INSERT ... SELECT with the transforms": repeat(
                self.times, "rows/s", lambda: insert_select(False)
            ),
            "the same as ON CONFLICT DO UPDATE": repeat(
                self.times, "rows/s", lambda: insert_select(True)
            ),
            "client-side executemany upsert": repeat(self.times, "rows/s", lambda: client(False)),
            "COPY": repeat(self.times, "rows/s", lambda: client(True)),
        }
        for name, figure in figures.items():
            self.report.add(section, name, figure)
        return figures

    # 2 ------------------------------------------------------------------------------
    def native(self) -> tuple[Figure, list[float]]:
        section = "2. native logical replication, one way (two databases, one server)"

        def setup() -> tuple[str, str, str]:
            self.serial += 1
            source, target = f"bench_pub_{self.serial}", f"bench_sub_{self.serial}"
            server = self.servers[0]
            left, right = (
                example_databases((server,), source)[0],
                example_databases((server,), target)[0],
            )
            with psycopg.connect(right, autocommit=True) as conn:
                conn.execute(
                    "CREATE TABLE public.bench_arrival_lr (key text PRIMARY KEY, at timestamptz NOT NULL);"
                    " CREATE FUNCTION public.bench_arrived_lr() RETURNS trigger LANGUAGE plpgsql AS"
                    " $$ BEGIN INSERT INTO public.bench_arrival_lr VALUES (NEW.account_num, clock_timestamp());"
                    " RETURN NULL; END $$;"
                    " CREATE TRIGGER bench_arrived_lr AFTER INSERT ON fno.customers"
                    " FOR EACH ROW EXECUTE FUNCTION public.bench_arrived_lr();"
                    " ALTER TABLE fno.customers ENABLE ALWAYS TRIGGER bench_arrived_lr;"
                )
            slot = f"bench_{self.serial}"
            with psycopg.connect(left, autocommit=True) as conn:
                conn.execute("CREATE PUBLICATION bench FOR TABLE fno.customers")
                conn.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,))
            with psycopg.connect(right, autocommit=True) as conn:
                conn.execute(
                    f"CREATE SUBSCRIPTION {slot} CONNECTION 'host=127.0.0.1 port={server.port}"
                    f" user=postgres dbname={source}' PUBLICATION bench"
                    f" WITH (create_slot = false, slot_name = '{slot}', copy_data = false)".encode()
                )
            _warm_up(left, right, "fno.customers")
            return left, right, slot

        def teardown(right: str, slot: str) -> None:
            with psycopg.connect(right, autocommit=True) as conn:
                conn.execute(f"DROP SUBSCRIPTION {slot}".encode())

        def throughput() -> float:
            left, right, slot = setup()
            started = time.perf_counter()
            with psycopg.connect(left, autocommit=True) as conn:
                conn.execute(CUSTOMERS, {"prefix": "C", "rows": self.rows})
            wait_until(lambda: count(right, "fno.customers") >= self.rows + 1, 600, "native LR")
            measured = self.rows / (time.perf_counter() - started)
            teardown(right, slot)
            return measured

        figure = repeat(self.times, "rows/s", throughput)
        self.report.add(section, "throughput (insert of all rows → last row visible)", figure)
        left, right, slot = setup()
        latencies = self._latency(left, right, "public.bench_arrival_lr")
        teardown(right, slot)
        self._latency_figures(section, latencies)
        return figure, latencies

    # 3 ------------------------------------------------------------------------------
    def replicator(self, ceilings: dict[str, Figure], native: Figure) -> dict[str, Figure]:
        section = "3. replicator, queued, trigger capture, two-way maps"
        return self._throughputs(section, "trigger", ceilings, native)

    def _throughputs(
        self,
        section: str,
        capture: str,
        ceilings: dict[str, Figure],
        native: Figure,
        triggers: dict[str, Figure] | None = None,
    ) -> dict[str, Figure]:
        """Throughput in one database and between two servers, as ratios to native LR, to
        INSERT ... SELECT and (given ``triggers``) to trigger capture; returns the figures."""
        ceiling = ceilings["INSERT ... SELECT with the transforms"].median
        figures: dict[str, Figure] = {}
        for two_servers in (False, True):
            where = "two servers" if two_servers else "one database"
            figure = repeat(self.times, "rows/s", partial(self._replicated, two_servers, capture))
            figures[where] = figure
            self.report.add(section, f"{where}: throughput", figure)
            self.report.add(
                section,
                f"{where}: ratio to native LR one-way",
                round(figure.median / native.median, 3),
            )
            self.report.add(
                section, f"{where}: ratio to INSERT ... SELECT", round(figure.median / ceiling, 3)
            )
            if triggers is not None:
                self.report.add(
                    section,
                    f"{where}: ratio to trigger capture",
                    round(figure.median / triggers[where].median, 3),
                )
        return figures

    def _replicated(self, two_servers: bool, capture: str = "trigger") -> float:
        """Rows/s from the first insert until the last row is visible on the other side."""
        name, left, right = self.fresh(two_servers)
        config_path = project(self.work, name, left, right, capture=capture)
        deploy(config_path, left, right)
        applier = start_applier(config_path, left, right)
        try:
            _warm_up(left, right, "cds.account")
            started = time.perf_counter()
            with psycopg.connect(left, autocommit=True) as conn:
                conn.execute(CUSTOMERS, {"prefix": "C", "rows": self.rows})
            wait_until(lambda: count(right, "cds.account") >= self.rows + 1, 1200, "the replicator")
            measured = self.rows / (time.perf_counter() - started)
        finally:
            stop(applier)
        self.release(name, two_servers)
        return measured

    # 4 ------------------------------------------------------------------------------
    def wal(self, ceilings: dict[str, Figure], native: Figure, triggers: dict[str, Figure]) -> None:
        section = "4. replicator, queued, WAL capture (wal2json slot), two-way maps"
        self._throughputs(section, "wal", ceilings, native, triggers)

    # 5 ------------------------------------------------------------------------------
    def latency(self, native: list[float]) -> None:
        section = "5. latency at 100 commits/s, replicator one database"
        name, left, right = self.fresh()
        config_path = project(self.work, name, left, right)
        deploy(config_path, left, right)
        applier = start_applier(config_path, left, right)
        try:
            _warm_up(left, right, "cds.account")
            latencies = self._latency(left, right, "public.bench_arrival")
        finally:
            stop(applier)
        self.release(name)
        self._latency_figures(section, latencies)
        p99 = statistics.quantiles(latencies, n=100)[98]
        native_p99 = statistics.quantiles(native, n=100)[98]
        self.report.add(section, "p99 ratio to native LR", round(p99 / native_p99, 2))

    def _latency(self, left: str, right: str, arrivals: str) -> list[float]:
        """Milliseconds from each commit to its row's arrival, at 100 commits/s."""
        committed: dict[str, float] = {}
        with psycopg.connect(left, autocommit=True) as conn:
            offset = _clock_offset(conn)
            deadline = time.monotonic() + self.latency_seconds
            n = 0
            while time.monotonic() < deadline:
                n += 1
                key = f"L{n}"
                conn.execute(
                    "INSERT INTO fno.customers (dataareaid, account_num, name) VALUES ('usmf', %s, 'x')",
                    (key,),
                )
                committed[key] = time.time() + offset
                time.sleep(max(0.0, 0.01 - (time.monotonic() % 0.01)))
        wait_until(lambda: count(right, arrivals) >= len(committed) + 1, 120, "every row to arrive")
        with psycopg.connect(right, autocommit=True) as conn:
            arrived: dict[str, float] = dict(
                conn.execute(
                    f"SELECT key, extract(epoch FROM at)::float8 FROM {arrivals}".encode()
                ).fetchall()
            )
        return [max(0.0, (arrived[k] - t) * 1000) for k, t in committed.items()]

    def _latency_figures(self, section: str, latencies: list[float]) -> None:
        cuts = statistics.quantiles(latencies, n=100)
        for label, value in (
            ("p50", cuts[49]),
            ("p95", cuts[94]),
            ("p99", cuts[98]),
            ("max", max(latencies)),
        ):
            self.report.add(section, f"commit → visible {label} (ms)", round(value, 2))

    # 6 ------------------------------------------------------------------------------
    def writers(self) -> None:
        section = "6. writer cost: pgbench single-row upserts, 4 clients"
        tps = writer_cost.measure(self.servers[0], self.work, self.writer_seconds, 4, self.times)
        baseline = statistics.median(tps["no capture"])
        for configuration, values in tps.items():
            self.report.add(section, f"{configuration}: TPS", Figure("tps", tuple(values)))
            self.report.add(
                section,
                f"{configuration}: ratio to no capture",
                round(statistics.median(values) / baseline, 3),
            )

    # 7 ------------------------------------------------------------------------------
    def bulk_load(self) -> None:
        section = f"7. bulk load of {self.big} rows (one INSERT ... SELECT)"

        def load(capture: bool) -> float:
            name, left, right = self.fresh()
            if capture:
                deploy(project(self.work, name, left, right), left, right)
            with psycopg.connect(left, autocommit=True) as conn:
                measured = rate(
                    self.big, lambda: conn.execute(CARDS, {"prefix": "B", "rows": self.big})
                )
            self.release(name)
            return measured

        without = repeat(self.times, "rows/s", lambda: load(False))
        with_capture = repeat(self.times, "rows/s", lambda: load(True))
        self.report.add(section, "without capture", without)
        self.report.add(section, "with trigger capture", with_capture)
        self.report.add(section, "ratio", round(with_capture.median / without.median, 3))

    # 8 ------------------------------------------------------------------------------
    def initial_sync(self) -> None:
        section = f"8. initial sync of {self.big} rows"
        for two_servers in (False, True):
            where = "two servers" if two_servers else "one database"
            ours = repeat(self.times, "rows/s", partial(self._synced, two_servers))
            ceiling = repeat(self.times, "rows/s", partial(self._copied, two_servers))
            label = "COPY" if two_servers else "INSERT ... SELECT"
            self.report.add(section, f"{where}: replicator sync", ours)
            self.report.add(section, f"{where}: {label}", ceiling)
            self.report.add(section, f"{where}: ratio", round(ours.median / ceiling.median, 3))

    def _synced(self, two_servers: bool) -> float:
        name, left, right = self.fresh(two_servers)
        config_path = project(self.work, name, left, right)
        with psycopg.connect(left, autocommit=True) as conn:
            conn.execute(CARDS, {"prefix": "S", "rows": self.big})
        deploy(config_path, left, right)
        os.environ.update(REPLICATOR_LEFT=left, REPLICATOR_RIGHT=right)
        config = load_config(config_path)
        measured = rate(
            self.big, lambda: admin.cmd_sync(config, io.StringIO(), ["loyalty_cards"], 5000)
        )
        self.release(name, two_servers)
        return measured

    def _copied(self, two_servers: bool) -> float:
        """The ceiling: INSERT ... SELECT in one database, COPY out and in between two."""
        name, left, right = self.fresh(two_servers)
        columns = "card_number, tier, issued_on, blocked"
        with (
            psycopg.connect(left, autocommit=True) as src,
            psycopg.connect(right, autocommit=True) as dst,
        ):
            src.execute(CARDS, {"prefix": "S", "rows": self.big})
            if not two_servers:
                sql = (
                    "INSERT INTO cds.loyalty_card (card_number, tier, issued_on, is_blocked)"
                    f" SELECT {columns} FROM fno.loyalty_cards"
                )
                measured = rate(self.big, lambda: src.execute(sql.encode()))
            else:

                def copy() -> None:
                    with (
                        src.cursor().copy(
                            f"COPY fno.loyalty_cards ({columns}) TO STDOUT".encode()
                        ) as out,
                        dst.cursor().copy(
                            b"COPY cds.loyalty_card (card_number, tier, issued_on, is_blocked) FROM STDIN"
                        ) as into,
                    ):
                        for data in out:
                            into.write(data)

                measured = rate(self.big, copy)
        self.release(name, two_servers)
        return measured

    # 9 ------------------------------------------------------------------------------
    def memory(self) -> None:
        section = f"9. applier peak RSS, {self.big}-change backlog"

        def peak(one_transaction: bool) -> float:
            name, left, right = self.fresh()
            config_path = project(self.work, name, left, right)
            deploy(config_path, left, right)
            with psycopg.connect(left, autocommit=True) as conn:
                if one_transaction:
                    conn.execute(CARDS, {"prefix": "M", "rows": self.big})
                else:
                    step = max(1, self.big // 100)
                    for start in range(0, self.big, step):
                        conn.execute(
                            CARDS, {"prefix": f"M{start}-", "rows": min(step, self.big - start)}
                        )
            measured = peak_rss_mb(start_applier(config_path, left, right, "--once"))
            self.release(name)
            return measured

        self.report.add(
            section, "backlog of many transactions", repeat(self.times, "MB", lambda: peak(False))
        )
        self.report.add(
            section, "one source transaction", repeat(self.times, "MB", lambda: peak(True))
        )
        self._wal_memory(section)

    def _wal_memory(self, section: str) -> None:
        """One source transaction of BENCH_WAL_ROWS rows, captured by the WAL slot, then
        decoded, queued and applied by ``replicator run --once`` in a child process."""
        runs: list[tuple[float, float, float]] = []  # (MB, seconds, peak held)
        for _ in range(self.wal_times):
            name, left, right = self.fresh()
            config_path = project(self.work, name, left, right, capture="wal")
            deploy(config_path, left, right)
            with psycopg.connect(left, autocommit=True) as conn:
                # Flushed at commit, so the slot can decode it once the applier starts.
                conn.execute("SET synchronous_commit = on")
                conn.execute(CARDS, {"prefix": "W", "rows": self.wal_rows})
            child = measured_applier(config_path, left, right)
            megabytes = peak_rss_mb(child)
            out, _ = child.communicate()
            if child.returncode != 0:
                raise RuntimeError(f"the applier exited {child.returncode}")
            arrived = count(right, "cds.loyalty_card")
            if arrived != self.wal_rows:
                raise RuntimeError(f"{arrived} of {self.wal_rows} WAL-captured rows arrived")
            measured = json.loads(out)
            # Sampling can miss the last 50 ms; the child's own high-water mark cannot.
            megabytes = max(megabytes, measured["peak_rss_kb"] / 1024)
            runs.append((megabytes, float(measured["seconds"]), float(measured["peak_held"])))
            self.release(name)
        what = f"WAL capture, one {self.wal_rows}-row transaction"
        self.report.add(section, f"{what}: peak RSS", Figure("MB", tuple(r[0] for r in runs)))
        self.report.add(
            section,
            f"{what}: decoded and applied",
            Figure("rows/s", tuple(self.wal_rows / r[1] for r in runs)),
        )
        self.report.add(section, f"{what}: seconds", Figure("s", tuple(r[1] for r in runs)))
        self.report.add(
            section,
            f"{what}: listener peak held",
            Figure("messages", tuple(r[2] for r in runs)),
        )

    # 10 -----------------------------------------------------------------------------
    def verify(self) -> None:
        section = f"10. replicator verify, {self.verify_rows} customers per side"
        for two_servers in (False, True):
            where = "two servers" if two_servers else "one database"
            self.serial += 1
            servers = self.servers if two_servers else self.servers[:1]
            seconds = verify_cost.measure(
                servers, self.work, self.verify_rows, f"bench_{self.serial}"
            )
            for label, value in seconds.items():
                what = "equal sides" if label == "equal" else f"{verify_cost.CHANGED} rows differ"
                self.report.add(
                    section,
                    f"{where}, {what}: rows per side",
                    Figure("rows/s", (self.verify_rows / value,)),
                )


def _warm_up(left: str, right: str, target: str) -> None:
    """One row through, so the measurement starts with the replication running."""
    with psycopg.connect(left, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name) VALUES ('usmf', 'WARM-UP', 'x')"
        )
    wait_until(lambda: count(right, target) >= 1, 120, "the warm-up row")


def _clock_offset(conn: psycopg.Connection[TupleRow]) -> float:
    """Database clock minus this process's clock, so commit and arrival times compare."""
    before = time.time()
    row = conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()
    after = time.time()
    return float(row[0]) - (before + after) / 2 if row else 0.0


def main() -> int:
    started = time.monotonic()
    with (
        ThrowawayServer() as first,
        ThrowawayServer() as second,
        tempfile.TemporaryDirectory() as scratch,
    ):
        bench = Bench((first, second), Path(scratch))
        ceilings = bench.ceilings()
        native, native_latency = bench.native()
        triggers = bench.replicator(ceilings, native)
        bench.wal(ceilings, native, triggers)
        bench.latency(native_latency)
        bench.writers()
        bench.bulk_load()
        bench.initial_sync()
        bench.memory()
        bench.verify()
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "postgresql": "15",
            "note": "throw-away servers, fsync off",
        },
        "rows": bench.rows,
        "big_rows": bench.big,
        "wal_rows": bench.wal_rows,
        "verify_rows": bench.verify_rows,
        "repetitions": bench.times,
        "wal_repetitions": bench.wal_times,
        "seconds": round(time.monotonic() - started, 1),
        "sections": bench.report.sections,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(bench.report.table())
    print(f"\n{RESULTS} written in {results['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
