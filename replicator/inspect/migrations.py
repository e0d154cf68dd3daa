"""The control schema's numbered migrations, and what a database has applied of them.

Each change to the replicator's own schema is a file ``sql/migrations/NNNN_name.sql``;
``replicator.schema_migration`` records which ran where. Migration 1, the baseline,
is the schema as releases before versioning left it, written so that it also brings
any of their schemas up to date (it only adds what is missing): a database deployed
before versions were recorded runs it like a new one. Later migrations are plain
changes, each run once. Deploy runs the missing ones, in order, in its transaction
(see deployer.plan_database); a file, once released, never changes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache

import psycopg
from psycopg.rows import TupleRow

from replicator.core.resources import sql_file, sql_names

_FILE_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True)
class Migration:
    """One numbered change to the control schema."""

    version: int
    name: str
    sql: str

    @property
    def label(self) -> str:
        """How plans and messages name it, e.g. ``0001_baseline``."""
        return f"{self.version:04d}_{self.name}"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@cache
def control_migrations() -> tuple[Migration, ...]:
    """This release's migrations, in order: numbered 1, 2, ... without a gap."""
    found = []
    for file_name in sql_names("migrations"):
        match = _FILE_NAME.fullmatch(file_name)
        if match is None:
            raise RuntimeError(f"sql/migrations/{file_name}: not named NNNN_name.sql")
        found.append(
            Migration(int(match[1]), match[2], sql_file("migrations", file_name))
        )
    found.sort(key=lambda m: m.version)
    numbers = [m.version for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"sql/migrations/: versions {numbers} are not 1, 2, ... in turn")
    return tuple(found)


@dataclass(frozen=True)
class ControlSchema:
    """What a database says of its control schema."""

    applied: dict[int, str]  # version -> name, of the migrations recorded here
    recorded: bool  # replicator.schema_migration exists
    # A control schema is there, but no record of its version: an earlier release
    # deployed it (the baseline brings it up to date).
    predates_versions: bool

    @property
    def version(self) -> int:
        """The highest migration recorded here (0: none)."""
        return max(self.applied, default=0)


NEW_DATABASE = ControlSchema(applied={}, recorded=False, predates_versions=False)


def read_control_schema(conn: psycopg.Connection[TupleRow]) -> ControlSchema:
    """The migrations recorded in the database ``conn`` reaches."""
    row = conn.execute(
        "SELECT to_regclass('replicator.schema_migration') IS NOT NULL,"
        "       to_regclass('replicator.change_queue') IS NOT NULL"
    ).fetchone()
    recorded, has_queue = (bool(row[0]), bool(row[1])) if row else (False, False)
    if not recorded:
        return ControlSchema(applied={}, recorded=False, predates_versions=has_queue)
    rows = conn.execute(
        "SELECT version, name FROM replicator.schema_migration ORDER BY version"
    ).fetchall()
    return ControlSchema(
        applied={int(r[0]): str(r[1]) for r in rows}, recorded=True, predates_versions=False
    )


def control_version_sql() -> str:
    """The CREATE TABLE of replicator.schema_migration, for a database that lacks it."""
    return sql_file("control_version.sql")
