"""Operating the replicator: pause, resume and stop; the error log worked by a DBA
(errors, retry after a fix, skip, purge); the activity log and the status view."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from devtools.throwaway import ThrowawayServer
from replicator.commands import admin
from replicator.core.errors import ReplicatorError
from replicator.inspect.connections import every_database
from replicator.operations import errorlog
from replicator.operations.status import StatusRow, status_rows
from tests.erpcrm import erpcrm_project
from tests.support import Project, cli, example_project, queued, replicator, rows

GROUPS = "SELECT group_code, name FROM cds.customer_group ORDER BY 1"


@pytest.fixture
def project(example: Callable[..., Project], topology: str, capture: str) -> Project:
    return example(topology, capture)


def status(project: Project, map_name: str, arrow: str) -> StatusRow:
    found = {(r.map, r.flow): r for r in status_rows(project.config())}
    return found[(map_name, arrow)]


def activity(project: Project, kind: str) -> list[tuple[object, ...]]:
    return rows(
        project.left_url,
        f"SELECT map_name, direction, message FROM replicator.activity_log WHERE kind = '{kind}' ORDER BY id",
    )


def add_group(project: Project, code: str, name: str) -> None:
    with project.left() as erp:
        erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', %s, %s)", (code, name))


def test_a_paused_map_queues_and_catches_up_in_order_when_resumed(project: Project) -> None:
    done = cli(
        project, "pause", "customer_groups", "--direction", "to_right", "--reason", "CRM upgrade"
    )
    assert done.returncode == 0
    assert done.stdout == "customer_groups (fno→cds): running → paused\n"
    add_group(project, "10", "a")
    with project.left() as erp:
        erp.execute("UPDATE fno.customer_groups SET description = 'b'")
        erp.execute("INSERT INTO fno.loyalty_cards (card_number) VALUES ('LC-1')")
    project.drain()
    # Other maps go on; the paused one keeps its backlog, also across applier runs.
    assert rows(project.right_url, "SELECT card_number FROM cds.loyalty_card") == [("LC-1",)]
    project.drain()
    assert rows(project.right_url, GROUPS) == []
    paused = status(project, "customer_groups", "fno→cds")
    assert (paused.state, paused.queued) == ("paused", 2)
    assert paused.oldest_queued_seconds is not None and paused.oldest_queued_seconds >= 0
    assert cli(project, "resume", "customer_groups").stdout == (
        "customer_groups (fno→cds): paused → catching_up\n"
        "customer_groups (cds→fno): already running\n"
    )
    assert status(project, "customer_groups", "fno→cds").state == "catching_up"
    project.drain()
    assert rows(project.right_url, GROUPS) == [("10", "b")]
    assert status(project, "customer_groups", "fno→cds").state == "running"
    assert activity(project, "state") == [
        ("customer_groups", "to_right", "running → paused: CRM upgrade"),
        ("customer_groups", "to_right", "paused → catching_up"),
        ("customer_groups", "to_right", "catching_up → running: backlog applied"),
    ]


def test_a_stopped_map_captures_nothing_and_resuming_says_to_sync(project: Project) -> None:
    """With WAL capture the slot is read only at the drain, after the resume: the stop
    must count from when it was made, not from when the listener reads."""
    add_group(project, "5", "before the stop")
    before = queued(project.left_url)
    assert cli(project, "stop", "customer_groups", "--direction", "to_right").returncode == 0
    add_group(project, "10", "missed")
    assert queued(project.left_url) == before
    done = cli(project, "resume", "customer_groups", "--direction", "to_right")
    assert done.returncode == 0
    # catching_up while the change from before the stop waits in the queue.
    assert done.stdout.startswith(
        "customer_groups (fno→cds): stopped → catching_up; changes made while"
        if before
        else "customer_groups (fno→cds): stopped → running; changes made while"
    )
    assert done.stdout.rstrip().endswith(
        "were not captured: run replicator sync customer_groups to copy them from fno"
    )
    add_group(project, "20", "captured")
    project.drain()
    assert rows(project.right_url, GROUPS) == [("20", "captured"), ("5", "before the stop")]


def test_an_online_map_cannot_be_paused(
    tmp_path: Path, pg: object, fresh_db: Callable[..., str]
) -> None:
    # Online needs one database and capture triggers (it writes from the trigger).
    url = fresh_db(pg)
    project = example_project(tmp_path, url, url)
    text = (project.root / "maps" / "loyalty_cards.toml").read_text()
    project.write_map(
        "loyalty_cards.toml",
        text.replace('direction = "both"', 'direction = "both"\nmode = "online"'),
    )
    project.deploy()
    with pytest.raises(
        ReplicatorError, match="map loyalty_cards is online: it has no queue to pause"
    ):
        admin.cmd_state(project.config(), io.StringIO(), "pause", ["loyalty_cards"], None, "")


def poison(project: Project) -> None:
    with project.right() as crm:
        crm.execute(
            "ALTER TABLE cds.customer_group ADD CONSTRAINT no_poison CHECK (name <> 'poison')"
        )
    add_group(project, "10", "poison")
    add_group(project, "20", "fine")


def test_an_error_is_retried_after_the_fix_and_counts_its_attempts(project: Project) -> None:
    poison(project)
    project.drain()
    listed = cli(project, "errors")
    assert listed.returncode == 0
    assert "customer_groups | fno→cds" in listed.stdout and "| open  |" in listed.stdout
    assert listed.stdout.rstrip().endswith("(1 row)")
    with every_database(project.config()) as connections:
        [error] = errorlog.list_errors(connections, project.config())
    assert (error.key, error.attempts, error.sqlstate) == (
        {"dataareaid": "usmf", "customer_group": "10"},
        1,
        "23514",
    )
    # Retried before the fix: fails again, exit 1, one more attempt on the same error.
    again = cli(project, "retry", str(error.id))
    assert (again.returncode, again.stdout) == (1, f"error {error.id}: failed again\n")
    with project.right() as crm:
        crm.execute("ALTER TABLE cds.customer_group DROP CONSTRAINT no_poison")
    fixed = cli(project, "retry", "--all")
    assert (fixed.returncode, fixed.stdout) == (0, f"error {error.id}: applied\n")
    assert rows(project.right_url, GROUPS) == [("10", "poison"), ("20", "fine")]
    closed = cli(project, "errors", "--all", "--json").stdout
    assert '"attempts": 2' in closed and '"state": "retried"' in closed
    assert cli(project, "errors").stdout.rstrip().endswith("(0 rows)")
    assert project.drain().applied == 0  # the retried write is not echoed back


def test_a_later_change_that_applies_supersedes_the_open_error(project: Project) -> None:
    poison(project)
    project.drain()
    with project.left() as erp:
        erp.execute(
            "UPDATE fno.customer_groups SET description = 'cured' WHERE customer_group = '10'"
        )
    project.drain()
    assert rows(project.right_url, GROUPS) == [("10", "cured"), ("20", "fine")]
    assert cli(project, "errors").stdout.rstrip().endswith("(0 rows)")
    # Retrying it now would write the poisoned old version over the cure: it is closed.
    assert "superseded by replicator" in cli(project, "errors", "--all").stdout


def test_skip_records_who_and_purge_keeps_open_errors(project: Project) -> None:
    poison(project)
    with project.left() as erp:
        erp.execute("INSERT INTO fno.customer_groups VALUES ('usmf', '30', 'poison')")
    project.drain()
    listed = cli(project, "errors", "--json").stdout
    first = int(listed.split('"id": ')[1].split(",")[0])
    skipped = cli(project, "skip", str(first), "--reason", "test data")
    assert (skipped.returncode, skipped.stdout) == (0, f"error {first}: skipped\n")
    assert (
        cli(project, "skip", str(first)).stderr
        == f"replicator: error {first}: not skipped: it is skipped\n"
    )
    assert "skipped by postgres" in cli(project, "errors", "--all").stdout
    dry = cli(project, "purge", "--older-than", "0s", "--dry-run")
    assert dry.returncode == 0
    assert "would purge 1 closed error," in dry.stdout
    assert dry.stdout.endswith("dry run: nothing was deleted\n")
    assert "skipped by postgres" in cli(project, "errors", "--all").stdout
    purged = cli(project, "purge", "--older-than", "0s")
    assert purged.returncode == 0
    assert "purged 1 closed error," in purged.stdout
    # The open one stays until a DBA retries or skips it.
    assert cli(project, "errors").stdout.rstrip().endswith("(1 row)")
    assert cli(project, "purge", "--older-than", "soon").stderr == (
        "replicator: 'soon' is not a duration; write e.g. 90s, 15m, 12h or 30d\n"
    )


def test_deploys_are_in_the_activity_log(project: Project) -> None:
    [(message,)] = rows(
        project.left_url, "SELECT message FROM replicator.activity_log WHERE kind = 'deploy'"
    )
    assert message.startswith("deployed bundle ") and "to create" in message


@pytest.mark.slow
def test_a_map_paused_for_100000_changes_applies_each_once_in_order_per_key(
    example: Callable[..., Project],
) -> None:
    project = example()
    with project.right() as crm:
        # Every value each card takes on the CRM side, in the order written.
        crm.execute(
            "CREATE TABLE public.tiers (seq bigserial, card text, tier text);"
            " CREATE FUNCTION public.tier_written() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN INSERT INTO public.tiers (card, tier) VALUES (NEW.card_number, NEW.tier);"
            " RETURN NULL; END $$;"
            " CREATE TRIGGER tier_written AFTER INSERT OR UPDATE ON cds.loyalty_card"
            " FOR EACH ROW EXECUTE FUNCTION public.tier_written();"
            # It fires for the replicator's writes too, as the replicator's owner role.
            " GRANT INSERT ON public.tiers TO PUBLIC;"
            " GRANT USAGE ON SEQUENCE public.tiers_seq_seq TO PUBLIC"
        )
    assert cli(project, "pause", "loyalty_cards", "--direction", "to_right").returncode == 0
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.loyalty_cards (card_number, tier)"
            " SELECT 'LC-' || g, 'v000' FROM generate_series(1, 1000) AS g"
        )
        for version in range(1, 100):
            erp.execute("UPDATE fno.loyalty_cards SET tier = %s", (f"v{version:03d}",))
    assert status(project, "loyalty_cards", "fno→cds").queued == 100_000
    assert cli(project, "resume", "loyalty_cards").returncode == 0
    project.drain()
    assert rows(
        project.right_url, "SELECT count(*), min(tier), max(tier) FROM cds.loyalty_card"
    ) == [(1000, "v099", "v099")]
    # Per card the values written only ever move forward: none twice, none older.
    assert rows(
        project.right_url,
        "SELECT count(*) FROM (SELECT tier <= lag(tier) OVER (PARTITION BY card ORDER BY seq) AS back"
        " FROM public.tiers) AS w WHERE back",
    ) == [(0,)]
    row = status(project, "loyalty_cards", "fno→cds")
    assert (row.state, row.queued, row.applied_total) == ("running", 0, 100_000)


def test_a_batch_looks_for_runnable_changes_once_however_long_the_queue(
    example: Callable[..., Project],
) -> None:
    # Called per queued row (a plan filtering the queue by a function call), a
    # batch took time in proportion to the whole backlog.
    project = example()
    with project.left() as erp:
        erp.execute(
            "INSERT INTO fno.loyalty_cards (card_number) SELECT 'LC-' || g FROM generate_series(1, 3000) g"
        )
        erp.execute("SET track_functions = 'pl'")
        with erp.transaction():
            erp.execute("SELECT * FROM replicator.apply_queued('to_right', 1000)")
            [(calls,)] = erp.execute(
                "SELECT pg_stat_get_xact_function_calls('replicator.runnable_ids'::regproc)"
            ).fetchall()
    # Once to run, and possibly once more by the planner estimating it: not per row.
    assert calls <= 2


def test_retry_of_an_id_both_servers_hold_means_the_one_still_open(
    tmp_path: Path, pg: ThrowawayServer, pg2: ThrowawayServer, fresh_db: Callable[..., str]
) -> None:
    """Error ids are per database: with error 1 closed on one server and open on the
    other, retry 1 means the open one, not an id to disambiguate."""
    project = erpcrm_project(tmp_path / "project", fresh_db(pg), fresh_db(pg2))
    project.deploy()
    with project.right() as crm:
        crm.execute("ALTER TABLE crm.accounts ADD CONSTRAINT named CHECK (name <> 'poison')")
        crm.execute("INSERT INTO crm.accounts (erp_id, name) VALUES (7, 'Northwind')")
    with project.left() as erp:
        erp.execute("ALTER TABLE erp.customers ADD CONSTRAINT named CHECK (name <> 'Northwind')")
        erp.execute("INSERT INTO erp.customers (id, name) VALUES (1, 'poison')")
    project.drain()
    assert rows(project.left_url, "SELECT id FROM replicator.error_log") == [(1,)]
    assert rows(project.right_url, "SELECT id FROM replicator.error_log") == [(1,)]
    assert replicator(project, "skip", "1", "--side", "right").returncode == 0
    with project.left() as erp:
        erp.execute("ALTER TABLE erp.customers DROP CONSTRAINT named")
    retried = replicator(project, "retry", "1")
    assert (retried.returncode, retried.stdout, retried.stderr) == (0, "error 1: applied\n", "")
    assert rows(project.left_url, "SELECT name FROM erp.customers WHERE id = 7") == [("Northwind",)]
