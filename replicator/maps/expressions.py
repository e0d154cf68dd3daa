"""User SQL expressions (filters) through sqlglot, accepted only from an allow-list.

A filter is parsed as one PostgreSQL expression; every node of its tree must be
of a type allowed here, and every column must be an unqualified column of the
row it filters. Parsing alone does not make text safe (``sqlglot.parse`` reads
``1=1; DROP TABLE x`` as two statements without complaint): the allow-list
does (its tables are in ``allowlist``), and the SQL that reaches a database is
re-rendered from the tree, never the user's text, so comments and odd quoting
cannot smuggle anything through.
Rendering assumes standard_conforming_strings is on, as quoting.literal does.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Collection
from typing import cast

import sqlglot
from sqlglot import TokenType, exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ErrorLevel, ParseError, TokenError
from sqlglot.generators.postgres import PostgresGenerator

from replicator.core.errors import ExpressionError, Where
from replicator.core.quoting import DOLLAR_TAG, HOLDS_A_TAG, Sql, ident, literal
from replicator.maps.allowlist import CAST_TYPES, FUNCTIONS, MAY_RAISE, STATEMENTS, STRUCTURE

_SUBQUERY = (
    "uses a subquery, which is not allowed: an expression may read only the columns of its own row"
)
_ONE_ROW = "an expression sees one row, not a group of rows"
# Number literals are printed as written, so they must be plain numbers.
_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# PostgreSQL folds unquoted names to lower case, ASCII letters only.
_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class _Refused(Exception):
    """Why an expression is refused; parse_expression puts where and what in front."""


def parse_expression(
    text: str, *, columns: Collection[str], where: Where, what: str
) -> exp.Expression:
    """Parse ``text`` as one PostgreSQL expression over ``columns``, or raise ExpressionError.

    The message starts with ``f"{where}: {what} "`` and says what was refused and why.
    """
    try:
        tree = _parse(text)
        pending: list[exp.Expr] = [tree]
        while pending:  # a loop, not recursion: a long AND chain is a deep tree
            pending.extend(reversed(_allowed_children(pending.pop(), text, columns)))
    except _Refused as refusal:
        raise ExpressionError(f"{where}: {what} {refusal}") from None
    return tree


def render(tree: exp.Expression, *, qualifier: str) -> Sql:
    """The accepted expression as PostgreSQL text in parentheses, without comments.

    Each column is printed by quoting.ident as ``"qualifier"."column"``; the tree is
    not changed.
    """
    # The one place a user expression becomes SQL text: printed again from a tree the
    # allow-list accepted, never passed through as the user wrote it.
    rendered = Sql(_RowGenerator(qualifier).generate(tree, copy=True))
    return Sql("({})").format(rendered)


def may_raise(tree: exp.Expression) -> bool:
    """Whether an accepted expression can raise an error for some row (MAY_RAISE),
    decided from its tree alone: a capture trigger guards only such a filter."""
    pending: list[exp.Expr] = [tree]
    while pending:
        node = pending.pop()
        kind = type(node)
        if kind is exp.Column or (kind is exp.Neg and type(node.this) is exp.Literal):
            continue  # a column's children spell its name; -5 is a number
        if kind in MAY_RAISE:
            return True
        if kind in (exp.Like, exp.ILike):
            pattern = node.args.get("expression")
            if not (type(pattern) is exp.Literal and pattern.is_string):
                return True
        pending.extend(node.iter_expressions())
    return False


def referenced_columns(tree: exp.Expression) -> tuple[str, ...]:
    """The row's columns an accepted expression reads, in the order it first names them."""
    return tuple(dict.fromkeys(_column_name(c) for c in tree.find_all(exp.Column, bfs=False)))


def columns_read(text: str) -> tuple[str, ...]:
    """The columns an expression names, or () when it does not parse (validate says why)."""
    try:
        return referenced_columns(_parse(text))
    except _Refused:
        return ()


class _RowGenerator(PostgresGenerator):
    """PostgreSQL output in which every column is printed by ident() under one qualifier."""

    __slots__ = ("_qualifier",)

    def __init__(self, qualifier: str) -> None:
        super().__init__(
            dialect="postgres",
            identify=True,
            comments=False,
            unsupported_level=ErrorLevel.RAISE,
        )
        self._qualifier = qualifier

    def column_sql(self, expression: exp.Column) -> str:
        return ident(self._qualifier, _column_name(expression))

    def literal_sql(self, expression: exp.Literal) -> str:
        # Strings through quoting.literal, like every other value in generated SQL.
        if expression.is_string:
            return literal(expression.this)
        return super().literal_sql(expression)


