"""Section 11, sustained load: section 6's pgbench upserts on the source for a while,
with the applier running, between two servers; does the applier keep up?

The source's commits are counted from pgbench's per-transaction log (the time each
one ended), the applier's progress from the target's ``replicator.status``
(``applied_total`` of the loyalty_cards map, left to right), read once a second; the
backlog is the difference. Every upsert changes a mapped column
(``writer_cost.UPSERT``), so each commit is exactly one captured change, whichever
capture reads it. After the load the backlog is followed until it is gone (or a
limit passes), and then the two tables must hold the same cards.
"""

from __future__ import annotations

import bisect
import contextlib
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import psycopg
from psycopg.rows import TupleRow

from bench.databases import deploy, drop, example_databases, project, start_applier, stop
from bench.harness import wait_until
from bench.writer_cost import UPSERT, pgbench_command
from devtools.throwaway import ThrowawayServer

MAP = "loyalty_cards"
APPLIED = (
    "SELECT applied_total FROM replicator.status WHERE map_name = %s AND direction = 'to_right'"
)
SAMPLE_INTERVAL = 1.0  # seconds between backlog samples
Connection = psycopg.Connection[TupleRow]


@dataclass(frozen=True)
class SustainedRun:
    """One load: how long it ran, what it committed and what was applied meanwhile,
    the backlog each second (seconds since the load started, changes) through the load
    and the drain after it, and how long after the load the backlog was gone (None:
    not within ``drain_limit`` seconds)."""

    seconds: float
    committed: int
    applied: int
    backlog: tuple[tuple[float, float], ...]
    drained_after: float | None
    drain_limit: float

    @property
    def commit_rate(self) -> float:
        return self.committed / self.seconds

    @property
    def apply_rate(self) -> float:
        return self.applied / self.seconds

    @property
    def backlog_at_end(self) -> int:
        return self.committed - self.applied


def measure(
    servers: tuple[ThrowawayServer, ThrowawayServer],
    work: Path,
    name: str,
    capture: str,
    seconds: float,
    clients: int,
) -> SustainedRun:
    """The load on the first server's fno, the applier writing the second's cds."""
    left, right = example_databases(servers, name)
    config_path = project(work, name, left, right, capture=capture)
    deploy(config_path, left, right)
    applier = start_applier(config_path, left, right)
    try:
        _warm_up(left, right)
        script = work / "upsert.sql"
        script.write_text(UPSERT)
        load = pgbench_command(servers[0], name, script, seconds, clients)
        run = _run(load, work / f"{name}_commits", right, max(10.0, 5 * seconds))
    finally:
        stop(applier)
    if run.drained_after is not None:
        _same_cards(left, right)
    drop(servers, name)
    return run


def _run(load: list[str], log_prefix: Path, target_url: str, drain_limit: float) -> SustainedRun:
    """Run ``load`` with pgbench's per-transaction log, sampling what the applier has
    applied each second, then follow the drain for at most ``drain_limit`` seconds."""
    with psycopg.connect(target_url, autocommit=True) as target:
        before = _applied(target)
        started = time.time()
        pgbench = subprocess.Popen(
            [*load, "-l", f"--log-prefix={log_prefix}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        under_load = _sample(
            target, before, started, lambda _: pgbench.poll() is not None, partial(_wait, pgbench)
        )
        ended, applied = under_load[-1]  # the first sample after pgbench exited
        _, errors = pgbench.communicate()
        if pgbench.returncode != 0:
            raise RuntimeError(f"pgbench exited {pgbench.returncode}: {errors.decode()}")
        commits = _commit_times(log_prefix)
        deadline = ended + drain_limit
        draining = _sample(
            target,
            before,
            started,
            lambda done: done >= len(commits) or time.time() > deadline,
            time.sleep,
        )
    samples = [*under_load, *draining]
    drained = draining[-1][1] >= len(commits)
    return SustainedRun(
        seconds=ended - started,
        committed=len(commits),
        applied=applied,
        backlog=tuple(
            (at - started, bisect.bisect_right(commits, at) - done) for at, done in samples
        ),
        drained_after=draining[-1][0] - ended if drained else None,
        drain_limit=drain_limit,
    )


def _sample(
    target: Connection,
    before: int,
    started: float,
    finished: Callable[[int], bool],
    pause: Callable[[float], None],
) -> list[tuple[float, int]]:
    """(time, changes applied since ``before``) every SAMPLE_INTERVAL from ``started``'s
    phase, until ``finished`` says so of the latest count; at least one sample.
    ``pause`` waits between samples, and may return early to have the next taken now."""
    samples: list[tuple[float, int]] = []
    while True:
        asked = time.time()
        done = _applied(target) - before
        samples.append(((asked + time.time()) / 2, done))
        if finished(done):
            return samples
        # Sleep to the next whole interval since the start, so samples stay a second apart.
        elapsed = time.time() - started
        pause(SAMPLE_INTERVAL - elapsed % SAMPLE_INTERVAL)


def _wait(process: subprocess.Popen[bytes], seconds: float) -> None:
    """Up to ``seconds``, less if ``process`` ends: the load's end is sampled when it
    happens, not up to a second later."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(seconds)


def _applied(target: Connection) -> int:
    row = target.execute(APPLIED, (MAP,)).fetchone()
    return int(row[0]) if row else 0


def _commit_times(log_prefix: Path) -> list[float]:
    """When each committed transaction ended (Unix time), sorted, from pgbench's logs
    (one file per thread: ``PREFIX.PID`` and ``PREFIX.PID.N``). A line is ``client
    transaction latency_us script epoch_s epoch_us``; failed ones carry no latency."""
    ends: list[float] = []
    for path in log_prefix.parent.glob(f"{log_prefix.name}.*"):
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 6 and fields[2].isdigit():
                ends.append(int(fields[4]) + int(fields[5]) / 1_000_000)
    return sorted(ends)


def _warm_up(left: str, right: str) -> None:
    """One card through, so the load starts with the replication running."""
    with psycopg.connect(left, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO fno.loyalty_cards (card_number, issued_on) VALUES ('WARM-UP', '2026-01-01')"
        )
    with psycopg.connect(right, autocommit=True) as conn:
        wait_until(
            lambda: conn.execute("SELECT count(*) FROM cds.loyalty_card").fetchone() != (0,),
            120,
            "the warm-up card",
        )


def _same_cards(left: str, right: str) -> None:
    """After the drain the CRM holds exactly the ERP's cards and dates, or the figures
    describe a replication that lost changes."""
    query = "SELECT card_number, issued_on FROM {} ORDER BY card_number"
    with psycopg.connect(left) as source, psycopg.connect(right) as target:
        erp = source.execute(query.format("fno.loyalty_cards").encode()).fetchall()
        crm = target.execute(query.format("cds.loyalty_card").encode()).fetchall()
    if erp != crm:
        differing = len(set(erp) ^ set(crm))
        raise RuntimeError(f"after the drain, {differing} cards differ between fno and cds")
