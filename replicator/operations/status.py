"""Per map and direction, what both databases say: the status view of each, joined;
per WAL slot, when it was last read and how far behind it is; per database, whether
an applier is alive and when it last polled; and, for monitoring, what needs a DBA."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from psycopg.rows import dict_row

from replicator.core.errors import ConnectError
from replicator.core.output import counted, duration
from replicator.core.resources import sql_file
from replicator.inspect.connections import connect
from replicator.maps.model import Config, Direction, Side, source_of, target_of


def _seconds(age: timedelta | None) -> float | None:
    """An age the server computed, never below zero (a clock read at a statement's start
    can be a moment behind a row committed later in it)."""
    return max(age.total_seconds(), 0.0) if age is not None else None


def _stamp(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at is not None else None


@dataclass(frozen=True)
class StatusRow:
    map: str
    direction: Direction  # to_right or to_left, as --direction takes it
    flow: str  # the same for people: "erp→crm"
    state: str
    queued: int
    oldest_queued_seconds: float | None
    held: int  # arrived before a parent they look up; applied when it arrives
    applied_total: int
    last_applied_at: str | None
    errors: int  # open ones
    errors_last_hour: int
    errors_logged: int  # every error logged, closed ones included (until purged)
    conflicts_waiting: int  # manual conflicts waiting for replicator resolve
    state_reason: str | None = None  # why it is paused or failed (drift: what changed, the fix)
    # Changes its capture noted instead of queueing (replicator.uncaptured): a filter
    # that raised for the row, or a column it reads renamed or dropped (drift).
    uncaptured: int = 0
    uncaptured_reason: str | None = None  # the latest one's error; None: drift


def status_rows(config: Config) -> list[StatusRow]:
    """Per map and direction: queue figures from the source database, state, applied
    figures and errors from the target database."""
    seen: dict[Side, dict[tuple[str, str], dict[str, Any]]] = {}
    for role in config.databases:
        with connect(config, role) as conn, conn.cursor(row_factory=dict_row) as cur:
            found = cur.execute(sql_file("status.sql")).fetchall()
        seen[role] = {(str(r["map_name"]), str(r["direction"])): r for r in found}
    keys = sorted({key for rows in seen.values() for key in rows})
    result: list[StatusRow] = []
    for map_name, direction_text in keys:
        direction = cast(Direction, direction_text)
        source = seen[config.database_of(source_of(direction))].get((map_name, direction), {})
        target = seen[config.database_of(target_of(direction))].get((map_name, direction), {})
        result.append(
            StatusRow(
                map=map_name,
                direction=direction,
                flow=config.arrow(direction),
                state=str(source.get("state") or "not deployed"),
                queued=int(source.get("queued", 0)),
                oldest_queued_seconds=_seconds(source.get("oldest_change_age")),
                held=int(target.get("held", 0)),
                applied_total=int(target.get("applied_total", 0)),
                last_applied_at=_stamp(target.get("last_applied_at")),
                errors=int(target.get("errors", 0)),
                errors_last_hour=int(target.get("errors_last_hour", 0)),
                errors_logged=int(target.get("errors_logged", 0)),
                conflicts_waiting=int(target.get("conflicts_waiting", 0)),
                state_reason=source.get("state_reason"),
                uncaptured=int(source.get("uncaptured", 0)),
                uncaptured_reason=source.get("uncaptured_reason"),
            )
        )
    return result


@dataclass(frozen=True)
class SlotRow:
    """A WAL capture slot: when its listener last read it, how far behind it is, and the
    WAL it keeps from removal."""

    database: str
    slot: str
    wal_status: str  # reserved, extended, unreserved, lost; missing: no such slot
    last_read_at: str | None  # the listener's last read (recorded at least every second)
    last_read_seconds: float | None  # how long ago
    lag_bytes: int | None  # WAL written since the position the slot was read to
    lag_seconds: float | None  # commit age of the oldest change left unread; 0: none
    retained_bytes: int | None  # WAL the server keeps for it
    warning: str | None  # why a DBA should look

    @staticmethod
    def describe(row: dict[str, Any], database: str, threshold: int) -> SlotRow:
        retained = row["retained_bytes"]
        warning = None
        if row["wal_status"] in ("lost", "missing"):
            warning = "changes are not captured: replicator deploy, then sync and resume its maps"
        elif row["read_at"] is None:
            warning = "never read: start the applier (replicator run)"
        elif retained is not None and retained > threshold:
            warning = f"retains more WAL than retained_wal_warning ({threshold} bytes)"
        unread = row["unread_bytes"]
        return SlotRow(
            database=database,
            slot=str(row["slot_name"]),
            wal_status=str(row["wal_status"]),
            last_read_at=_stamp(row["read_at"]),
            last_read_seconds=_seconds(row["read_age"]),
            lag_bytes=max(int(unread), 0) if unread is not None else None,
            lag_seconds=_seconds(row["oldest_unconsumed_age"]) or 0.0,
            retained_bytes=int(retained) if retained is not None else None,
            warning=warning,
        )


def slot_rows(config: Config) -> list[SlotRow]:
    """Per database with WAL capture, its slot."""
    result: list[SlotRow] = []
    for role in config.databases:
        if not config.wal_sides(role):
            continue
        with connect(config, role) as conn, conn.cursor(row_factory=dict_row) as cur:
            found = cur.execute(
                "SELECT *, now() - read_at AS read_age FROM replicator.slot_status"
                " ORDER BY slot_name"
            ).fetchall()
        result += [
            SlotRow.describe(r, config.label(role), config.retained_wal_warning) for r in found
        ]
    return result


@dataclass(frozen=True)
class ApplierNote:
    """What replicator run noted while it could not reach a database."""

    database: str  # where it was read
    failing_since: str
    gives_up_at: str
    retrying_seconds: float  # as of now
    gives_up_in_seconds: float  # 0: it gave up
    reason: str  # "gave up: ..." once it has
    noted_seconds_ago: float

    def __str__(self) -> str:
        gave_up = self.reason.startswith("gave up: ")
        if gave_up:
            head = (
                f"applier: gave up at {self.gives_up_at}, after retrying since"
                f" {self.failing_since}: {self.reason.removeprefix('gave up: ')}"
            )
        else:
            head = (
                f"applier: retrying for {duration(self.retrying_seconds)} (since"
                f" {self.failing_since}); it gives up in {duration(self.gives_up_in_seconds)}"
                f" (at {self.gives_up_at}): {self.reason}"
            )
        return f"{head} (noted in {self.database} {duration(self.noted_seconds_ago)} ago)"


def applier_notes(config: Config) -> list[ApplierNote]:
    """replicator.applier_retry of each database that can be reached (and has one)."""
    found: list[ApplierNote] = []
    for role in config.databases:
        try:
            with connect(config, role) as conn:
                if conn.execute("SELECT to_regclass('replicator.applier_retry')").fetchone() == (
                    None,
                ):
                    continue
                row = conn.execute(
                    "SELECT failing_since, gives_up_at, reason,"
                    " extract(epoch FROM now() - failing_since)::float8,"
                    " greatest(extract(epoch FROM gives_up_at - now()), 0)::float8,"
                    " extract(epoch FROM now() - noted_at)::float8"
                    " FROM replicator.applier_retry"
                ).fetchone()
        except ConnectError:
            continue
        if row is not None:
            found.append(
                ApplierNote(
                    database=config.label(role),
                    failing_since=row[0].isoformat(sep=" ", timespec="seconds"),
                    gives_up_at=row[1].isoformat(sep=" ", timespec="seconds"),
                    retrying_seconds=float(row[3]),
                    gives_up_in_seconds=float(row[4]),
                    reason=str(row[2]),
                    noted_seconds_ago=float(row[5]),
                )
            )
    return found


@dataclass(frozen=True)
class ApplierRow:
    """The applier as one database sees it: its session there, and its last poll."""

    database: str
    alive: bool  # its session on this database is still there
    host: str | None  # where it runs (None: no applier has run since the deploy)
    os_pid: int | None
    started_at: str | None
    last_polled_at: str | None
    last_polled_seconds: float | None


def applier_rows(config: Config) -> list[ApplierRow]:
    """Per database, the applier's heartbeat (replicator.applier_heartbeat)."""
    found: list[ApplierRow] = []
    for role in config.databases:
        with connect(config, role) as conn, conn.cursor(row_factory=dict_row) as cur:
            known = cur.execute(
                "SELECT to_regclass('replicator.applier_heartbeat') IS NOT NULL AS known"
            ).fetchone()
            # Nothing deployed (undeploy asks too), or deployed before the heartbeat.
            row = (
                cur.execute(sql_file("applier.sql")).fetchone()
                if known and known["known"]
                else None
            )
        found.append(
            ApplierRow(
                database=config.label(role),
                alive=bool(row and row["alive"]),
                host=row["host"] if row else None,
                os_pid=row["os_pid"] if row else None,
                started_at=_stamp(row["started_at"]) if row else None,
                last_polled_at=_stamp(row["polled_at"]) if row else None,
                last_polled_seconds=_seconds(row["polled_age"]) if row else None,
            )
        )
    return found


