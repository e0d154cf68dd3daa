"""Filters are accepted only as expressions over the row's own columns; what
reaches the database is re-rendered from the parsed tree, never the user's text."""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from replicator.core.errors import ExpressionError, Where
from replicator.maps.expressions import parse_expression, referenced_columns, render

COLUMNS = [
    "a",
    "b",
    "d",
    "name",
    "Name2",
    "status",
    "customer_type",
    "credit_limit",
    "blocked",
    "amount",
    "Mixed Case",
    'we"ird',
    "Äb",
]
WHERE = Where(file="maps/customers.toml", map="customers")
PREFIX = "maps/customers.toml: map 'customers': left filter "
ALLOWED = (
    "(allowed: abs, coalesce, concat, concat_ws, greatest, least, left, length, lower, nullif,"
    " regexp_replace, replace, right, round, split_part, strpos, substring, trim, upper)"
)
TYPES = (
    "(bigint, boolean, char, date, double precision, integer, interval, numeric, real, smallint,"
    " text, timestamp, timestamptz, uuid, varchar)"
)
SUBQUERY = (
    "uses a subquery, which is not allowed: an expression may read only the columns of its own row"
)
MANY = (
    "holds more than one statement (a ';' separates statements); write a single boolean expression"
)
STATEMENT = "not an expression; write a single boolean expression"
ONE_ROW = "which is not allowed: an expression sees one row, not a group of rows"


def parse(text: str) -> exp.Expression:
    return parse_expression(text, columns=COLUMNS, where=WHERE, what=f"left filter {text!r}")


def accept(text: str, qualifier: str = "new") -> str:
    return render(parse(text), qualifier=qualifier)


def refusal(text: str) -> str:
    """The refusal message after the where/what prefix, which every message starts with."""
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text, columns=COLUMNS, where=WHERE, what="left filter")
    message = str(caught.value)
    assert message.startswith(PREFIX)
    return message.removeprefix(PREFIX)


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("customer_type = 'Organization'", """("new"."customer_type" = 'Organization')"""),
        (
            "status IN ('a','b') AND credit_limit > 0",
            """("new"."status" IN ('a', 'b') AND "new"."credit_limit" > 0)""",
        ),
        ("lower(name) LIKE 'a%'", """(LOWER("new"."name") LIKE 'a%')"""),
        ("coalesce(blocked, false) = false", """(COALESCE("new"."blocked", FALSE) = FALSE)"""),
        ('"Mixed Case" IS NOT NULL', """("new"."Mixed Case" IS NOT NULL)"""),
        ("amount::numeric(10,2) > 5", """(CAST("new"."amount" AS DECIMAL(10, 2)) > 5)"""),
        (
            "CASE WHEN a > 1 THEN 'x' ELSE 'y' END = 'x'",
            """(CASE WHEN "new"."a" > 1 THEN 'x' ELSE 'y' END = 'x')""",
        ),
        ("a IS DISTINCT FROM b", """("new"."a" IS DISTINCT FROM "new"."b")"""),
        ("a IS NOT DISTINCT FROM b", """("new"."a" IS NOT DISTINCT FROM "new"."b")"""),
        ("a NOT BETWEEN 1 AND 3", """(NOT "new"."a" BETWEEN 1 AND 3)"""),
        ("name NOT ILIKE 'a%'", """("new"."name" NOT ILIKE 'a%')"""),
        ("name LIKE 'a!%' ESCAPE '!'", """("new"."name" LIKE 'a!%' ESCAPE '!')"""),
        ("a % 2 = 0 OR -a > b / 2", """("new"."a" % 2 = 0 OR -"new"."a" > "new"."b" / 2)"""),
        ("name || 'x' = 'ax'", """("new"."name" || 'x' = 'ax')"""),
        (
            "substring(name from 1 for 2) = 'ab'",
            """(SUBSTRING("new"."name" FROM 1 FOR 2) = 'ab')""",
        ),
        ("trim(both 'x' from name) = 'y'", """(TRIM(BOTH 'x' FROM "new"."name") = 'y')"""),
        (
            "round(amount, 2) > abs(credit_limit)",
            """(ROUND("new"."amount", 2) > ABS("new"."credit_limit"))""",
        ),
        ("nullif(status, '') IS NULL", """(NULLIF("new"."status", '') IS NULL)"""),
        ("d > '1 day'::interval", """("new"."d" > CAST('1 day' AS INTERVAL))"""),
        ("a::varchar(10) = '1'", """(CAST("new"."a" AS VARCHAR(10)) = '1')"""),
        ("d::timestamptz > '2020-01-01'", """(CAST("new"."d" AS TIMESTAMPTZ) > '2020-01-01')"""),
        # unquoted names fold to lower case (ASCII letters only, as PostgreSQL does)
        ("NAME = 'x'", """("new"."name" = 'x')"""),
        ("ÄB = 1", """("new"."Äb" = 1)"""),
        ('"Name2" = 1', """("new"."Name2" = 1)"""),
        ('"we""ird" = 1', """("new"."we""ird" = 1)"""),
        ("""name = 'it''s'""", """("new"."name" = 'it''s')"""),
        ("name LIKE 'a\\_%'", """("new"."name" LIKE 'a\\_%')"""),
        # sqlglot maps a few other spellings onto allowed functions
        ("substr(name, 2) = 'b'", """(SUBSTRING("new"."name" FROM 2) = 'b')"""),
        # a trailing ';', even with a comment after it, is not a second statement
        ("a = 1;", """("new"."a" = 1)"""),
        ("a = 1; -- all of it", """("new"."a" = 1)"""),
    ],
)
def test_an_expression_over_the_row_is_accepted_and_rendered(text: str, rendered: str) -> None:
    sql = accept(text)
    assert sql == rendered
    sqlglot.parse_one(sql, read="postgres")  # what we emit parses again


