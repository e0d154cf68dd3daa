"""Per map and direction, what both databases say: the status view of each, joined;
and per WAL slot, what it holds back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from psycopg.rows import dict_row

from replicator.connections import connect
from replicator.errors import ConnectError
from replicator.model import Config, Direction, Side, source_of, target_of
from replicator.output import duration
from replicator.resources import sql_file


@dataclass(frozen=True)
class StatusRow:
    map: str
    direction: str
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
    now = datetime.now(UTC)
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
        oldest = source.get("oldest_captured_at")
        applied_at = target.get("last_applied_at")
        result.append(
            StatusRow(
                map=map_name,
                direction=config.arrow(direction),
                state=str(source.get("state") or "not deployed"),
                queued=int(source.get("queued", 0)),
                oldest_queued_seconds=(now - oldest).total_seconds() if oldest else None,
                held=int(target.get("held", 0)),
                applied_total=int(target.get("applied_total", 0)),
                last_applied_at=applied_at.isoformat(timespec="seconds") if applied_at else None,
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
    """A WAL capture slot: the WAL it keeps from removal and how far behind it is."""

    database: str
    slot: str
    wal_status: str  # reserved, extended, unreserved, lost; missing: no such slot
    active: bool  # a listener is reading it now
    retained_bytes: int | None  # WAL the server keeps for it
    oldest_unconsumed_seconds: float | None  # commit age of the oldest change left unread
    read_at: str | None  # the listener's last read
    warning: str | None  # why a DBA should look

    @staticmethod
    def describe(row: dict[str, Any], database: str, threshold: int) -> SlotRow:
        retained = row["retained_bytes"]
        warning = None
        if row["wal_status"] in ("lost", "missing"):
            warning = "changes are not captured: replicator deploy, then sync and resume its maps"
        elif retained is not None and retained > threshold:
            warning = f"retains more WAL than retained_wal_warning ({threshold} bytes)"
        age = row["oldest_unconsumed_age"]
        read_at = row["read_at"]
        return SlotRow(
            database=database,
            slot=str(row["slot_name"]),
            wal_status=str(row["wal_status"]),
            active=bool(row["active"]),
            retained_bytes=int(retained) if retained is not None else None,
            oldest_unconsumed_seconds=age.total_seconds() if age is not None else None,
            read_at=read_at.isoformat(timespec="seconds") if read_at else None,
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
                "SELECT * FROM replicator.slot_status ORDER BY slot_name"
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
