"""replicator.toml → Config. Connections come from a conninfo/URI, an
environment variable holding one, or libpq's own variables; no password needs
to sit in the file."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from replicator.core.errors import ConfigError
from replicator.core.quoting import DOLLAR_TAG, HOLDS_A_TAG
from replicator.maps.model import (
    CAPTURES,
    CONTROL_SCHEMA,
    AlertRule,
    Config,
    Roles,
    Side,
    SideConfig,
)
from replicator.maps.tomlfile import read_toml

SIDE_KEYS = {"name", "schema", "conninfo", "conninfo_env", "capture"}
TOP_KEYS = {
    "maps",
    "batch_size",
    "poll_interval",
    "give_up_after",
    "retained_wal_warning",
    "left",
    "right",
    "alert",
    "roles",
}
ROLE_KEYS = ("owner", "runtime")
WRITER_KEYS = ("left_writer", "right_writer")
ALERT_KEYS = {"name", "errors", "count", "window", "actions", "channel", "command"}
ALERT_ACTIONS = ("notify", "pause", "stop")
# The queue functions take the batch size as a PostgreSQL integer.
MAX_BATCH = 2**31 - 1
MAX_POLL_INTERVAL = 86400  # a day
# What PostgreSQL accepts as a replication slot name (NAMEDATALEN - 1 bytes at most).
SLOT_NAME = re.compile(r"[a-z0-9_]{1,63}")
# Identifiers (a schema, a NOTIFY channel) hold at most NAMEDATALEN - 1 bytes.
NAME_BYTES = 63


def load_config(path: Path) -> Config:
    """Read and resolve replicator.toml; every problem raises ConfigError naming the file."""
    if not path.exists() and not path.is_symlink():
        raise ConfigError(f"{path}: no such file; pass --config or set REPLICATOR_CONFIG")
    problem, raw = read_toml(path)
    if problem is not None:
        raise ConfigError(f"{path}: {problem}")
    unknown = sorted(set(raw) - TOP_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r} (known: {sorted(TOP_KEYS)})")
    left = _side(path, raw, "left")
    right = _side(path, raw, "right")
    if left.name == right.name:
        raise ConfigError(f"{path}: [left] and [right] must have different names")
    maps = _typed(path, raw, "maps", str, "maps")
    if not maps or "\x00" in maps:
        raise ConfigError(f"{path}: maps must name the folder of map files")
    batch_size = _typed(path, raw, "batch_size", int, 1000)
    if not 1 <= batch_size <= MAX_BATCH:
        # 0 would apply nothing and report success; the queue functions take an integer.
        raise ConfigError(
            f"{path}: batch_size = {batch_size} is not a number of changes per transaction:"
            f" write a whole number from 1 to {MAX_BATCH}"
        )
    poll_interval = float(_typed(path, raw, "poll_interval", (int, float), 1.0))
    if not 0 < poll_interval <= MAX_POLL_INTERVAL:  # also refuses nan
        raise ConfigError(
            f"{path}: poll_interval = {poll_interval} is not a number of seconds between"
            f" polls: write a number greater than 0 and at most {MAX_POLL_INTERVAL} (a day)"
        )
    alerts = raw.get("alert", [])
    if not isinstance(alerts, list):
        raise ConfigError(f"{path}: alert must be a list of tables: write each rule as [[alert]]")
    config = Config(
        path=path,
        left=left,
        right=right,
        maps_dir=path.parent / maps,
        batch_size=batch_size,
        poll_interval=poll_interval,
        give_up_after=_give_up_after(path, _typed(path, raw, "give_up_after", str, "5m")),
        alerts=tuple(_alert(path, n, entry) for n, entry in enumerate(alerts, 1)),
        retained_wal_warning=parse_size(
            path, _typed(path, raw, "retained_wal_warning", str, "1GB"), "retained_wal_warning"
        ),
        roles=_roles(path, raw.get("roles")),
    )
    for role in config.databases:
        slot = config.slot_name(role)
        if config.wal_sides(role) and not SLOT_NAME.fullmatch(slot):
            raise ConfigError(
                f"{path}: [{role}]: name {config.side(role).name!r} cannot name the WAL capture"
                f" slot {slot!r}: a slot name holds only lower-case letters, digits and _, at"
                " most 63 of them; choose such a name"
            )
    return config


def _give_up_after(path: Path, text: str) -> float:
    """give_up_after: how long replicator run retries databases it cannot reach."""
    try:
        seconds = parse_duration(text).total_seconds()
    except ConfigError as exc:
        raise ConfigError(f"{path}: give_up_after: {exc}") from None
    if seconds <= 0:
        raise ConfigError(f"{path}: give_up_after must be longer than 0s, e.g. 5m")
    return seconds


def _roles(path: Path, raw: Any) -> Roles | None:
    """[roles]: the owner and runtime role names, both required; the writers, named or
    derived from the owner; all different."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: roles must be a table: [roles] with owner and runtime")
    unknown = sorted(set(raw) - set(ROLE_KEYS) - set(WRITER_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: [roles]: unknown setting {unknown[0]!r}"
            f" (known: {', '.join(ROLE_KEYS + WRITER_KEYS)})"
        )
    names = {}
    for key in ROLE_KEYS + WRITER_KEYS:
        value = raw.get(key)
        if value is None and key in WRITER_KEYS:
            continue
        if not isinstance(value, str) or not value or "\x00" in value:
            raise ConfigError(f"{path}: [roles]: {key} must name a role")
        names[key] = value
    roles = Roles(
        owner=names["owner"],
        runtime=names["runtime"],
        left_writer=names.get("left_writer", ""),
        right_writer=names.get("right_writer", ""),
    )
    every = {
        "owner": roles.owner,
        "runtime": roles.runtime,
        "left_writer": roles.writer("left"),
        "right_writer": roles.writer("right"),
    }
    for key, value in every.items():
        if len(value.encode()) > 63:
            derived = "" if key in names else " (derived from owner: name it)"
            raise ConfigError(
                f"{path}: [roles]: {key} = {value!r} is longer than 63 bytes{derived}"
            )
    if roles.owner == roles.runtime:
        raise ConfigError(
            f"{path}: [roles]: owner and runtime must be different roles: the runtime role"
            " must not own what it runs"
        )
    seen: dict[str, str] = {}
    for key, value in every.items():
        if value in seen:
            raise ConfigError(
                f"{path}: [roles]: {seen[value]} and {key} are both {value!r}: each side's"
                " writer holds only that side's tables, apart from the owner and the runtime"
                " role"
            )
        seen[value] = key
    return roles


def _alert(path: Path, position: int, raw: Any) -> AlertRule:
    """One [[alert]]: errors (a SQLSTATE or "any"), count, window, actions."""
    where = f"{path}: [[alert]] #{position}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(raw) - ALERT_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(ALERT_KEYS))})"
        )
    errors = raw.get("errors", "any")
    if not isinstance(errors, str) or not (errors == "any" or re.fullmatch(r"[0-9A-Z]{5}", errors)):
        raise ConfigError(f'{where}: errors must be "any" or a SQLSTATE such as "23514"')
    count = raw.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ConfigError(f"{where}: count must be a whole number of errors, at least 1")
    name = raw.get("name", f"alert {position}")
    if not isinstance(name, str):
        raise ConfigError(f"{where}: name must be a string")
    window = raw.get("window")
    duration = _duration(window) if isinstance(window, str) else None
    if duration is None:
        raise ConfigError(f'{where}: window must be a duration such as "15m"')
    actions = raw.get("actions")
    if not isinstance(actions, list) or not actions or any(a not in ALERT_ACTIONS for a in actions):
        raise ConfigError(f"{where}: actions must be a list of {', '.join(ALERT_ACTIONS)}")
    command = raw.get("command")
    if command is not None and not (isinstance(command, str) and _program(command)):
        raise ConfigError(
            f"{where}: command must be a program and its arguments, as a shell would split them"
        )
    channel = raw.get("channel", "replicator_alert")
    if not isinstance(channel, str) or not channel or len(channel.encode()) > NAME_BYTES:
        # NOTIFY refuses an empty or a longer channel name when the alert fires.
        raise ConfigError(
            f"{where}: channel must name a NOTIFY channel (at most {NAME_BYTES} bytes)"
        )
    return AlertRule(
        name=name,
        sqlstate=None if errors == "any" else errors,
        count=count,
        window=duration,
        actions=tuple(actions),
        channel=channel,
        command=command,
    )


