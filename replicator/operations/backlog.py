"""Changes still waiting, as a DBA works them: held changes (a child that arrived
before its parent) listed, retried and discarded with a reason; and the backlog of a
map removed from the maps files (queued, parked and held changes) discarded on
purpose, so the deploy that removes it can go ahead.

Held changes live on their target database, queued and parked ones on their
source database. Whatever is thrown away is kept in the activity log (kind
``discard``), rows and all, with who did it and why.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb

from replicator.core.errors import ReplicatorError
from replicator.core.output import counted
from replicator.maps.model import DIRECTIONS, Config, Direction, MapSet, Side, source_of, target_of
from replicator.operations import activity, errorlog

HELD_QUERY = """
SELECT id, map_name, direction, op, image, waiting_for, held_at
  FROM replicator.held_change
 WHERE (%(map)s::text IS NULL OR map_name = %(map)s)
 ORDER BY held_at, id
"""


@dataclass(frozen=True)
class HeldChange:
    id: int  # the change's id on its source database
    database: str  # where it is held: the target's label
    map: str
    direction: Direction
    op: str
    key: dict[str, Any]  # the row's key as its source spells it (the whole row if unknown)
    waiting_for: str  # the parent it needs, as the apply function named it
    held_at: datetime


def list_held(
    connections: dict[Side, psycopg.Connection[TupleRow]],
    config: Config,
    maps: MapSet | None,
    map_name: str | None = None,
) -> list[HeldChange]:
    """Every held change (of ``map_name``), oldest first; keyed by the map's key fields
    when ``maps`` knows the map, else shown whole."""
    found: list[HeldChange] = []
    for role, conn in connections.items():
        for row in conn.execute(HELD_QUERY, {"map": map_name}):
            direction: Direction = row[2]
            image: dict[str, Any] = row[4]
            found.append(
                HeldChange(
                    id=int(row[0]),
                    database=errorlog.label(config, role),
                    map=str(row[1]),
                    direction=direction,
                    op=str(row[3]),
                    key=_key(maps, str(row[1]), direction, image),
                    waiting_for=str(row[5]),
                    held_at=row[6],
                )
            )
    return sorted(found, key=lambda h: (h.held_at, h.database, h.id))


def _key(
    maps: MapSet | None, map_name: str, direction: Direction, image: dict[str, Any]
) -> dict[str, Any]:
    if maps is None or map_name not in maps.names:
        return image  # a removed map (or unreadable maps): its key fields are not known
    columns = [f.column(source_of(direction)) or "" for f in maps.by_name(map_name).key_fields]
    return {column: image.get(column) for column in columns}


@dataclass
class Retried:
    """What a retry of held changes came to, on one database."""

    applied: int = 0
    held: int = 0  # held again: the parent is still missing
    failed: int = 0  # in the error log now
    ids: list[int] = field(default_factory=list)


def held_ids(
    conn: psycopg.Connection[TupleRow],
    change_id: int | None,
    map_name: str | None,
    direction: Direction | None = None,
) -> list[int]:
    """The held changes one command names: one id, a map's (one way), or all."""
    rows = conn.execute(
        "SELECT id FROM replicator.held_change WHERE (%(id)s::bigint IS NULL OR id = %(id)s)"
        " AND (%(map)s::text IS NULL OR map_name = %(map)s)"
        " AND (%(direction)s::text IS NULL OR direction = %(direction)s) ORDER BY id",
        {"id": change_id, "map": map_name, "direction": direction},
    ).fetchall()
    return [int(r[0]) for r in rows]


def locate_held(
    connections: dict[Side, psycopg.Connection[TupleRow]],
    config: Config,
    change_id: int,
    side: Side | None,
) -> Side:
    """The database holding held change ``change_id`` (ids are per source database, so
    with two servers the DBA may have to say which)."""
    holders = [
        role
        for role, conn in connections.items()
        if (side is None or role == side) and held_ids(conn, change_id, None)
    ]
    if not holders:
        raise ReplicatorError(
            f"no held change {change_id} in replicator.held_change (replicator held list)"
        )
    if len(holders) > 1:
        labels = " and ".join(errorlog.label(config, role) for role in holders)
        raise ReplicatorError(
            f"held change {change_id} exists on both {labels}: say which with --side left|right"
        )
    return holders[0]


