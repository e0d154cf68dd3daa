"""A map's filter that raises for some rows (a division by zero, a cast) never fails
the application's write in queued mode: the change is noted, with the error and the
row, in replicator.uncaptured, and status says so. Only filters that can raise pay for
the guard (a subtransaction per captured row); plain comparisons run as before."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from devtools.throwaway import ThrowawayServer
from replicator.commands import lifecycle as commands
from replicator.commands import statusview
from replicator.core.errors import MapError, Where
from replicator.maps.expressions import may_raise, parse_expression
from tests.support import Project, items_map, queued, rows, schemas_project

DIVIDES = "100 / (n - 5) > 0"


def items_project(root: Path, url: str, left_filter: str) -> Project:
    return schemas_project(
        root,
        url,
        "CREATE SCHEMA l; CREATE SCHEMA r;"
        " CREATE TABLE l.items (id int PRIMARY KEY, name varchar(50), n int);"
        " CREATE TABLE r.items (id int PRIMARY KEY, name varchar(50), n int);",
        {"items.toml": items_map(left_filter, None, "n")},
    )


@pytest.fixture
def project(tmp_path: Path, pg: ThrowawayServer, fresh_db: Callable[..., str]) -> Project:
    project = items_project(tmp_path / "project", fresh_db(pg), DIVIDES)
    project.deploy()
    return project


def test_a_filter_that_raises_for_a_row_lets_the_write_through_and_notes_it(
    project: Project,
) -> None:
    with project.left() as app:
        app.execute("INSERT INTO l.items VALUES (1, 'five', 5), (2, 'six', 6)")
        app.execute("UPDATE l.items SET n = 5, name = 'was six' WHERE id = 2")
    assert rows(project.left_url, "SELECT id, n FROM l.items ORDER BY id") == [(1, 5), (2, 5)]
    assert rows(
        project.left_url,
        "SELECT map_name, direction, op, image->>'id', sqlstate, reason"
        " FROM replicator.uncaptured ORDER BY id",
    ) == [
        (
            "items",
            "to_right",
            "I",
            "1",
            "22012",
            f"left_filter {DIVIDES!r} raised: division by zero",
        ),
        (
            "items",
            "to_right",
            "U",
            "2",
            "22012",
            f"left_filter {DIVIDES!r} raised: division by zero",
        ),
    ]
    assert queued(project.left_url) == 1  # the insert of 2, which its filter admitted
    project.drain()
    assert rows(project.right_url, "SELECT id, name, n FROM r.items") == [(2, "six", 6)]
    out = io.StringIO()
    statusview.cmd_status(project.config(), out)
    assert (
        "items (to_right, l→r): 2 changes not captured, the latest because its left_filter"
        f" {DIVIDES!r} raised: division by zero (rows in replicator.uncaptured); after the"
        " fix, replicator sync items"
    ) in out.getvalue()


def test_only_a_filter_that_can_raise_is_guarded(
    tmp_path: Path, pg: ThrowawayServer, fresh_db: Callable[..., str]
) -> None:
    guarded = items_project(tmp_path / "guarded", fresh_db(pg), DIVIDES)
    plain = items_project(tmp_path / "plain", fresh_db(pg), "n <> 5 AND name LIKE 'a%'")
    for project, blocks in ((guarded, 1), (plain, 0)):
        _, plan = project.plan()
        capture = plan.split('FUNCTION "replicator"."capture_items_to_right"()')[1].split(
            "$capture$;"
        )[0]
        assert capture.count("EXCEPTION WHEN OTHERS") == blocks


@pytest.mark.parametrize(
    ("text", "raises"),
    [
        ("kind = 'customer'", False),
        ("kind IN ('a', 'b') AND NOT n IS NULL", False),
        ("n BETWEEN 1 AND 5 OR n > -3", False),
        ("upper(name) <> 'SKIP' AND length(trim(name)) > 0", False),
        ("coalesce(kind, 'x') || name = 'xy'", False),
        ("name LIKE 'A%'", False),
        ("CASE WHEN n > 1 THEN true ELSE false END", False),
        (DIVIDES, True),  # by zero
        ("n % 2 = 0", True),
        ("n + 1 > 5", True),  # out of range
        ("-n < 0", True),
        ("CAST(name AS integer) > 3", True),  # a value that does not convert
        ("substring(name, 1, n) = 'abc'", True),  # a negative length
        ("split_part(name, ' ', n) = 'a'", True),  # field zero
        ("name LIKE kind", True),  # a pattern ending in the escape character
    ],
)
def test_what_can_raise_is_decided_from_the_parsed_filter(text: str, raises: bool) -> None:
    tree = parse_expression(text, columns=["n", "name", "kind"], where=Where(), what=text)
    assert may_raise(tree) is raises


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "name > 5",
            "is refused by PostgreSQL over l.items: operator does not exist: character"
            " varying > integer (No operator matches the given name and argument types. You"
            " might need to add explicit type casts.)",
        ),
        (
            "n = 'five'",
            'is refused by PostgreSQL over l.items: invalid input syntax for type integer: "five"',
        ),
        (
            "n + 1",
            "is of type integer, not boolean: a filter says whether a row flows; write a"
            " condition, e.g. a comparison",
        ),
    ],
)
def test_a_filter_that_would_raise_for_every_row_is_refused_at_validate(
    tmp_path: Path, pg: ThrowawayServer, fresh_db: Callable[..., str], text: str, problem: str
) -> None:
    """What does not depend on the row (operand types, literals) is PostgreSQL's to
    judge before anything is deployed: such a filter would fail every write."""
    project = items_project(tmp_path / "project", fresh_db(pg), text)
    with pytest.raises(MapError) as refused:
        commands.cmd_validate(project.config(), io.StringIO())
    assert [str(p) for p in refused.value.problems] == [
        f"maps/items.toml: map 'items': left_filter {text!r} {problem}"
    ]


TAKEOVER_MAP = """
[[map]]
name = "cust"
left = "cust"
right = "acct"
direction = "to_right"
right_filter = "kind = 'customer'"

  [[map.field]]
  left = "id"
  right = "id"
  key = true

  [[map.field]]
  left = "name"
  right = "name"

  [[map.field]]
  right = "kind"
  default = { right = "customer" }
