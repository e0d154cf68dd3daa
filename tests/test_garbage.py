"""Every command fed garbage instead of replicator.toml or a map file: random bytes,
TOML cut short, a value of the wrong type for each key. Whatever arrives, the DBA
reads lines naming the file and what is wrong, the exit code is 1, no traceback
reaches them, and nothing deployed changes. Hypothesis makes the garbage; the
commands run in-process, against a real database that holds a deployed project.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.throwaway import ThrowawayServer
from replicator import cli
from replicator.maps import config, fieldloader, loader
from tests.support import rows

# Fixed examples, so CI runs the same garbage every time; no example database on disk.
# 25 per kind of garbage, each through all 24 verbs.
GARBAGE = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Every verb, with the arguments it needs.
VERBS = [
    ["validate"],
    ["plan"],
    ["plan", "--roles"],
    ["deploy"],
    ["run", "--once"],
    ["status"],
    ["pause", "items"],
    ["resume", "items"],
    ["stop", "items"],
    ["errors"],
    ["retry", "--all"],
    ["skip", "1"],
    ["conflicts"],
    ["resolve", "1", "--take", "left"],
    ["sync"],
    ["purge", "--older-than", "30d"],
    ["verify"],
    ["repair", "--from", "left"],
    ["plan", "--undeploy"],
    ["undeploy"],
    ["held", "list"],
    ["held", "retry", "--all"],
    ["held", "discard", "--all", "--reason", "garbage"],
    ["discard", "items", "--reason", "garbage"],
]
# The verbs that read the map files; the others never open them, or, listing what the
# databases hold, list it without them.
READ_MAPS = [
    verb
    for verb in VERBS
    if verb[0]
    not in {"run", "status", "errors", "retry", "skip", "conflicts", "purge", "undeploy", "held"}
    and verb[:2] != ["plan", "--undeploy"]
]

DDL = """
CREATE SCHEMA erp;
CREATE SCHEMA crm;
CREATE TABLE erp.item (id integer PRIMARY KEY, note text);
CREATE TABLE crm.item (id integer PRIMARY KEY, note text);
"""

# The config every example starts from; the right side's schema comes last, so any
# of its strict prefixes lacks what a config needs.
CONFIG: dict[str, Any] = {
    "maps": "maps",
    "batch_size": 1000,
    "poll_interval": 1.0,
    "retained_wal_warning": "1GB",
    "alert": [
        {
            "name": "poison",
            "errors": "any",
            "count": 10,
            "window": "15m",
            "actions": ["notify"],
            "channel": "replicator_alert",
            "command": "logger replicator",
        }
    ],
    "roles": {"owner": "replicator_owner", "runtime": "replicator_runtime"},
    "left": {
        "name": "erp",
        "conninfo_env": "REPLICATOR_LEFT",
        "capture": "trigger",
        "schema": "erp",
    },
    "right": {
        "name": "crm",
        "conninfo_env": "REPLICATOR_RIGHT",
        "capture": "trigger",
        "schema": "crm",
    },
}
# The map deployed at the start; its key field comes last, key = true last of all,
# so any of its strict prefixes lacks a key.
MAP: dict[str, Any] = {
    "name": "items",
    "left": "item",
    "right": "item",
    "direction": "both",
    "field": [
        {"left": "note", "right": "note"},
        {"left": "id", "right": "id", "key": True},
    ],
}

# The kinds of value TOML holds, and what each key takes: a string unless said here.
# Built from the loaders' own lists of keys, so a key added there is fed garbage too.
KINDS = ("string", "integer", "float", "boolean", "date", "array", "table")
STRING = ("string",)
TAKES: dict[str, tuple[str, ...]] = {
    "batch_size": ("integer",),
    "poll_interval": ("integer", "float"),
    "alert": ("array",),
    "roles": ("table",),
    "left": ("table",),
    "right": ("table",),
    "count": ("integer",),
    "actions": ("array",),
}
CONFIG_KEYS: dict[tuple[Any, ...], tuple[str, ...]] = {
    **{(key,): TAKES.get(key, STRING) for key in config.TOP_KEYS},
    **{(side, key): STRING for side in ("left", "right") for key in config.SIDE_KEYS},
    **{("alert", 0, key): TAKES.get(key, STRING) for key in config.ALERT_KEYS},
    **{("roles", key): STRING for key in config.ROLE_KEYS},
}
MAP_KEYS: dict[str, tuple[str, ...]] = {
    key: {"requires": ("array",), "field": ("array",), "mark": ("table",)}.get(key, STRING)
    for key in loader.MAP_KEYS
}
FIELD_KEYS: dict[str, tuple[str, ...]] = {
    key: {
        "key": ("boolean",),
        "sticky": ("boolean",),
        "value_map": ("table",),
        "fallback": ("table",),
        "default": ("table",),
        "on_null": ("table",),
        "lookup": ("string", "table"),
    }.get(key, STRING)
    for key in fieldloader.FIELD_KEYS
}


SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.text(max_size=20), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.booleans()
)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "string": st.text(max_size=20),
    "integer": st.integers(min_value=-(2**63), max_value=2**63 - 1),
    "float": st.floats(),
    "boolean": st.booleans(),
    "date": st.dates(),
    "array": st.lists(SCALARS, max_size=3),
    "table": st.dictionaries(st.text(min_size=1, max_size=8), SCALARS, max_size=3),
}


def wrong_for(allowed: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """A value of any kind the key does not take."""
    return st.sampled_from([k for k in KINDS if k not in allowed]).flatmap(VALUES.__getitem__)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        # JSON's escapes are TOML's, but for DEL, which TOML wants escaped too.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007F")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml_value(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def tables_of(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def toml_document(document: dict[str, Any], prefix: str = "") -> str:
    """``document`` as TOML: plain values first, then [tables] and [[arrays of tables]]."""
    lines = [
        f"{toml_value(key)} = {toml_value(value)}"
        for key, value in document.items()
        if not isinstance(value, dict) and not tables_of(value)
    ]
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            lines += ["", f"[{name}]", toml_document(value, f"{name}.").strip()]
        elif tables_of(value):
            for entry in value:
                lines += ["", f"[[{name}]]", toml_document(entry, f"{name}.").strip()]
    return "\n".join(lines)


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``document`` with the value at ``path`` set (or added) to ``value``."""
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    inner = copy[path[0]] if len(path) > 1 else None
    copy[path[0]] = replaced(inner, path[1:], value)
    return copy


