"""``make bench``: the figures a DBA asks for, each as a ratio to a ceiling or to
native logical replication measured in the same run, on throw-away servers.

    BENCH_SECTIONS=2,3,6 BENCH_ROWS=50000 BENCH_BIG_ROWS=200000 BENCH_REPEAT=3 \\
        BENCH_WAL_ROWS=1000000 BENCH_WAL_REPEAT=1 .venv/bin/python -m bench.run

BENCH_SECTIONS names the sections to run (all by default); the sections their
figures are ratios to run too, marked as baselines (SECTIONS says which need which).
BENCH_ROWS sizes the throughput sections, BENCH_BIG_ROWS bulk load, initial sync and
the applier's backlog; BENCH_WAL_ROWS is the one big source transaction of section 9
(trigger and WAL capture), run BENCH_WAL_REPEAT times (once by default: a million rows
take minutes); BENCH_VERIFY_ROWS the customers per side section 10 verifies;
BENCH_SUSTAINED_SECONDS the load of section 11. Each figure is the median of
BENCH_REPEAT repetitions, with min and max. Writes BENCH_RESULTS (bench/results.json)
with each figure's target and whether it is met, and prints the table
``python -m bench.table`` puts in the README.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import NamedTuple

import psycopg
from psycopg.rows import TupleRow

from bench import sustained, table, targets, verify_cost, writer_cost
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
    wait_for_rows,
)
from bench.harness import (
    Figure,
    Measure,
    Report,
    Series,
    Target,
    Value,
    rate,
    ratio,
    repeat,
    wait_until,
)
from bench.machine import command, describe
from devtools.throwaway import ThrowawayServer
from replicator.commands import admin
from replicator.maps.config import load_config

RESULTS = Path(os.environ.get("BENCH_RESULTS", table.RESULTS))

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
WHERE = {False: "one database", True: "two servers"}
CAPTURES = {"trigger": "trigger capture", "wal": "WAL capture"}
WRITER_CLIENTS = 4


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
        self.sustained_seconds = int(os.environ.get("BENCH_SUSTAINED_SECONDS", "60"))
        self.report = Report()
        self.section = 0  # the section being measured: add() files figures under it
        self.serial = 0
        # Baselines later sections divide by, filled by the sections that measure them.
        self.ceilings: dict[str, Figure] = {}
        self.native_rate: Figure | None = None
        self.native_latencies: list[float] = []
        self.trigger_rates: dict[str, Figure] = {}

    def sizes(self) -> dict[str, int | float]:
        return {
            "rows": self.rows,
            "big_rows": self.big,
            "wal_rows": self.wal_rows,
            "wal_repetitions": self.wal_times,
            "verify_rows": self.verify_rows,
            "repetitions": self.times,
            "latency_seconds": self.latency_seconds,
            "writer_seconds": self.writer_seconds,
            "writer_clients": WRITER_CLIENTS,
            "sustained_seconds": self.sustained_seconds,
        }

    def add(self, name: str, measure: Measure, target: Target | None = None) -> None:
        self.report.add(self.section, name, measure, target)

    def fresh(self, two_servers: bool = False, arrivals: bool = False) -> tuple[str, str, str]:
        self.serial += 1
        name = f"bench_{self.serial}"
        servers = self.servers if two_servers else self.servers[:1]
        left, right = example_databases(servers, name, arrivals)
        return name, left, right

    def release(self, name: str, two_servers: bool = False) -> None:
        drop(self.servers if two_servers else self.servers[:1], name)

    # 1 ------------------------------------------------------------------------------
    def measure_ceilings(self) -> None:
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

        self.ceilings = {
            "INSERT ... SELECT with the transforms": repeat(
                self.times, "rows/s", lambda: insert_select(False)
            ),
            "the same as ON CONFLICT DO UPDATE": repeat(
                self.times, "rows/s", lambda: insert_select(True)
            ),
            "client-side executemany upsert": repeat(self.times, "rows/s", lambda: client(False)),
            "COPY": repeat(self.times, "rows/s", lambda: client(True)),
        }
        for name, figure in self.ceilings.items():
            self.add(name, figure)

    # 2 ------------------------------------------------------------------------------
    def measure_native(self) -> None:
        def throughput() -> float:
            source, target, subscription = self._subscribed("fno.customers")
            _warm_up(source, target, "fno.customers")
            started = time.perf_counter()
            with psycopg.connect(source, autocommit=True) as conn:
                conn.execute(CUSTOMERS, {"prefix": "C", "rows": self.rows})
            wait_for_rows(target, "fno.customers", self.rows + 1, 600, "native LR")
            measured = self.rows / (time.perf_counter() - started)
            self._unsubscribed(target, subscription)
            return measured

        self.native_rate = repeat(self.times, "rows/s", throughput)
        self.add("throughput (insert of all rows → last row visible)", self.native_rate)
        source, target, subscription = self._subscribed("fno.customers")
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute(NATIVE_ARRIVALS.encode())
        _warm_up(source, target, "fno.customers")
        self.native_latencies = self._latency(source, target, "public.bench_arrival_lr")
        self._unsubscribed(target, subscription)
        self._latency_figures(self.native_latencies)

    def _subscribed(self, table_name: str, enabled: bool = True) -> tuple[str, str, str]:
        """Two example databases on the first server, the second subscribed to the first's
        ``table_name`` (its slot already made, so WAL is kept from now on, and no initial
        copy); returns (source url, target url, subscription name)."""
        self.serial += 1
        subscription = f"bench_{self.serial}"
        server = self.servers[0]
        source = example_databases((server,), f"bench_pub_{self.serial}")[0]
        target = example_databases((server,), f"bench_sub_{self.serial}")[0]
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute(f"CREATE PUBLICATION bench FOR TABLE {table_name}".encode())
            conn.execute(
                "SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (subscription,)
            )
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute(
                f"CREATE SUBSCRIPTION {subscription} CONNECTION 'host=127.0.0.1 port={server.port}"
                f" user=postgres dbname=bench_pub_{self.serial}' PUBLICATION bench"
                f" WITH (create_slot = false, slot_name = '{subscription}', copy_data = false,"
                f" enabled = {str(enabled).lower()})".encode()
            )
        return source, target, subscription

    def _unsubscribed(self, target: str, subscription: str) -> None:
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute(f"DROP SUBSCRIPTION {subscription}".encode())
        serial = subscription.removeprefix("bench_")
        drop(self.servers[:1], f"bench_sub_{serial}")
        drop(self.servers[:1], f"bench_pub_{serial}")

    # 3 ------------------------------------------------------------------------------
    def measure_trigger_throughput(self) -> None:
        self.trigger_rates = self._throughputs("trigger")

    def _throughputs(self, capture: str) -> dict[str, Figure]:
        """Throughput in one database and between two servers, as ratios to native LR, to
        INSERT ... SELECT and (for WAL capture) to trigger capture; returns the figures."""
        assert self.native_rate is not None, "sections 3 and 4 need section 2"
        ceiling = self.ceilings["INSERT ... SELECT with the transforms"]
        figures: dict[str, Figure] = {}
        for two_servers in (False, True):
            where = WHERE[two_servers]
            figure = repeat(self.times, "rows/s", partial(self._replicated, two_servers, capture))
            figures[where] = figure
            self.add(f"{where}: throughput", figure)
            self.add(
                f"{where}: ratio to native LR one-way",
                ratio(figure, self.native_rate),
                targets.NATIVE_LR,
            )
            self.add(f"{where}: ratio to INSERT ... SELECT", ratio(figure, ceiling))
            if capture != "trigger":
                self.add(
                    f"{where}: ratio to trigger capture", ratio(figure, self.trigger_rates[where])
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
            wait_for_rows(right, "cds.account", self.rows + 1, 1200, "the replicator")
            measured = self.rows / (time.perf_counter() - started)
        finally:
            stop(applier)
        self.release(name, two_servers)
        return measured

    # 4 ------------------------------------------------------------------------------
    def measure_wal_throughput(self) -> None:
        self._throughputs("wal")

    # 5 ------------------------------------------------------------------------------
    def measure_latency(self) -> None:
        name, left, right = self.fresh(arrivals=True)
        config_path = project(self.work, name, left, right)
        deploy(config_path, left, right)
        applier = start_applier(config_path, left, right)
        try:
            _warm_up(left, right, "cds.account")
            latencies = self._latency(left, right, "public.bench_arrival")
        finally:
            stop(applier)
        self.release(name)
        self._latency_figures(latencies, targets.LATENCY_P99_MS)
        p99 = Value("ms", statistics.quantiles(latencies, n=100)[98])
        native_p99 = Value("ms", statistics.quantiles(self.native_latencies, n=100)[98])
        self.add("p99 ratio to native LR", ratio(p99, native_p99))

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
        wait_for_rows(right, arrivals, len(committed) + 1, 120, "every row to arrive")
        with psycopg.connect(right, autocommit=True) as conn:
            arrived: dict[str, float] = dict(
                conn.execute(
                    f"SELECT key, extract(epoch FROM at)::float8 FROM {arrivals}".encode()
                ).fetchall()
            )
        return [max(0.0, (arrived[k] - t) * 1000) for k, t in committed.items()]

    def _latency_figures(self, latencies: list[float], p99_target: Target | None = None) -> None:
        cuts = statistics.quantiles(latencies, n=100)
        for label, value, target in (
            ("p50", cuts[49], None),
            ("p95", cuts[94], None),
            ("p99", cuts[98], p99_target),
            ("max", max(latencies), None),
        ):
            self.add(f"commit → visible {label}", Value("ms", value), target)

    # 6 ------------------------------------------------------------------------------
    def measure_writers(self) -> None:
        tps = writer_cost.measure(
            self.servers[0], self.work, self.writer_seconds, WRITER_CLIENTS, self.times
        )
        figures = {configuration: Figure("tps", tuple(v)) for configuration, v in tps.items()}
        for configuration, figure in figures.items():
            self.add(f"{configuration}: TPS", figure)
        none, bare = figures["no capture"], figures["bare trigger"]
        self.add(
            "trigger capture: ratio to the bare trigger",
            ratio(figures["trigger capture"], bare),
            targets.BARE_TRIGGER,
        )
        goals = {
            "WAL capture": targets.WAL_CAPTURE,
            "WAL capture + applier": targets.WAL_CAPTURE_APPLIER,
            "online": targets.ONLINE,
        }
        for configuration, figure in figures.items():
            if configuration != "no capture":
                self.add(
                    f"{configuration}: ratio to no capture",
                    ratio(figure, none),
                    goals.get(configuration),
                )

    # 7 ------------------------------------------------------------------------------
    def measure_bulk_load(self) -> None:
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
        self.add("without capture", without)
        self.add("with trigger capture", with_capture)
        self.add("ratio", ratio(with_capture, without), targets.BULK_LOAD)

    # 8 ------------------------------------------------------------------------------
    def measure_initial_sync(self) -> None:
        for two_servers, label, target in (
            (False, "INSERT ... SELECT", targets.SYNC_ONE_DATABASE),
            (True, "COPY", targets.SYNC_TWO_SERVERS),
        ):
            where = WHERE[two_servers]
            ours = repeat(self.times, "rows/s", partial(self._synced, two_servers))
            ceiling = repeat(self.times, "rows/s", partial(self._copied, two_servers))
            self.add(f"{where}: replicator sync", ours)
            self.add(f"{where}: {label}", ceiling)
            self.add(f"{where}: ratio", ratio(ours, ceiling), target)

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
    def measure_memory(self) -> None:
        backlog = repeat(self.times, "MB", self._backlog_peak)
        self.add("backlog of many transactions: peak RSS", backlog, targets.APPLIER_RSS_MB)
        one = repeat(self.wal_times, "MB", self._one_transaction_peak)
        self.add("one big transaction, trigger capture: peak RSS", one, targets.APPLIER_RSS_MB)
        self._wal_transaction()

    def _backlog_peak(self) -> float:
        """The applier's peak RSS working off BENCH_BIG_ROWS changes from 100 transactions."""
        name, left, right = self.fresh()
        config_path = project(self.work, name, left, right)
        deploy(config_path, left, right)
        step = max(1, self.big // 100)
        with psycopg.connect(left, autocommit=True) as conn:
            for start in range(0, self.big, step):
                conn.execute(CARDS, {"prefix": f"M{start}-", "rows": min(step, self.big - start)})
        measured = peak_rss_mb(start_applier(config_path, left, right, "--once"))
        self.release(name)
        return measured

    def _one_transaction_peak(self) -> float:
        """The applier's peak RSS working off one source transaction of BENCH_WAL_ROWS rows
        captured by the triggers."""
        name, left, right = self.fresh()
        config_path = project(self.work, name, left, right)
        deploy(config_path, left, right)
        with psycopg.connect(left, autocommit=True) as conn:
            conn.execute(CARDS, {"prefix": "M", "rows": self.wal_rows})
        measured = peak_rss_mb(start_applier(config_path, left, right, "--once"))
        self.release(name)
        return measured

    def _wal_transaction(self) -> None:
        """One source transaction of BENCH_WAL_ROWS rows, captured by the WAL slot, then
        decoded, queued and applied by ``replicator run --once`` in a child process; and
        native LR's apply of the same transaction from its slot."""
        runs = [self._wal_transaction_once() for _ in range(self.wal_times)]
        native = Figure("rows/s", tuple(self._native_transaction() for _ in range(self.wal_times)))
        what = "one big transaction, WAL capture"
        self.add(
            f"{what}: peak RSS", Figure("MB", tuple(r[0] for r in runs)), targets.APPLIER_RSS_MB
        )
        decoded = Figure("rows/s", tuple(self.wal_rows / r[1] for r in runs))
        self.add(f"{what}: decoded and applied", decoded)
        self.add("one big transaction, native LR: applied from its slot", native)
        self.add(f"{what}: ratio to native LR", ratio(decoded, native), targets.WAL_BIG_TRANSACTION)
        self.add(f"{what}: seconds", Figure("s", tuple(r[1] for r in runs)))
        self.add(f"{what}: listener peak held", Figure("messages", tuple(r[2] for r in runs)))

    def _wal_transaction_once(self) -> tuple[float, float, float]:
        """(peak RSS in MB, seconds, peak messages held) of one decode-and-apply."""
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
        self.release(name)
        # Sampling can miss the last 50 ms; the child's own high-water mark cannot.
        megabytes = max(megabytes, measured["peak_rss_kb"] / 1024)
        return megabytes, float(measured["seconds"]), float(measured["peak_held"])

    def _native_transaction(self) -> float:
        """Rows/s of native LR applying one committed BENCH_WAL_ROWS-row transaction from
        its slot: the subscription is enabled after the commit, as the applier starts."""
        source, target, subscription = self._subscribed("fno.loyalty_cards", enabled=False)
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute("SET synchronous_commit = on")
            conn.execute(CARDS, {"prefix": "W", "rows": self.wal_rows})
        last = f"W{self.wal_rows}"
        with psycopg.connect(target, autocommit=True) as conn:
            started = time.perf_counter()
            conn.execute(f"ALTER SUBSCRIPTION {subscription} ENABLE".encode())
            # Native LR applies the transaction whole: its last row arrives with all others.
            found = "SELECT EXISTS (SELECT FROM fno.loyalty_cards WHERE card_number = %s)"
            wait_until(
                lambda: conn.execute(found, (last,)).fetchone() == (True,),
                3600,
                "native LR's transaction",
                0.02,
            )
            measured = self.wal_rows / (time.perf_counter() - started)
        self._unsubscribed(target, subscription)
        return measured

    # 10 -----------------------------------------------------------------------------
    def measure_verify(self) -> None:
        for two_servers in (False, True):
            self.serial += 1
            servers = self.servers if two_servers else self.servers[:1]
            seconds = verify_cost.measure(
                servers, self.work, self.verify_rows, f"bench_{self.serial}"
            )
            for label, value in seconds.items():
                what = "equal sides" if label == "equal" else f"{verify_cost.CHANGED} rows differ"
                self.add(
                    f"{WHERE[two_servers]}, {what}: rows per side",
                    Figure("rows/s", (self.verify_rows / value,)),
                )

    # 11 -----------------------------------------------------------------------------
    def measure_sustained(self) -> None:
        for capture, label in CAPTURES.items():
            self.serial += 1
            run = sustained.measure(
                self.servers,
                self.work,
                f"bench_{self.serial}",
                capture,
                self.sustained_seconds,
                WRITER_CLIENTS,
            )
            self._sustained_figures(label, run)

    def _sustained_figures(self, label: str, run: sustained.SustainedRun) -> None:
        commits = Value("changes/s", run.commit_rate, f"{run.committed:,} in {run.seconds:.1f} s")
        applies = Value("changes/s", run.apply_rate, f"{run.applied:,} in {run.seconds:.1f} s")
        self.add(f"{label}: source commit rate", commits)
        self.add(f"{label}: apply rate", applies)
        self.add(
            f"{label}: apply rate / commit rate",
            ratio(applies, commits),
            targets.keeps_up(run.seconds),
        )
        self.add(
            f"{label}: backlog at the end of the load",
            Value("changes", run.backlog_at_end),
            targets.backlog_at_end(run.commit_rate),
        )
        self.add(
            f"{label}: backlog over time",
            Series(
                "changes",
                run.backlog,
                f"each second from the start; the load ends at {run.seconds:.1f} s",
            ),
        )
        if run.drained_after is not None:
            self.add(f"{label}: backlog gone after the load", Value("s", run.drained_after))
        else:
            self.add(
                f"{label}: backlog left after the drain limit",
                Value(
                    "changes",
                    run.backlog[-1][1],
                    f"still there {run.drain_limit:.0f} s after the load",
                ),
            )


NATIVE_ARRIVALS = """
CREATE TABLE public.bench_arrival_lr (key text PRIMARY KEY, at timestamptz NOT NULL);
CREATE FUNCTION public.bench_arrived_lr() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO public.bench_arrival_lr VALUES (NEW.account_num, clock_timestamp());
RETURN NULL; END $$;
CREATE TRIGGER bench_arrived_lr AFTER INSERT ON fno.customers
FOR EACH ROW EXECUTE FUNCTION public.bench_arrived_lr();
ALTER TABLE fno.customers ENABLE ALWAYS TRIGGER bench_arrived_lr;
"""


class Section(NamedTuple):
    """A section: its title (formatted with Bench.sizes()), the sections whose figures
    its ratios divide by, and the method that measures it."""

    title: str
    needs: tuple[int, ...]
    measure: Callable[[Bench], None]


SECTIONS: dict[int, Section] = {
    1: Section("ceilings: {rows:,} rows in one database, no capture", (), Bench.measure_ceilings),
    2: Section(
        "native logical replication one way, two databases on one server: {rows:,} rows;"
        " latency at 100 commits/s for {latency_seconds:g} s",
        (),
        Bench.measure_native,
    ),
    3: Section(
        "replicator, queued, trigger capture, two-way maps: {rows:,} rows",
        (1, 2),
        Bench.measure_trigger_throughput,
    ),
    4: Section(
        "replicator, queued, WAL capture (wal2json slot), two-way maps: {rows:,} rows",
        (1, 2, 3),
        Bench.measure_wal_throughput,
    ),
    5: Section(
        "latency at 100 commits/s for {latency_seconds:g} s, replicator in one database",
        (2,),
        Bench.measure_latency,
    ),
    6: Section(
        "writer cost: pgbench single-row upserts, {writer_clients} clients,"
        " {writer_seconds} s per configuration, one database",
        (),
        Bench.measure_writers,
    ),
    7: Section(
        "bulk load of {big_rows:,} rows in one INSERT ... SELECT", (), Bench.measure_bulk_load
    ),
    8: Section("initial sync of {big_rows:,} rows", (), Bench.measure_initial_sync),
    9: Section(
        "applier memory: a {big_rows:,}-change backlog; one {wal_rows:,}-row source"
        " transaction (trigger and WAL capture)",
        (),
        Bench.measure_memory,
    ),
    10: Section("replicator verify, {verify_rows:,} customers per side", (), Bench.measure_verify),
    11: Section(
        "sustained load: section 6's upserts, {writer_clients} clients for"
        " {sustained_seconds} s, two servers, the applier running",
        (),
        Bench.measure_sustained,
    ),
}


def requested_sections(setting: str | None) -> list[int]:
    """The section numbers BENCH_SECTIONS names ("2,3,6"); all when unset or empty."""
    if not setting or not setting.strip():
        return sorted(SECTIONS)
    named: list[int] = []
    for part in setting.replace(" ", "").split(","):
        if not part.isdigit() or int(part) not in SECTIONS:
            raise SystemExit(
                f"BENCH_SECTIONS={setting!r}: {part!r} is no section;"
                f" sections are {', '.join(map(str, SECTIONS))}"
            )
        named.append(int(part))
    return sorted(set(named))


def with_baselines(requested: Iterable[int]) -> list[int]:
    """``requested`` and every section they need, directly or not, in running order."""
    chosen: set[int] = set()
    pending = list(requested)
    while pending:
        number = pending.pop()
        if number not in chosen:
            chosen.add(number)
            pending.extend(SECTIONS[number].needs)
    return sorted(chosen)


def _warm_up(left: str, right: str, target: str) -> None:
    """One row through, so the measurement starts with the replication running."""
    with psycopg.connect(left, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO fno.customers (dataareaid, account_num, name) VALUES ('usmf', 'WARM-UP', 'x')"
        )
    wait_for_rows(right, target, 1, 120, "the warm-up row")


def _clock_offset(conn: psycopg.Connection[TupleRow]) -> float:
    """Database clock minus this process's clock, so commit and arrival times compare."""
    before = time.time()
    row = conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()
    after = time.time()
    return float(row[0]) - (before + after) / 2 if row else 0.0


def _server_version(server: ThrowawayServer) -> str:
    with server.connect() as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def dumps(results: dict[str, object]) -> str:
    """``results`` as indented JSON, each series' samples on one line rather than four
    lines a sample."""
    series: list[object] = []

    def compact(node: object) -> object:
        if isinstance(node, dict):
            return {
                k: _placeholder(series, v) if k == "samples" else compact(v)
                for k, v in node.items()
            }
        return node

    text = json.dumps(compact(results), indent=2, ensure_ascii=False)
    for index, samples in enumerate(series):
        text = text.replace(f'"@samples{index}@"', json.dumps(samples, separators=(",", ":")))
    return text + "\n"


def _placeholder(series: list[object], samples: object) -> str:
    series.append(samples)
    return f"@samples{len(series) - 1}@"


def main() -> int:
    requested = requested_sections(os.environ.get("BENCH_SECTIONS"))
    chosen = with_baselines(requested)
    started = time.monotonic()
    failure: BaseException | None = None
    with (
        ThrowawayServer() as first,
        ThrowawayServer() as second,
        tempfile.TemporaryDirectory() as scratch,
    ):
        bench = Bench((first, second), Path(scratch))
        postgresql = _server_version(first)
        for number in chosen:
            section = SECTIONS[number]
            bench.report.open(
                number, section.title.format(**bench.sizes()), number not in requested
            )
            bench.section = number
            try:
                section.measure(bench)
            except BaseException as error:  # written down below, then raised again
                failure = error
                break
    results: dict[str, object] = {
        "machine": describe(postgresql),
        "command": command(),
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": round(time.monotonic() - started, 1),
        "sizes": bench.sizes(),
        "sections_requested": requested,
        "sections_run": chosen,
        "sections": bench.report.as_json(),
    }
    if failure is not None:
        results["failed"] = f"section {bench.section}: {failure!r}"
    RESULTS.write_text(dumps(results))
    print(table.render(results))
    print(f"\n{RESULTS} written in {results['seconds']} s")
    if failure is not None:
        raise failure
    return 0


if __name__ == "__main__":
    sys.exit(main())