@pytest.mark.parametrize(
    "text",
    [
        "a = 1 -- ; drop table x",
        "a = 1 /* ; drop */",
        "a = 1 /* x /* ; drop table x */ y */",
        "/* ; drop table x */ a = 1",
        "a = 1 -- ; drop table x\n OR b = 2",
    ],
)
def test_comments_are_accepted_but_never_rendered(text: str) -> None:
    sql = accept(text)
    assert "drop" not in sql.lower()
    assert "--" not in sql and "/*" not in sql
    assert sql.startswith('("new"."a" = 1')


@pytest.mark.parametrize(
    ("text", "quoted"),
    [("$$abc$$ = a", "abc"), ("$q$it's; drop table x$q$ = name", "it's; drop table x")],
)
def test_dollar_quoting_is_refused_for_single_quotes(text: str, quoted: str) -> None:
    assert refusal(text) == (
        f"uses dollar quoting (around {quoted!r}), which is not allowed: write the string"
        " between single quotes, doubling any ' inside"
    )


def test_a_string_literal_keeps_its_value_through_rendering() -> None:
    value = '1\'; DROP TABLE x; --\\ \n$$ "q"'
    text = "name = " + "'" + value.replace("'", "''") + "'"
    sql = accept(text)
    literals = [node for node in sqlglot.parse_one(sql, read="postgres").find_all(exp.Literal)]
    assert [literal.this for literal in literals] == [value]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1=1; DROP TABLE x", MANY),
        ("''; drop table x; --", MANY),
        ("a = 1\n;\ndrop table x", MANY),
        ("a = 1; SELECT pg_sleep(10)", MANY),
        (
            "DROP TABLE x",
            f"is a SQL statement (DROP TABLE x), {STATEMENT}",
        ),
        (
            "SELECT 1",
            f"is a SQL statement (SELECT 1), {STATEMENT}",
        ),
        (
            "DELETE FROM x",
            f"is a SQL statement (DELETE FROM x), {STATEMENT}",
        ),
        (
            "a = 1 UNION SELECT 1",
            f"is a SQL statement (a = 1 UNION SELECT 1), {STATEMENT}",
        ),
        ("a IN (SELECT x FROM t)", SUBQUERY),
        ("EXISTS (SELECT 1)", SUBQUERY),
        ("a = (SELECT max(x) FROM t)", SUBQUERY),
        ("a IN (1, (SELECT 2))", SUBQUERY),
        (
            "pg_sleep(10) IS NULL",
            f"calls function pg_sleep(), which is not on the allow-list {ALLOWED}",
        ),
        (
            "current_setting('x') = 'y'",
            f"calls function current_setting(), which is not on the allow-list {ALLOWED}",
        ),
        ("nextval('s') > 0", f"calls function nextval(), which is not on the allow-list {ALLOWED}"),
        (
            "a = 'x' OR pg_terminate_backend(1)",
            f"calls function pg_terminate_backend(), which is not on the allow-list {ALLOWED}",
        ),
        # sqlglot knows now() as CURRENT_TIMESTAMP; the message says what the DBA wrote
        ("now() > d", f"calls function now(), which is not on the allow-list {ALLOWED}"),
        (
            "lower(name) = 'x' AND\n  set_config('a', 'b', false) = 'b'",
            f"calls function set_config(), which is not on the allow-list {ALLOWED}",
        ),
        (
            "pg_catalog.pg_sleep(1) IS NULL",
            "uses pg_catalog.pg_sleep(1) (dot), which is not allowed in an expression",
        ),
        (
            "other_table.col = 1",
            "names the qualified column other_table.col, which is not allowed: only the row's own"
            " columns may be used, unqualified",
        ),
        (
            "fno.customers.name = 'x'",
            "names the qualified column fno.customers.name, which is not allowed: only the row's"
            " own columns may be used, unqualified (write name)",
        ),
        (
            "new.a = 1",
            "names the qualified column new.a, which is not allowed: only the row's own columns"
            " may be used, unqualified (write a)",
        ),
        ("nope = 1", 'names column "nope", which the table does not have'),
        ("nam = 'x'", 'names column "nam", which the table does not have (did you mean "name"?)'),
        (
            "Name2 = 1",
            'names column "name2", which the table does not have (names are case-sensitive and'
            ' unquoted names fold to lower case; write "Name2")',
        ),
        (
            '"NAME" = 1',
            'names column "NAME", which the table does not have (names are case-sensitive and'
            ' unquoted names fold to lower case; write "name")',
        ),
        (
            '"a""; drop table x; --" = 1',
            'names column "a""; drop table x; --", which the table does not have',
        ),
        ('"" = 1', 'names a column with an empty name ("")'),
        ("count(*) > 1", f"calls the aggregate function count(), {ONE_ROW}"),
        ("max(a) > 1", f"calls the aggregate function max(), {ONE_ROW}"),
        ("row_number() OVER () = 1", f"uses the window function ROW_NUMBER() OVER (), {ONE_ROW}"),
        ("a = $1", "uses the parameter $1, which is not allowed: write the value itself"),
        ("a = ?", "uses the parameter ?, which is not allowed: write the value itself"),
        (
            "a::my_enum = 'x'",
            f"casts to my_enum, which is not on the allow-list of built-in types {TYPES}",
        ),
        (
            "a::public.my_enum = 'x'",
            f"casts to public.my_enum, which is not on the allow-list of built-in types {TYPES}",
        ),
        (
            "a::regclass IS NULL",
            f"casts to REGCLASS, which is not on the allow-list of built-in types {TYPES}",
        ),
        (
            "a::text[] = '{}'",
            f"casts to TEXT[], which is not on the allow-list of built-in types {TYPES}",
        ),
        (
            "a::varchar(b) = 'x'",
            f"casts to VARCHAR(B), which is not on the allow-list of built-in types {TYPES}",
        ),
        # sqlglot rewrites INTERVAL text ('1 day; x' becomes '1 DAY'), so only the cast form
        (
            "d > interval '1 day'",
            "uses INTERVAL '1 DAY', which is not accepted in this form: write '1 day'::interval",
        ),
        ("a[1] = 1", "uses a[1] (bracket), which is not allowed in an expression"),
        (
            "a->>'x' = 'y'",
            "uses a ->> 'x' (json extract scalar), which is not allowed in an expression",
        ),
        ("ARRAY[1, 2] = a", "uses ARRAY[1, 2] (array), which is not allowed in an expression"),
        ("name = E'x\\'y'", "uses e'x''y' (byte string), which is not allowed in an expression"),
        ("a = 1 b", "uses a = 1 AS b (alias), which is not allowed in an expression"),
        (
            "current_timestamp > d",
            "uses CURRENT_TIMESTAMP (current timestamp), which is not allowed in an expression",
        ),
        ("a = 1e", "uses the number 1e, which PostgreSQL does not read as one"),
        ("", "is empty; write a single boolean expression"),
        ("   \n", "is empty; write a single boolean expression"),
        ("-- just a comment", "is empty; write a single boolean expression"),
        ("(", "does not parse: the expression is incomplete near '(' (line 1, column 1)"),
        (
            "a = 1 LIMIT 1",
            "does not parse: Invalid expression / Unexpected token near 'LIMIT'"
            " (line 1, column 11)",
        ),
        ("name = 'x", "does not parse: Missing ' from 1:7"),
        ("a = 'x\x00'", "contains a NUL character, which PostgreSQL text cannot hold"),
        (
            "(" * 60 + "a" + ")" * 60 + " = 1",
            "nests too deeply to parse; write it with fewer parentheses",
        ),
    ],
)
def test_an_unsafe_or_invalid_expression_is_refused_with_the_reason(text: str, reason: str) -> None:
    assert refusal(text) == reason


