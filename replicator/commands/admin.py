"""The operating commands behind the CLI: pause, resume, stop; errors, retry,
skip, purge; conflicts, resolve; held changes; a removed map's backlog."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta
from functools import partial
from typing import TextIO

import psycopg
from psycopg.rows import TupleRow

from replicator.core import origins
from replicator.core.errors import ReplicatorError
from replicator.core.exitcodes import ExitCode
from replicator.core.output import counted, write_table
from replicator.inspect.connections import connect, every_database, under_origin
from replicator.maps.loader import load_maps
from replicator.maps.model import Config, Direction, MapSet, Side, TableMap, source_of, target_of
from replicator.operations import backlog, conflictlog, errorlog, states, sync, syncwinner

Connection = psycopg.Connection[TupleRow]


def cmd_state(
    config: Config,
    out: TextIO,
    action: states.Action,
    names: list[str],
    direction: Direction | None,
    reason: str,
) -> ExitCode:
    """replicator pause|resume|stop MAP... [--direction D] [--reason TEXT]

    A map removed from the files but still deployed may be named too: resumed, the
    applier drains its backlog, and the next deploy removes it. Resuming a failed map
    first retries its open errors: a change that failed in the moment before drift (or
    the alert) failed the map is applied with the fix, before its backlog."""
    maps = load_maps(config.maps_dir, config.path.parent)
    failed = 0
    with every_database(config) as connections:
        pairs = states.selected(
            maps, names, direction, partial(backlog.deployed_directions, connections, config)
        )
        for table_map, d in pairs:
            source = connections[config.database_of(source_of(d))]
            retried = ""
            if action == "resume" and states.current(source, table_map.name, d) == "failed":
                retried, still = _retry_map_errors(config, table_map.name, d)
                failed += still
            change = states.change_state(source, config, table_map, d, action, reason)
            if change.before == change.after:
                out.write(f"{change.map} ({config.arrow(d)}): already {change.after}")
            else:
                out.write(f"{change.map} ({config.arrow(d)}): {change.before} → {change.after}")
            note = change.note
            resumed = change.before == "stopped" and change.after != "stopped"
            if resumed and isinstance(table_map, TableMap):
                # Running again: the sync that copies what the stop missed, and whether
                # it must be told which side wins.
                stopped = syncwinner.stops(connections, config, table_map)
                note += ": " + syncwinner.advice(config, table_map, stopped)
            notes = [n for n in (retried, note) if n]
            if isinstance(table_map, states.RemovedMap) and action == "resume":
                notes.append(
                    "it is no longer in the maps files: once the applier has applied its"
                    " backlog, replicator deploy removes it"
                )
            out.write("".join(f"; {n}" for n in notes) + "\n")
    return ExitCode.ERROR if failed else ExitCode.OK


def _retry_map_errors(config: Config, map_name: str, direction: Direction) -> tuple[str, int]:
    """Retry the open errors of one map direction (on its own connection: the admin
    origin must not mark the state change, which a WAL listener reads); the note to
    print and how many still fail."""
    with connect(config, config.database_of(target_of(direction))) as conn:
        under_origin(conn, origins.ADMIN)
        ids = errorlog.open_ids(conn, map_name, direction)
        outcomes = [errorlog.retry(conn, one) for one in ids]
    if not ids:
        return "", 0
    applied = outcomes.count("applied")
    still = len(ids) - applied
    return (
        f"retried its {counted(len(ids), 'open error')} first: {applied} applied"
        + (f", {still} failed again (replicator errors {map_name})" if still else ""),
        still,
    )


def _readable_maps(config: Config) -> MapSet | None:
    """The maps, to name things in a listing; a listing still works while they are broken
    (the DBA may be in the middle of fixing them)."""
    try:
        return load_maps(config.maps_dir, config.path.parent)
    except ReplicatorError:
        return None


def cmd_errors(
    config: Config, out: TextIO, map_name: str | None, every: bool, as_json: bool
) -> ExitCode:
    """replicator errors [MAP] [--all] [--json]: open errors (with --all, closed ones too)."""
    with every_database(config) as connections:
        found = errorlog.list_errors(connections, config, map_name, every, _readable_maps(config))
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
            config.arrow(e.direction),
            e.op,
            json.dumps(e.key, default=str),
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
) -> ExitCode:
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


def cmd_skip(config: Config, out: TextIO, error_id: int, reason: str, side: Side | None) -> ExitCode:
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
) -> ExitCode:
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
) -> ExitCode:
    """replicator resolve ID --take left|right: settle a manual conflict."""
    maps = load_maps(config.maps_dir, config.path.parent)
    with every_database(config) as connections:
        role = conflictlog.locate(connections, config, conflict_id, side)
        outcome = conflictlog.resolve(connections, config, maps, role, conflict_id, take)
    out.write(f"conflict {conflict_id}: {outcome}\n")
    return ExitCode.OK


def cmd_sync(
    config: Config, out: TextIO, names: list[str], chunk: int, from_side: Side | None = None
) -> ExitCode:
    """replicator sync [MAP...] [--from left|right]: exit 1 if some rows failed (they are
    in the error log), 3 if a map's winning side is the DBA's to choose (nothing was
    copied), 4 if some wait for a parent the other side lacks (they are held)."""
    maps = load_maps(config.maps_dir, config.path.parent)
    copied = sync.sync(config, maps, names, out, chunk, from_side)
    for c in copied:
        if c.held:
            out.write(
                f"{c.map} ({config.arrow(c.direction)}): {counted(c.held, 'row')} held, waiting"
                f" for a parent that {config.side(target_of(c.direction)).name} does not have:"
                f" replicator held list {c.map} shows them\n"
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


def cmd_purge(config: Config, out: TextIO, older_than: timedelta, dry_run: bool = False) -> ExitCode:
    """replicator purge --older-than 30d [--dry-run]: closed errors and old activity."""
    for role in config.databases:
        with connect(config, role) as conn:
            errors, conflicts, activity = errorlog.purge(conn, older_than, dry_run)
        label = config.side(role).name if not config.same_database else "both sides"
        out.write(
            f"{label}: {'would purge' if dry_run else 'purged'} {counted(errors, 'closed error')},"
            f" {counted(conflicts, 'conflict')} and {counted(activity, 'activity row')}\n"
        )
    if dry_run:
        out.write("dry run: nothing was deleted\n")
    return ExitCode.OK


def cmd_held(config: Config, out: TextIO, map_name: str | None, as_json: bool) -> ExitCode:
    """replicator held list [MAP] [--json]: changes waiting for a parent, oldest first."""
    with every_database(config) as connections:
        found = backlog.list_held(connections, config, _readable_maps(config), map_name)
    if as_json:
        out.write(json.dumps([asdict(h) for h in found], indent=2, default=str) + "\n")
        return ExitCode.OK
    headers = ["id", "database", "map", "direction", "op", "key", "waiting for", "held since"]
    rows = [
        [
            str(h.id),
            h.database,
            h.map,
            h.direction,
            h.op,
            json.dumps(h.key, default=str),
            h.waiting_for,
            f"{h.held_at:%Y-%m-%d %H:%M:%S}",
        ]
        for h in found
    ]
    write_table(out, headers, rows)
    return ExitCode.OK


def _held_work(
    connections: dict[Side, Connection],
    config: Config,
    change_id: int | None,
    map_name: str | None,
    side: Side | None,
) -> list[tuple[Side, list[int]]]:
    """Per database, the held changes a command names (one id, a map's, or all)."""
    if change_id is not None:
        role = backlog.locate_held(connections, config, change_id, side)
        return [(role, [change_id])]
    return [
        (role, backlog.held_ids(conn, None, map_name))
        for role, conn in connections.items()
        if side is None or role == side
    ]


def cmd_held_retry(
    config: Config,
    out: TextIO,
    change_id: int | None,
    map_name: str | None,
    side: Side | None,
) -> ExitCode:
    """replicator held retry ID | --map MAP | --all: apply held changes whose parent has
    arrived; the others stay held. Exit 1 if one failed (it is in the error log)."""
    failed = 0
    with every_database(config) as connections:
        work = _held_work(connections, config, change_id, map_name, side)
        for role, ids in work:
            if not ids:
                continue
            conn = connections[role]
            under_origin(conn, origins.ADMIN)
            done = backlog.retry_held(conn, ids)
            failed += done.failed
            out.write(
                f"{errorlog.label(config, role)}: retried {counted(len(ids), 'held change')}:"
                f" {done.applied} applied, {done.held} still held"
                + (f", {done.failed} failed (replicator errors)" if done.failed else "")
                + "\n"
            )
    if not any(ids for _, ids in work):
        out.write("no held changes\n")
    return ExitCode.ERROR if failed else ExitCode.OK


def cmd_held_discard(
    config: Config,
    out: TextIO,
    change_id: int | None,
    map_name: str | None,
    side: Side | None,
    reason: str,
) -> ExitCode:
    """replicator held discard ID | --map MAP | --all --reason TEXT: throw held changes
    away, each kept in the activity log with the reason."""
    with every_database(config) as connections:
        work = _held_work(connections, config, change_id, map_name, side)
        for role, ids in work:
            if ids:
                gone = backlog.discard_held(connections[role], ids, reason)
                out.write(
                    f"{errorlog.label(config, role)}: discarded {counted(gone, 'held change')}"
                    " (kept in replicator.activity_log, kind 'discard')\n"
                )
    if not any(ids for _, ids in work):
        out.write("no held changes\n")
    return ExitCode.OK


def cmd_discard(
    config: Config, out: TextIO, map_name: str, direction: Direction | None, reason: str
) -> ExitCode:
    """replicator discard MAP [--direction D] --reason TEXT: throw away the backlog of a
    map (or direction) removed from the maps files, so the deploy removing it can go."""
    maps = load_maps(config.maps_dir, config.path.parent)
    with every_database(config) as connections:
        deployed = backlog.deployed_directions(connections, config, map_name)
        kept = maps.by_name(map_name).directions if map_name in maps.names else ()
        chosen = [d for d in deployed if d not in kept and (direction is None or d == direction)]
        if not chosen:
            where = f" ({direction})" if direction else ""
            if map_name in maps.names and (direction is None or direction in kept):
                raise ReplicatorError(
                    f"map {map_name}{where} is still in {maps.by_name(map_name).file}: discard"
                    " throws away only the backlog of a map or direction removed from the maps"
                    " files (remove it there first)"
                )
            raise ReplicatorError(f"map {map_name}{where} is not deployed: nothing to discard")
        for d in chosen:
            done = backlog.discard_backlog(connections, config, map_name, d, reason)
            out.write(
                f"{map_name} ({config.arrow(d)}): discarded"
                f" {counted(done.queued, 'queued change')},"
                f" {counted(done.parked, 'parked WAL change')} and"
                f" {counted(done.held, 'held change')}"
                " (kept in replicator.activity_log, kind 'discard');"
                " replicator deploy now removes it\n"
            )
    return ExitCode.OK
