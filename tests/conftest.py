"""Shared fixtures: throwaway PostgreSQL servers and fresh databases on them.

Servers are expensive (initdb), databases are cheap: tests share one server
per session (``pg``, plus ``pg2`` for tests that need two distinct servers)
and isolate themselves with ``fresh_db``.

A test that takes ``topology`` (through ``two_sides``, or beside ``example``) runs
once per topology; one that also takes ``capture`` runs in the SPINE pairs of
topology and capture. ``example`` hands out the customer-master example already
deployed, in copies of a template database built once per run and setting.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devtools.throwaway import ThrowawayServer
from tests.support import CAPTURES, SPINE, ExampleTemplates, Project

TOPOLOGIES = ("one_database", "two_servers")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "slow: a long fault or load run; make test-slow runs these, make test the rest",
    )
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
    if "topology" in wanted and "capture" in wanted:
        metafunc.parametrize(
            ("topology", "capture"),
            SPINE,
            indirect=True,
            ids=[f"{topology}-{capture}" for topology, capture in SPINE],
        )
    elif "topology" in wanted:
        metafunc.parametrize("topology", TOPOLOGIES, indirect=True)
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
def fresh_db() -> Iterator[Callable[..., str]]:
    """A factory: ``fresh_db(server)`` creates a new empty database and returns its URL;
    ``fresh_db(server, template)`` a copy of the database ``template``.

    Every database made during the test is dropped afterwards, sessions and
    replication slots included.
    """
    made: list[tuple[ThrowawayServer, str]] = []

    def make(server: ThrowawayServer, template: str = "template0") -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        url = server.create_database(name, template=template)
        made.append((server, name))
        return url

    yield make
    for server, name in reversed(made):
        if server.running:
            server.drop_database(name)


@pytest.fixture
def topology(request: pytest.FixtureRequest) -> str:
    """Where the two sides live: "one_database", or "two_servers" (each side on a server
    of its own). Tests that take it run once per topology."""
    return str(request.param)


@pytest.fixture
def two_sides(
    request: pytest.FixtureRequest, topology: str, fresh_db: Callable[..., str]
) -> tuple[str, str]:
    """(left url, right url): empty databases, one for both sides or one on each of two
    servers, as ``topology`` says."""
    left = fresh_db(request.getfixturevalue("pg"))
    if topology == "one_database":
        return left, left
    return left, fresh_db(request.getfixturevalue("pg2"))


@pytest.fixture(scope="session")
def example_templates(tmp_path_factory: pytest.TempPathFactory) -> ExampleTemplates:
    """The customer-master example deployed once per setting, as template databases."""
    return ExampleTemplates(tmp_path_factory.mktemp("example-templates"))


@pytest.fixture
def example(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fresh_db: Callable[..., str],
    example_templates: ExampleTemplates,
) -> Callable[..., Project]:
    """A factory: ``example(topology, capture)`` is the customer-master example deployed
    (company usmf on both sides, nothing queued) in fresh copies of its template
    databases, as ``example_project`` and ``Project.deploy`` would leave it. Servers
    start on first use, the second one only for "two_servers"."""

    def make(topology: str = "one_database", capture: str = "trigger") -> Project:
        left = request.getfixturevalue("pg")
        right = left if topology == "one_database" else request.getfixturevalue("pg2")
        return example_templates.copy(tmp_path, left, right, capture, fresh_db)

    return make


@pytest.fixture
def capture(request: pytest.FixtureRequest) -> str:
    """How the project captures changes, a name in tests.support.CAPTURES: "trigger",
    "wal_left" (the ERP's WAL, the CRM's triggers) or "wal_both".

    Tests that take it (through their project fixture) run once per capture, or
    with ``two_sides`` in the SPINE pairs.
    """
    return str(request.param)
