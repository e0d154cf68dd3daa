"""Shared fixtures: throwaway PostgreSQL servers and fresh databases on them.

Servers are expensive (initdb), databases are cheap: tests share one server
per session (``pg``, plus ``pg2`` for tests that need two distinct servers)
and isolate themselves with ``fresh_db``.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Callable, Iterator

import pytest

from replicator.throwaway import ThrowawayServer


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


@pytest.fixture(params=["one_database", "two_servers"])
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
