"""``replicator run --metrics ADDR:PORT``: Prometheus metrics, with prometheus_client.

Figures per map and direction come from the status views at scrape time (the
scrape opens its own connections, so it never waits on a batch); batch
durations are a histogram the applier fills as it goes. Directions are labelled
to_right and to_left, as the CLI's --direction takes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from replicator.operations.status import StatusRow

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LABELS = ["map", "direction"]


class Metrics:
    """The registry a run serves; the applier reports each batch's duration to it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.batch_seconds = Histogram(
            "replicator_batch_duration_seconds",
            "Time to apply one batch.",
            ["direction"],
            buckets=BUCKETS,
            registry=self.registry,
        )

    def batch(self, direction: str, seconds: float) -> None:
        self.batch_seconds.labels(direction).observe(seconds)


class StatusCollector(Collector):
    """Per map and direction, what the status views say at scrape time."""

    def __init__(self, read_status: Callable[[], list[StatusRow]]) -> None:
        self.read_status = read_status

    def collect(self) -> Iterator[Metric]:
        rows = self.read_status()
        families = _families()
        for family, value in families:
            for row in rows:
                family.add_metric([row.map, row.direction], value(row))
            yield family
        state = GaugeMetricFamily(
            "replicator_state", "1 for the state a map direction is in.", labels=[*LABELS, "state"]
        )
        for row in rows:
            state.add_metric([row.map, row.direction, row.state], 1)
        yield state


def _families() -> list[
    tuple[GaugeMetricFamily | CounterMetricFamily, Callable[[StatusRow], float]]
]:
    """The per map direction metric families, each with how a status row gives its value."""
    return [
        (
            GaugeMetricFamily(
                "replicator_lag_seconds",
                "Age of the oldest change not yet applied.",
                labels=LABELS,
            ),
            lambda r: r.oldest_queued_seconds or 0.0,
        ),
        (
            GaugeMetricFamily(
                "replicator_backlog", "Changes captured and not yet applied.", labels=LABELS
            ),
            lambda r: r.queued,
        ),
        (
            GaugeMetricFamily(
                "replicator_held", "Changes waiting for a parent row to arrive.", labels=LABELS
            ),
            lambda r: r.held,
        ),
        (
            CounterMetricFamily("replicator_applied", "Changes applied.", labels=LABELS),
            lambda r: r.applied_total,
        ),
        (
            CounterMetricFamily(
                "replicator_errors", "Changes that could not be applied, logged.", labels=LABELS
            ),
            lambda r: r.errors_logged,
        ),
        (
            GaugeMetricFamily(
                "replicator_errors_open",
                "Logged errors not yet retried or skipped.",
                labels=LABELS,
            ),
            lambda r: r.errors,
        ),
        (
            GaugeMetricFamily(
                "replicator_conflicts_waiting",
                "Manual conflicts waiting for replicator resolve.",
                labels=LABELS,
            ),
            lambda r: r.conflicts_waiting,
        ),
    ]


def serve(address: str, read_status: Callable[[], list[StatusRow]], metrics: Metrics) -> int:
    """Serve ``metrics`` and the status figures at http://ADDR:PORT/metrics in a daemon
    thread; returns the port."""
    host, _, port = address.rpartition(":")
    metrics.registry.register(StatusCollector(read_status))
    server, _ = start_http_server(int(port), addr=host or "127.0.0.1", registry=metrics.registry)
    return int(server.server_address[1])
