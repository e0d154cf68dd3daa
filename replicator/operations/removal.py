"""What a deploy that removes a map direction would leave behind: the changes still
waiting for it (queued, parked, unread in a slot, held), each with the ways on.
Read-only; deploy refuses while any is listed."""

from __future__ import annotations

import psycopg
from psycopg.rows import TupleRow

from replicator.core.output import counted
from replicator.inspect.connections import own_origin_ids
from replicator.sqlgen.wal import wal2json_table


def removal_backlog(dropped: tuple[str, ...], conn: psycopg.Connection[TupleRow]) -> list[str]:
    """Per map direction a plan removes (``dropped``: its dropped artifacts) from this database, the changes still waiting
    for it here (queued or parked where it is captured, held where it is applied), each
    with the ways on: drain them, or discard them on purpose."""
    found: list[str] = []
    for name in dropped:
        parts = name.split("/")
        if len(parts) != 4 or parts[0] != "map":
            continue
        _, map_name, direction, kind = parts
        label = f"map {map_name} ({direction})"
        discard = f"replicator discard {map_name} --direction {direction} --reason TEXT"
        if kind in ("capture", "wal"):
            row = conn.execute(
                "SELECT (SELECT count(*) FROM replicator.change_queue"
                "         WHERE map_name = %(map)s AND direction = %(direction)s)"
                "     + (SELECT count(*) FROM replicator.wal_parked"
                "         WHERE map_name = %(map)s AND direction = %(direction)s),"
                "       (SELECT state FROM replicator.map_state"
                "         WHERE map_name = %(map)s AND direction = %(direction)s)",
                {"map": map_name, "direction": direction},
            ).fetchone()
            queued, state = (int(row[0]), str(row[1])) if row else (0, "running")
            unread = _unread(conn, map_name, direction) if kind == "wal" else 0
            if not queued and not unread:
                continue
            them = "it" if queued + unread == 1 else "them"
            waiting = [
                *([counted(queued, "queued change")] if queued else []),
                *([f"{counted(unread, 'change')} unread in its slot"] if unread else []),
            ]
            drain = (
                f"run the applier until {'it is' if them == 'it' else 'they are'} applied"
                if state in ("running", "catching_up")
                else f"replicator resume {map_name} (it is {state}) and run the applier"
            )
            first = "run the applier (it queues what the slot holds), then " if unread else ""
            found.append(
                f"{label} is removed but still has {' and '.join(waiting)}: to apply {them},"
                f" {drain}; to throw {them} away, {first}{discard}; then deploy again"
            )
        elif kind == "apply":
            row = conn.execute(
                "SELECT count(*) FROM replicator.held_change WHERE map_name = %s AND direction = %s",
                (map_name, direction),
            ).fetchone()
            if row is None or not row[0]:
                continue
            held = int(row[0])
            them = "it" if held == 1 else "them"
            found.append(
                f"{label} is removed but still has {counted(held, 'held change')}, waiting for a"
                f" parent (replicator held list {map_name}): once the parent is there, replicator"
                f" held retry --map {map_name}; to throw {them} away, {discard}; then deploy again"
            )
    return found


def _unread(conn: psycopg.Connection[TupleRow], map_name: str, direction: str) -> int:
    """Changes of a WAL-captured map direction's table still unread in the slot, which
    the listener would queue (the replicator's own writes aside). 0 while the applier
    holds the slot: it is reading it, and queues them within a poll."""
    found = conn.execute(
        "SELECT l.slot_name, d.schema_name, d.table_name"
        "  FROM replicator.wal_listener AS l"
        "  JOIN pg_replication_slots AS s ON s.slot_name = l.slot_name AND NOT s.active"
        "  JOIN replicator.map_dependency AS d ON d.map_name = %s AND d.kind = 'table'"
        "   AND d.side = %s AND d.lookup IS NULL",
        (map_name, "left" if direction == "to_right" else "right"),
    ).fetchone()
    if found is None:
        return 0
    slot, schema, table = found
    row = conn.execute(
        "SELECT count(*) FROM pg_logical_slot_peek_changes(%s, NULL, NULL,"
        " 'format-version', '2', 'add-tables', %s, 'filter-origins', %s,"
        " 'add-msg-prefixes', 'replicator')"
        " WHERE data::jsonb->>'action' IN ('I', 'U', 'D', 'T')",
        (slot, wal2json_table(schema, table), own_origin_ids(conn)),
    ).fetchone()
    return int(row[0]) if row else 0