def prefixes(text: str) -> st.SearchStrategy[str]:
    """``text`` cut short anywhere."""
    return st.integers(min_value=0, max_value=len(text) - 1).map(lambda n: text[:n])


@dataclass
class Deployed:
    """A project whose map is deployed, its files restored before each example."""

    root: Path
    url: str

    @property
    def config(self) -> Path:
        return self.root / "replicator.toml"

    @property
    def map_file(self) -> Path:
        return self.root / "maps" / "items.toml"

    def restore(self) -> None:
        """The deployed config (without [roles]: the roles SQL has not run here) and map."""
        self.config.write_text(toml_document({k: v for k, v in CONFIG.items() if k != "roles"}))
        self.map_file.write_text(toml_document({"map": [MAP]}))

    def state(self) -> list[tuple[object, ...]]:
        """What deploy and the state commands have written."""
        return rows(
            self.url,
            "SELECT name, sha256 FROM replicator.deployed_artifact"
            " UNION ALL SELECT map_name || ' ' || direction, state FROM replicator.map_state"
            " ORDER BY 1",
        )


@pytest.fixture(scope="module")
def deployed(pg: ThrowawayServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    name = f"garbage_{uuid.uuid4().hex[:12]}"
    url = pg.create_database(name, template="template0")
    root = tmp_path_factory.mktemp("garbage")
    (root / "maps").mkdir()
    project = Deployed(root, url)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REPLICATOR_LEFT", url)
        env.setenv("REPLICATOR_RIGHT", url)
        # A side left to libpq's defaults must reach nothing.
        env.setenv("PGHOST", str(root / "no-server-here"))
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(DDL.encode())
            project.restore()
            assert run(project.config, "deploy")[0] == 0
            yield project
        finally:
            shutil.rmtree(root, ignore_errors=True)
            if pg.running:
                pg.drop_database(name)


def run(config_path: Path, *verb: str) -> tuple[int, str, str]:
    """``replicator --config CONFIG VERB`` in this process: exit code, stdout, stderr.
    An exception escaping main is what a DBA would see as a traceback: it fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["--config", str(config_path), *verb])
    return code, out.getvalue(), err.getvalue()


def refused_config(project: Deployed, garbage: bytes) -> None:
    """Every verb says, in one line, what is wrong with the config; exit 1."""
    project.restore()
    before = project.state()
    project.config.write_bytes(garbage)
    for verb in VERBS:
        code, out, err = run(project.config, *verb)
        assert (code, out) == (1, ""), (verb, err)
        assert err.startswith(f"replicator: {project.config}: "), (verb, err)
        assert err.count("\n") == 1, (verb, err)
    assert project.state() == before


def refused_maps(project: Deployed, garbage: bytes) -> None:
    """Every verb that reads the maps lists what is wrong, each line naming the file;
    exit 1, and nothing deployed changes."""
    project.restore()
    before = project.state()
    project.map_file.write_bytes(garbage)
    for verb in READ_MAPS:
        code, out, err = run(project.config, *verb)
        head, *problems = err.splitlines()
        assert (code, out) == (1, ""), (verb, err)
        assert head.startswith("replicator: ") and head.endswith("nothing was deployed"), err
        assert problems and all(p.startswith("  maps/items.toml: ") for p in problems), err
    assert project.state() == before


@GARBAGE
@given(garbage=st.binary(max_size=200))
def test_random_bytes_as_the_config(deployed: Deployed, garbage: bytes) -> None:
    refused_config(deployed, garbage)


@GARBAGE
@given(text=prefixes(toml_document(CONFIG)))
def test_the_config_cut_short(deployed: Deployed, text: str) -> None:
    refused_config(deployed, text.encode())


@GARBAGE
@given(data=st.data())
def test_a_config_value_of_the_wrong_type(deployed: Deployed, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(sorted(CONFIG_KEYS, key=str)), label="key")
    value = data.draw(wrong_for(CONFIG_KEYS[path]), label="value")
    refused_config(deployed, toml_document(replaced(CONFIG, path, value)).encode())


@GARBAGE
@given(garbage=st.binary(max_size=200))
def test_random_bytes_as_a_map_file(deployed: Deployed, garbage: bytes) -> None:
    refused_maps(deployed, garbage)


@GARBAGE
@given(text=prefixes(toml_document({"map": [MAP]})))
def test_a_map_file_cut_short(deployed: Deployed, text: str) -> None:
    refused_maps(deployed, text.encode())


@GARBAGE
@given(data=st.data())
def test_a_map_value_of_the_wrong_type(deployed: Deployed, data: st.DataObject) -> None:
    # Sorted: the loaders' keys are sets, and the same examples must come each run.
    paths: list[tuple[Any, ...]] = [(key,) for key in sorted(MAP_KEYS)] + [
        ("field", n, key) for n in range(len(MAP["field"])) for key in sorted(FIELD_KEYS)
    ]
    path = data.draw(st.sampled_from(paths), label="key")
    allowed = MAP_KEYS[path[0]] if len(path) == 1 else FIELD_KEYS[path[-1]]
    value = data.draw(wrong_for(allowed), label="value")
    refused_maps(deployed, toml_document({"map": [replaced(MAP, path, value)]}).encode())
