"""Golden files pin the SQL a DBA reviews: the example maps, compiled for one
database and for two servers, and for two servers with WAL capture on the ERP
(its plan as a first deploy makes it: slot included). ``make golden`` rewrites
them; review the diff."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from replicator.inspect.catalog import SchemaCatalog, read_schema
from replicator.inspect.validate import validate
from replicator.maps.loader import load_maps
from replicator.maps.model import Capture, Config, Roles, Side, SideConfig
from replicator.operations.deployer import plan_database
from replicator.sqlgen.bundle import compile_bundle
from replicator.sqlgen.roles import compile_roles
from tests.support import EXAMPLE

GOLDEN = Path(__file__).resolve().parent / "golden" / "customer-master" / "expected"


def example_config(left_url: str, right_url: str, left_capture: Capture = "trigger") -> Config:
    return Config(
        path=EXAMPLE / "replicator.toml",
        left=SideConfig("left", "fno", "fno", left_url, "test", left_capture),
        right=SideConfig("right", "cds", "cds", right_url, "test"),
        maps_dir=EXAMPLE / "maps",
        roles=Roles("replicator_owner", "replicator_runtime"),
    )


@pytest.mark.parametrize("topology", ["one_database", "two_servers", "two_servers_wal"])
def test_the_example_compiles_to_the_golden_sql(
    topology: str, pg: object, fresh_db: Callable[..., str]
) -> None:
    left = fresh_db(pg)
    right = left if topology == "one_database" else fresh_db(pg)
    for url, ddl in ((left, "fno.sql"), (right, "cds.sql")):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute((EXAMPLE / ddl).read_bytes())
    wal = topology == "two_servers_wal"
    if wal:
        # What validate asks of a WAL-captured side whose maps filter on non-key columns.
        with psycopg.connect(left, autocommit=True) as conn:
            for (table,) in conn.execute(
                "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables"
                " WHERE schemaname = 'fno'"
            ).fetchall():
                conn.execute(f"ALTER TABLE {table} REPLICA IDENTITY FULL".encode())
    config = example_config(left, right, "wal" if wal else "trigger")
    maps = load_maps(config.maps_dir, EXAMPLE)
    with psycopg.connect(left) as lc, psycopg.connect(right) as rc:
        catalogs: dict[Side, SchemaCatalog] = {
            "left": read_schema(lc, "fno"),
            "right": read_schema(rc, "cds"),
        }
    validate(config, maps, catalogs)
    bundle = compile_bundle(config, maps, catalogs)
    assert compile_bundle(config, maps, catalogs) == bundle, "same input, same bytes"
    for database in bundle.databases:
        if wal and database.slot is None:
            continue  # the CRM's plan is two_servers_right.sql but for the bundle's hash
        text = plan_database(database, bundle, {}, has_slot=False).sql
        name = (
            "one_database.sql" if topology == "one_database" else f"{topology}_{database.role}.sql"
        )
        assert_golden(GOLDEN / name, text)


@pytest.mark.parametrize("topology", ["one_database", "two_servers_wal"])
def test_the_roles_sql_of_the_example_is_the_golden_sql(topology: str) -> None:
    """What a DBA runs once as a superuser (replicator plan --roles); no database needed."""
    right = "postgresql:///one" if topology == "one_database" else "postgresql:///two"
    config = example_config("postgresql:///one", right, "wal" if "wal" in topology else "trigger")
    maps = load_maps(config.maps_dir, EXAMPLE)
    for script in compile_roles(config, maps):
        suffix = "" if topology == "one_database" else f"_{script.role}"
        assert_golden(GOLDEN / f"roles_{topology}{suffix}.sql", script.sql)


def assert_golden(path: Path, text: str) -> None:
    if os.environ.get("REPLICATOR_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run make golden"
    assert text == path.read_text(), (
        f"{path} differs from the generated SQL: review, then make golden"
    )