# Attempts to get anything but a row-local expression into the generated SQL, each with
# the allow-list's own refusal.
NOT_ALLOWED = "which is not on the allow-list " + ALLOWED
INJECTIONS = [
    ("1=1; DROP TABLE x", MANY),
    ("a = 1; DROP TABLE x; --", MANY),
    ("''; drop table x; --", MANY),
    ("a = '' ; drop table x; --'", MANY),
    ("a = 1 --\n; drop table x", MANY),
    ("a = 1 /* */; drop table x", MANY),
    ("a = $$x$$; drop table x", MANY),
    ("a = 1 OR pg_sleep(10) IS NULL", f"calls function pg_sleep(), {NOT_ALLOWED}"),
    ("a = 'x' OR pg_terminate_backend(1)", f"calls function pg_terminate_backend(), {NOT_ALLOWED}"),
    ("a IN (SELECT x FROM t)", SUBQUERY),
    ("a = (SELECT 1 FROM pg_sleep(10))", SUBQUERY),
    ("EXISTS (SELECT 1)", SUBQUERY),
    (
        "a = ANY(ARRAY(SELECT 1))",
        "uses ANY(ARRAY(SELECT 1)) (any), which is not allowed in an expression",
    ),
    (
        "pg_catalog.pg_sleep(1) IS NULL",
        "uses pg_catalog.pg_sleep(1) (dot), which is not allowed in an expression",
    ),
    ('"pg_sleep"(1) IS NULL', f'calls function "pg_sleep"(), {NOT_ALLOWED}'),
    ("lo_import('/etc/passwd') > 0", f"calls function lo_import(), {NOT_ALLOWED}"),
    ("a = dblink_exec('drop table x')", f"calls function dblink_exec(), {NOT_ALLOWED}"),
    (
        "a::regclass IS NULL",
        f"casts to REGCLASS, which is not on the allow-list of built-in types {TYPES}",
    ),
    (
        "'drop table x'::my_enum IS NULL",
        f"casts to my_enum, which is not on the allow-list of built-in types {TYPES}",
    ),
    ("a = $1", "uses the parameter $1, which is not allowed: write the value itself"),
    ("a = :x", "uses the parameter %(x)s, which is not allowed: write the value itself"),
    ("a = %s", "uses the parameter %s, which is not allowed: write the value itself"),
    ("nope = 1", 'names column "nope", which the table does not have'),
    (
        "new.a = 1 OR old.a = 1",
        "names the qualified column new.a, which is not allowed: only the row's own columns"
        " may be used, unqualified (write a)",
    ),
    (
        "a = 1 UNION SELECT 1",
        "is a SQL statement (a = 1 UNION SELECT 1), not an expression;"
        " write a single boolean expression",
    ),
    (
        "a COLLATE \"C\" = 'x'",
        'uses a COLLATE "C" (collate), which is not allowed in an expression',
    ),
    ('a = U&"x"', 'uses U & "x" (bitwise and), which is not allowed in an expression'),
    (
        "d > interval '1 day; drop table x'",
        "uses INTERVAL '1 DAY', which is not accepted in this form: write '1 day'::interval",
    ),
    ("count(*) OVER () > 1", f"uses the window function COUNT(*) OVER (), {ONE_ROW}"),
    ("(a, b) = (1, 2)", "uses (a, b) (tuple), which is not allowed in an expression"),
    ("ROW(a, b) IS NULL", f"calls function ROW(), {NOT_ALLOWED}"),
]


