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
from replicator.sqlgen.values import updated_sql, value_sql

# A row's clock entry, per field and for the row itself ("" in replicator.versions):
# [newest left change, newest right change, their stamps]. Positions by side:
CLOCK_ID = {"left": 0, "right": 1}


CLOCK_STAMP = {"left": 2, "right": 3}


ROW_ENTRY = ""


def clock_entry(writer: Side, clock: Sql, label: Sql, change: Sql, stamp: Sql) -> Sql:
    """The entry of ``label`` in ``clock`` once it holds ``change`` (with its ``stamp``)
    written on side ``writer``: that side's id and stamp move to it, the other's stay."""
    entry = Sql("{}->{}").format(clock, label)
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
