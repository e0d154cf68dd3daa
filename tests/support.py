"""Helpers the tests share: a project on disk (config + maps) wired to real
databases, an in-process applier, and a write audit for counting echoes."""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.rows import TupleRow

from replicator import commands
from replicator.applier import Applier, Totals
from replicator.config import load_config
from replicator.model import Config

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "customer-master"

# Counts every row written to the audited tables, whoever wrote it.
AUDIT_DDL = """
CREATE SCHEMA IF NOT EXISTS audit;
CREATE TABLE IF NOT EXISTS audit.writes (
    id bigint GENERATED ALWAYS AS IDENTITY, table_name text, op text, applying boolean);
CREATE OR REPLACE FUNCTION audit.record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit.writes (table_name, op, applying)
    VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP,
            coalesce(current_setting('replicator.applying', true), '') = 'on');
    RETURN NULL;
END $$;
"""


@dataclass
class Project:
    """A replicator.toml and its maps directory, pointing at real databases."""

    root: Path
    left_url: str
    right_url: str

    @property
    def config_path(self) -> Path:
        return self.root / "replicator.toml"

    def config(self) -> Config:
        os.environ["REPLICATOR_LEFT"] = self.left_url
        os.environ["REPLICATOR_RIGHT"] = self.right_url
        return load_config(self.config_path)

    def env(self) -> dict[str, str]:
        return {**os.environ, "REPLICATOR_LEFT": self.left_url, "REPLICATOR_RIGHT": self.right_url}

    def write_map(self, name: str, text: str) -> None:
        (self.root / "maps" / name).write_text(text)

    def remove_map(self, name: str) -> None:
        (self.root / "maps" / name).unlink()

    def deploy(self) -> str:
        out = io.StringIO()
        assert commands.cmd_deploy(self.config(), out) == 0
        return out.getvalue()

    def plan(self) -> tuple[int, str]:
        out = io.StringIO()
        code = commands.cmd_plan(self.config(), out)
        return code, out.getvalue()

    def drain(self, batch_size: int = 1000) -> Totals:
        """Apply until both queues are empty, in this process."""
        applier = Applier(self.config(), batch_size=batch_size, poll_interval=0.05)
        return applier.run(until_idle=True)

    def left(self) -> psycopg.Connection[TupleRow]:
        return psycopg.connect(self.left_url, autocommit=True)

    def right(self) -> psycopg.Connection[TupleRow]:
        return psycopg.connect(self.right_url, autocommit=True)


def example_project(tmp_path: Path, left_url: str, right_url: str) -> Project:
    """The customer-master example, its schemas created in the given databases."""
    root = tmp_path / "project"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("*.sql"))
    with psycopg.connect(left_url, autocommit=True) as conn:
        conn.execute((EXAMPLE / "fno.sql").read_bytes())
    with psycopg.connect(right_url, autocommit=True) as conn:
        conn.execute((EXAMPLE / "cds.sql").read_bytes())
    return Project(root, left_url, right_url)


def audit(url: str, *tables: str) -> None:
    """Record every write to ``tables`` in audit.writes."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(AUDIT_DDL.encode())
        for table in tables:
            schema, name = table.split(".")
            conn.execute(
                psycopg.sql.SQL(
                    "CREATE TRIGGER audit_writes AFTER INSERT OR UPDATE OR DELETE ON {} "
                    "FOR EACH ROW EXECUTE FUNCTION audit.record()"
                ).format(psycopg.sql.Identifier(schema, name))
            )


def writes(url: str, table: str) -> list[tuple[str, bool]]:
    """(op, written by the replicator) for each audited write to ``table``, in order."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT op, applying FROM audit.writes WHERE table_name = %s ORDER BY id", (table,)
        ).fetchall()
    return [(str(r[0]), bool(r[1])) for r in rows]


def queued(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM replicator.change_queue").fetchone()
    assert row is not None
    return int(row[0])


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return [tuple(r) for r in conn.execute(query.encode()).fetchall()]