def _parse(text: str) -> exp.Expression:
    if "\x00" in text:
        raise _Refused("contains a NUL character, which PostgreSQL text cannot hold")
    try:
        parsed = sqlglot.parse(text, read="postgres")
    except ParseError as exc:
        raise _Refused(f"does not parse: {_parse_problem(exc)}") from None
    except TokenError as exc:
        # The tokenizer's own reason ("Missing ' from 1:7") is the cause, when it has one.
        reason = exc.__cause__ if isinstance(exc.__cause__, TokenError) else exc
        raise _Refused(f"does not parse: {reason}") from None
    except RecursionError:
        raise _Refused("nests too deeply to parse; write it with fewer parentheses") from None
    # A comment after the last ';' comes back as a Semicolon node; it is no statement.
    trees = [tree for tree in parsed if tree is not None and not isinstance(tree, exp.Semicolon)]
    if not trees:
        raise _Refused("is empty; write a single boolean expression")
    if len(trees) > 1:
        raise _Refused(
            "holds more than one statement (a ';' separates statements);"
            " write a single boolean expression"
        )
    if isinstance(trees[0], exp.Subquery):  # (SELECT ...) alone is a subquery, not a statement
        raise _Refused(_SUBQUERY)
    # Dollar quoting is how function bodies are quoted: none in a map, where it only hides.
    heredoc = next(
        (t for t in Postgres().tokenize(text) if t.token_type == TokenType.HEREDOC_STRING), None
    )
    if heredoc is not None:
        raise _Refused(
            f"uses dollar quoting (around {heredoc.text!r}), which is not allowed: write the"
            " string between single quotes, doubling any ' inside"
        )
    if isinstance(trees[0], STATEMENTS):
        raise _Refused(
            f"is a SQL statement ({_snippet(trees[0])}), not an expression;"
            " write a single boolean expression"
        )
    return cast(exp.Expression, trees[0])


def _parse_problem(exc: ParseError) -> str:
    if not exc.errors:
        return str(exc).splitlines()[0]
    error = exc.errors[0]
    description = str(error["description"])
    if description.startswith("Required keyword"):  # sqlglot's words for a missing operand
        description = "the expression is incomplete"
    return (
        f"{description} near {error['highlight']!r} (line {error['line']}, column {error['col']})"
    )


def _allowed_children(node: exp.Expr, text: str, columns: Collection[str]) -> list[exp.Expr]:
    """The children of an allowed node, still to be checked; raise _Refused for anything else."""
    kind = type(node)
    if kind is exp.Column:
        _check_column(cast(exp.Column, node), columns)
        return []
    if kind is exp.Literal:
        if not node.is_string and not _NUMBER.fullmatch(node.name):
            raise _Refused(f"uses the number {node.name}, which PostgreSQL does not read as one")
        return []
    if kind is exp.Cast:
        target = node.args["to"]
        _check_cast_type(target)
        return [child for child in node.iter_expressions() if child is not target]
    if kind in STRUCTURE or kind in FUNCTIONS:
        return list(node.iter_expressions())
    raise _Refused(_refusal(node, text))


def _check_column(column: exp.Column, columns: Collection[str]) -> None:
    if len(column.parts) > 1:
        own = _column_name(column) in columns
        raise _Refused(
            f"names the qualified column {_snippet(column)}, which is not allowed: only the"
            " row's own columns may be used, unqualified"
            + (f" (write {_snippet(column.this)})" if own else "")
        )
    name = _column_name(column)
    if not name:
        raise _Refused('names a column with an empty name ("")')
    if DOLLAR_TAG.search(name):
        raise _Refused(f"names column {name!r}: it {HOLDS_A_TAG}")
    if name not in columns:
        raise _Refused(
            f"names column {ident(name)}, which the table does not have{_hint(name, columns)}"
        )


def _hint(name: str, columns: Collection[str]) -> str:
    """A pointer to the column a DBA probably meant, or nothing."""
    same = [c for c in columns if c.lower() == name.lower()]
    if same:
        return (
            f" (names are case-sensitive and unquoted names fold to lower case;"
            f" write {ident(same[0])})"
        )
    close = difflib.get_close_matches(name, list(columns), n=1)
    return f" (did you mean {ident(close[0])}?)" if close else ""


def _check_cast_type(target: exp.Expr) -> None:
    builtin = (
        type(target) is exp.DataType
        and target.this in CAST_TYPES
        and all(_is_length(param) for param in target.iter_expressions())
    )
    if not builtin:
        raise _Refused(
            f"casts to {_snippet(target)}, which is not on the allow-list of built-in types"
            f" ({', '.join(sorted(CAST_TYPES.values()))})"
        )


def _is_length(param: exp.Expr) -> bool:
    """A type parameter such as the 10 of varchar(10): an integer, nothing else."""
    return (
        type(param) is exp.DataTypeParam
        and type(param.this) is exp.Literal
        and bool(param.this.is_int)
    )


