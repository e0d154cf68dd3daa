"""replicator.toml and the map files as a file system can hold them: a setting that
would fail later, a file that is not text, not a file, or not there. Each is one
line naming the file and what is wrong, exit code 1, before any database is
reached (the conninfo here points nowhere)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from replicator import cli
from replicator.maps.config import load_config
from replicator.maps.model import Roles

SIDES = """
[left]
name = "{left_name}"
schema = "erp"
conninfo = "host=/nonexistent dbname=nowhere"
{left_extra}

[right]
name = "crm"
schema = "{right_schema}"
conninfo = "host=/nonexistent dbname=nowhere"
"""

MAP = """
[[map]]
name = "items"
left = "item"
right = "item"

  [[map.field]]
  left = "id"
  right = "id"
  key = true
"""


def project(
    root: Path,
    top: str = "",
    left_name: str = "erp",
    left_extra: str = "",
    right_schema: str = "crm",
) -> Path:
    """A replicator.toml (with ``top`` settings first) and one good map file."""
    (root / "maps").mkdir(parents=True)
    (root / "maps" / "items.toml").write_text(MAP)
    config = root / "replicator.toml"
    config.write_text(
        top + SIDES.format(left_name=left_name, left_extra=left_extra, right_schema=right_schema)
    )
    return config


def refused(capsys: pytest.CaptureFixture[str], config: Path, *verb: str) -> list[str]:
    """What ``replicator --config CONFIG VERB`` prints on stderr; it must exit 1 and
    print nothing on stdout."""
    code = cli.main(["--config", str(config), *verb])
    printed = capsys.readouterr()
    assert (code, printed.out) == (1, ""), printed.err
    return printed.err.splitlines()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "batch_size = 0",
            "batch_size = 0 is not a number of changes per transaction: write a whole number"
            " from 1 to 2147483647",
        ),
        (
            "batch_size = -5",
            "batch_size = -5 is not a number of changes per transaction: write a whole number"
            " from 1 to 2147483647",
        ),
        (
            "batch_size = 2147483648",
            "batch_size = 2147483648 is not a number of changes per transaction: write a whole"
            " number from 1 to 2147483647",
        ),
        (
            'batch_size = "1000"',
            "batch_size has the wrong type (str): write a whole number",
        ),
        *(
            (
                f"poll_interval = {spelled}",
                f"poll_interval = {shown} is not a number of seconds between polls: write a"
                " number greater than 0 and at most 86400 (a day)",
            )
            for spelled, shown in (
                ("nan", "nan"),
                ("-1.0", "-1.0"),
                ("inf", "inf"),
                ("0", "0.0"),
                ("1e300", "1e+300"),
            )
        ),
    ],
)
def test_a_batch_size_or_poll_interval_that_would_fail_later_is_refused_when_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, message: str
) -> None:
    config = project(tmp_path, top=setting + "\n")
    assert refused(capsys, config, "run", "--once") == [f"replicator: {config}: {message}"]


def test_a_side_name_that_cannot_name_its_wal_slot_is_refused_when_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project(tmp_path, left_name="ERP-1 prod", left_extra='capture = "wal"')
    assert refused(capsys, config, "validate") == [
        f"replicator: {config}: [left]: name 'ERP-1 prod' cannot name the WAL capture slot"
        " 'replicator_ERP-1 prod': a slot name holds only lower-case letters, digits and _,"
        " at most 63 of them; choose such a name"
    ]


def test_the_same_name_is_fine_for_a_side_captured_by_triggers(tmp_path: Path) -> None:
    config = project(tmp_path, left_name="ERP-1 prod")
    assert load_config(config).left.name == "ERP-1 prod"


def test_an_application_schema_named_replicator_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project(tmp_path, right_schema="replicator")
    assert refused(capsys, config, "validate") == [
        f"replicator: {config}: [right]: schema 'replicator' is the replicator's own control"
        " schema (its queue, logs and generated functions go there); an application's tables"
        " cannot live in it: rename the application's schema"
    ]


def test_a_config_that_is_no_readable_toml_file_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project(tmp_path)
    config.write_bytes(bytes(range(128, 256)) + b"\x00\x01")
    assert refused(capsys, config, "status") == [
        f"replicator: {config}: is not UTF-8 text: byte 0x80 on line 1; save the file as UTF-8"
    ]
    config.unlink()
    config.mkdir()
    assert refused(capsys, config, "status") == [
        f"replicator: {config}: is a directory, not a TOML file"
    ]
    config.rmdir()
    config.symlink_to(tmp_path / "gone.toml")
    assert refused(capsys, config, "status") == [
        f"replicator: {config}: is a symbolic link to {tmp_path / 'gone.toml'}, which does not exist"
    ]
    config.unlink()
    config.symlink_to(config)
    assert refused(capsys, config, "status") == [
        f"replicator: {config}: cannot be read: Too many levels of symbolic links"
    ]


def test_a_config_without_read_permission_is_named() -> None:
    """Run by a role that may not read it: root reads every file, so as root the command
    runs as the postgres OS user (which the test servers run as too)."""
    home = Path(tempfile.mkdtemp(prefix="replicator-unreadable-"))
    try:
        home.chmod(0o711)  # whoever runs the command may look inside, not list it
        config = project(home)
        config.chmod(0)
        command = [sys.executable, "-m", "replicator.cli", "--config", str(config), "status"]
        if os.geteuid() == 0:
            command = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd="/", check=False)
    finally:
        shutil.rmtree(home)
    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "",
        f"replicator: {config}: cannot be read: permission denied\n",
    )


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (
            lambda path: path.symlink_to(path.parent / "elsewhere.toml"),
            "is a symbolic link to {maps}/elsewhere.toml, which does not exist",
        ),
        (lambda path: path.symlink_to(path), "cannot be read: Too many levels of symbolic links"),
        (
            lambda path: path.write_bytes(b"# caf\xe9 au lait\n" + MAP.encode()),
            "is not UTF-8 text: byte 0xe9 on line 1; save the file as UTF-8",
        ),
        (lambda path: path.mkdir(), "is a directory, not a TOML file"),
        (
            lambda path: path.write_text("map = [1, 2]\n"),
            "map '#1': must be a [[map]] table\n  maps/broken.toml: map '#2': must be a [[map]]"
            " table",
        ),
    ],
    ids=["dangling symlink", "symlink loop", "latin-1 comment", "directory", "map not a table"],
)
def test_a_map_file_that_cannot_be_read_is_named_by_every_command_that_reads_maps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, problem: str
) -> None:
    config = project(tmp_path)
    maps = tmp_path / "maps"
    make(maps / "broken.toml")  # type: ignore[operator]
    shown = problem.format(maps=maps)
    count = 2 if "#2" in shown else 1
    expected = [
        f"replicator: {count} problem{'s' if count > 1 else ''} in the maps; nothing was deployed",
        *(f"  maps/broken.toml: {line}" for line in shown.split("\n  maps/broken.toml: ")),
    ]
    for verb in (["validate"], ["plan"], ["plan", "--roles"], ["deploy"]):
        assert refused(capsys, config, *verb) == expected, verb


LONG_OWNER = "o" * 57 + "_owner"  # 63 bytes: its writers would be longer


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        (
            'owner = "app"\nruntime = "app"',
            "[roles]: owner and runtime must be different roles: the runtime role must not"
            " own what it runs",
        ),
        (
            'owner = "replicator_owner"\nruntime = "replicator_left_writer"',
            "[roles]: runtime and left_writer are both 'replicator_left_writer': each side's"
            " writer holds only that side's tables, apart from the owner and the runtime role",
        ),
        (
            'owner = "o"\nruntime = "r"\nleft_writer = "w"\nright_writer = "w"',
            "[roles]: left_writer and right_writer are both 'w': each side's writer holds only"
            " that side's tables, apart from the owner and the runtime role",
        ),
        (
            f'owner = "{LONG_OWNER}"\nruntime = "r"',
            f"[roles]: left_writer = '{'o' * 57}_left_writer' is longer than 63 bytes"
            " (derived from owner: name it)",
        ),
        (
            f'owner = "o"\nruntime = "r"\nright_writer = "{"w" * 64}"',
            f"[roles]: right_writer = '{'w' * 64}' is longer than 63 bytes",
        ),
        (
            'owner = "o"\nruntime = "r"\nleft_writer = ""',
            "[roles]: left_writer must name a role",
        ),
        (
            'owner = "o"\nruntime = "r"\nwriter = "w"',
            "[roles]: unknown setting 'writer' (known: owner, runtime, left_writer, right_writer)",
        ),
    ],
)
def test_roles_that_cannot_keep_the_sides_apart_are_refused_when_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], roles: str, message: str
) -> None:
    config = project(tmp_path)
    config.write_text(config.read_text() + "\n[roles]\n" + roles + "\n")
    assert refused(capsys, config, "validate") == [f"replicator: {config}: {message}"]


def test_the_writers_are_named_after_the_owner_unless_named() -> None:
    derived = Roles(owner="dw_owner", runtime="dw_runtime")
    named = Roles(owner="dw_owner", runtime="dw_runtime", right_writer="crm_writes")
    assert (derived.writer("left"), derived.writer("right")) == (
        "dw_left_writer",
        "dw_right_writer",
    )
    assert (named.writer("left"), named.writer("right")) == ("dw_left_writer", "crm_writes")
