"""Bad maps get a clear error naming file, map and field; nothing is deployed."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from replicator.commands import lifecycle as commands
from replicator.core.errors import MapError
from tests.support import Project, rows

DDL = """
CREATE SCHEMA erp;
CREATE SCHEMA crm;
CREATE TYPE crm.stage AS ENUM ('lead', 'won', 'lost');
CREATE TABLE erp.item (
    id          integer PRIMARY KEY,
    code        varchar(20) NOT NULL,
    price       numeric(32, 6),
    description text,
    stage       varchar(10) CHECK (stage IN ('open', 'closed', 'void')),
    changed_at  timestamptz,
    loose       integer
);
CREATE TABLE crm.item (
    id          integer PRIMARY KEY,
    code        varchar(20) NOT NULL,
    price       numeric(32, 4),
    description varchar(50),
    stage       crm.stage,
    changed_at  timestamp,
    loose       integer,
    required    text NOT NULL,
    total       integer GENERATED ALWAYS AS (id * 2) STORED
);
"""

HEAD = """
[[map]]
name = "items"
left = "{left}"
right = "item"
{extra}

  [[map.field]]
  left = "{key}"
  right = "id"
  key = true

  [[map.field]]
  left = "code"
  right = "code"

  [[map.field]]
  right = "required"
  default = {{ right = "x" }}