def _refusal(node: exp.Expr, text: str) -> str:
    """What is wrong with a node that is not on the allow-list, as the DBA would say it."""
    name = _written_name(node, text)
    if isinstance(node, (exp.Query, exp.Subquery, exp.Exists)):
        return _SUBQUERY
    if isinstance(node, exp.AggFunc):
        return (
            f"calls the aggregate function {name or node.sql_name().lower()}(),"
            f" which is not allowed: {_ONE_ROW}"
        )
    if isinstance(node, exp.Window):
        return f"uses the window function {_snippet(node)}, which is not allowed: {_ONE_ROW}"
    if isinstance(node, (exp.Parameter, exp.Placeholder)):
        return f"uses the parameter {_snippet(node)}, which is not allowed: write the value itself"
    if isinstance(node, exp.Interval):
        # sqlglot rewrites INTERVAL text ('1 day; x' becomes '1 DAY'); a cast keeps it as written.
        return f"uses {_snippet(node)}, which is not accepted in this form: write '1 day'::interval"
    if isinstance(node, exp.Func) and name:
        allowed = ", ".join(sorted(_spelling(f) for f in FUNCTIONS))
        return f"calls function {name}(), which is not on the allow-list (allowed: {allowed})"
    # Operators that sqlglot models as functions (->>, COLLATE) end up here too.
    words = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", type(node).__name__)
    return f"uses {_snippet(node)} ({words.lower()}), which is not allowed in an expression"


def _spelling(function: type[exp.Func]) -> str:
    """A function's name as PostgreSQL users write it."""
    return "strpos" if function is exp.StrPosition else function.sql_name().lower()


def _written_name(node: exp.Expr, text: str) -> str | None:
    """A function's name as written (now, not current_timestamp; string_agg, not
    group_concat): where sqlglot kept its place, else the call written around the
    arguments it kept places for (some functions have parsers of their own)."""
    start, end = node.meta.get("start"), node.meta.get("end")
    if isinstance(start, int) and isinstance(end, int):
        return text[start : end + 1]
    inside = [
        (n.meta["start"], n.meta["end"])
        for n in node.walk()
        if n is not node and isinstance(n.meta.get("start"), int)
    ]
    if not inside:
        return None
    first, last = min(s for s, _ in inside), max(e for _, e in inside)
    around = [call for call in _calls(text) if call[1] < first and call[2] > last]
    return around[-1][0] if around else None


def _calls(text: str) -> list[tuple[str, int, int]]:
    """Each function call written in ``text``: its name, and where its parentheses open
    and close; outer calls before the calls inside them."""
    tokens = Postgres().tokenize(text)
    calls: list[tuple[str, int, int]] = []
    opened: list[tuple[str | None, int]] = []
    for before, token in zip([None, *tokens], tokens, strict=False):
        if token.token_type == TokenType.L_PAREN:
            named = before is not None and before.token_type == TokenType.VAR
            opened.append((before.text if named and before else None, token.start))
        elif token.token_type == TokenType.R_PAREN and opened:
            name, start = opened.pop()
            if name is not None:
                calls.append((name, start, token.start))
    return sorted(calls, key=lambda call: call[1])


def _column_name(column: exp.Column) -> str:
    """The column a reference means: unquoted names fold to lower case."""
    identifier = column.this
    name = str(identifier.name)
    return name if identifier.args.get("quoted") else name.translate(_FOLD)


def _snippet(node: exp.Expr) -> str:
    sql = str(node.sql(dialect="postgres", comments=False))
    return sql if len(sql) <= 60 else sql[:57] + "..."


def admitted_values(text: str, column: str, candidates: tuple[str, ...]) -> tuple[str, ...]:
    """Which of ``candidates`` (a column's possible values, as text) a filter can let
    through: those that no top-level AND term of it rules out (``column = 'x'``, ``<>``,
    ``IN (...)``, ``NOT IN (...)``). A term of any other shape rules nothing out, so
    the answer errs towards admitting."""
    try:
        tree = _parse(text)
    except _Refused:
        return candidates
    allowed = set(candidates)
    pending: list[exp.Expr] = [tree]
    while pending:
        term = pending.pop()
        if isinstance(term, exp.And | exp.Paren):
            pending.extend(term.iter_expressions())
            continue
        rule = _values_rule(term, column)
        if rule is not None:
            keep, values = rule
            allowed = allowed & values if keep else allowed - values
    return tuple(v for v in candidates if v in allowed)


def _values_rule(term: exp.Expr, column: str) -> tuple[bool, set[str]] | None:
    """(True, values): the term holds only for these values of ``column``; (False,
    values): never for these; None: it says nothing of the column on its own."""
    negated = isinstance(term, exp.Not)
    if negated:
        term = term.this
        while isinstance(term, exp.Paren):
            term = term.this
    values: set[str] | None = None
    if isinstance(term, exp.EQ | exp.NEQ):
        pair = [term.this, term.expression]
        names = [p for p in pair if isinstance(p, exp.Column) and _column_name(p) == column]
        literals = [p for p in pair if isinstance(p, exp.Literal)]
        if names and literals:
            values = {str(literals[0].this)}
            negated ^= isinstance(term, exp.NEQ)
    elif (
        isinstance(term, exp.In)
        and isinstance(term.this, exp.Column)
        and _column_name(term.this) == column
        and term.expressions
        and all(isinstance(e, exp.Literal) for e in term.expressions)
    ):
        values = {str(e.this) for e in term.expressions}
    if values is None:
        return None
    return (not negated, values)
