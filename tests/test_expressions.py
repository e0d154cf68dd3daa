"""Filters are accepted only as expressions over the row's own columns; what
reaches the database is re-rendered from the parsed tree."""

from __future__ import annotations

import pytest
import sqlglot

from replicator.errors import ExpressionError, Where
from replicator.expressions import parse_expression, referenced_columns, render

COLUMNS = ["a", "b", "name", "status", "credit_limit", "blocked", "amount", "Mixed Case", 'we"ird']
WHERE = Where(file="maps/m.toml", map="m")


def accept(text: str) -> str:
    tree = parse_expression(text, columns=COLUMNS, where=WHERE, what=f"left_filter {text!r}")
    return render(tree, qualifier="new")


def refusal(text: str) -> str:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text, columns=COLUMNS, where=WHERE, what="left_filter")
    message = str(caught.value)
    assert message.startswith("maps/m.toml: map 'm': left_filter ")
    return message.removeprefix("maps/m.toml: map 'm': left_filter ")


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("status = 'Organization'", """("new"."status" = 'Organization')"""),
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
        ("NAME = 'x'", """("new"."name" = 'x')"""),  # unquoted names fold to lower case
        ("a = 1 -- ; drop table x", """("new"."a" = 1)"""),
        ("a = 1 /* ; drop table x */", """("new"."a" = 1)"""),
        ("""name = 'it''s'""", """("new"."name" = 'it''s')"""),
        ('"we""ird" = 1', """("new"."we""ird" = 1)"""),
        ("name = 'replicator_column_0'", """("new"."name" = 'replicator_column_0')"""),
    ],
)
def test_an_expression_over_the_row_is_accepted_and_rendered_safely(
    text: str, rendered: str
) -> None:
    sql = accept(text)
    assert sql == rendered
    assert "drop" not in sql.lower()
    sqlglot.parse_one(sql, read="postgres")  # what we emit parses again


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "1=1; DROP TABLE x",
            "holds more than one statement (a ';' separates statements); write one expression",
        ),
        (
            "''; drop table x; --",
            "holds more than one statement (a ';' separates statements); write one expression",
        ),
        (
            "a IN (SELECT x FROM t)",
            "uses a subquery, which is not allowed: an expression may read only the columns of its own row",
        ),
        (
            "EXISTS (SELECT 1)",
            "uses a subquery, which is not allowed: an expression may read only the columns of its own row",
        ),
        ("pg_sleep(10) IS NULL", "calls pg_sleep(), which is not on the allow-list"),
        ("current_setting('x') = 'y'", "calls current_setting(), which is not on the allow-list"),
        (
            "a = 'x' OR pg_terminate_backend(1)",
            "calls pg_terminate_backend(), which is not on the allow-list",
        ),
        ("nextval('s') > 0", "calls nextval(), which is not on the allow-list"),
        ("now() > a", "calls current_timestamp(), which is not on the allow-list"),
        (
            "other_table.a = 1",
            "names other_table.a: only the row's own columns, unqualified, may be used",
        ),
        (
            "fno.customers.name = 'x'",
            "names fno.customers.name: only the row's own columns, unqualified, may be used",
        ),
        ("nope = 1", "names column 'nope', which the table does not have"),
        ('"Name" = 1', "names column 'Name', which the table does not have"),
        ("count(*) > 1", "uses the aggregate COUNT(*), which is not allowed in a row filter"),
        ("a = $1", "uses '$1' (Parameter), which an expression may not contain"),
        ("a::my_enum = 'x'", "casts to my_enum; only built-in types are allowed"),
        ("", "is empty; write a boolean SQL expression"),
        ("(", "does not parse"),
    ],
)
def test_an_unsafe_or_invalid_expression_is_refused_with_the_reason(text: str, reason: str) -> None:
    assert refusal(text).startswith(reason)


def test_dollar_quoted_text_becomes_an_ordinary_literal() -> None:
    assert accept("$$abc$$ = name") == """('abc' = "new"."name")"""


def test_referenced_columns_are_the_row_columns_read() -> None:
    tree = parse_expression(
        "a > 1 AND (NAME = 'x' OR a < 0)", columns=COLUMNS, where=WHERE, what="f"
    )
    assert referenced_columns(tree) == ("a", "name")
