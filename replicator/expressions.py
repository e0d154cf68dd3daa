"""User SQL expressions (filters) through sqlglot, accepted only from an allow-list.

A filter is parsed as one PostgreSQL expression; every node of its tree must
be of a type listed here, and every column must be an unqualified column of
the row it filters. Parsing does not make text safe on its own
(``parse_one("1=1; DROP TABLE x")`` does not raise): the allow-list does, and
the SQL that reaches a database is re-rendered from the tree, never the
user's text, so comments and odd quoting cannot smuggle anything through.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import sqlglot
from sqlglot import exp

from replicator.errors import ExpressionError, Where
from replicator.quoting import Sql, ident

# Operators, literals and structure an expression over one row may use.
STRUCTURE: tuple[type[exp.Expr], ...] = (
    exp.Column,
    exp.RawString,  # $$dollar quoted$$ text: a literal, re-rendered quoted
    exp.Identifier,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Paren,
    exp.And,
    exp.Or,
    exp.Not,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.Mod,
    exp.Neg,
    exp.DPipe,
    exp.Case,
    exp.If,
    exp.Cast,
    exp.DataType,
    exp.DataTypeParam,
)
# Functions an expression may call: pure, row-local, no side effects.
FUNCTIONS: dict[type[exp.Expr], str] = {
    exp.Lower: "lower",
    exp.Upper: "upper",
    exp.Trim: "trim",
    exp.Length: "length",
    exp.Substring: "substring",
    exp.Coalesce: "coalesce",
    exp.Nullif: "nullif",
    exp.Abs: "abs",
    exp.Round: "round",
    exp.Greatest: "greatest",
    exp.Least: "least",
}
# Casts only to types every PostgreSQL database has.
CAST_TYPES = {
    exp.DataType.Type.TEXT,
    exp.DataType.Type.VARCHAR,
    exp.DataType.Type.CHAR,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
    exp.DataType.Type.DECIMAL,
    exp.DataType.Type.DOUBLE,
    exp.DataType.Type.FLOAT,
    exp.DataType.Type.BOOLEAN,
    exp.DataType.Type.DATE,
    exp.DataType.Type.TIMESTAMP,
    exp.DataType.Type.TIMESTAMPTZ,
    exp.DataType.Type.UUID,
}
STATEMENTS = (exp.Select, exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop, exp.Command)


def parse_expression(text: str, *, columns: Collection[str], where: Where, what: str) -> exp.Expr:
    """Parse ``text`` as one expression over ``columns``, or raise ExpressionError."""

    def refuse(reason: str) -> ExpressionError:
        return ExpressionError(f"{where}: {what} {reason}")

    if not text.strip():
        raise refuse("is empty; write a boolean SQL expression")
    try:
        trees = [tree for tree in sqlglot.parse(text, read="postgres") if tree is not None]
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as exc:
        raise refuse(f"does not parse: {str(exc).splitlines()[0]}") from None
    if len(trees) != 1:
        raise refuse(
            "holds more than one statement (a ';' separates statements); write one expression"
        )
    tree = trees[0]
    for node in tree.walk():
        _check_node(node, columns, refuse)
    return tree


def _check_node(
    node: exp.Expr, columns: Collection[str], refuse: Callable[[str], ExpressionError]
) -> None:
    if isinstance(node, (*STATEMENTS, exp.Subquery, exp.Exists)):
        raise refuse(
            "uses a subquery, which is not allowed: an expression may read only the columns of its own row"
        )
    if isinstance(node, exp.AggFunc):
        raise refuse(
            f"uses the aggregate {node.sql('postgres')}, which is not allowed in a row filter"
        )
    if isinstance(node, exp.Column):
        if node.table or node.args.get("db") or node.args.get("catalog"):
            raise refuse(
                f"names {node.sql('postgres')}: only the row's own columns, unqualified, may be used"
            )
        name = column_name(node)
        if name not in columns:
            raise refuse(f"names column {name!r}, which the table does not have")
        return
    if isinstance(node, exp.Cast) and node.to.this not in CAST_TYPES:
        raise refuse(f"casts to {node.to.sql('postgres')}; only built-in types are allowed")
    if isinstance(node, exp.In) and node.args.get("query") is not None:
        raise refuse(
            "uses a subquery, which is not allowed: an expression may read only the columns of its own row"
        )
    if (
        isinstance(node, exp.Func)
        and not isinstance(node, STRUCTURE)
        and type(node) not in FUNCTIONS
    ):
        called = node.name if isinstance(node, exp.Anonymous) else node.sql_name().lower()
        raise refuse(
            f"calls {called}(), which is not on the allow-list ({', '.join(sorted(FUNCTIONS.values()))})"
        )
    if not isinstance(node, STRUCTURE) and type(node) not in FUNCTIONS:
        raise refuse(
            f"uses {node.sql('postgres')!r} ({type(node).__name__}), which an expression may not contain"
        )


def column_name(column: exp.Column) -> str:
    """The column a reference means: PostgreSQL folds unquoted names to lower case."""
    identifier: exp.Identifier = column.this
    name = str(identifier.name)
    return name if identifier.quoted else name.lower()


def referenced_columns(tree: exp.Expr) -> tuple[str, ...]:
    """The row's columns an accepted expression reads, in first-use order."""
    return tuple(dict.fromkeys(column_name(c) for c in tree.find_all(exp.Column)))


def render(tree: exp.Expr, *, qualifier: str) -> Sql:
    """The accepted expression as SQL, each column as ``qualifier."column"``, no comments.

    Columns are printed by quoting.ident, the one place names become SQL: sqlglot
    renders the rest around placeholders that are then swapped for them.
    """
    copy = tree.copy()
    text = tree.sql(dialect="postgres")
    stem = "replicator_column_"
    while stem in text:  # a placeholder must not occur anywhere else in the output
        stem = "x" + stem
    names: dict[str, str] = {}
    for position, column in enumerate(list(copy.find_all(exp.Column))):
        placeholder = f"{stem}{position}"
        names[placeholder] = column_name(column)
        column.replace(exp.column(placeholder))
    body = copy.sql(dialect="postgres", comments=False)
    for placeholder in sorted(names, key=len, reverse=True):
        body = body.replace(placeholder, ident(qualifier, names[placeholder]))
    return Sql(f"({body})")
