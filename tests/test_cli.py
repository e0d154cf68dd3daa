"""The command line as a DBA uses it: config from libpq's environment, exit
codes, status as a table and as JSON, and a woken applier."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg.rows import TupleRow

from replicator import cli as cli_module
from replicator.core import locks
from replicator.core.exitcodes import DOCUMENTED, ExitCode
from replicator.maps.model import Direction
from replicator.runtime import applier as applier_module
from replicator.runtime.applier import Applier
from tests.support import (
    Project,
    cli,
    count,
    example_project,
    rows,
    run_cli,
    running_applier,
    wait_for,
)


@pytest.fixture
def project(tmp_path: Path, pg: object, fresh_db: Callable[..., str]) -> Project:
    url = fresh_db(pg)
    return example_project(tmp_path, url, url)


def test_plan_deploy_status_exit_codes(project: Project) -> None:
    assert cli(project, "validate").stdout == "13 maps (26 directions) are valid\n"
    planned = cli(project, "plan")
    assert planned.returncode == 2
    assert planned.stdout.startswith("-- replicator plan for database fno+cds")
    assert (
        cli(project, "deploy").stdout
        == "database fno+cds: control schema at version 10, 109 created\n"
    )
    assert cli(project, "plan").returncode == 0
    status = cli(project, "status")
    assert status.returncode == 0
    lines = status.stdout.splitlines()
    assert [c.strip() for c in lines[0].split(" | ")[:4]] == ["map", "direction", "state", "queued"]
    assert lines[2].split(" | ")[1].strip() == "to_left (cds→fno)"
    assert lines[-3:] == ["(26 rows)", "", "applier on fno+cds: none has run since the deploy"]


def test_status_counts_the_backlog_its_age_and_errors(project: Project) -> None:
    project.deploy()
    with project.right() as crm:
        crm.execute(
            "ALTER TABLE cds.customer_group ADD CONSTRAINT no_poison CHECK (name <> 'poison')"
        )
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.customer_groups VALUES ('usmf', '1', 'fine'), ('usmf', '2', 'poison')"
        )
    before = {
        r["direction"]: r
        for r in json.loads(cli(project, "status", "--json").stdout)["maps"]
        if r["map"] == "customer_groups"
    }
    assert before["to_right"]["queued"] == 2
    assert before["to_right"]["oldest_queued_seconds"] >= 0
    project.drain()
    after = {
        r["direction"]: r
        for r in json.loads(cli(project, "status", "--json").stdout)["maps"]
        if r["map"] == "customer_groups"
    }
    assert after["to_right"] | {"last_applied_at": None} == {
        "map": "customer_groups",
        "direction": "to_right",
        "flow": "fno→cds",
        "state": "running",
        "queued": 0,
        "oldest_queued_seconds": None,
        "held": 0,
        "applied_total": 1,
        "last_applied_at": None,
        "errors": 1,
        "errors_last_hour": 1,
        "errors_logged": 1,
        "conflicts_waiting": 0,
        "state_reason": None,
        "uncaptured": 0,
        "uncaptured_reason": None,
    }
    assert after["to_right"]["last_applied_at"] is not None
    assert after["to_left"]["applied_total"] == 0
    # The key of an error is the row's key as an object, not its JSON spelled as a string.
    [error] = json.loads(cli(project, "errors", "--json").stdout)
    assert (error["direction"], error["key"]) == (
        "to_right",
        {"dataareaid": "usmf", "customer_group": "2"},
    )


def test_connections_can_come_from_libpq_environment_variables(project: Project) -> None:
    # No conninfo anywhere in the file: PGHOST, PGPORT, PGUSER, PGDATABASE decide.
    config = project.config_path.read_text()
    project.config_path.write_text(
        config.replace('conninfo_env = "REPLICATOR_LEFT"\n', "").replace(
            'conninfo_env = "REPLICATOR_RIGHT"\n', ""
        )
    )
    parts = urlsplit(project.left_url)
    env = {
        **project.env(),
        "PGHOST": parts.hostname or "",
        "PGPORT": str(parts.port),
        "PGUSER": parts.username or "",
        "PGDATABASE": parts.path.lstrip("/"),
    }
    deployed = cli(project, "deploy", env=env)
    assert deployed.returncode == 0, deployed.stderr
    assert deployed.stdout == "database fno+cds: control schema at version 10, 109 created\n"


def test_a_missing_config_and_a_missing_variable_are_named(
    project: Project, tmp_path: Path
) -> None:
    missing = subprocess.run(
        [sys.executable, "-m", "replicator.cli", "--config", str(tmp_path / "nope.toml"), "status"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1
    assert (
        missing.stderr
        == f"replicator: {tmp_path / 'nope.toml'}: no such file; pass --config or set REPLICATOR_CONFIG\n"
    )
    env = {k: v for k, v in project.env().items() if k != "REPLICATOR_RIGHT"}
    unset = cli(project, "validate", env=env)
    assert unset.returncode == 1
    assert unset.stderr == (
        f"replicator: {project.config_path}: [right]: environment variable REPLICATOR_RIGHT"
        " (conninfo_env) is not set\n"
    )


# The applier holds the wake lock (locks.WAKE) exclusively while it sleeps.
ASLEEP = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ExclusiveLock'"
    f" AND classid = {locks.WAKE[0]} AND objid = {locks.WAKE[1]} AND granted"
)


def test_a_sleeping_applier_is_woken_by_the_writer_not_by_its_poll(project: Project) -> None:
    project.config_path.write_text(
        project.config_path.read_text().replace("poll_interval = 1.0", "poll_interval = 600")
    )
    project.deploy()
    with running_applier(project):
        wait_for(
            lambda: rows(project.left_url, ASLEEP) == [(1,)],
            "the applier to go to sleep",
        )
        with project.left() as erp:
            erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale')")
        # Well inside the 600 s poll: only the NOTIFY can have woken it.
        wait_for(
            lambda: count(project.right_url, "cds.customer_group") == 1, "the wake-up", timeout=60
        )


def test_a_wake_up_that_comes_while_the_applier_looks_once_more_is_not_lost(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Going to sleep, the applier takes the wake lock and looks at the queues once more.
    # A writer that commits after that look read its queue notifies, and the look's
    # next statement reads the NOTIFY off the connection: the applier must not then
    # sleep until the next writer's wake-up (here, the 600 s poll).
    project.config_path.write_text(
        project.config_path.read_text().replace("poll_interval = 1.0", "poll_interval = 600")
    )
    project.deploy()
    locked: list[bool] = []
    take_wake_lock = applier_module._take_wake_lock

    def take(conn: psycopg.Connection[TupleRow]) -> bool:
        locked.append(take_wake_lock(conn))
        return locked[-1]

    one_batch = Applier._one_batch
    written: list[bool] = []

    def batch_then_write(self: Applier, direction: Direction) -> bool:
        moved = one_batch(self, direction)
        if direction == "to_right" and locked and locked[-1] and not written:
            with project.left() as erp:
                erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '10', 'Wholesale')")
            time.sleep(0.2)  # the NOTIFY is on the applier's connection before its next statement
            written.append(True)
        return moved

    monkeypatch.setattr(applier_module, "_take_wake_lock", take)
    monkeypatch.setattr(Applier, "_one_batch", batch_then_write)
    applier = Applier(project.config(project.runtime), batch_size=100, poll_interval=600)
    thread = threading.Thread(target=applier.run, daemon=True)
    thread.start()
    try:
        wait_for(
            lambda: count(project.right_url, "cds.customer_group") == 1, "the wake-up", timeout=30
        )
    finally:
        applier.stopping = True
        with project.left() as erp:
            erp.execute("NOTIFY replicator_wake")
        thread.join(timeout=60)
    assert not thread.is_alive()


def test_running_before_deploying_says_what_to_do(project: Project) -> None:
    ran = cli(project, "run", "--once")
    assert ran.returncode == 1
    assert ran.stderr.splitlines()[-1] == (
        "replicator: nothing is deployed on the fno database: run replicator deploy first"
    )


# Every verb that reads or calls what deploy creates, with the arguments it needs.
NEED_A_DEPLOY = [
    ["status"],
    ["status", "--json"],
    ["errors"],
    ["conflicts"],
    ["sync"],
    ["pause", "customers_organization"],
    ["resume", "customers_organization"],
    ["stop", "customers_organization"],
    ["retry", "--all"],
    ["retry", "1"],
    ["skip", "1"],
    ["resolve", "1", "--take", "left"],
    ["purge", "--older-than", "30d"],
    ["verify"],
    ["repair", "--from", "left"],
    ["run", "--once"],
    ["held", "list"],
    ["held", "retry", "--all"],
    ["held", "discard", "--all", "--reason", "test"],
    ["discard", "customers_organization", "--reason", "test"],
]


def test_every_command_before_any_deploy_says_to_deploy_first(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in project.env().items():
        monkeypatch.setenv(name, value)
    assert {tuple(v[:1]) for v in NEED_A_DEPLOY} == {(v,) for v in cli_module.NEED_A_DEPLOY}
    for verb in NEED_A_DEPLOY:
        code = cli_module.main(["--config", str(project.config_path), *verb])
        printed = capsys.readouterr()
        assert (code, printed.out, printed.err) == (
            1,
            "",
            "replicator: nothing is deployed on the fno database: run replicator deploy first\n",
        ), verb
    # The roles SQL made the schema replicator; no command created anything in it.
    assert rows(
        project.left_url,
        "SELECT count(*) FROM pg_class WHERE relnamespace = 'replicator'::regnamespace",
    ) == [(0,)]


def test_help_speaks_to_a_dba_and_version_names_the_release(tmp_path: Path) -> None:
    helped = run_cli(["--help"], dict(os.environ))
    assert helped.returncode == 0
    assert helped.stdout.startswith(
        "usage: replicator [-h] [--version] [-c CONFIG] COMMAND ...\n\n"
    )
    assert helped.stdout.split("\n\n")[1].startswith(
        "Keep the records two PostgreSQL applications share in step"
    )
    assert "argparse" not in helped.stdout and "replicator.commands" not in helped.stdout
    # The exit codes, from the one module that defines them.
    for code, (meaning, _) in DOCUMENTED.items():
        assert f"  {code.value}  {meaning}\n" in helped.stdout
    version = run_cli(["--version"], dict(os.environ))
    assert (version.returncode, version.stdout, version.stderr) == (
        0,
        f"replicator {metadata.version('replicator')}\n",
        "",
    )


def test_a_command_line_it_cannot_read_exits_1_not_the_2_of_a_pending_plan() -> None:
    typo = run_cli(["plan", "--sdie", "left"], dict(os.environ))
    assert typo.returncode == ExitCode.ERROR
    assert typo.stderr.startswith("usage: replicator [-h]")
    assert typo.stderr.endswith("replicator: error: unrecognized arguments: --sdie left\n")
    unknown = run_cli(["deplyo"], dict(os.environ))
    assert unknown.returncode == ExitCode.ERROR
    assert "invalid choice: 'deplyo'" in unknown.stderr


def test_the_applier_logs_json_lines_at_the_level_asked(project: Project) -> None:
    project.deploy()
    ran = cli(project, "run", "--once", "--log-format", "json", "--log-level", "debug")
    assert ran.returncode == 0, ran.stderr
    lines = [json.loads(line) for line in ran.stderr.splitlines()]
    assert {tuple(sorted(line)) for line in lines} == {("level", "logger", "message", "time")}
    assert lines[-1]["message"].startswith("stopped: 0 applied")
    assert {line["level"] for line in lines} >= {"info"}
    quiet = cli(project, "run", "--once", "--log-level", "warning")
    assert (quiet.returncode, quiet.stderr) == (0, "")
