"""Per-field clocks and conflict decisions: a clock entry once a write is recorded,
who wins under a map's policy, and each non-key field as the apply and absorb
functions decide it.
"""

from __future__ import annotations

from dataclasses import dataclass

from replicator.core.quoting import Sql, bare, ident, literal, sql_join
from replicator.inspect.catalog import Table
from replicator.maps.model import (
    SIDES,
    ConflictPolicy,
    Direction,
    FieldMap,
    Side,
    TableMap,
    other_direction,
    source_of,
    target_of,
)
from replicator.sqlgen.sqltypes import json_object
from replicator.sqlgen.values import updated_sql, value_sql

# A row's clock entry, per field and for the row itself ("" in replicator.versions):
# [newest left change, newest right change, their stamps]. Positions by side:
CLOCK_ID = {"left": 0, "right": 1}


CLOCK_STAMP = {"left": 2, "right": 3}


ROW_ENTRY = ""


# A field the clock holds no entry for has the row's: most writes (an insert, an update
# of every field) leave every field's entry equal to the row's, and the clock is then
# one entry, not one per field (building those was most of what a clock cost). A field
# never written has [] (so an absent one is never mistaken for it).
NEVER_WRITTEN = Sql("'[]'::jsonb")


def clock_field(clock: Sql, label: Sql) -> Sql:
    """The entry of field ``label`` in ``clock``: its own, or else the row's."""
    if label == literal(ROW_ENTRY):
        return Sql("{}->{}").format(clock, label)
    return Sql("coalesce({}->{}, {}->{})").format(clock, label, clock, literal(ROW_ENTRY))


def clock_entry(writer: Side, clock: Sql, label: Sql, change: Sql, stamp: Sql) -> Sql:
    """The entry of ``label`` in ``clock`` once it holds ``change`` (with its ``stamp``)
    written on side ``writer``: that side's id and stamp move to it, the other's stay."""
    entry = clock_field(clock, label)
    parts: list[Sql] = []
    for side in SIDES:
        position = CLOCK_ID[side]
        parts.append(
            Sql("greatest(coalesce(({}->>{})::bigint, 0), {})").format(entry, position, change)
            if side == writer
            else Sql("coalesce({}->{}, to_jsonb(0))").format(entry, position)
        )
    for side in SIDES:
        parts.append(stamp if side == writer else Sql("{}->{}").format(entry, CLOCK_STAMP[side]))
    return Sql("jsonb_build_array({})").format(sql_join(parts))


@dataclass(frozen=True)
class ClockWrite:
    """A field as a clock records the changes of a batch: its entry once they are
    recorded, and whether the newest of them wrote it (``change`` and ``stamp``: the
    newest change that wrote it, null if none did)."""

    label: Sql
    entry: Sql
    change: Sql
    stamp: Sql


def clock_sql(
    clock: Sql, row: Sql, row_change: Sql, row_stamp: Sql, writes: list[ClockWrite], kept: list[Sql]
) -> Sql:
    """``clock`` once the row's entry is ``row`` (its newest change ``row_change``, with
    ``row_stamp``) and the fields' are ``writes``; the fields in ``kept`` (the map's
    others: carried the other way only) keep theirs. Only entries that differ from the
    row's are kept, so one clock has one spelling and both sides' can be compared."""

    def unless_row(entry: Sql) -> Sql:
        return Sql("nullif({}, {})").format(entry, row)

    def as_was(label: Sql) -> Sql:
        # An entry kept as it was; a null one (written so before clocks left out the
        # entries equal to the row's) is a field never written.
        return unless_row(
            Sql("coalesce(nullif({}, 'null'::jsonb), {})").format(
                clock_field(clock, label), NEVER_WRITTEN
            )
        )

    entries = [
        (
            write.label,
            Sql(
                "CASE WHEN {} IS NULL THEN {}\n"
                "                    WHEN {} = {} AND {} IS NOT DISTINCT FROM {} AND {}->{} IS NULL THEN NULL\n"
                "                    ELSE {} END"
            ).format(
                write.change,
                as_was(write.label),
                write.change,
                row_change,
                write.stamp,
                row_stamp,
                clock,
                write.label,
                unless_row(write.entry),
            ),
        )
        for write in writes
    ]
    entries += [(label, as_was(label)) for label in kept]
    return Sql("jsonb_strip_nulls({})").format(json_object([(literal(ROW_ENTRY), row), *entries]))


