"""Per map and direction, what both databases say: the status view of each, joined."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from psycopg.rows import dict_row

from replicator.connections import connect
from replicator.model import Config, Direction, Side, source_of, target_of
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
            )
        )
    return result