def retry_held(conn: psycopg.Connection[TupleRow], ids: list[int]) -> Retried:
    """Hand held changes to the apply functions again, in one transaction (its caller
    sets the admin origin): those whose parent has arrived apply, the others are held
    again, a failure lands in the error log. One activity line per map direction."""
    done = Retried(ids=ids)
    if not ids:
        return done
    with conn.transaction():
        # As the dispatcher retries them: the same change, the same fields.
        batches = conn.execute(
            "WITH taken AS (DELETE FROM replicator.held_change WHERE id = ANY (%s) RETURNING *)"
            " SELECT direction, map_name, array_agg(id ORDER BY id),"
            " jsonb_agg(jsonb_build_object('id', id, 'map', map_name, 'op', op, 'image', image,"
            " 'refs', refs, 'before', before, 'key', key, 'seen', seen, 'stamp', stamp,"
            " 'force', forced) ORDER BY id)"
            " FROM taken GROUP BY direction, map_name ORDER BY direction, map_name",
            (ids,),
        ).fetchall()
        for direction, map_name, taken, batch in batches:
            row = conn.execute(
                "SELECT replicator.apply_batch(%s, %s)", (direction, Jsonb(batch))
            ).fetchone()
            failed = int(row[0]) if row else 0
            again = conn.execute(
                "SELECT count(*) FROM replicator.held_change WHERE direction = %s AND id = ANY (%s)",
                (direction, taken),
            ).fetchone()
            held = int(again[0]) if again else 0
            applied = len(taken) - failed - held
            done.applied += applied
            done.failed += failed
            done.held += held
            activity.record(
                conn,
                "held",
                f"retried {counted(len(taken), 'held change')}: {applied} applied,"
                f" {held} held again, {failed} failed",
                map_name,
                direction,
                {"ids": taken, "applied": applied, "held": held, "failed": failed},
            )
    return done


def discard_held(conn: psycopg.Connection[TupleRow], ids: list[int], reason: str) -> int:
    """Throw held changes away, keeping each in the activity log with the reason."""
    if not ids:
        return 0
    with conn.transaction():
        taken = conn.execute(
            "DELETE FROM replicator.held_change WHERE id = ANY (%s)"
            " RETURNING direction, map_name, id, op, image, waiting_for",
            (ids,),
        ).fetchall()
        by_route: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for direction, map_name, one, op, image, waiting_for in taken:
            by_route[(str(direction), str(map_name))].append(
                {"id": one, "op": op, "image": image, "waiting_for": waiting_for}
            )
        for (direction, map_name), changes in by_route.items():
            activity.record(
                conn,
                "discard",
                f"discarded {counted(len(changes), 'held change')}: {reason}",
                map_name,
                direction,
                {"reason": reason, "held": changes},
            )
    return len(taken)


@dataclass
class Discarded:
    """A removed map direction's backlog, thrown away."""

    map: str
    direction: Direction
    queued: int = 0
    parked: int = 0
    held: int = 0


def deployed_directions(
    connections: dict[Side, psycopg.Connection[TupleRow]], config: Config, map_name: str
) -> list[Direction]:
    """The directions of ``map_name`` deployed (registered on their source database)."""
    return [
        direction
        for direction in DIRECTIONS
        if connections[config.database_of(source_of(direction))]
        .execute(
            "SELECT FROM replicator.map_state WHERE map_name = %s AND direction = %s",
            (map_name, direction),
        )
        .fetchone()
        is not None
    ]


def discard_backlog(
    connections: dict[Side, psycopg.Connection[TupleRow]],
    config: Config,
    map_name: str,
    direction: Direction,
    reason: str,
) -> Discarded:
    """Throw away every change still waiting for a map direction: queued and parked on
    its source database, held on its target. Each database logs what it lost."""
    done = Discarded(map_name, direction)
    source = connections[config.database_of(source_of(direction))]
    target = connections[config.database_of(target_of(direction))]
    with source.transaction():
        queued = source.execute(
            "DELETE FROM replicator.change_queue WHERE map_name = %s AND direction = %s"
            " RETURNING id, op, image",
            (map_name, direction),
        ).fetchall()
        parked = source.execute(
            "DELETE FROM replicator.wal_parked WHERE map_name = %s AND direction = %s"
            " RETURNING id, changes",
            (map_name, direction),
        ).fetchall()
        done.queued, done.parked = len(queued), len(parked)
        if queued or parked:
            activity.record(
                source,
                "discard",
                f"discarded {counted(len(queued), 'queued change')} and"
                f" {counted(len(parked), 'parked WAL change')} of a removed map: {reason}",
                map_name,
                direction,
                {
                    "reason": reason,
                    "queued": [{"id": r[0], "op": r[1], "image": r[2]} for r in queued],
                    "parked": [{"id": r[0], "changes": r[1]} for r in parked],
                },
            )
    ids = held_ids(target, None, map_name, direction)
    done.held = discard_held(target, ids, reason) if ids else 0
    return done
