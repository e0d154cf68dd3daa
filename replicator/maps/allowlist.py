"""The allow-list of user SQL expressions (filters, to_right/to_left), as data: the
node types, functions and cast types an expression may use, which of them can raise
for some rows, and the statements a filter must not be. ``expressions`` walks a
parse tree against these tables."""

from __future__ import annotations

from sqlglot import exp

# Operators and structure an expression over one row may use. Checked by exact
# type, so a subclass (TryCast of Cast, say) is not allowed by its parent's entry.
STRUCTURE: frozenset[type[exp.Expr]] = frozenset(
    {
        exp.RawString,  # $$dollar quoted$$ text: a plain literal, re-rendered '...'
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
        exp.NullSafeEQ,  # IS NOT DISTINCT FROM
        exp.NullSafeNEQ,  # IS DISTINCT FROM
        exp.Is,
        exp.In,  # a list; IN (SELECT ...) is refused at its Subquery
        exp.Between,
        exp.Like,
        exp.ILike,
        exp.Escape,  # LIKE ... ESCAPE '!'
        exp.Add,
        exp.Sub,
        exp.Mul,
        exp.Div,
        exp.Mod,
        exp.Neg,
        exp.DPipe,  # ||
        exp.Case,
        exp.If,  # a WHEN ... THEN of CASE; sqlglot also reads if(c, x, y) as a CASE
    }
)
# Functions an expression may call: pure, row-local, without side effects.
# sqlglot maps some other spellings onto these (substr, btrim, ltrim, ifnull, ...).
FUNCTIONS: tuple[type[exp.Func], ...] = (
    exp.Lower,
    exp.Upper,
    exp.Trim,
    exp.Length,
    exp.Substring,
    exp.Replace,
    exp.Left,
    exp.Right,
    exp.Concat,
    exp.Coalesce,
    exp.Nullif,
    exp.Greatest,
    exp.Least,
    exp.Abs,
    exp.Round,
    exp.ConcatWs,
    exp.SplitPart,
    exp.StrPosition,
    exp.RegexpReplace,
)
# What on the allow-list can raise an error for some rows: / and % (by zero), + -
# * and negation (out of range), casts (a value that does not convert), abs and
# round (out of range), substring (a negative length), split_part (field zero),
# regexp_replace (a pattern read from the row), ESCAPE; LIKE and ILIKE too, against
# a pattern read from the row (one ending in the escape character). The rest
# cannot: types and literals are resolved when the statement is planned.
MAY_RAISE: frozenset[type[exp.Expr]] = frozenset(
    {
        exp.Div,
        exp.Mod,
        exp.Add,
        exp.Sub,
        exp.Mul,
        exp.Neg,
        exp.Cast,
        exp.Escape,
        exp.Abs,
        exp.Round,
        exp.Substring,
        exp.SplitPart,
        exp.RegexpReplace,
    }
)
# Casts only to types every PostgreSQL database has, by PostgreSQL's name for them.
CAST_TYPES: dict[exp.DType, str] = {
    exp.DType.TEXT: "text",
    exp.DType.VARCHAR: "varchar",
    exp.DType.CHAR: "char",
    exp.DType.SMALLINT: "smallint",
    exp.DType.INT: "integer",
    exp.DType.BIGINT: "bigint",
    exp.DType.DECIMAL: "numeric",
    exp.DType.FLOAT: "real",
    exp.DType.DOUBLE: "double precision",
    exp.DType.BOOLEAN: "boolean",
    exp.DType.DATE: "date",
    exp.DType.TIMESTAMP: "timestamp",
    exp.DType.TIMESTAMPTZ: "timestamptz",
    exp.DType.INTERVAL: "interval",
    exp.DType.UUID: "uuid",
}
# A whole filter that is one of these is a statement, not an expression.
STATEMENTS: tuple[type[exp.Expr], ...] = (
    exp.Query,
    exp.DDL,
    exp.DML,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
    exp.Grant,
    exp.Revoke,
    exp.Set,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Command,
)