@dataclass(frozen=True)
class Limits:
    """What status --check tolerates."""

    max_lag: float = 300.0  # seconds the oldest queued change of a running map may wait
    max_errors: int = 0  # open errors


def problems(
    rows: list[StatusRow], slots: list[SlotRow], appliers: list[ApplierRow], limits: Limits
) -> list[str]:
    """What needs a DBA, one line each: failed maps, open errors, a lagging backlog, a
    slot not read or lost, no live applier."""
    found: list[str] = []
    for r in rows:
        where = f"{r.map} ({r.direction}, {r.flow})"
        if r.state == "failed":
            found.append(f"{where} failed: {r.state_reason or 'see replicator.activity_log'}")
        lag = r.oldest_queued_seconds
        if r.state in ("running", "catching_up") and lag is not None and lag > limits.max_lag:
            found.append(
                f"{where}: the oldest of {counted(r.queued, 'queued change')} waits {lag:.1f} s,"
                f" more than --max-lag {limits.max_lag:g} s"
            )
    errors = sum(r.errors for r in rows)
    if errors > limits.max_errors:
        maps = sorted({r.map for r in rows if r.errors})
        found.append(
            f"{counted(errors, 'open error')} ({'map' if len(maps) == 1 else 'maps'}"
            f" {', '.join(maps)}): replicator errors"
            + (f"; more than --max-errors {limits.max_errors}" if limits.max_errors else "")
        )
    for s in slots:
        if s.warning is not None:
            found.append(f"slot {s.slot} on {s.database}: {s.warning}")
        elif s.lag_seconds is not None and s.lag_seconds > limits.max_lag:
            found.append(
                f"slot {s.slot} on {s.database}: its oldest unread change is"
                f" {s.lag_seconds:.1f} s old, more than --max-lag {limits.max_lag:g} s"
            )
    for a in appliers:
        if not a.alive:
            found.append(
                f"no applier is running on {a.database}"
                + (
                    f" (the last one, on {a.host}, polled at {a.last_polled_at})"
                    if a.host
                    else " (none has run since the deploy)"
                )
                + ": start replicator run"
            )
    return found
