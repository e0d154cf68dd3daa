"""The only place names and values become SQL text.

Everything the templates print is an ``Sql`` (text already made safe here or
by the expression renderer); the jinja2 environment refuses plain strings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

# A value a map may hold (a value map entry, a fallback, a default, a mark).
Scalar = str | int | float | bool


class Sql(str):
    """SQL text that is safe to print into generated SQL as it is.

    Composed only from pieces that are ``Sql`` themselves (or ints), in the manner of
    psycopg's ``sql.SQL(...).format(...)``: ``Sql("CAST({} AS {})").format(value,
    type_sql)`` and ``Sql(", ").join(columns)`` raise TypeError on a plain ``str``, so
    a name or value that was never quoted cannot reach the SQL through them.
    """

    # Narrower than str.format and str.join on purpose: only composed pieces.
    def format(self, *parts: Sql | int) -> Sql:  # type: ignore[override]
        """This template (its ``{}`` filled in order) with ``parts``; ``{{`` is a brace."""
        return Sql(str.format(self, *(_composed(part) for part in parts)))

    def join(self, parts: Iterable[Sql]) -> Sql:  # type: ignore[override]
        """``parts`` with this text between them."""
        return Sql(str.join(self, [_composed(part) for part in parts]))


def _composed(part: object) -> Sql:
    if isinstance(part, Sql):
        return part
    if isinstance(part, int) and not isinstance(part, bool):
        return Sql(str(part))
    raise TypeError(
        f"only Sql (quoted by quoting.py) or an int may be composed into SQL, not"
        f" {type(part).__name__}: {part!r}"
    )


def ident(*names: str) -> Sql:
    """A quoted, optionally schema-qualified identifier: ident("fno", "Cust") → "fno"."Cust"."""
    for name in names:
        if not name or "\x00" in name:
            raise ValueError(f"not a usable SQL identifier: {name!r}")
        if DOLLAR_TAG.search(name):
            # Validate refuses such names; this is the last line of defence.
            raise ValueError(f"a name holding a dollar-quote tag cannot be printed: {name!r}")
    return Sql(".".join('"' + name.replace('"', '""') + '"' for name in names))


# A dollar-quote tag ($body$): printed inside a function body quoted by the same tag,
# it would end the body there, and the rest would run as SQL. ("$$" is no such risk:
# templates quote bodies with named tags only.)
DOLLAR_TAG = re.compile(r"\$[^\W\d]\w*\$")
# What validate and the config say of a name holding one.
HOLDS_A_TAG = (
    "holds a dollar-quote tag ($name$), which replicator does not support in names: the"
    " generated functions are quoted with such tags; rename it"
)


# A name replicator itself chooses (a table alias, a row variable): printed as it is.
BARE_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def bare(name: str) -> Sql:
    """A name of the generator's own (an alias such as ``s`` or ``cur``), printed
    unquoted; anything but lower-case letters, digits and _ is refused."""
    if not BARE_NAME.fullmatch(name):
        raise ValueError(f"not a bare SQL name: {name!r}")
    return Sql(name)


def literal(value: Scalar | None) -> Sql:
    """A SQL literal for a scalar from a map file (standard_conforming_strings on)."""
    if value is None:
        return Sql("NULL")
    if isinstance(value, bool):
        return Sql("true" if value else "false")
    if isinstance(value, int):
        return Sql(str(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            return Sql("{}::float8").format(literal(str(value)))
        return Sql(repr(value))
    quoted = _single_quoted(value)
    if DOLLAR_TAG.search(value):
        # In PostgreSQL's U& form, where $ is \0024 (and a backslash is doubled).
        return Sql("U&" + quoted.replace("\\", "\\\\").replace("$", "\\0024"))
    return Sql(quoted)


def dollar_quoted(text: str) -> Sql:
    """Generated SQL text as a string literal that keeps its lines: between dollar
    quotes whose tag the text does not hold."""
    tag = "$sql$"
    while tag in text:
        tag = tag[:-1] + "_$"
    return Sql(tag + text + tag)


def comment(text: str) -> Sql:
    """Text for a ``--`` comment: a line break would end the comment, and whatever
    follows it in a name (legal in a quoted identifier) would run as SQL."""
    return Sql(text.replace("\r", "\\r").replace("\n", "\\n"))


def text_literal(value: Scalar) -> Sql:
    """A scalar as a text literal, e.g. a value-map entry compared against text."""
    if isinstance(value, bool):
        return literal("true" if value else "false")
    return literal(str(value))


def sql_join(parts: Iterable[Sql], separator: str = ", ") -> Sql:
    """Join already-safe SQL fragments (any plain str among them raises TypeError)."""
    return Sql(separator).join(parts)


def option_literal(value: str) -> Sql:
    """A string option of a replication command (START_REPLICATION's plugin options):
    the walsender's grammar knows only '...' with quotes doubled, no E'' or U&''."""
    return Sql(_single_quoted(value))


def _single_quoted(value: str) -> str:
    """``value`` between single quotes, each quote in it doubled."""
    if "\x00" in value:
        raise ValueError("a SQL string literal cannot hold a NUL character")
    return "'" + value.replace("'", "''") + "'"