def _program(command: str) -> bool:
    """Whether ``command`` splits into a program and its arguments (no unclosed quote)."""
    try:
        return bool(shlex.split(command)) and "\x00" not in command
    except ValueError:
        return False


def _typed(path: Path, table: dict[str, Any], key: str, kind: Any, default: Any) -> Any:
    value = table.get(key, default)
    if not isinstance(value, kind) or isinstance(value, bool):
        wanted = {str: "a string", int: "a whole number"}.get(kind, "a number")
        raise ConfigError(
            f"{path}: {key} has the wrong type ({type(value).__name__}): write {wanted}"
        )
    return value


def _side(path: Path, raw: dict[str, Any], role: Side) -> SideConfig:
    table = raw.get(role)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: missing [{role}] section (name, schema, conninfo)")
    unknown = sorted(set(table) - SIDE_KEYS)
    if unknown:
        raise ConfigError(f"{path}: [{role}]: unknown setting {unknown[0]!r}")
    schema = table.get("schema")
    if not isinstance(schema, str) or not schema:
        raise ConfigError(f"{path}: [{role}]: schema is required")
    if "\x00" in schema or len(schema.encode()) > NAME_BYTES:
        raise ConfigError(
            f"{path}: [{role}]: schema {schema!r} cannot name a PostgreSQL schema"
            f" (at most {NAME_BYTES} bytes, no NUL character)"
        )
    if schema == CONTROL_SCHEMA:
        raise ConfigError(
            f"{path}: [{role}]: schema {schema!r} is the replicator's own control schema (its"
            " queue, logs and generated functions go there); an application's tables cannot"
            " live in it: rename the application's schema"
        )
    name = table.get("name", schema)
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ConfigError(f"{path}: [{role}]: name must be a non-empty string")
    if DOLLAR_TAG.search(schema):
        raise ConfigError(f"{path}: [{role}]: schema {schema!r} {HOLDS_A_TAG}")
    if "conninfo" in table and "conninfo_env" in table:
        raise ConfigError(f"{path}: [{role}]: give conninfo or conninfo_env, not both")
    if "conninfo_env" in table:
        variable = table["conninfo_env"]
        if not isinstance(variable, str) or not variable or "\x00" in variable or "=" in variable:
            raise ConfigError(f"{path}: [{role}]: conninfo_env must name an environment variable")
        if variable not in os.environ:
            raise ConfigError(
                f"{path}: [{role}]: environment variable {variable} (conninfo_env) is not set"
            )
        conninfo, source = os.environ[variable], f"environment variable {variable}"
    else:
        conninfo = table.get("conninfo", "")
        source = "conninfo in the config" if conninfo else "libpq environment defaults"
    if not isinstance(conninfo, str) or "\x00" in conninfo:
        # libpq would read a conninfo only up to a NUL: another database than written.
        raise ConfigError(f"{path}: [{role}]: conninfo must be a string without NUL characters")
    problem = unparsable(conninfo)
    if problem is not None:
        raise ConfigError(f"{path}: [{role}]: conninfo from {source} is not valid: {problem}")
    capture = table.get("capture", "trigger")
    if capture not in CAPTURES:
        raise ConfigError(f'{path}: [{role}]: capture must be "trigger" or "wal", not {capture!r}')
    return SideConfig(
        role=role,
        name=name,
        schema=schema,
        conninfo=conninfo,
        conninfo_source=source,
        capture=capture,
    )


