"""The conflict rules as a pure-Python model: what each side holds after any history of
local writes and batches crossing, under a map's policies.

It is the specification the property test holds the databases to. Per row, each side
keeps a clock: for every field and for the row itself ("", inserted, updated or
deleted), the newest change of each side it holds and that change's stamp. A change
carries what its side had seen of the other (the other side's newest change of the
row applied before it) and the fields it wrote. Arriving, it wins a field (or the row)
if it had seen this side's newest write of it; otherwise the two are concurrent and
the policy decides. Both sides decide on the same pair of writes, so once every change
has crossed they hold the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Side = Literal["left", "right"]
Policy = Literal["left_wins", "right_wins", "newest_wins", "manual"]
Row = dict[str, str]

ROW = ""  # the clock entry of the row itself
LEFT, RIGHT, LEFT_STAMP, RIGHT_STAMP = range(4)
POSITION: dict[Side, tuple[int, int]] = {"left": (LEFT, LEFT_STAMP), "right": (RIGHT, RIGHT_STAMP)}


def other(side: Side) -> Side:
    return "right" if side == "left" else "left"


@dataclass(frozen=True)
class Change:
    """A captured change of one row, as it crosses."""

    id: int
    op: Literal["I", "U", "D"]
    key: str
    image: Row  # the row after it (a delete: the row it deleted)
    wrote: frozenset[str]
    seen: int  # the other side's newest change of the row applied before this one
    stamp: int


@dataclass
class Replica:
    """What one side holds: its rows, their clocks and deleted rows, its queue."""

    side: Side
    rows: dict[str, Row] = field(default_factory=dict)
    gone: dict[str, Row] = field(default_factory=dict)
    # As of which of this side's changes gone was decided (by an apply or a crossing).
    gone_as_of: dict[str, int] = field(default_factory=dict)
    clocks: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    queue: list[Change] = field(default_factory=list)

    def entry(self, key: str, name: str) -> list[int]:
        return self.clocks.setdefault(key, {}).setdefault(name, [0, 0, 0, 0])


@dataclass
class Model:
    """Both sides of one map with fields ``fields``; ``policies`` per field and for the
    row (ROW). Ids count per database (one counter when both sides share one)."""

    fields: tuple[str, ...]
    policies: dict[str, Policy]
    one_database: bool
    left: Replica = field(default_factory=lambda: Replica("left"))
    right: Replica = field(default_factory=lambda: Replica("right"))
    ids: dict[Side, int] = field(default_factory=lambda: {"left": 0, "right": 0})
    clock: int = 0  # stamps: the tests write one change at a time, in commit order

    def replica(self, side: Side) -> Replica:
        return self.left if side == "left" else self.right

    # -- local writes ------------------------------------------------------------------

    def commit(self) -> int:
        """The stamp of a transaction committed now."""
        self.clock += 1
        return self.clock

    def upserted(self, side: Side, key: str, values: dict[str, str | None]) -> Row:
        """The row an upsert of ``values`` on ``side`` makes (unset fields: as they are,
        or "x" in a new row)."""
        before = self.replica(side).rows.get(key)
        return {f: values.get(f) or (before[f] if before else "x") for f in self.fields}

    def write(self, side: Side, key: str, values: Row | None, stamp: int) -> None:
        """An application's write on ``side`` in a transaction committed at ``stamp``: the
        row becomes ``values`` (None: deleted). Captured as the capture trigger and the
        WAL function capture it."""
        here = self.replica(side)
        before = here.rows.get(key)
        if values is None:
            if before is None:
                return
            del here.rows[key]
            self._capture(side, Change(0, "D", key, before, frozenset(), 0, stamp))
            return
        here.rows[key] = dict(values)
        if before is None:
            self._capture(side, Change(0, "I", key, dict(values), frozenset(self.fields), 0, stamp))
            return
        wrote = frozenset(f for f in self.fields if before[f] != values[f])
        if wrote:  # an update that changes no mapped column is not captured
            self._capture(side, Change(0, "U", key, dict(values), wrote, 0, stamp))

    def _capture(self, side: Side, change: Change) -> None:
        """Queue ``change`` with its id and what its side has seen of the row."""
        here = self.replica(side)
        counter: Side = "left" if self.one_database else side
        self.ids[counter] += 1
        seen = here.entry(change.key, ROW)[POSITION[other(side)][0]]
        here.queue.append(
            Change(
                self.ids[counter],
                change.op,
                change.key,
                change.image,
                change.wrote,
                seen,
                change.stamp,
            )
        )

    # -- crossing ----------------------------------------------------------------------

    def cross(self, source: Side, limit: int) -> list[Change]:
        """The oldest ``limit`` changes of ``source`` cross in one batch."""
        here, there = self.replica(source), self.replica(other(source))
        batch, here.queue = here.queue[:limit], here.queue[limit:]
        # A clean crossing (nothing of its row queued over there) is not recorded here:
        # every change made there from now on saw it, and every one made before it
        # crossed already, judged here against it while it was still queued.
        pending = {c.key for c in there.queue}
        self._absorb(here, [c for c in batch if c.key in pending])
        self._apply(there, batch)
        return batch

    def _absorb(self, here: Replica, batch: list[Change]) -> None:
        """The sent changes go into their own side's clocks; a row whose newest change
        deleted it keeps that row as it was."""
        own, own_stamp = POSITION[here.side]
        newest: dict[str, Change] = {}
        for change in batch:
            for name in (ROW, *change.wrote):
                entry = here.entry(change.key, name)
                entry[own], entry[own_stamp] = max(entry[own], change.id), change.stamp
            newest[change.key] = change
        for key, change in newest.items():
            # Unless an incoming change was applied to the row since (and left there
            # what it decided): deleted, the row as it was; inserted or updated, none.
            if change.id > here.gone_as_of.get(key, 0):
                here.gone_as_of[key] = change.id
                if change.op == "D":
                    here.gone[key] = dict(change.image)
                else:
                    here.gone.pop(key, None)

    def _apply(self, here: Replica, batch: list[Change]) -> None:
        by_key: dict[str, list[Change]] = {}
        for change in batch:
            by_key.setdefault(change.key, []).append(change)
        for key, changes in by_key.items():
            self._apply_row(here, key, changes)

    def _apply_row(self, here: Replica, key: str, changes: list[Change]) -> None:
        source = other(here.side)
        newest = changes[-1]
        own, own_stamp = POSITION[here.side]
        incoming, incoming_stamp = POSITION[source]
        queued = [c for c in here.queue if c.key == key]
        clock = here.clocks.get(key, {})

        def own_newest(name: str) -> tuple[int, int]:
            entry = clock.get(name, [0, 0, 0, 0])
            writes = [c for c in queued if name == ROW or name in c.wrote]
            return (
                max([entry[own], *(c.id for c in writes)]),
                max([entry[own_stamp], *(c.stamp for c in writes)]),
            )

        def wins(name: str, seen: int, stamp: int) -> bool:
            newest_id, newest_stamp = own_newest(name)
            if seen >= newest_id:
                return True
            policy = self.policies[name]
            if policy == "newest_wins":
                return stamp > newest_stamp or (stamp == newest_stamp and source == "left")
            return policy == f"{source}_wins"

        present = key in here.rows
        base = here.rows.get(key)
        if base is None:
            deleted = [c for c in queued if c.op == "D"]
            if deleted and deleted[-1].id > here.gone_as_of.get(key, 0):
                base = deleted[-1].image
            else:
                base = here.gone.get(key)
        take_row = wins(ROW, max(c.seen for c in changes), newest.stamp)
        exists = (newest.op != "D") if take_row else present
        final: Row = {}
        for name in self.fields:
            writers = [c for c in changes if name in c.wrote]
            take = bool(writers) and wins(name, writers[-1].seen, writers[-1].stamp)
            if base is None or take:
                final[name] = newest.image[name]
            else:
                final[name] = base[name]
        if exists:
            here.rows[key] = final
            here.gone.pop(key, None)
        else:
            here.rows.pop(key, None)
            here.gone[key] = final
        here.gone_as_of[key] = own_newest(ROW)[0]
        for name in (ROW, *self.fields):
            writers = changes if name == ROW else [c for c in changes if name in c.wrote]
            if writers:
                entry = here.entry(key, name)
                entry[incoming] = max(entry[incoming], writers[-1].id)
                entry[incoming_stamp] = max(c.stamp for c in writers)
