"""The operating commands behind the CLI: pause, resume, stop; errors, retry,
skip, purge; conflicts, resolve."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta
from typing import TextIO

from replicator import conflictlog, errorlog, origins, states, sync
from replicator.connections import connect, every_database, under_origin
from replicator.errors import ReplicatorError
from replicator.exitcodes import ExitCode
from replicator.loader import load_maps
from replicator.model import Config, Direction, Side, source_of, target_of
from replicator.output import counted, write_table


def cmd_state(
    config: Config,
    out: TextIO,
    action: states.Action,
    names: list[str],
    direction: Direction | None,
    reason: str,
) -> int:
    """replicator pause|resume|stop MAP... [--direction D] [--reason TEXT]"""
    maps = load_maps(config.maps_dir, config.path.parent)
    for table_map, d in states.selected(maps, names, direction):
        with connect(config, config.database_of(source_of(d))) as conn:
            change = states.change_state(conn, config, table_map, d, action, reason)
        if change.before == change.after:
            out.write(f"{change.map} ({config.arrow(d)}): already {change.after}")
        else:
            out.write(f"{change.map} ({config.arrow(d)}): {change.before} → {change.after}")
        out.write(f"; {change.note}\n" if change.note else "\n")
    return ExitCode.OK


def cmd_errors(
    config: Config, out: TextIO, map_name: str | None, every: bool, as_json: bool
) -> int:
    """replicator errors [MAP] [--all] [--json]: open errors (with --all, closed ones too)."""
    with every_database(config) as connections:
        found = errorlog.list_errors(connections, config, map_name, every)
    if as_json:
        out.write(json.dumps([asdict(e) for e in found], indent=2, default=str) + "\n")
        return ExitCode.OK
    headers = [
        "id",
        "database",
        "map",
        "direction",
        "op",
        "key",
        "attempts",
        "last seen",
        "state",
        "message",
    ]
    rows = [
        [
            str(e.id),
            e.database,
            e.map,
            e.direction,
            e.op,
            e.key,
            str(e.attempts),
            f"{e.last_seen:%Y-%m-%d %H:%M:%S}",
            e.state if e.state == "open" else f"{e.state} by {e.resolved_by}",
            f"{e.sqlstate}: {e.message}",
        ]
        for e in found
    ]
    write_table(out, headers, rows)
    return ExitCode.OK


def cmd_retry(
    config: Config,
    out: TextIO,
    error_id: int | None,
    map_name: str | None,
    side: Side | None,
) -> int:
    """replicator retry ID | --map MAP | --all: exit 1 if any still fails."""
    failed = 0
    with every_database(config) as connections:
        for conn in connections.values():
            under_origin(conn, origins.ADMIN)
        if error_id is not None:
            role = errorlog.locate(connections, config, error_id, side)
            work = [(role, [error_id])]
        else:
            work = [(role, errorlog.open_ids(conn, map_name)) for role, conn in connections.items()]
        for role, ids in work:
            for one in ids:
                outcome = errorlog.retry(connections[role], one)
                failed += outcome != "applied"
                out.write(f"error {one}: {outcome}\n")
        if not any(ids for _, ids in work):
            out.write("no open errors\n")
    return ExitCode.ERROR if failed else ExitCode.OK


def cmd_skip(config: Config, out: TextIO, error_id: int, reason: str, side: Side | None) -> int:
    """replicator skip ID [--reason TEXT]: close an error without applying it."""
    with every_database(config) as connections:
        role = errorlog.locate(connections, config, error_id, side)
        outcome = errorlog.skip(connections[role], error_id, reason)
    if outcome != "skipped":
        raise ReplicatorError(f"error {error_id}: {outcome}")
    out.write(f"error {error_id}: skipped\n")
    return ExitCode.OK


def cmd_conflicts(
    config: Config, out: TextIO, map_name: str | None, waiting: bool, as_json: bool
) -> int:
    """replicator conflicts [MAP] [--waiting] [--json]: the conflict log, oldest first."""
    with every_database(config) as connections:
        found = conflictlog.list_conflicts(connections, config, map_name, waiting)
    if as_json:
        out.write(json.dumps([asdict(c) for c in found], indent=2, default=str) + "\n")
        return ExitCode.OK
    headers = ["id", "database", "map", "direction", "op", "key", "fields", "outcome", "logged"]
    rows = [
        [
            str(c.id),
            c.database,
            c.map,
            c.direction,
            c.op,
            c.key,
            c.fields,
            c.outcome if c.taken is None else f"{c.outcome}: took {c.taken} ({c.resolved_by})",
            f"{c.logged_at:%Y-%m-%d %H:%M:%S}",
        ]
        for c in found
    ]
    write_table(out, headers, rows)
    return ExitCode.OK


def cmd_resolve(
    config: Config, out: TextIO, conflict_id: int, take: Side, side: Side | None
) -> int:
    """replicator resolve ID --take left|right: settle a manual conflict."""
    maps = load_maps(config.maps_dir, config.path.parent)
    with every_database(config) as connections:
        role = conflictlog.locate(connections, config, conflict_id, side)
        outcome = conflictlog.resolve(connections, config, maps, role, conflict_id, take)
    out.write(f"conflict {conflict_id}: {outcome}\n")
    return ExitCode.OK


def cmd_sync(config: Config, out: TextIO, names: list[str], chunk: int) -> int:
    """replicator sync [MAP...]: exit 1 if some rows failed (they are in the error log),
    4 if some wait for a parent the other side lacks (they are held)."""
    maps = load_maps(config.maps_dir, config.path.parent)
    copied = sync.sync(config, maps, names, out, chunk)
    for c in copied:
        if c.held:
            out.write(
                f"{c.map} ({config.arrow(c.direction)}): {counted(c.held, 'row')} held, waiting"
                f" for a parent that {config.side(target_of(c.direction)).name} does not have:"
                f" replicator held {c.map} lists them\n"
            )
    failed = sum(c.failed for c in copied)
    held = sum(c.held for c in copied)
    out.write(
        f"copied {counted(sum(c.written for c in copied), 'row')}"
        f" of {counted(len({c.map for c in copied}), 'map')}"
        + (f"; {counted(held, 'row')} held" if held else "")
        + (f"; {failed} failed: see replicator errors" if failed else "")
        + "\n"
    )
    if failed:
        return ExitCode.ERROR
    return ExitCode.ATTENTION if held else ExitCode.OK


def cmd_purge(config: Config, out: TextIO, older_than: timedelta) -> int:
    """replicator purge --older-than 30d: closed errors and old activity."""
    for role in config.databases:
        with connect(config, role) as conn:
            errors, conflicts, activity = errorlog.purge(conn, older_than)
        label = config.side(role).name if not config.same_database else "both sides"
        out.write(
            f"{label}: purged {errors} closed errors, {conflicts} conflicts"
            f" and {activity} activity rows\n"
        )
    return ExitCode.OK