def redacted(conninfo: str) -> str:
    """The conninfo with any password removed: safe for logs and messages."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "(unparsable conninfo)"
    params.pop("password", None)
    return make_conninfo(**{k: str(v) for k, v in params.items()})


def unparsable(conninfo: str) -> str | None:
    """Why libpq cannot parse ``conninfo``, with its passwords hidden; None if it can.

    libpq quotes what it tripped on, which may be the whole URI or its password; the
    reason is taken out of the exception, so nothing chained to a later error holds it."""
    try:
        conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as exc:
        return scrubbed(str(exc).strip(), conninfo)
    return None


# Where a password may sit in a conninfo libpq might not parse: password='...' (quote
# perhaps unclosed), password=... (keyword or URI query parameter), and a URI's
# user:password@.
_PASSWORD_SPELLINGS = (
    re.compile(r"password\s*=\s*'((?:[^'\\]|\\.)*)'?"),
    re.compile(r"password\s*=\s*([^\s'&]+)"),
    re.compile(r"://[^/@:]*:([^/@]*)@"),
)
HIDDEN = "********"


def scrubbed(text: str, *conninfos: str) -> str:
    """``text`` (a message from libpq, psycopg or the server) with every password that
    ``conninfos`` hold replaced by ********: the one way a message that may have seen a
    conninfo becomes safe to show."""
    secrets: set[str] = set()
    for conninfo in conninfos:
        with contextlib.suppress(psycopg.ProgrammingError):  # the spellings still find it
            secrets.add(str(conninfo_to_dict(conninfo).get("password") or ""))
        for spelling in _PASSWORD_SPELLINGS:
            for found in spelling.findall(conninfo):
                secrets |= {found, unquote(found), re.sub(r"\\(.)", r"\1", found)}
    for secret in sorted(secrets - {""}, key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return text


_DURATION = re.compile(r"(\d+)\s*(s|m|h|d)")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """ "90s", "15m", "12h", "30d" as a timedelta."""
    duration = _duration(text)
    if duration is None:
        raise ConfigError(f"{text!r} is not a duration; write e.g. 90s, 15m, 12h or 30d")
    return duration


def _duration(text: str) -> timedelta | None:
    match = _DURATION.fullmatch(text.strip())
    if not match:
        return None
    try:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:  # more than timedelta holds (about a million days)
        return None


_SIZE = re.compile(r"(\d+)\s*(kB|MB|GB|TB)?")
_SIZE_UNITS = {None: 1, "kB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def parse_size(path: Path, text: str, key: str) -> int:
    """ "512MB", "1GB" (PostgreSQL's units) as bytes."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise ConfigError(f"{path}: {key} = {text!r} is not a size; write e.g. 512MB or 1GB")
    return int(match.group(1)) * _SIZE_UNITS[match.group(2)]