def kept_labels(table_map: TableMap, direction: Direction) -> list[Sql]:
    """The labels of the map's fields a clock holds that ``direction`` does not carry."""
    carried = {f.label for f in table_map.carried_fields(direction) if not f.key}
    others = [
        f.label
        for d in table_map.directions
        for f in table_map.carried_fields(d)
        if not f.key and f.label not in carried
    ]
    return [literal(label) for label in dict.fromkeys(others)]


def wins_sql(policy: ConflictPolicy, from_side: Side, stamps: tuple[Sql, Sql]) -> Sql:
    """Whether an incoming write concurrent with this side's wins under ``policy``;
    ``stamps`` are (incoming, here): newest_wins compares them, the left side taking a tie."""
    if policy == "newest_wins":
        incoming, here = (Sql("coalesce({}, 0)").format(stamp) for stamp in stamps)
        return Sql("({} > {} OR ({} = {} AND {}))").format(
            incoming, here, incoming, here, literal(from_side == "left")
        )
    if policy == "manual":
        return Sql("false")
    return literal(policy == f"{from_side}_wins")


def changed_sql(columns: tuple[str, ...], row: str) -> Sql:
    """Whether an update (``row``: a change with before and image) changed any of ``columns``."""
    if not columns:
        return Sql("false")
    return sql_join(
        [
            Sql("{}.before->{} IS DISTINCT FROM {}.image->{}").format(
                bare(row), literal(c), bare(row), literal(c)
            )
            for c in columns
        ],
        " OR ",
    )


@dataclass(frozen=True)
class ApplyField:
    """A non-key field as the apply function decides it: what the change brings, which
    writes count on each side, who wins, and the names its per-row values take."""

    index: int
    column: Sql  # the target column
    label: Sql  # the field's name in the clock and the conflict log
    policy: Sql
    new: Sql  # the value the change brings (over the image row s and the resolved row l)
    wins: Sql  # whether an incoming write concurrent with this side's wins
    manual: bool
    updated: Sql  # what the column becomes when the incoming value is taken
    entry: Sql  # the field's clock entry once the incoming write is recorded
    incoming_reads: tuple[str, ...]  # the source columns that make the field's value
    own_reads: tuple[str, ...] | None  # the same here, where this side's writes count

    @property
    def own_counted(self) -> bool:
        """Whether this side's own writes of the field count: it crosses from here too."""
        return self.own_reads is not None

    @property
    def manual_sql(self) -> Sql:
        return literal(self.manual)

    def alias(self, kind: str) -> Sql:
        return ident(f"{kind}_{self.index}")

    def written_by(self, row: str) -> Sql:
        """Whether the incoming update ``row`` wrote this field."""
        return changed_sql(self.incoming_reads, row)

    def written_here(self, row: str) -> Sql:
        """Whether this side's queued update ``row`` wrote this field."""
        return changed_sql(self.own_reads or (), row)


def keeps_clocks(table_map: TableMap) -> bool:
    """Whether a map keeps clocks: a queued map flowing both ways. One way, the target's
    own writes of a row never cross, so every incoming change wins; online, both sides
    change in one transaction."""
    return table_map.mode == "queued" and len(table_map.directions) == 2


def apply_fields(
    table_map: TableMap, direction: Direction, tables: dict[Side, Table], fields: list[FieldMap]
) -> list[ApplyField]:
    from_side, to_side = source_of(direction), target_of(direction)
    reverse = other_direction(direction)
    # Where the target's own writes are queued too, a field's count when it crosses back.
    counted = keeps_clocks(table_map)
    result: list[ApplyField] = []
    for index, field in enumerate(fields, start=1):
        label = literal(field.label)
        policy = table_map.field_policy(field)
        result.append(
            ApplyField(
                index=index,
                column=ident(field.column(to_side) or ""),
                label=label,
                policy=literal(policy),
                new=value_sql(field, direction, tables, table_map),
                wins=wins_sql(
                    policy, from_side, (ident("j", f"t_{index}"), ident("j", f"ot_{index}"))
                ),
                manual=policy == "manual",
                updated=updated_sql(
                    field, ident("j", f"n_{index}"), ident("j", f"c_{index}"), to_side
                ),
                entry=clock_entry(
                    from_side,
                    Sql("j.clock"),
                    label,
                    ident("j", f"i_{index}"),
                    ident("j", f"t_{index}"),
                ),
                incoming_reads=field.reads(direction),
                own_reads=field.reads(reverse) if counted and field.carries(reverse) else None,
            )
        )
    return result
