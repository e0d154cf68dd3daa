"""replicator run --metrics serves Prometheus metrics per map and direction."""

from __future__ import annotations

import re
import signal
import socket
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import Project, cli, rows, start_applier, wait_for

DASHBOARD = (
    Path(__file__).resolve().parent.parent / "examples" / "grafana" / "replicator-dashboard.json"
)


@pytest.fixture
def project(example: Callable[..., Project]) -> Project:
    project = example()
    return project


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> dict[str, float]:
    """Sample lines as {name{labels}: value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_metrics_show_backlog_lag_applied_errors_and_batch_durations(project: Project) -> None:
    port = free_port()
    with project.right() as crm:
        crm.execute(
            "ALTER TABLE cds.customer_group ADD CONSTRAINT no_poison CHECK (name <> 'poison')"
        )
    applier = start_applier(project, "--metrics", f"127.0.0.1:{port}")
    try:
        wait_for(lambda: _up(port), "the metrics endpoint")
        with project.left() as erp:
            erp.execute(
                "INSERT INTO fno.customer_groups VALUES ('usmf', '1', 'fine'), ('usmf', '2', 'poison')"
            )
        wait_for(
            lambda: rows(project.right_url, "SELECT count(*) FROM cds.customer_group") == [(1,)],
            "the batch",
        )
        groups = 'direction="to_right",map="customer_groups"'
        batches = 'replicator_batch_duration_seconds_count{direction="to_right"}'
        # The applier times the batch once it committed (after a drift check, since a
        # change failed): the rows and the error can show a moment before the batch.
        def shown() -> bool:
            samples = scrape(port)
            return samples.get(f"replicator_errors_open{{{groups}}}") == 1 and batches in samples

        wait_for(shown, "the error and the batch to show")
        samples = scrape(port)
        assert samples[f"replicator_applied_total{{{groups}}}"] == 1
        assert samples[f"replicator_backlog{{{groups}}}"] == 0
        assert samples[f"replicator_lag_seconds{{{groups}}}"] == 0
        assert samples[f"replicator_errors_total{{{groups}}}"] == 1
        assert samples[f'replicator_state{{{groups},state="running"}}'] == 1
        # The two rows were one transaction: one batch.
        assert samples[batches] == 1
        assert (
            samples['replicator_batch_duration_seconds_bucket{direction="to_right",le="+Inf"}'] == 1
        )
        # A paused map's backlog and lag grow.
        assert cli(project, "pause", "customer_groups", "--direction", "to_right").returncode == 0
        with project.left() as erp:
            erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '3', 'waits')")
        samples = scrape(port)
        assert samples[f"replicator_backlog{{{groups}}}"] == 1
        assert samples[f"replicator_lag_seconds{{{groups}}}"] >= 0
        assert samples[f'replicator_state{{{groups},state="paused"}}'] == 1
        # The dashboard shipped in examples/ asks only for metrics that exist.
        wanted = set(re.findall(r"replicator_[a-z_]+", DASHBOARD.read_text()))
        served = {name.split("{")[0] for name in samples}
        assert wanted and wanted <= served, wanted - served
    finally:
        applier.send_signal(signal.SIGTERM)
        assert applier.wait(timeout=60) == 0


def _up(port: int) -> bool:
    try:
        scrape(port)
    except OSError:
        return False
    return True
