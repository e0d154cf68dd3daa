"""The jinja environment the templates render in, and what every artifact is.

Templates give SQL its shape only: the environment refuses to print anything but
``Sql`` (or an int), so every value reaching a template was made safe before.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import jinja2

from replicator.core.quoting import Sql, comment, literal, sql_join
from replicator.core.resources import templates_dir


def _finalize(value: Any) -> str:
    # Only text made safe by quoting.py or the expression renderer may reach the SQL.
    if isinstance(value, Sql | int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"template tried to print unquoted {type(value).__name__}: {value!r}")


_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FunctionLoader(lambda name: (templates_dir() / name).read_text(encoding="utf-8")),
    autoescape=False,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
    finalize=_finalize,
)
# A macro's output was printed through _finalize piece by piece; this filter lets the
# template print it whole: {{ latest()|checked }}.
_ENVIRONMENT.filters["checked"] = lambda text: Sql(text.rstrip("\n"))
# Every value a template prints into a -- comment goes through {{ value|comment }}.
_ENVIRONMENT.filters["comment"] = comment


def render_template(name: str, **context: Any) -> Sql:
    """A template rendered: SQL, since _finalize let it print nothing but Sql."""
    return Sql(_ENVIRONMENT.get_template(name).render(**context))


def database_guard(label: str, schemas: tuple[str, ...]) -> Sql:
    """SQL that stops a plan or roles file applied to a database without the schemas of
    the sides it was made for (psql connected to the wrong database)."""
    # By name, not to_regnamespace: that parses its argument, and refuses names that
    # need quoting.
    missing = sql_join(
        [
            Sql("NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = {})").format(literal(schema))
            for schema in schemas
        ],
        " OR ",
    )
    return Sql(
        render_template(
            "database_guard.sql.j2",
            label=comment(label),
            label_literal=literal(label),
            schemas_literal=literal(", ".join(schemas)),
            missing=missing,
        ).rstrip("\n")
    )


def lock_key(key: tuple[int, int]) -> Sql:
    """An advisory lock key (replicator.core.locks) as the two arguments of
    pg_advisory_lock and its kin."""
    return Sql("{}, {}").format(*key)


# Long lists in generated SQL: one item per line, so a DBA's diff shows what changed.
LIST = ",\n       "


@dataclass(frozen=True)
class Artifact:
    """One named piece of generated SQL and the SQL that removes it again."""

    name: str
    sql: str
    drop_sql: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()
