"""The control schema has a version: deploy runs the numbered migrations a database
lacks, in order, in its transaction, and records them. A database the previous
release deployed (before versions were recorded) is upgraded in place: what waits in
its queue stays there and is applied afterwards."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from replicator.commands import lifecycle as commands
from replicator.inspect.migrations import Migration, control_migrations, read_control_schema
from replicator.operations.deployer import (
    commit_all,
    deploy,
    open_transactions,
    plan_database,
    read_deployed,
)
from tests.support import Project, cli, example_project, queued, rows

REPOSITORY = Path(__file__).resolve().parent.parent

# main as issue 19 left it: the release before the control schema had a version, and
# before its last accreted changes (map_state.stopped_at, the replicator_write schema,
# row_clock dropped), which the baseline must make on a schema that lacks them.
PREVIOUS_RELEASE = "04a648232386287cd645332dd919445032f82705"

# The sha256 of each migration as released (a new one is added here once its text is
# final). Databases that ran one never run it again, so a released migration must
# never change: put the change in a new one.
RELEASED = {
    1: "fbeb9b000f6afedc2d1f05707d24c6017f56b2266c6f595fff93cce2e5971c9e",
    2: "1d5ee8ab301236bbe603f960861bb523d3f6c221d5b1ba82487c4b17cc77f2d8",
    3: "3cd63437c4d49100ff6bb6ea59742caa0c718690ffc356ab8ed71246390b9062",
    4: "2321672c2cb3a4bd1baf5f6a66fac7bf7202265232ce5189cd487e3e66492fb5",
    5: "6198694a81c6e1b98baa1b6607bd1713a2f75c8089935ffdf269aa3de85af1e5",
    6: "f05937b2438d8f4459a6edea6439814d590f46431d6e1ec58d890eb136bb4363",
    7: "d869bf6b1b889a729ef01d75ec8a3d2dca2af8b27e0c59535e50201bba982b7f",
    8: "c1c91ac5b50f8625c88582b17c0c5376d484ab19c1213496ae1fd51e940e417e",
    9: "18121c3ecb1a0d49ce8aaf230e074a9199e9080effcbb91ddb485e4e9d22bd2d",
    10: "6785e7e95aeb0721416cb709a1141070168caf46ac0881d1d9bec165aa01c359",
}

GROUPS = "INSERT INTO fno.customer_groups VALUES ('usmf', '10', NULL), ('usmf', '20', 'Retail')"


def previous_release(root: Path) -> Path:
    """The previous release's package, SQL and templates, from git history."""
    archive = subprocess.run(
        [
            "git",
            "-C",
            str(REPOSITORY),
            "archive",
            PREVIOUS_RELEASE,
            "replicator",
            "sql",
            "templates",
        ],
        capture_output=True,
        check=True,
    ).stdout
    root.mkdir()
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    return root


