"""Shared fixtures: throwaway PostgreSQL servers and fresh databases on them.

Servers are expensive (initdb), databases are cheap: tests share one server
per session (``pg``, plus ``pg2`` for tests that need two distinct servers)
and isolate themselves with ``fresh_db``.

A test that takes ``two_sides`` runs once per topology; one that also takes
``capture`` runs in the SPINE pairs of topology and capture.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Callable, Iterator

import pytest

from replicator.throwaway import ThrowawayServer
from tests.support import CAPTURES

TOPOLOGIES = ("one_database", "two_servers")
# (topology, capture) for tests that take both: triggers and WAL on both sides in
# each topology, and WAL on one side with triggers on the other across two servers.
SPINE = (
    ("one_database", "trigger"),
    ("two_servers", "trigger"),
    ("one_database", "wal_both"),
    ("two_servers", "wal_both"),
    ("two_servers", "wal_left"),
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    # A CI timeout sends SIGTERM, which by default kills Python without running
    # fixture teardown; treat it like Ctrl-C so servers and their directories
    # are cleaned up. (If we are SIGKILLed, the servers still shut themselves
    # down via their parent-death signal; only their temp directories remain.)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Topologies and captures are chosen here, in one place, so a test taking both
    runs only in the SPINE pairs rather than in every combination."""
    # A test's own @pytest.mark.parametrize of one of these names wins.
    own = {
        name.strip()
        for mark in metafunc.definition.iter_markers("parametrize")
        for name in (mark.args[0].split(",") if isinstance(mark.args[0], str) else mark.args[0])
    }
    wanted = [name for name in metafunc.fixturenames if name not in own]
    if "two_sides" in wanted and "capture" in wanted:
        metafunc.parametrize(
            ("two_sides", "capture"),
            SPINE,
            indirect=True,
            ids=[f"{topology}-{capture}" for topology, capture in SPINE],
        )
    elif "two_sides" in wanted:
        metafunc.parametrize("two_sides", TOPOLOGIES, indirect=True)
    elif "capture" in wanted:
        metafunc.parametrize("capture", list(CAPTURES), indirect=True)


@pytest.fixture(scope="session")
def pg() -> Iterator[ThrowawayServer]:
    """The session's main server."""
    with ThrowawayServer() as server:
        yield server


@pytest.fixture(scope="session")
def pg2() -> Iterator[ThrowawayServer]:
    """A second, independent server, for "two different servers" tests.

    Session fixtures are created on first use, so runs that never ask for it
    never pay for it.
    """
    with ThrowawayServer() as server:
        yield server


@pytest.fixture
def fresh_db() -> Iterator[Callable[[ThrowawayServer], str]]:
    """A factory: ``fresh_db(server)`` creates a new empty database and returns its URL.

    Every database made during the test is dropped afterwards, sessions and
    replication slots included.
    """
    made: list[tuple[ThrowawayServer, str]] = []

    def make(server: ThrowawayServer) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        url = server.create_database(name, template="template0")
        made.append((server, name))
        return url

    yield make
    for server, name in reversed(made):
        if server.running:
            server.drop_database(name)


@pytest.fixture
def two_sides(
    request: pytest.FixtureRequest, fresh_db: Callable[[ThrowawayServer], str]
) -> tuple[str, str]:
    """(left url, right url): one database for both sides, or one on each of two servers.

    Tests that take it run once per topology.
    """
    left = fresh_db(request.getfixturevalue("pg"))
    if request.param == "one_database":
        return left, left
    return left, fresh_db(request.getfixturevalue("pg2"))


@pytest.fixture
def capture(request: pytest.FixtureRequest) -> str:
    """How the project captures changes, a name in tests.support.CAPTURES: "trigger",
    "wal_left" (the ERP's WAL, the CRM's triggers) or "wal_both".

    Tests that take it (through their project fixture) run once per capture, or
    with ``two_sides`` in the SPINE pairs.
    """
    return str(request.param)