@pytest.mark.parametrize(("text", "reason"), INJECTIONS)
def test_injection_attempts_are_refused_with_the_allow_lists_reason(text: str, reason: str) -> None:
    assert refusal(text) == reason


def test_render_prints_columns_under_the_qualifier_and_quotes_odd_names() -> None:
    tree = parse('"we""ird" = 1 AND a > 0')
    assert render(tree, qualifier="s") == """("s"."we""ird" = 1 AND "s"."a" > 0)"""
    assert render(tree, qualifier="old") == """("old"."we""ird" = 1 AND "old"."a" > 0)"""


def test_render_leaves_the_tree_as_it_was() -> None:
    tree = parse("a = 1 /* note */ AND lower(name) = 'x'")
    before = repr(tree)
    render(tree, qualifier="new")
    assert repr(tree) == before
    assert tree.find(exp.Column) is not None


@pytest.mark.parametrize(
    "text",
    [
        "customer_type = 'Organization'",
        "status IN ('a','b') AND credit_limit > 0",
        "CASE WHEN a > 1 THEN 'x' ELSE 'y' END = 'x'",
        "coalesce(greatest(a, b), least(a, b), 0) BETWEEN -1 AND 1.5e3",
        "NOT (a IS NULL OR b IS NOT NULL) AND d::date > '2020-01-01'",
    ],
)
def test_rendered_sql_reads_back_as_the_same_expression(text: str) -> None:
    again = sqlglot.parse_one(accept(text, qualifier="new"), read="postgres")
    assert isinstance(again, exp.Paren)
    assert {c.table for c in again.find_all(exp.Column)} == {"new"}
    plain = again.this.transform(lambda n: exp.column(n.name) if isinstance(n, exp.Column) else n)
    assert plain.sql("postgres") == parse(text).sql("postgres")


