"""The injection corpus (issue 9): names a DBA may legally give a schema, table or
column work end to end, however they are spelled; expressions and filters that try
to reach beyond their own row are refused at validate, naming file, map and field.

Group 1, hostile identifiers: one project per capture, its two schemas named with
quotes, semicolons, newlines, unicode and template syntax, and one map per hostile
name, whose tables and key column carry that name on both sides (and whose filters
read that column). Each case writes, changes and removes a row on each side and
watches it arrive on the other.

Group 2, hostile expressions: each case is one filter or transform in a map file
of a small project; ``replicator validate`` must refuse it with the exact line the
DBA reads. The customer-master cases in tests/bad_maps/ already cover a subquery
in a filter (13) and in a transform (14), pg_sleep() in a filter (15), now() in a
transform (16), a ';' with a statement after it (17), a line comment before one
(18), a column of the other side (19), a qualified column of the other side (20),
a whole statement as a filter (40) and a cast to a user type (41); this corpus does
not repeat them.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from devtools.throwaway import ThrowawayServer
from replicator.commands import lifecycle as commands
from replicator.core.errors import ConfigError, MapError
from replicator.core.resources import templates_dir
from replicator.maps.config import load_config
from tests.support import Project, rows
from tests.test_expressions import ALLOWED, MANY, SUBQUERY, TYPES

# --- group 1: hostile identifiers work end to end ------------------------------------

# Legal PostgreSQL identifiers that break anything gluing SQL together by hand.
HOSTILE = {
    "double_quote": 'say "cheese"',
    "single_quote": "O'Brien",
    "semicolon_statement": 'x"; DROP TABLE t; --',
    "spaces": "  customer number  ",
    "unicode_accent": "café",
    "unicode_cjk": "顧客",
    "reserved_select": "select",
    "reserved_order": "order",
    "reserved_user": "user",
    "mixed_case": "CustomerId",
    "backslash": "back\\slash\\",
    "dollar_quotes": "$$ body $$",
    "percent_placeholder": "100%s %(x)s",
    "jinja_braces": "{{ name }} {% if x %}",
    "period_comma_star": "a.b,c*",
    "newline_statement": "line\nDROP TABLE t; --",
    "block_comment": "*/ /* x",
    # 63 bytes, the most PostgreSQL keeps: 31 two-byte characters and one more.
    "long_63_bytes": "é" * 31 + "x",
}

# The schemas of each project: hostile too, one kind on each side.
SCHEMAS = {
    "trigger": ('erp"; DROP SCHEMA public; --', "顧客 CRM {{ x }}"),
    "wal": ("select.from 100%s", "crm\n-- $$ \\"),
}

# A row a filter keeps on its side: neither side replicates it.
STAYS = "stays here"


@dataclass(frozen=True)
class Hostile:
    """A deployed project with one map per hostile name."""

    project: Project
    schemas: tuple[str, str]

    def table(self, side: int, name: str) -> sql.Composable:
        return sql.Identifier(self.schemas[side], name)

    def write(self, side: int, statement: sql.Composable) -> None:
        # Values are composed in as literals: with parameters, psycopg would read the
        # %s inside a quoted name as a placeholder.
        url = (self.project.left_url, self.project.right_url)[side]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.Composed([statement]))

    def contents(self, side: int, name: str) -> list[tuple[object, ...]]:
        url = (self.project.left_url, self.project.right_url)[side]
        query = sql.SQL("SELECT {}, note FROM {} ORDER BY 1").format(
            sql.Identifier(name), self.table(side, name)
        )
        with psycopg.connect(url) as conn:
            return [tuple(r) for r in conn.execute(query).fetchall()]


def toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes (\\" \\\\ \\n \\uXXXX) are TOML's too."""
    return json.dumps(text, ensure_ascii=False)


def sql_identifier(name: str) -> str:
    """How a DBA quotes a column in a filter."""
    return '"' + name.replace('"', '""') + '"'


