"""Generated SQL is composed from pieces that were quoted, never from plain strings:
``Sql.format`` and ``Sql.join`` (psycopg's ``sql.SQL(...).format(...)`` in small)
refuse a ``str``, and the SQL generator composes through nothing else."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from replicator.core.quoting import Sql, bare, ident, literal, sql_join

SQLGEN = Path(__file__).resolve().parent.parent / "replicator" / "sqlgen"


def test_a_name_that_was_never_quoted_cannot_be_formatted_into_sql() -> None:
    with pytest.raises(TypeError, match="not str"):
        Sql.format("{}", "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not str"):
        Sql("SELECT * FROM {}").format('"t"; DROP TABLE t')  # type: ignore[arg-type]


def test_quoted_pieces_and_numbers_compose() -> None:
    composed = Sql("{} = CAST({} AS {})").format(ident("t", "Name"), literal("O'Neil"), Sql("text"))
    assert composed == """"t"."Name" = CAST('O''Neil' AS text)"""
    assert isinstance(composed, Sql)
    assert Sql("(clock->>{})::bigint, {{}}").format(2) == "(clock->>2)::bigint, {}"


def test_a_boolean_is_not_a_number_to_print() -> None:
    with pytest.raises(TypeError):
        Sql("{}").format(True)


def test_joining_refuses_a_plain_string_among_quoted_ones() -> None:
    assert sql_join([ident("a"), ident("b")], " AND ") == '"a" AND "b"'
    assert Sql(", ").join([literal(1), literal("x")]) == "1, 'x'"
    with pytest.raises(TypeError):
        sql_join([ident("a"), "b"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        Sql(", ").join(["a"])  # type: ignore[list-item]


def test_a_bare_name_is_one_of_our_own_aliases_or_nothing() -> None:
    assert bare("cur") == "cur"
    for refused in ("Cur", "a b", "x; DROP TABLE t", "", '"q"'):
        with pytest.raises(ValueError):
            bare(refused)


def _composed_by_hand(argument: ast.expr) -> bool:
    """An argument to Sql(...) that composes text outside Sql.format / Sql.join."""
    if isinstance(argument, ast.JoinedStr | ast.BinOp):
        return True
    return (
        isinstance(argument, ast.Call)
        and isinstance(argument.func, ast.Attribute)
        and argument.func.attr in ("join", "format")
    )


def test_the_sql_generator_composes_only_through_sql_format_and_join() -> None:
    found: list[Any] = []
    for path in sorted(SQLGEN.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Sql"
                and any(_composed_by_hand(argument) for argument in node.args)
            ):
                found.append(f"{path.name}:{node.lineno}")
    assert not found, f"Sql(...) wrapping text composed by hand: {found}"