"""


def field(left: str, right: str, extra: str = "") -> str:
    return f'\n  [[map.field]]\n  left = "{left}"\n  right = "{right}"\n  {extra}\n'


def items_project(root: Path, left: str, right: str) -> Project:
    """The erp/crm item tables in the given databases, and a config naming them."""
    for url in dict.fromkeys((left, right)):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(DDL.encode())
    (root / "maps").mkdir(parents=True)
    (root / "replicator.toml").write_text(
        'maps = "maps"\n[left]\nname = "erp"\nschema = "erp"\nconninfo_env = "REPLICATOR_LEFT"\n'
        '[right]\nname = "crm"\nschema = "crm"\nconninfo_env = "REPLICATOR_RIGHT"\n'
    )
    return Project(root, left, right)


@pytest.fixture
def project(tmp_path: Path, pg: object, fresh_db: Callable[..., str]) -> Project:
    url = fresh_db(pg)
    return items_project(tmp_path / "project", url, url)


def problems(
    project: Project, body: str, *, left: str = "item", key: str = "id", extra: str = ""
) -> list[str]:
    project.write_map("items.toml", HEAD.format(left=left, key=key, extra=extra) + body)
    with pytest.raises(MapError) as caught:
        commands.cmd_validate(project.config(), io.StringIO())
    return [str(p) for p in caught.value.problems]


MARKS = {
    "extra": 'on_delete = "mark"\nmark.right = { column = "stage", value = "gone" }\nmark.left = { column = "deleted", value = true }'
}

CASES = [
    pytest.param(
        MARKS,
        "",
        "maps/items.toml: map 'items': mark: 'gone' is not a value crm.item.stage accepts"
        " ('lead', 'won', 'lost')",
        id="mark value outside the enum",
    ),
    pytest.param(
        MARKS,
        "",
        "maps/items.toml: map 'items': mark: left column 'deleted' does not exist in erp.item",
        id="mark column unknown",
    ),
    pytest.param(
        {"left": "itme"},
        "",
        "maps/items.toml: map 'items': left table erp.itme does not exist (did you mean item?)",
        id="unknown table",
    ),
    pytest.param(
        {},
        field("descriptoin", "loose", 'direction = "to_right"'),
        "maps/items.toml: map 'items': field 'descriptoin': left column 'descriptoin' does not exist"
        " in erp.item (did you mean 'description'?)",
        id="unknown column",
    ),
    pytest.param(
        {"key": "loose"},
        "",
        "maps/items.toml: map 'items': key (loose) of erp.item is not backed by a primary key or a"
        " unique index (non-partial, plain columns); create one or change the key",
        id="key without unique index",
    ),
    pytest.param(
        {},
        field("price", "price"),
        "maps/items.toml: map 'items': field 'price': left → right: numeric(32,6) into numeric(32,4)"
        " would round to 4 decimal places (erp.item.price into crm.item.price); widen the column,"
        " make the field one-way, or write the conversion you accept as to_right",
        id="numeric scale",
    ),
    pytest.param(
        {},
        field("description", "description", 'direction = "to_right"'),
        "maps/items.toml: map 'items': field 'description': left → right: text into character"
        " varying(50) would cut values longer than 50 characters (erp.item.description into"
        " crm.item.description); widen the column, make the field one-way, or write the"
        " conversion you accept as to_right",
        id="text into shorter varchar",
    ),
    pytest.param(
        {},
        field("changed_at", "changed_at", 'direction = "to_right"'),
        "maps/items.toml: map 'items': field 'changed_at': left → right: timestamp with time zone"
        " into timestamp without time zone would drop the time zone (erp.item.changed_at into"
        " crm.item.changed_at); widen the column, make the field one-way, or write the"
        " conversion you accept as to_right",
        id="timestamptz into timestamp",
    ),
    pytest.param(
        {},
        field(
            "stage",
            "stage",
            'direction = "to_right"\n  value_map = { open = "lead", closed = "won" }',
        ),
        "maps/items.toml: map 'items': field 'stage': left → right: value_map does not cover 'void'"
        " of erp.item.stage; add it or declare a fallback",
        id="value map misses a checked value",
    ),
    pytest.param(
        {},
        field(
            "stage",
            "stage",
            'direction = "to_right"\n  value_map = { open = "lead", closed = "won", void = "dead" }',
        ),
        "maps/items.toml: map 'items': field 'stage': left → right: value_map writes 'dead', which"
        " crm.item.stage does not accept ('lead', 'won', 'lost')",
        id="value map writes outside the enum",
    ),
    pytest.param(
        {"extra": 'left_filter = "id IN (SELECT id FROM erp.item)"'},
        "",
        "SUBQUERY",
        id="filter with a subquery",
    ),
    pytest.param(
        {},
        field("loose", "total", 'direction = "to_right"'),
        "maps/items.toml: map 'items': field 'loose': crm.item.total is a generated column; it"
        " cannot be written (left → right): remove the field or make it flow the other way only",
        id="generated column",
    ),
]


@pytest.mark.parametrize(("head", "body", "expected"), CASES)
def test_a_bad_map_is_refused_with_a_message_naming_where(
    project: Project, head: dict[str, str], body: str, expected: str
) -> None:
    found = problems(project, body, **head)
    if expected == "SUBQUERY":
        assert len(found) == 1 and "maps/items.toml: map 'items': left_filter" in found[0]
        assert "subquery" in found[0]
    else:
        assert expected in found


@pytest.mark.parametrize(
    "kept_out",
    ["stage <> 'void'", "stage IN ('open', 'closed')", "stage NOT IN ('void') AND id > 0"],
)
def test_a_value_the_filter_keeps_out_needs_no_entry_in_the_value_map(
    project: Project, kept_out: str
) -> None:
    """Only the values that arrive must be mapped: 'void' rows never pass the filter."""
    body = field(
        "stage", "stage", 'direction = "to_right"\n  value_map = { open = "lead", closed = "won" }'
    )
    project.write_map(
        "items.toml",
        HEAD.format(left="item", key="id", extra=f'left_filter = "{kept_out}"') + body,
    )
    out = io.StringIO()
    assert commands.cmd_validate(project.config(), out) == 0
    assert out.getvalue() == "1 map (2 directions) is valid\n"


def test_a_required_target_column_nobody_writes_is_reported(project: Project) -> None:
    project.write_map(
        "items.toml",
        '[[map]]\nname = "items"\nleft = "item"\nright = "item"\n'
        '[[map.field]]\nleft = "id"\nright = "id"\nkey = true\n',
    )
    with pytest.raises(MapError) as caught:
        commands.cmd_validate(project.config(), io.StringIO())
    assert [str(p) for p in caught.value.problems] == [
        "maps/items.toml: map 'items': crm.item.code is NOT NULL without a default and no field"
        " writes it (left → right); map it or give it a default",
        "maps/items.toml: map 'items': crm.item.required is NOT NULL without a default and no field"
        " writes it (left → right); map it or give it a default",
        "maps/items.toml: map 'items': erp.item.code is NOT NULL without a default and no field"
        " writes it (right → left); map it or give it a default",
    ]


def test_every_problem_is_reported_in_one_run_and_nothing_is_deployed(project: Project) -> None:
    project.write_map(
        "items.toml",
        HEAD.format(left="item", key="id", extra="")
        + field("price", "price")
        + field("descriptoin", "loose", 'direction = "to_right"')
        + field("changed_at", "changed_at", 'direction = "to_right"'),
    )
    result = subprocess.run(
        [sys.executable, "-m", "replicator.cli", "--config", str(project.config_path), "deploy"],
        env=project.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("replicator: 4 problems in the maps; nothing was deployed\n")
    assert "field 'descriptoin': left column 'descriptoin' does not exist" in result.stderr
    assert "field 'price': left → right: numeric(32,6) into numeric(32,4)" in result.stderr
    assert (
        "field 'price': right → left: numeric(32,4) into numeric(32,6) would overflow"
        in result.stderr
    )
    assert "field 'changed_at': left → right: timestamp with time zone" in result.stderr
    with psycopg.connect(project.left_url) as conn:
        assert conn.execute("SELECT to_regnamespace('replicator')").fetchone() == (None,)


def test_online_mode_across_two_servers_is_refused(
    tmp_path: Path, pg: object, pg2: object, fresh_db: Callable[..., str]
) -> None:
    project = items_project(tmp_path / "project", fresh_db(pg), fresh_db(pg2))
    found = problems(project, "", extra='mode = "online"')
    assert found == [
        "maps/items.toml: map 'items': mode online needs both sides in one database;"
        " these sides connect differently"
    ]


def test_both_sides_the_same_schema_of_one_database_are_refused_however_it_is_reached(
    project: Project,
) -> None:
    # The right side reaches the same database through another connection string.
    config = project.config_path.read_text().replace('schema = "crm"', 'schema = "erp"')
    project.config_path.write_text(
        config.replace('conninfo_env = "REPLICATOR_RIGHT"', f'conninfo = "{project.left_url}?"')
    )
    project.write_map("items.toml", HEAD.format(left="item", key="id", extra=""))
    for command in (commands.cmd_validate, commands.cmd_deploy):
        with pytest.raises(MapError) as caught:
            command(project.config(), io.StringIO())
        assert [str(p) for p in caught.value.problems] == [
            f"{project.config_path}: [left] and [right] are the same schema erp of one database:"
            " a side is one application's own schema, and a table mapped onto itself would have"
            " each write applied back onto itself; name the other application's schema"
        ]
    assert rows(project.left_url, "SELECT to_regnamespace('replicator') IS NULL") == [(True,)]