def hostile_map(case: str, name: str) -> str:
    column = sql_identifier(name)
    return f"""
[[map]]
name = "{case}"
left = {toml_string(name)}
right = {toml_string(name)}
left_filter = {toml_string(f"{column} <> '{STAYS}'")}
right_filter = {toml_string(f"{column} IS DISTINCT FROM '{STAYS}'")}

  [[map.field]]
  left = {toml_string(name)}
  right = {toml_string(name)}
  key = true

  [[map.field]]
  left = "note"
  right = "note"
"""


@pytest.fixture(scope="module", params=["trigger", "wal"])
def hostile(
    request: pytest.FixtureRequest, pg: ThrowawayServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Hostile]:
    """The project, deployed: with capture triggers in one database, or reading the WAL
    of two databases (every table REPLICA IDENTITY FULL, as two-way WAL maps need)."""
    capture = str(request.param)
    schemas = SCHEMAS[capture]
    databases = [f"inject_{uuid.uuid4().hex[:12]}"]
    if capture == "wal":
        databases.append(f"inject_{uuid.uuid4().hex[:12]}")
    urls = [pg.create_database(name, template="template0") for name in databases]
    left_url, right_url = urls[0], urls[-1]
    try:
        for url, schema in ((left_url, schemas[0]), (right_url, schemas[1])):
            with psycopg.connect(url, autocommit=True) as conn:
                # The table the hostile names try to drop.
                conn.execute("CREATE TABLE IF NOT EXISTS public.t (survives boolean)")
                conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
                for name in HOSTILE.values():
                    table = sql.Identifier(schema, name)
                    conn.execute(
                        sql.SQL("CREATE TABLE {} ({} text PRIMARY KEY, note text)").format(
                            table, sql.Identifier(name)
                        )
                    )
                    if capture == "wal":
                        conn.execute(sql.SQL("ALTER TABLE {} REPLICA IDENTITY FULL").format(table))
        root = tmp_path_factory.mktemp(f"hostile_{capture}")
        (root / "maps").mkdir()
        # A side's name defaults to its schema; the WAL slot is named after the side,
        # and slot names allow only a-z, 0-9 and _, so WAL sides need plain names.
        names = ("", "") if capture == "trigger" else ('name = "erp"\n', 'name = "crm"\n')
        (root / "replicator.toml").write_text(
            'maps = "maps"\n'
            f"[left]\n{names[0]}schema = {toml_string(schemas[0])}\n"
            f'conninfo_env = "REPLICATOR_LEFT"\ncapture = "{capture}"\n'
            f"[right]\n{names[1]}schema = {toml_string(schemas[1])}\n"
            f'conninfo_env = "REPLICATOR_RIGHT"\ncapture = "{capture}"\n',
            encoding="utf-8",
        )
        project = Project(root, left_url, right_url)
        project.write_map(
            "hostile.toml", "".join(hostile_map(case, name) for case, name in HOSTILE.items())
        )
        out = io.StringIO()
        assert commands.cmd_validate(project.config(), out) == 0, out.getvalue()
        project.deploy()
        for url in urls:
            assert rows(url, "SELECT to_regclass('public.t') IS NOT NULL") == [(True,)]
        yield Hostile(project, schemas)
    finally:
        for name in databases:
            if pg.running:
                pg.drop_database(name)


