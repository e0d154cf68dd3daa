"""One batch of one direction, as SQL: in one database ``apply_queued`` takes it off
the queue and applies it in one transaction; across two servers it is peeked on the
source, applied on the target together with a record of its ids, then acknowledged
(dequeued) on the source. ``reconcile`` finishes what a crash between the target's
commit and the source's dequeue left, so nothing is applied twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.rows import TupleRow

from replicator.maps.model import Direction

Connection = psycopg.Connection[TupleRow]


@dataclass(frozen=True)
class Taken:
    """What one batch took off the queue: all of it, the failed and the skipped."""

    taken: int
    failed: int
    skipped: int

    @property
    def applied(self) -> int:
        return self.taken - self.failed - self.skipped


def apply_here(conn: Connection, direction: Direction, batch_size: int, final: bool) -> Taken:
    """Apply a batch where source and target share ``conn``'s database."""
    row = conn.execute(
        "SELECT taken, failed FROM replicator.apply_queued(%s, %s, %s)",
        (direction, batch_size, final),
    ).fetchone()
    assert row is not None
    return Taken(int(row[0]), int(row[1]), 0)


def apply_across(
    source: Connection, target: Connection, direction: Direction, batch_size: int, final: bool
) -> Taken:
    """Apply a batch read on ``source`` to ``target``, then dequeue it on ``source``."""
    peeked = source.execute(
        "SELECT ids, batch::text FROM replicator.peek_batch(%s, %s)",
        (direction, batch_size),
    ).fetchone()
    assert peeked is not None
    ids: list[int] = peeked[0]
    if not ids:
        return Taken(0, 0, 0)
    row = target.execute(
        "SELECT applied, failed, skipped FROM replicator.apply_remote(%s, %s::jsonb, %s)",
        (direction, peeked[1], final),
    ).fetchone()
    assert row is not None
    # Its clean crossings (sql/migrations/0005_clean_crossings.sql) stay out of the
    # source's clocks.
    _, clean = applied_ids(target, direction)
    source.execute("SELECT replicator.ack_batch(%s, %s, %s)", (direction, ids, clean))
    return Taken(len(ids), int(row[1]), int(row[2]))


def reconcile(source: Connection, target: Connection, direction: Direction) -> None:
    """After a crash between the target's commit and the source's dequeue, dequeue
    what the target already applied."""
    applied, clean = applied_ids(target, direction)
    if applied:
        source.execute("SELECT replicator.ack_batch(%s, %s, %s)", (direction, applied, clean))


def applied_ids(target: Connection, direction: Direction) -> tuple[list[int], list[int]]:
    """The ids of the last batch the target applied in ``direction``, and its clean
    crossings."""
    row = target.execute(
        "SELECT change_ids, clean_ids FROM replicator.applied_batch WHERE direction = %s",
        (direction,),
    ).fetchone()
    return (list(row[0]), list(row[1])) if row else ([], [])
