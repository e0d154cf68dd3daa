"""A WAL slot the server invalidated (or that is gone) cannot be read again: the
changes made since were not captured. The maps it fed go failed, loudly, with the
way back in their reason; the rest of the applier runs on."""

from __future__ import annotations

import logging

import psycopg
from psycopg.rows import TupleRow

from replicator.maps.model import DIRECTIONS, Config, Side, source_of
from replicator.operations import activity
from replicator.runtime.listener import SlotLost

# Its lines go to the applier's log, where they always were.
log = logging.getLogger("replicator.applier")


def fail_maps_of_lost_slot(
    conn: psycopg.Connection[TupleRow], config: Config, role: Side, lost: SlotLost
) -> None:
    """Put every map the slot of ``role``'s database fed into ``failed`` (on ``conn``,
    that database), the reason saying how to recover, and record it in the activity."""
    directions = [d for d in DIRECTIONS if source_of(d) in config.wal_sides(role)]
    names = " ".join(
        str(r[0])
        for r in conn.execute(
            "SELECT DISTINCT map_name FROM replicator.map_state WHERE direction = ANY(%s)"
            " ORDER BY 1",
            (directions,),
        )
    )
    reason = (
        f"{lost}. To recover: run replicator deploy (it creates the slot again), then"
        f" replicator sync {names} to bring the other side back in step, then"
        f" replicator resume {names}"
    )
    log.error("%s", reason)
    with conn.transaction():
        conn.execute(
            "UPDATE replicator.map_state SET state = 'failed', state_since = now(),"
            " state_reason = %s WHERE direction = ANY(%s) AND state <> 'failed'",
            (reason, directions),
        )
        activity.record(conn, "slot_lost", reason)
