"""The only place names and values become SQL text.

Everything the templates print is an ``Sql`` (text already made safe here or
by the expression renderer); the jinja2 environment refuses plain strings.
"""

from __future__ import annotations

import math

from replicator.model import Scalar


class Sql(str):
    """SQL text that is safe to print into generated SQL as it is."""


def ident(*names: str) -> Sql:
    """A quoted, optionally schema-qualified identifier: ident("fno", "Cust") → "fno"."Cust"."""
    for name in names:
        if not name or "\x00" in name:
            raise ValueError(f"not a usable SQL identifier: {name!r}")
    return Sql(".".join('"' + name.replace('"', '""') + '"' for name in names))


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
    return Sql("'" + value.replace("'", "''") + "'")


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
