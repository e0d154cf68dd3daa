"""Every broken map file under tests/bad_maps/ is refused, by validate and by deploy,
with exactly the problems it expects, and nothing is deployed.

A case is one ``NN_short_name.toml`` file. Its leading comment lines say how it runs:

    # expect: <a problem as `replicator validate` prints it, without the indent>
    # alone                      maps/ holds this file only
    # replaces: customers.toml   this file takes the place of that example map file
    # sql: <SQL>                 run first, in a copy of the example database (lines joined)
    # FIXME: <why>               the printed message should be better
    # xfail: <why>               validate accepts the map today (a bug); the expect
                                 lines are what it prints once fixed (strict xfail)

Without ``alone`` or ``replaces``, maps/ holds every example map file and this one.
The project is the customer-master example (its replicator.toml, both schemas in
one database); validation only reads, so the cases share one database, and a
case with ``# sql:`` gets a copy of it.
"""

from __future__ import annotations

import difflib
import io
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import psycopg
import pytest

from devtools.throwaway import ThrowawayServer, create_roles
from replicator.commands import lifecycle as commands
from replicator.core.errors import MapError
from replicator.maps.model import Config
from tests.support import EXAMPLE, Project

CASES_DIR = Path(__file__).resolve().parent / "bad_maps"


@dataclass(frozen=True)
class Case:
    """One bad map file and what its header says."""

    path: Path
    expected: tuple[str, ...]
    alone: bool
    replaces: str | None
    sql: str
    xfail: str | None


class MapsAccepted(AssertionError):
    """validate or deploy accepted a case's maps."""


def read_case(path: Path) -> Case:
    expected: list[str] = []
    alone = False
    replaces: str | None = None
    sql: list[str] = []
    xfail: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        if not line.startswith("#"):
            break  # the header ends at the first line of TOML
        text = line[1:].strip()
        if text.startswith("expect:"):
            expected.append(line.split("expect:", 1)[1].strip())
        elif text == "alone":
            alone = True
        elif text.startswith("replaces:"):
            replaces = text.split(":", 1)[1].strip()
        elif text.startswith("sql:"):
            sql.append(line.split("sql:", 1)[1].strip())
        elif text.startswith("xfail:"):
            xfail = text.split(":", 1)[1].strip()
    return Case(path, tuple(expected), alone, replaces, " ".join(sql), xfail)


CASES = [read_case(path) for path in sorted(CASES_DIR.glob("*.toml"))]
PARAMS = [
    pytest.param(
        case,
        id=case.path.stem,
        marks=[pytest.mark.xfail(reason=case.xfail, raises=MapsAccepted, strict=True)]
        if case.xfail
        else [],
    )
    for case in CASES
]


@pytest.fixture(scope="module")
def example_db(pg: ThrowawayServer) -> Iterator[str]:
    """The name of one database holding both example schemas, shared by the module."""
    name = f"bad_maps_{uuid.uuid4().hex[:12]}"
    url = pg.create_database(name, template="template0")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute((EXAMPLE / "fno.sql").read_bytes())
            conn.execute((EXAMPLE / "cds.sql").read_bytes())
            # The example's [roles] exist on the server (deploy checks that first); the
            # database is left without a replicator schema, which deploy must not create.
            for role in ("replicator_owner", "replicator_runtime"):
                if not conn.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)
                ).fetchone():
                    conn.execute(f"CREATE ROLE {role} LOGIN".encode())
        yield name
    finally:
        if pg.running:
            pg.drop_database(name)


@contextmanager
def database_for(case: Case, pg: ThrowawayServer, example_db: str) -> Iterator[str]:
    """The URL a case runs against: the shared database, or a copy altered by its SQL."""
    if not case.sql:
        yield pg.url(example_db)
        return
    name = f"bad_maps_{uuid.uuid4().hex[:12]}"
    url = pg.create_database(name, template=example_db)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(case.sql.encode())
        yield url
    finally:
        if pg.running:
            pg.drop_database(name)


def project_for(case: Case, root: Path, url: str) -> Project:
    """The example project, its maps/ arranged as the case's header says."""
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("*.sql"))
    maps = root / "maps"
    if case.alone:
        for path in maps.glob("*.toml"):
            path.unlink()
    elif case.replaces is not None:
        replaced = maps / case.replaces
        assert replaced.is_file(), f"{case.path.name}: no example map file {case.replaces}"
        replaced.unlink()
    shutil.copy(case.path, maps / case.path.name)
    return Project(root, url, url)


def printed_problems(command: Callable[[Config, TextIO], int], config: Config) -> list[str]:
    out = io.StringIO()
    try:
        code = command(config, out)
    except MapError as exc:
        return [str(p) for p in exc.problems]
    raise MapsAccepted(f"{command.__name__} accepted the maps (exit {code}): {out.getvalue()}")


def differ(case: Case, command: str, printed: list[str]) -> str:
    if not case.expected:
        lines = "\n".join(f"# expect: {p}" for p in printed)
        return (
            f"tests/bad_maps/{case.path.name} has no '# expect:' line; {command} printed\n{lines}"
        )
    diff = "\n".join(difflib.ndiff(list(case.expected), printed))
    return (
        f"{command} did not print the '# expect:' lines of tests/bad_maps/{case.path.name}"
        f" (- expected, + printed):\n{diff}"
    )


@pytest.mark.parametrize("case", PARAMS)
def test_a_broken_map_is_refused_naming_where_and_nothing_is_deployed(
    case: Case, tmp_path: Path, pg: ThrowawayServer, example_db: str
) -> None:
    with database_for(case, pg, example_db) as url:
        config = project_for(case, tmp_path / "project", url).config()
        for command in (commands.cmd_validate, commands.cmd_deploy):
            printed = printed_problems(command, config)
            if printed != list(case.expected):
                pytest.fail(differ(case, command.__name__, printed), pytrace=False)
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_namespace WHERE nspname = 'replicator'"
            ).fetchone()
        assert row == (0,), "deploy left a replicator schema behind"


def test_the_example_maps_are_valid_where_the_cases_run(
    tmp_path: Path, pg: ThrowawayServer, example_db: str
) -> None:
    """So each case fails for its own reason only (in a copy of the database prepared by
    the roles SQL, which validate asks for once the maps are valid)."""
    root = tmp_path / "project"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("*.sql"))
    name = f"bad_maps_{uuid.uuid4().hex[:12]}"
    url = pg.create_database(name, template=example_db)
    try:
        config = Project(root, url, url).config()
        create_roles(config)
        assert commands.cmd_validate(config, io.StringIO()) == 0
    finally:
        pg.drop_database(name)


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 30
    assert len({case.path.stem.split("_", 1)[0] for case in CASES}) == len(CASES), "numbers repeat"
