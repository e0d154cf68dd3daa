"""The conflict log as a DBA works it: list the conflicts, settle a manual one.

A direction's conflicts are logged on its target database, where the change met
a row changed there; with two servers each database holds the conflicts of the
changes it received. Both sides usually log the same conflict, once each: each
judged the other's change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import TupleRow

from replicator.core.errors import ReplicatorError
from replicator.maps.model import (
    Config,
    Direction,
    MapSet,
    Side,
    other_direction,
    source_of,
    target_of,
)
from replicator.operations import activity, errorlog
from replicator.sqlgen.snapshot import resend_call

CONFLICTS_QUERY = """
SELECT id, map_name, direction, op, key::text, fields::text, policy, outcome, logged_at,
       incoming::text, local::text, resolved_by, taken
  FROM replicator.conflict_log
 WHERE (%(map)s::text IS NULL OR map_name = %(map)s)
   AND (NOT %(waiting)s OR outcome = 'waiting')
 ORDER BY id
"""


@dataclass(frozen=True)
class LoggedConflict:
    id: int
    database: str  # the side label of the database holding it
    map: str
    direction: str  # as the DBA reads it: "fno→cds"
    op: str
    key: str
    fields: str  # per field in conflict: its policy and who won
    policy: str
    outcome: str
    logged_at: datetime
    incoming: str  # the row the change brought (source columns)
    local: str | None  # the row here before it (null: deleted here)
    resolved_by: str | None
    taken: str | None


def list_conflicts(
    connections: dict[Side, psycopg.Connection[TupleRow]],
    config: Config,
    map_name: str | None = None,
    waiting_only: bool = False,
) -> list[LoggedConflict]:
    found: list[LoggedConflict] = []
    for role, conn in connections.items():
        for row in conn.execute(CONFLICTS_QUERY, {"map": map_name, "waiting": waiting_only}):
            found.append(
                LoggedConflict(
                    id=row[0],
                    database=errorlog.label(config, role),
                    map=row[1],
                    direction=config.arrow(row[2]),
                    op=row[3],
                    key=row[4],
                    fields=row[5],
                    policy=row[6],
                    outcome=row[7],
                    logged_at=row[8],
                    incoming=row[9],
                    local=row[10],
                    resolved_by=row[11],
                    taken=row[12],
                )
            )
    return sorted(found, key=lambda c: (c.logged_at, c.database, c.id))


def locate(
    connections: dict[Side, psycopg.Connection[TupleRow]],
    config: Config,
    conflict_id: int,
    side: Side | None,
) -> Side:
    """The database holding conflict ``conflict_id``."""
    return errorlog.locate_entry(connections, config, "conflict", conflict_id, side)


# long: one transaction on two databases (the row resent, the conflict and its twin
# closed, the activity recorded); its steps read best together.
def resolve(
    connections: dict[Side, psycopg.Connection[TupleRow]],
    config: Config,
    maps: MapSet,
    role: Side,
    conflict_id: int,
    take: Side,
) -> str:
    """Settle waiting conflict ``conflict_id`` (on ``role``'s database): the ``take``
    side's row, as it is now, is queued to be written over the other side's whatever
    it holds; the conflict, and its twin the other side logged, are closed."""
    conn = connections[role]
    row = conn.execute(
        "SELECT map_name, direction, outcome, key, target_key FROM replicator.conflict_log"
        " WHERE id = %s",
        (conflict_id,),
    ).fetchone()
    assert row is not None  # located
    map_name, direction, outcome, key, target_key = row
    if outcome != "waiting":
        raise ReplicatorError(
            f"conflict {conflict_id} is not waiting for a decision: its outcome is {outcome}"
        )
    incoming: Direction = direction
    # The taken side's row crosses in the direction leaving it, keyed in its own columns.
    send: Direction = incoming if source_of(incoming) == take else other_direction(incoming)
    sent_key = key if send == incoming else target_key
    table_map = maps.by_name(map_name)
    if send not in table_map.directions:
        raise ReplicatorError(
            f"conflict {conflict_id}: map {map_name} does not write the"
            f" {target_of(send)} side, so the {take} side's row cannot cross"
        )
    sender = connections[config.database_of(take)]
    with conn.transaction(), sender.transaction():
        sender.execute(resend_call(table_map, send), (json.dumps(sent_key),))
        # This conflict and its twin: the other direction's, of the same row.
        for holder, closing, by_key in (
            (conn, incoming, key),
            (
                connections[config.database_of(source_of(incoming))],
                other_direction(incoming),
                target_key,
            ),
        ):
            holder.execute(
                "UPDATE replicator.conflict_log"
                "   SET outcome = 'resolved', taken = %s, resolved_by = current_user,"
                "       resolved_at = now()"
                " WHERE outcome = 'waiting' AND map_name = %s AND direction = %s"
                "   AND key = %s::jsonb",
                (take, map_name, closing, json.dumps(by_key)),
            )
        activity.record(
            sender,
            "resolve",
            f"conflict {conflict_id} resolved: the {take} side's row is taken",
            map_name,
            send,
            {"conflict_id": conflict_id, "key": sent_key},
        )
    return f"the {take} side's row is queued for the {target_of(send)} side"