def test_the_hostile_names_are_legal_postgresql_identifiers() -> None:
    """So each case below fails for the replicator's sake only."""
    assert len(HOSTILE) >= 12
    for name in [*HOSTILE.values(), *(s for pair in SCHEMAS.values() for s in pair)]:
        assert 0 < len(name.encode()) <= 63, name
        assert "\x00" not in name


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_name_carries_inserts_updates_and_deletes_both_ways(
    hostile: Hostile, case: str
) -> None:
    name = HOSTILE[case]
    key = sql.Identifier(name)
    left, right = 0, 1

    def insert(side: int, value: str, note: str) -> sql.Composable:
        return sql.SQL("INSERT INTO {} ({}, note) VALUES ({}, {})").format(
            hostile.table(side, name), key, sql.Literal(value), sql.Literal(note)
        )

    def update(side: int, value: str, note: str) -> sql.Composable:
        return sql.SQL("UPDATE {} SET note = {} WHERE {} = {}").format(
            hostile.table(side, name), sql.Literal(note), key, sql.Literal(value)
        )

    def delete(side: int, value: str) -> sql.Composable:
        return sql.SQL("DELETE FROM {} WHERE {} = {}").format(
            hostile.table(side, name), key, sql.Literal(value)
        )

    # A row written on each side, with a key as hostile as the names, arrives on the other.
    hostile.write(left, insert(left, "erp'; --", "from the ERP"))
    hostile.write(right, insert(right, "crm$$", "from the CRM"))
    # A row the filters keep where it is.
    hostile.write(left, insert(left, STAYS, "ERP only"))
    hostile.project.drain()
    assert hostile.contents(right, name) == [
        ("crm$$", "from the CRM"),
        ("erp'; --", "from the ERP"),
    ]
    assert hostile.contents(left, name) == [
        ("crm$$", "from the CRM"),
        ("erp'; --", "from the ERP"),
        (STAYS, "ERP only"),
    ]

    # Each side edits the row the other wrote.
    hostile.write(left, update(left, "crm$$", "ERP edit"))
    hostile.write(right, update(right, "erp'; --", "CRM edit"))
    hostile.project.drain()
    edited = [("crm$$", "ERP edit"), ("erp'; --", "CRM edit")]
    assert hostile.contents(right, name) == edited
    assert hostile.contents(left, name) == [*edited, (STAYS, "ERP only")]

    # Each side removes its own row; both go on both sides.
    hostile.write(left, delete(left, "erp'; --"))
    hostile.write(right, delete(right, "crm$$"))
    hostile.project.drain()
    assert hostile.contents(right, name) == []
    assert hostile.contents(left, name) == [(STAYS, "ERP only")]
    for url in {hostile.project.left_url, hostile.project.right_url}:
        assert rows(url, "SELECT count(*) FROM replicator.error_log") == [(0,)]


def test_every_value_a_template_prints_into_a_comment_is_made_safe_for_it() -> None:
    """A line break in a quoted name ends a -- comment; the rest of the name would run."""
    unsafe = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(
            (entry for entry in templates_dir().iterdir() if entry.name.endswith(".j2")),
            key=lambda entry: entry.name,
        )
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if line.lstrip().startswith("--")
        for value in re.findall(r"\{\{(.*?)\}\}", line)
        if not value.rstrip().endswith("|comment")
    ]
    assert unsafe == []


# --- group 2: hostile expressions and filters are refused at validate ---------------


def not_allowed(function: str) -> str:
    return f"calls function {function}(), which is not on the allow-list {ALLOWED}"


@dataclass(frozen=True)
class Refused:
    """A filter (``left_filter``) or a to_right transform of the name field, and the
    end of the line validate prints for it."""

    where: str  # "left_filter" or "to_right"
    text: str
    reason: str