def run_previous(release: Path, project: Project, *args: str) -> str:
    """``replicator ARGS`` as the previous release runs it, with this virtualenv's
    dependencies; its own sql/ and templates/ beside its package."""
    done = subprocess.run(
        [sys.executable, "-m", "replicator.cli", "--config", str(project.config_path), *args],
        cwd=release,
        env={**project.env(), "PYTHONPATH": str(release)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def control_columns(url: str) -> list[tuple[object, ...]]:
    """The control schema's tables and columns, as the catalog describes them."""
    return rows(
        url,
        "SELECT table_name, column_name, data_type, is_nullable, column_default"
        "  FROM information_schema.columns WHERE table_schema = 'replicator'"
        "   AND table_name NOT LIKE 'map\\_%' ORDER BY 1, 2",
    )


def test_changes_queued_under_the_previous_release_survive_the_upgrade_and_are_applied(
    tmp_path: Path, pg: object, fresh_db: Callable[..., str]
) -> None:
    url = fresh_db(pg)
    project = example_project(tmp_path, url, url)
    release = previous_release(tmp_path / "previous")
    assert "created" in run_previous(release, project, "deploy")
    # The CRM is being upgraded: its direction waits, and the ERP's changes queue up.
    run_previous(release, project, "pause", "customer_groups", "--direction", "to_right")
    with project.left() as erp:
        erp.execute(GROUPS)
    assert queued(url) == 2

    code, plan = project.plan()
    assert code == 2
    assert "migrate control/0001_baseline" in plan
    assert "deployed before its version was recorded" in plan
    latest = len(control_migrations())
    assert f"database fno+cds: control schema at version {latest}" in project.deploy()

    assert queued(url) == 2, "the upgrade kept what was queued"
    assert rows(url, "SELECT version, name FROM replicator.schema_migration ORDER BY 1") == [
        (m.version, m.name) for m in control_migrations()
    ]
    assert rows(
        url, "SELECT count(*) FROM replicator.deployed_artifact WHERE name = 'control'"
    ) == [(0,)]
    assert rows(
        url,
        "SELECT state, stopped_at FROM replicator.map_state"
        " WHERE map_name = 'customer_groups' AND direction = 'to_right'",
    ) == [("paused", None)]
    # The upgraded schema is the one a new database gets.
    new_url = fresh_db(pg)
    example_project(tmp_path / "new", new_url, new_url).deploy()
    assert control_columns(url) == control_columns(new_url)
    # And its triggers: the previous release's sync triggers are retired.
    triggers = "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2"
    assert rows(url, triggers) == rows(new_url, triggers)

    assert "already up to date" in project.deploy()
    assert cli(project, "resume", "customer_groups", "--direction", "to_right").returncode == 0
    project.drain()
    assert queued(url) == 0
    assert rows(url, "SELECT group_code, name FROM cds.customer_group ORDER BY 1") == [
        ("10", None),
        ("20", "Retail"),
    ]


def test_a_new_migration_runs_alone_once_and_is_recorded(
    example: Callable[..., Project],
) -> None:
    project = example()
    config = project.config()
    probe = Migration(len(control_migrations()) + 1, "probe", "CREATE TABLE replicator.probe ();")
    bundle = commands.compiled(config)
    bundle = dataclasses.replace(bundle, migrations=(*bundle.migrations, probe))
    with open_transactions(config, [d.role for d in bundle.databases]) as connections:
        (planned,) = deploy(bundle, connections)
        commit_all(connections)
    assert planned.migrated == (probe.label,)
    assert planned.created == planned.replaced == planned.dropped == ()
    assert "0001_baseline" not in planned.sql
    assert rows(
        project.left_url, "SELECT max(version), count(*) FROM replicator.schema_migration"
    ) == [(probe.version, probe.version)]
    with project.left() as conn:
        (database,) = bundle.databases
        again = plan_database(
            database, bundle, read_deployed(conn), control=read_control_schema(conn)
        )
    assert not again.pending

    # This release does not know the probe: a later release deployed the schema.
    status = cli(project, "status")
    assert status.returncode == 1
    latest = len(control_migrations())
    assert f"deployed by a later release than this one ({latest}): upgrade" in status.stderr
    refused = cli(project, "deploy")
    assert refused.returncode == 1
    assert f"newer than this replicator knows ({latest})" in refused.stderr


def test_a_control_schema_older_than_the_code_is_refused_until_deployed(
    example: Callable[..., Project],
) -> None:
    project = example()
    with project.left() as conn:
        conn.execute("DELETE FROM replicator.schema_migration")
    status = cli(project, "status")
    assert status.returncode == 1
    latest = len(control_migrations())
    assert f"at version 0, this replicator needs {latest}: run replicator deploy" in status.stderr
    # The baseline only adds what is missing: running it again is safe.
    assert f"control schema at version {latest}" in project.deploy()
    assert cli(project, "status").returncode == 0


@pytest.mark.parametrize("migration", control_migrations(), ids=lambda m: m.label)
def test_a_released_migration_never_changes(migration: Migration) -> None:
    assert migration.version in RELEASED, f"a new migration: add its sha256 {migration.sha256}"
    assert migration.sha256 == RELEASED[migration.version], (
        f"sql/migrations/{migration.label}.sql changed after its release: databases that"
        " ran it will not run it again; put the change in a new migration"
    )
