"""The only place names and values become SQL text.

Everything the templates print is an ``Sql`` (text already made safe here or
by the expression renderer); the jinja2 environment refuses plain strings.
"""

from __future__ import annotations

import math
import re

from replicator.model import Scalar


class Sql(str):
    """SQL text that is safe to print into generated SQL as it is."""


def ident(*names: str) -> Sql:
    """A quoted, optionally schema-qualified identifier: ident("fno", "Cust") → "fno"."Cust"."""
    for name in names:
        if not name or "\x00" in name:
            raise ValueError(f"not a usable SQL identifier: {name!r}")
    return Sql(".".join(_quoted(name, '"') for name in names))


# Never printed as itself: a "$" could close the dollar quotes around a function body.
_ESCAPED = re.compile(r"\$")


def _quoted(text: str, quote: str) -> str:
    """``text`` between ``quote``s; in PostgreSQL's U& form where it holds a character
    that must not appear in generated SQL as it is."""
    doubled = text.replace(quote, quote + quote)
    if not _ESCAPED.search(text):
        return quote + doubled + quote
    escaped = _ESCAPED.sub(lambda m: f"\\{ord(m.group()):04x}", doubled.replace("\\", "\\\\"))
    return "U&" + quote + escaped + quote


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
            return Sql(f"'{value}'::float8")
        return Sql(repr(value))
    if "\x00" in value:
        raise ValueError("a SQL string literal cannot hold a NUL character")
    return Sql(_quoted(value, "'"))


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


def sql_join(parts: list[Sql] | tuple[Sql, ...], separator: str = ", ") -> Sql:
    """Join already-safe SQL fragments."""
    return Sql(separator.join(parts))