# The ERP's items (code, name, price) and the CRM's (code, name, price, crm_only).
EXPRESSIONS = {
    "scalar_subquery_in_transform": Refused(
        "to_right", "(SELECT max(name) FROM erp.items)", SUBQUERY
    ),
    "exists_subquery": Refused(
        "left_filter", "EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolsuper)", SUBQUERY
    ),
    "separator_then_drop": Refused("left_filter", "1=1; DROP TABLE erp.items", MANY),
    "separator_in_transform": Refused("to_right", "name; DELETE FROM crm.items", MANY),
    "block_comment_before_statement": Refused(
        "left_filter", "price > 0 /* only priced */; TRUNCATE erp.items", MANY
    ),
    "line_comment_in_transform": Refused(
        "to_right", "name -- keep it\n; DROP SCHEMA crm CASCADE", MANY
    ),
    "dollar_quote_then_statement": Refused(
        "left_filter", "name <> $$x$$; DROP TABLE erp.items", MANY
    ),
    "tagged_dollar_quote_then_statement": Refused(
        "to_right", "$t$it's$t$ || name; DROP TABLE erp.items", MANY
    ),
    "dollar_quoted_string": Refused(
        "left_filter",
        "name <> $$x$$",
        "uses dollar quoting (around 'x'), which is not allowed: write the string between"
        " single quotes, doubling any ' inside",
    ),
    "tagged_dollar_quoted_string": Refused(
        "to_right",
        "$capture$it's$capture$ || name",
        'uses dollar quoting (around "it\'s"), which is not allowed: write the string'
        " between single quotes, doubling any ' inside",
    ),
    "pg_read_file": Refused("to_right", "pg_read_file('/etc/passwd')", not_allowed("pg_read_file")),
    "set_config": Refused(
        "left_filter",
        "set_config('session_replication_role', 'replica', false) IS NOT NULL",
        not_allowed("set_config"),
    ),
    "current_setting": Refused(
        "to_right", "current_setting('replicator.applying')", not_allowed("current_setting")
    ),
    "dblink": Refused(
        "left_filter",
        "dblink('host=evil', 'DROP TABLE x') IS NULL",
        not_allowed("dblink"),
    ),
    "lo_import": Refused("to_right", "lo_import('/etc/passwd')::text", not_allowed("lo_import")),
    "nextval": Refused("to_right", "nextval('erp.seq')::text", not_allowed("nextval")),
    "txid_current": Refused("left_filter", "txid_current() > 0", not_allowed("txid_current")),
    "other_table_column": Refused(
        "left_filter",
        "erp.other.col = 1",
        "names the qualified column erp.other.col, which is not allowed: only the row's own"
        " columns may be used, unqualified",
    ),
    "own_column_qualified_with_its_table": Refused(
        "to_right",
        "items.name",
        "names the qualified column items.name, which is not allowed: only the row's own"
        " columns may be used, unqualified (write name)",
    ),
    "other_side_column": Refused(
        "to_right",
        "crm_only",
        "names column 'crm_only' of crm.items, the table it writes; an expression reads only"
        " the row it comes from (erp.items)",
    ),
    "copy_to_program": Refused(
        "left_filter",
        "COPY erp.items TO PROGRAM 'rm -rf /'",
        "is a SQL statement (COPY erp.items TO PROGRAM WITH (rm -rf /)), not an expression;"
        " write a single boolean expression",
    ),
    "cast_to_regclass": Refused(
        "left_filter",
        "'erp.items'::regclass IS NOT NULL",
        f"casts to REGCLASS, which is not on the allow-list of built-in types {TYPES}",
    ),
    "cast_to_regproc": Refused(
        "to_right",
        "'pg_sleep'::regproc::text",
        f"casts to REGPROC, which is not on the allow-list of built-in types {TYPES}",
    ),
    "escape_string": Refused(
        "left_filter",
        "name = E'\\''",
        "uses e'''' (byte string), which is not allowed in an expression",
    ),
    # sqlglot reads U&"..." as U & "...": refused, under that name.
    "unicode_escape_identifier": Refused(
        "left_filter",
        'U&"\\0061" = name',
        'uses U & "\\0061" (bitwise and), which is not allowed in an expression',
    ),
}


def expression_map(case: str, refused: Refused) -> str:
    text = toml_string(refused.text)
    return f"""
[[map]]
name = "{case}"
left = "items"
right = "items"
direction = "to_right"
# Each case writes its own rows of crm.items.
right_filter = "code = '{case}'"
{f"left_filter = {text}" if refused.where == "left_filter" else ""}

  [[map.field]]
  left = "code"
  right = "code"
  key = true

  [[map.field]]
  right = "name"
  {f"to_right = {text}" if refused.where == "to_right" else 'left = "name"'}
"""


