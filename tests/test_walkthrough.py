"""The README, typed as written: every block marked ``<!-- walkthrough: ... -->`` is
extracted in document order and run against two fresh databases on two servers, an ERP
and a CRM of a DBA's own (not the shipped example), once with trigger capture and once
with the ERP captured from its WAL. If the README changes, this follows it; if a step
fails, the README or the product is wrong.

Markers (``walkthrough(trigger)`` or ``walkthrough(wal)`` for one run only):

- ``file PATH``: write the block to PATH (the working directory is the DBA's);
- ``section PATH``: replace the ``[table]`` the block starts with in PATH by the block;
- ``sh [NAME]``: run each line; ``replicator`` in this process (replicator.cli.main),
  ``psql`` and anything else as programs; ``VAR=value`` before a command sets its
  environment, ``> FILE`` takes its output, ``# exit code N`` is the code it must
  return (0 otherwise);
- ``sql VAR``: psql -v ON_ERROR_STOP=1 -f - on the database in $VAR;
- ``expect``: each line is (the start of) a line the previous block printed;
- ``service``: the systemd unit: its ExecStart runs with its Environment until the
  applier is alive, ``status --check`` passes, and SIGTERM stops it with exit 0;
- ``install``: run by test_the_install_steps_give_a_working_command only.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from devtools.throwaway import ThrowawayServer
from tests.support import run_cli, wait_for, wait_for_wal_flush

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
SERVICE = REPO / "examples" / "systemd" / "replicator.service"
MARKER = re.compile(
    r"<!-- walkthrough(?:\((?P<only>trigger|wal)\))?: (?P<kind>[a-z]+)(?: (?P<arg>[^ ]+))? -->"
)

# The DBA's own databases, as they are before the replicator: a few hundred rows.
ERP = """
CREATE SCHEMA erp;
CREATE TABLE erp.customers (
    id     integer PRIMARY KEY,
    name   text NOT NULL,
    kind   text NOT NULL DEFAULT 'company' CHECK (kind IN ('company', 'person')),
    credit numeric(12, 2)
);
CREATE TABLE erp.contacts (
    id          integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES erp.customers,
    name        text NOT NULL,
    email       text
);
INSERT INTO erp.customers VALUES
    (1, 'Contoso', 'company', 1000), (2, 'Ann Lee', 'person', NULL), (3, 'Fabrikam', 'company', 500);
INSERT INTO erp.customers
SELECT n, 'Company ' || n, 'company', n * 10 FROM generate_series(100, 299) AS n;
INSERT INTO erp.contacts VALUES
    (10, 1, 'Bo Ek', 'bo@contoso.example'), (20, 2, 'Ann Lee', NULL), (30, 3, 'Cy Ode', NULL);