"""


def test_a_row_outside_the_targets_filter_is_never_overwritten_or_deleted(
    tmp_path: Path, pg: ThrowawayServer, fresh_db: Callable[..., str]
) -> None:
    """The CRM's vendor 5 is not a customer: the map's customer 5 from the ERP must not
    take it over, nor its delete remove it. The change goes to the error log instead."""
    url = fresh_db(pg)
    project = schemas_project(
        tmp_path / "project",
        url,
        "CREATE SCHEMA l; CREATE SCHEMA r;"
        " CREATE TABLE l.cust (id int PRIMARY KEY, name varchar(50));"
        " CREATE TABLE r.acct (id int PRIMARY KEY, name varchar(50), kind text NOT NULL);"
        " INSERT INTO r.acct VALUES (5, 'Vendor Corp', 'vendor')",
        {"cust.toml": TAKEOVER_MAP},
    )
    project.deploy()
    vendor = [(5, "Vendor Corp", "vendor")]
    with project.left() as erp:
        erp.execute("INSERT INTO l.cust VALUES (5, 'hijacked'), (6, 'a real customer')")
    assert project.drain().failed == 1
    assert rows(url, "SELECT id, name, kind FROM r.acct ORDER BY id") == [
        *vendor,
        (6, "a real customer", "customer"),
    ]
    assert rows(url, "SELECT key, sqlstate, message FROM replicator.error_log") == [
        (
            {"id": 5},
            "55000",
            'replicator: map cust: the row {"id": 5} of r.acct is outside the map\'s'
            " right_filter (kind = 'customer'), so it is not the map's to change",
        )
    ]
    with project.left() as erp:
        erp.execute("DELETE FROM l.cust")
    project.drain()
    assert rows(url, "SELECT id, name, kind FROM r.acct ORDER BY id") == vendor