@pytest.fixture(scope="module")
def printed(pg: ThrowawayServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """What ``replicator validate`` prints for a project holding one map per case."""
    name = f"inject_{uuid.uuid4().hex[:12]}"
    url = pg.create_database(name, template="template0")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "CREATE SCHEMA erp; CREATE SCHEMA crm;"
                " CREATE TABLE erp.items (code text PRIMARY KEY, name text, price numeric);"
                " CREATE TABLE crm.items (code text PRIMARY KEY, name text, price numeric,"
                " crm_only text);"
                ' CREATE TABLE erp."a$capture$b" (code text PRIMARY KEY, "x$t$" text);'
            )
        root = tmp_path_factory.mktemp("expressions")
        (root / "maps").mkdir()
        (root / "replicator.toml").write_text(
            'maps = "maps"\n[left]\nschema = "erp"\nconninfo_env = "REPLICATOR_LEFT"\n'
            '[right]\nschema = "crm"\nconninfo_env = "REPLICATOR_RIGHT"\n'
        )
        project = Project(root, url, url)
        project.write_map(
            "items.toml",
            "".join(expression_map(c, r) for c, r in EXPRESSIONS.items()) + TAGGED_MAP,
        )
        try:
            commands.cmd_validate(project.config(), io.StringIO())
        except MapError as refused:
            yield [str(problem) for problem in refused.problems]
        else:
            yield []
    finally:
        if pg.running:
            pg.drop_database(name)


@pytest.mark.parametrize("case", list(EXPRESSIONS))
def test_a_hostile_expression_is_refused_at_validate_naming_file_map_and_field(
    printed: list[str], case: str
) -> None:
    refused = EXPRESSIONS[case]
    what = "left_filter" if refused.where == "left_filter" else "field 'name': to_right"
    expected = f"maps/items.toml: map '{case}': {what} {refused.text!r} {refused.reason}"
    mine = [line for line in printed if line.startswith(f"maps/items.toml: map '{case}':")]
    assert mine == [expected]


# A name holding a dollar-quote tag such as $capture$ would end a generated function
# body where it is printed; "$$" and a lone "$" work (group 1).
TAGGED_MAP = """
[[map]]
name = "dollar_tag_name"
left = "a$capture$b"
right = "items"
direction = "to_right"
right_filter = "code = 'dollar_tag_name'"

  [[map.field]]
  left = "code"
  right = "code"
  key = true

  [[map.field]]
  left = "x$t$"
  right = "name"

  [[map.field]]
  right = "price"
  to_right = "length(code)"

[[map]]
name = "dollar_tag_read"
left = "items"
right = "items"
direction = "to_right"
right_filter = "code = 'dollar_tag_read'"

  [[map.field]]
  left = "code"
  right = "code"
  key = true

  [[map.field]]
  right = "name"
  to_right = 'upper("y$u$")'
"""


def test_a_name_holding_a_dollar_quote_tag_is_refused_at_validate(printed: list[str]) -> None:
    tag = (
        "holds a dollar-quote tag ($name$), which replicator does not support in names:"
        " the generated functions are quoted with such tags; rename it"
    )
    mine = [line for line in printed if line.startswith("maps/items.toml: map 'dollar_tag_name':")]
    assert mine == [
        f"maps/items.toml: map 'dollar_tag_name': left table 'a$capture$b' {tag}",
        f"maps/items.toml: map 'dollar_tag_name': field 'x$t$': left column 'x$t$' {tag}",
    ]
    # An expression reading such a column (the probe of its type is not even built).
    assert [
        line for line in printed if line.startswith("maps/items.toml: map 'dollar_tag_read':")
    ] == [
        "maps/items.toml: map 'dollar_tag_read': field 'name': to_right 'upper(\"y$u$\")'"
        f" names column 'y$u$': it {tag}"
    ]


def test_a_schema_holding_a_dollar_quote_tag_is_refused_when_the_config_is_read(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    config = tmp_path_factory.mktemp("tagged") / "replicator.toml"
    config.write_text('[left]\nschema = "erp$x$"\nconninfo = "dbname=a"\n[right]\nschema = "crm"\n')
    with pytest.raises(ConfigError) as refused:
        load_config(config)
    assert str(refused.value) == (
        f"{config}: [left]: schema 'erp$x$' holds a dollar-quote tag ($name$), which replicator"
        " does not support in names: the generated functions are quoted with such tags;"
        " rename it"
    )