INSERT INTO erp.contacts SELECT n + 1000, n, 'Contact ' || n, NULL FROM generate_series(100, 299) AS n;
"""

CRM = """
CREATE SCHEMA crm;
CREATE TABLE crm.accounts (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    erp_id       integer UNIQUE,
    name         text NOT NULL,
    credit_limit numeric(12, 2)
);
CREATE TABLE crm.contacts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    erp_id     integer UNIQUE,
    account_id uuid NOT NULL REFERENCES crm.accounts,
    full_name  text NOT NULL,
    email      text
);
INSERT INTO crm.accounts (erp_id, name) VALUES (3, 'Fabrikam Inc'), (4, 'Northwind');
"""


@dataclass(frozen=True)
class Block:
    kind: str
    arg: str
    only: str | None  # "trigger" or "wal": run in that run only
    text: str
    line: int  # of the marker, for messages


def readme_blocks() -> list[Block]:
    """Every marked block of the README, in order."""
    lines = README.read_text().splitlines()
    found: list[Block] = []
    for number, line in enumerate(lines):
        marked = MARKER.fullmatch(line.strip())
        if marked is None:
            if "<!-- walkthrough" in line:
                raise AssertionError(f"README.md:{number + 1}: a walkthrough marker not understood")
            continue
        assert lines[number + 1].startswith("```"), f"README.md:{number + 1}: no block follows"
        end = next(i for i in range(number + 2, len(lines)) if lines[i].startswith("```"))
        found.append(
            Block(
                marked["kind"],
                marked["arg"] or "",
                marked["only"],
                "\n".join(lines[number + 2 : end]) + "\n",
                number + 1,
            )
        )
    return found


def _split_comment(line: str) -> tuple[str, str]:
    """A shell line and its trailing comment (a # outside quotes, after a space)."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i], line[i + 1 :]
    return line, ""


def _expanded(word: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: env[m.group(1)], word)


@dataclass
class Shell:
    """What a DBA's shell does with the README's lines, and no more."""

    env: dict[str, str]
    cwd: Path
    wal_urls: list[str]  # databases whose WAL the applier reads
    printed: str = ""  # what the current block printed
    ran: list[tuple[str, subprocess.CompletedProcess[str]]] = field(default_factory=list)

    def run_line(self, text: str, where: str) -> None:
        command, comment = _split_comment(text)
        if not command.strip():
            return
        said = re.search(r"exit code (\d+)", comment)
        expected = int(said.group(1)) if said else 0
        words = shlex.split(command)
        env = dict(self.env)
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
            name, _, value = words.pop(0).partition("=")
            env[name] = _expanded(value, env)
        target = None
        if ">" in words:
            at = words.index(">")
            target, words = words[at + 1], words[:at]
        words = [_expanded(w, env) for w in words]
        if words[0] == "replicator":
            if words[1:2] == ["run"]:
                # Test servers commit asynchronously; a slot decodes a commit once flushed.
                for url in self.wal_urls:
                    wait_for_wal_flush(url)
            with contextlib.chdir(self.cwd):
                ran = run_cli(words[1:], env)
        else:
            ran = subprocess.run(
                words, env=env, cwd=self.cwd, capture_output=True, text=True, check=False
            )
        if target is not None:
            (self.cwd / target).write_text(ran.stdout)
            self.printed += ran.stderr
        else:
            self.printed += ran.stdout + ran.stderr
        self.ran.append((text, ran))
        assert ran.returncode == expected, (
            f"{where}: `{text.strip()}` exited {ran.returncode}, the README says {expected}\n"
            f"{ran.stdout}{ran.stderr}"
        )


def _section(path: Path, block: str) -> None:
    """Replace the [table] the block begins with, up to the next table, by the block."""
    header = block.splitlines()[0]
    lines = path.read_text().splitlines()
    start = lines.index(header)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    path.write_text(
        "\n".join([*lines[:start], *block.rstrip("\n").splitlines(), "", *lines[end:]]) + "\n"
    )


def _applier_alive(shell: Shell) -> bool:
    with contextlib.chdir(shell.cwd):
        ran = run_cli(["status", "--json"], shell.env)
    return ran.returncode == 0 and all(a["alive"] for a in json.loads(ran.stdout)["appliers"])


def _service(shell: Shell, unit_text: str, where: str) -> None:
    """The unit's ExecStart, with its Environment; the URLs are the test's servers
    (the unit's hosts are examples), the metrics port any free one."""
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    # Environment= repeats; configparser keeps the last of a key, so read them by hand.
    unit.read_string(re.sub(r"(?m)^Environment=.*\n", "", unit_text))
    settings = dict(
        line.removeprefix("Environment=").split("=", 1)
        for line in unit_text.splitlines()
        if line.startswith("Environment=")
    )
    env = {**shell.env, **settings}
    env.update({name: shell.env[name] for name in ("ERP_URL", "CRM_URL")})
    argv = shlex.split(unit["Service"]["ExecStart"])
    assert argv[0].endswith("/bin/replicator"), argv
    argv = [sys.executable, "-m", "replicator.cli", *argv[1:]]
    argv[argv.index("--config") + 1] = str(shell.cwd / "replicator.toml")
    metrics = argv.index("--metrics") + 1
    argv[metrics] = argv[metrics].rsplit(":", 1)[0] + ":0"
    applier = subprocess.Popen(
        argv, env=env, cwd=shell.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: _applier_alive(shell) or applier.poll() is not None, "the service")
        assert applier.poll() is None, f"{where}: the service exited: {applier.communicate()[1]}"
        with contextlib.chdir(shell.cwd):
            checked = run_cli(["status", "--check"], shell.env)
        assert (checked.returncode, checked.stdout) == (0, "ok: nothing needs a DBA\n"), checked
        assert env["PGUSER"] == "replicator_runtime"
    finally:
        applier.send_signal(getattr(signal, unit["Service"]["KillSignal"]))
        _, log = applier.communicate(timeout=30)
    assert applier.returncode == 0, log
    for line in log.splitlines():
        assert set(json.loads(line)) == {"time", "level", "logger", "message"}, line


@pytest.fixture
def databases(
    pg: ThrowawayServer, pg2: ThrowawayServer, fresh_db: Callable[[ThrowawayServer], str]
) -> Iterator[tuple[str, str]]:
    """The ERP and the CRM, each on its own server, as their DBA's superuser sees them."""
    erp, crm = fresh_db(pg), fresh_db(pg2)
    for url, ddl in ((erp, ERP), (crm, CRM)):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(ddl.encode())
    yield erp, crm


def without_user(url: str) -> str:
    """The URL a DBA keeps in ERP_URL: no user, PGUSER says who connects."""
    return url.replace("postgres@", "", 1)


@pytest.mark.parametrize("capture", ["trigger", "wal"])
def test_the_readme_walkthrough_runs_as_written(
    capture: str, databases: tuple[str, str], tmp_path: Path
) -> None:
    erp, crm = databases
    home = tmp_path / "dba"
    home.mkdir()
    shell = Shell(
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(home),  # no ~/.psqlrc, no ~/.pgpass of the machine's
            "LANG": "C.UTF-8",
            "PGUSER": "postgres",  # the DBA: a superuser of both servers
            "ERP_URL": without_user(erp),
            "CRM_URL": without_user(crm),
        },
        cwd=home,
        wal_urls=[erp] if capture == "wal" else [],
    )
    started = time.monotonic()
    previous = ""
    for block in readme_blocks():
        if block.only not in (None, capture) or block.kind == "install":
            continue
        where = f"README.md:{block.line}"
        if block.kind == "file":
            (home / block.arg).parent.mkdir(parents=True, exist_ok=True)
            (home / block.arg).write_text(block.text)
        elif block.kind == "section":
            _section(home / block.arg, block.text)
        elif block.kind == "sh":
            shell.printed = ""
            for line in block.text.splitlines():
                shell.run_line(line, where)
            previous = shell.printed
            check = CHECKS.get(block.arg)
            if check is not None:
                check(erp, crm, shell)
        elif block.kind == "sql":
            done = subprocess.run(
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-", shell.env[block.arg]],
                input=block.text,
                env=shell.env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, f"{where}: {done.stderr}"
            previous = done.stdout
        elif block.kind == "expect":
            printed = previous.splitlines()
            for wanted in block.text.splitlines():
                assert any(line.startswith(wanted) for line in printed), (
                    f"{where}: the README shows {wanted!r}; the command printed:\n{previous}"
                )
        elif block.kind == "service":
            assert block.text == SERVICE.read_text(), f"{where}: differs from {SERVICE}"
            _service(shell, block.text, where)
        else:
            raise AssertionError(f"{where}: unknown walkthrough block {block.kind}")
    assert time.monotonic() - started < 60


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return [tuple(r) for r in conn.execute(query.encode()).fetchall()]


def _after_sync(erp: str, crm: str, shell: Shell) -> None:
    assert rows(crm, "SELECT name FROM crm.accounts WHERE erp_id IN (1, 3, 4) ORDER BY erp_id") == [
        ("Contoso",),
        ("Fabrikam",),
        ("Northwind",),
    ]
    assert rows(erp, "SELECT kind FROM erp.customers WHERE id = 4") == [("company",)]
    assert rows(crm, "SELECT count(*) FROM crm.contacts") == [(202,)]


def _after_edit(erp: str, crm: str, shell: Shell) -> None:
    assert rows(crm, "SELECT full_name FROM crm.contacts WHERE erp_id = 20") == [("Ann Lee",)]
    assert shell.ran[-1][1].stdout.splitlines()[-1] == "(0 rows)"


def _after_pause(erp: str, crm: str, shell: Shell) -> None:
    assert rows(crm, "SELECT name FROM crm.accounts WHERE erp_id = 1") == [("Contoso Ltd",)]


def _after_stop(erp: str, crm: str, shell: Shell) -> None:
    resumed, synced = (result.stdout for _, result in shell.ran[-2:])
    assert resumed.splitlines()[0].endswith("run replicator sync contacts to copy them from erp")
    assert synced.startswith(
        "contacts: copying from erp, whose changes were not captured while contacts (erp→crm)"
        " was stopped\n"
    ), synced
    assert rows(crm, "SELECT email FROM crm.contacts WHERE erp_id = 10") == [("bo.ek@example.com",)]


def _after_error(erp: str, crm: str, shell: Shell) -> None:
    listed = shell.ran[-2][1].stdout
    assert "credit_cap" in listed and '{"id": 3}' in listed, listed


def _after_repair(erp: str, crm: str, shell: Shell) -> None:
    assert rows(crm, "SELECT name, credit_limit FROM crm.accounts WHERE erp_id = 1") == [
        ("Contoso Ltd", 5000)
    ]


def _after_conflict(erp: str, crm: str, shell: Shell) -> None:
    listed = shell.ran[-1][1].stdout.splitlines()
    assert listed[-1] == "(2 rows)" and all("waiting" in line for line in listed[2:-1]), listed
    assert rows(erp, "SELECT name FROM erp.customers WHERE id = 3") == [("Fabrikam Corp",)]
    assert rows(crm, "SELECT name FROM crm.accounts WHERE erp_id = 3") == [("Fabrikam Group",)]


def _after_resolve(erp: str, crm: str, shell: Shell) -> None:
    assert rows(crm, "SELECT name FROM crm.accounts WHERE erp_id = 3") == [("Fabrikam Corp",)]


def _after_undeploy(erp: str, crm: str, shell: Shell) -> None:
    for url in (erp, crm):
        assert rows(
            url,
            "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'replicator'),"
            " (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'replicator_%'),"
            " (SELECT count(*) FROM pg_replication_slots WHERE database = current_database())",
        ) == [(0, 0, 0)]


# What each named block leaves behind, checked after it ran.
CHECKS: dict[str, Callable[[str, str, Shell], None]] = {
    "sync": _after_sync,
    "edit": _after_edit,
    "pause": _after_pause,
    "stop": _after_stop,
    "error": _after_error,
    "repair": _after_repair,
    "conflict": _after_conflict,
    "resolve": _after_resolve,
    "undeploy": _after_undeploy,
}


def test_every_readme_block_a_dba_types_is_marked_for_the_walkthrough() -> None:
    """Shell blocks that call replicator or psql are run by the walkthrough; so are
    the SQL blocks of the walkthrough's own sections."""
    lines = README.read_text().splitlines()
    unmarked = [
        number + 1
        for number, line in enumerate(lines)
        if line.strip() in ("```sh", "```sql")
        and not MARKER.fullmatch(lines[number - 1].strip())
        and any(
            word in lines[number + 1]
            for word in ("replicator ", "psql ", "SELECT", "ALTER", "UPDATE", "INSERT")
        )
    ]
    assert unmarked == [], f"README blocks no test runs, at lines {unmarked}"


def test_the_exit_code_table_is_the_one_the_code_defines() -> None:
    from replicator.core.exitcodes import readme_table

    text = README.read_text()
    marker = "<!-- exit codes: replicator/core/exitcodes.py -->\n"
    assert marker + readme_table() in text


@pytest.mark.slow
def test_the_install_steps_give_a_working_command(tmp_path: Path) -> None:
    """The Install section's block, for real: a virtualenv, pip install of this checkout
    (linked where the README has it), the command it installs."""
    (tmp_path / "replicator").symlink_to(REPO)
    [install] = [b for b in readme_blocks() if b.kind == "install"]
    for line in install.text.splitlines():
        command, _ = _split_comment(line)
        if command.strip():
            done = subprocess.run(
                shlex.split(command), cwd=tmp_path, capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, f"`{line}`: {done.stdout}{done.stderr}"
    version = subprocess.run(
        [str(tmp_path / "replicator-venv/bin/replicator"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.startswith("replicator ")
    # The wheel carries its SQL and templates: the roles SQL renders from them.
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "items.toml").write_text(
        '[[map]]\nname = "items"\nleft = "item"\nright = "item"\n'
        '[[map.field]]\nleft = "id"\nright = "id"\nkey = true\n'
    )
    (tmp_path / "replicator.toml").write_text(
        '[left]\nname = "erp"\nschema = "erp"\n[right]\nname = "crm"\nschema = "crm"\n'
        'conninfo = "dbname=other"\n[roles]\nowner = "o"\nruntime = "r"\n'
    )
    roles = subprocess.run(
        [str(tmp_path / "replicator-venv/bin/replicator"), "plan", "--roles"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert roles.returncode == 0, roles.stderr
    assert roles.stdout.startswith("-- replicator roles for database erp")
