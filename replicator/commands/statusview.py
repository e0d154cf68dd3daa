"""replicator status: per map direction, slot and applier what the databases say,
as a table, as JSON, or (--check) only what needs a DBA."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TextIO

from replicator.core.exitcodes import ExitCode
from replicator.core.output import counted, write_table
from replicator.maps.model import Config
from replicator.operations.status import (
    ApplierRow,
    Limits,
    SlotRow,
    StatusRow,
    applier_notes,
    applier_rows,
    problems,
    slot_rows,
    status_rows,
)


def cmd_status(
    config: Config,
    out: TextIO,
    as_json: bool = False,
    check_only: bool = False,
    limits: Limits | None = None,
) -> ExitCode:
    """replicator status [--json] [--check]: per map and direction the state, backlog,
    held changes, applied figures and errors; per WAL slot when it was last read and its
    lag; per database whether an applier is alive. With --check, only what needs a DBA,
    one line each, and exit 4 if anything does (0 if nothing): for monitoring."""
    # First what the applier noted where it could: a database it cannot reach makes
    # the rest of status fail, but whoever asks learns how long it has been retrying.
    notes = applier_notes(config)
    if not as_json:
        for note in notes:
            out.write(f"{note}\n")
        if notes and not check_only:
            out.write("\n")
    rows = status_rows(config)
    slots = slot_rows(config)
    appliers = applier_rows(config)
    found = [str(n) for n in notes] + problems(rows, slots, appliers, limits or Limits())
    attention = ExitCode.ATTENTION if check_only and found else ExitCode.OK
    if as_json:
        document = {
            "maps": [asdict(r) for r in rows],
            "slots": [asdict(s) for s in slots],
            "applier_retrying": [asdict(n) for n in notes],
            "appliers": [asdict(a) for a in appliers],
            "problems": found,
        }
        out.write(json.dumps(document, indent=2) + "\n")
        return attention
    if check_only:
        out.write("".join(f"{line}\n" for line in found) or "ok: nothing needs a DBA\n")
        return attention
    _write_maps(out, rows)
    if slots:
        out.write("\n")
        _write_slots(out, slots)
    out.write("\n")
    for a in appliers:
        out.write(f"applier on {a.database}: {_applier_line(a)}\n")
    return ExitCode.OK


def _write_maps(out: TextIO, rows: list[StatusRow]) -> None:
    """The table of map directions, then the failed ones and what was not captured."""
    headers = [
        "map",
        "direction",
        "state",
        "queued",
        "oldest queued",
        "held",
        "applied",
        "last applied",
        "errors",
        "conflicts waiting",
    ]
    table = [
        [
            r.map,
            f"{r.direction} ({r.flow})",
            r.state,
            str(r.queued),
            f"{r.oldest_queued_seconds:.1f} s" if r.oldest_queued_seconds is not None else "",
            str(r.held),
            str(r.applied_total),
            r.last_applied_at or "",
            f"{r.errors} ({r.errors_last_hour} last hour)" if r.errors else "0",
            str(r.conflicts_waiting),
        ]
        for r in rows
    ]
    write_table(out, headers, table)
    failed = [r for r in rows if r.state == "failed" and r.state_reason]
    if failed:
        out.write("\n")
        for r in failed:
            out.write(f"{r.map} ({r.direction}, {r.flow}) failed: {r.state_reason}\n")
    uncaptured = [r for r in rows if r.uncaptured]
    if uncaptured:
        out.write("\n")
        for r in uncaptured:
            out.write(
                f"{r.map} ({r.direction}, {r.flow}):"
                f" {counted(r.uncaptured, 'change')} not captured"
                + (f", the latest because its {r.uncaptured_reason}" if r.uncaptured_reason else "")
                + f" (rows in replicator.uncaptured); after the fix, replicator sync {r.map}\n"
            )


def _write_slots(out: TextIO, slots: list[SlotRow]) -> None:
    """The table of WAL slots."""
    write_table(
        out,
        [
            "database",
            "slot",
            "wal status",
            "last read",
            "lag",
            "oldest unread",
            "retained WAL",
            "warning",
        ],
        [
            [
                s.database,
                s.slot,
                s.wal_status,
                _ago(s.last_read_seconds),
                _bytes(s.lag_bytes),
                f"{s.lag_seconds:.1f} s" if s.lag_seconds is not None else "",
                _bytes(s.retained_bytes),
                s.warning or "",
            ]
            for s in slots
        ],
    )


def _ago(seconds: float | None) -> str:
    return f"{seconds:.1f} s ago" if seconds is not None else "never"


def _applier_line(applier: ApplierRow) -> str:
    if applier.host is None:
        return "none has run since the deploy"
    where = f"on {applier.host} (pid {applier.os_pid})"
    if not applier.alive:
        return f"not running (the last one ran {where}, last polled {applier.last_polled_at})"
    return f"running {where} since {applier.started_at}, last polled {_ago(applier.last_polled_seconds)}"


def _bytes(value: int | None) -> str:
    """Bytes as pg_size_pretty prints them."""
    if value is None:
        return ""
    size = float(value)
    for unit in ("bytes", "kB", "MB"):
        if abs(size) < 10 * 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.0f} GB"