def test_a_long_chain_of_conditions_is_checked_without_recursion() -> None:
    text = " AND ".join(f"a <> {i}" for i in range(3000))
    sql = accept(text)
    assert sql.count('"new"."a"') == 3000


def test_referenced_columns_are_the_row_columns_read_in_order() -> None:
    tree = parse("b > 1 AND (NAME = 'x' OR b < 0) AND \"Mixed Case\" IS NULL")
    assert referenced_columns(tree) == ("b", "name", "Mixed Case")


# Aggregates and other functions sqlglot reads into nodes of its own, often under
# another name (string_agg is its group_concat), each called as the map would.
WRITTEN_CALLS = [
    "string_agg(name, ',')",
    "STRING_AGG(DISTINCT name, ',' ORDER BY a)",
    "upper(string_agg(name, ','))",
    "string_agg(upper(name), ',')",
    "coalesce(a, 1) + string_agg(name, name) IS NULL",
    "json_agg(name)",
    "jsonb_agg(name)",
    "json_object_agg(name, a)",
    "array_agg(a)",
    "xmlagg(name)",
    "bool_and(blocked)",
    "every(blocked)",
    "avg(a)",
    "stddev(a)",
    "count(*)",
    "now()",
    "md5(name)",
    "to_char(a, name)",
    "date_trunc(name, d)",
    "array_to_string(array_agg(a), ',')",
]


@pytest.mark.parametrize("text", WRITTEN_CALLS)
def test_a_refused_function_is_named_as_the_map_wrote_it(text: str) -> None:
    with pytest.raises(ExpressionError) as refused:
        parse(text)
    named = re.search(r"function (\w+)\(\)", str(refused.value))
    assert named is not None, refused.value
    assert named.group(1) in re.findall(r"(\w+)\s*\(", text), refused.value
