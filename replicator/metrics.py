"""``replicator run --metrics ADDR:PORT``: Prometheus metrics over HTTP.

Figures per map and direction come from the status view at scrape time (the
scrape opens its own connections, so it never waits on a batch); batch
durations are a histogram the applier fills as it goes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from replicator.status import StatusRow

log = logging.getLogger("replicator.metrics")

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: float = 0.0
    samples: int = 0

    def observe(self, seconds: float) -> None:
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.counts[i] += 1
        self.total += seconds
        self.samples += 1


@dataclass
class Metrics:
    """What the applier measures itself; the rest is read at scrape time."""

    batch_seconds: dict[str, Histogram] = field(default_factory=dict)

    def batch(self, direction: str, seconds: float) -> None:
        self.batch_seconds.setdefault(direction, Histogram()).observe(seconds)


def exposition(rows: list[StatusRow], metrics: Metrics) -> str:
    """The Prometheus text format."""
    lines: list[str] = []

    def family(name: str, kind: str, text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

    def per_map(value: Callable[[StatusRow], float]) -> list[tuple[str, float]]:
        return [(_labels(map=r.map, direction=r.direction), value(r)) for r in rows]

    family(
        "replicator_lag_seconds",
        "gauge",
        "Age of the oldest change not yet applied.",
        per_map(lambda r: r.oldest_queued_seconds or 0.0),
    )
    family(
        "replicator_backlog",
        "gauge",
        "Changes captured and not yet applied.",
        per_map(lambda r: r.queued),
    )
    family(
        "replicator_held",
        "gauge",
        "Changes waiting for a parent row to arrive.",
        per_map(lambda r: r.held),
    )
    family(
        "replicator_applied_total",
        "counter",
        "Changes applied.",
        per_map(lambda r: r.applied_total),
    )
    family(
        "replicator_errors_total",
        "counter",
        "Changes that could not be applied, logged.",
        per_map(lambda r: r.errors_logged),
    )
    family(
        "replicator_errors_open",
        "gauge",
        "Logged errors not yet retried or skipped.",
        per_map(lambda r: r.errors),
    )
    family(
        "replicator_state",
        "gauge",
        "1 for the state a map direction is in.",
        [(_labels(map=r.map, direction=r.direction, state=r.state), 1) for r in rows],
    )
    lines.append("# HELP replicator_batch_duration_seconds Time to apply one batch.")
    lines.append("# TYPE replicator_batch_duration_seconds histogram")
    for direction, histogram in sorted(metrics.batch_seconds.items()):
        for bound, count in zip(BUCKETS, histogram.counts, strict=True):
            lines.append(
                f"replicator_batch_duration_seconds_bucket{_labels(direction=direction, le=f'{bound:g}')} {count}"
            )
        lines.append(
            f"replicator_batch_duration_seconds_bucket{_labels(direction=direction, le='+Inf')} {histogram.samples}"
        )
        lines.append(
            f"replicator_batch_duration_seconds_sum{_labels(direction=direction)} {histogram.total:g}"
        )
        lines.append(
            f"replicator_batch_duration_seconds_count{_labels(direction=direction)} {histogram.samples}"
        )
    return "\n".join(lines) + "\n"


def serve(
    address: str, read_status: Callable[[], list[StatusRow]], metrics: Metrics
) -> ThreadingHTTPServer:
    """Serve /metrics on ADDR:PORT in a daemon thread."""
    host, _, port = address.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            if self.path != "/metrics":
                self.send_error(404, "only /metrics here")
                return
            try:
                body = exposition(read_status(), metrics).encode()
            except Exception as exc:  # a scrape must not take the applier down
                log.warning("metrics scrape failed: %s", exc)
                self.send_error(503, "the databases could not be read")
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # scrapes every few seconds would drown the applier's log

    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
    log.info("serving metrics on http://%s:%d/metrics", *server.server_address[:2])
    return server


def _labels(**labels: str) -> str:
    escaped = (
        f'{key}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for key, value in labels.items()
    )
    return "{" + ",".join(escaped) + "}"
