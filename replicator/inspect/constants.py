"""The constants a map writes (defaults, value-map outputs, fallbacks, on_delete
marks), and what a target database said of each when asked (checked.probe_expressions).
"""

from __future__ import annotations

from dataclasses import dataclass

from replicator.core.quoting import Scalar
from replicator.inspect.catalog import Column, Table
from replicator.maps.model import FieldMap, Side, TableMap, target_of

# What each per-direction expression and each filter yields, as the database of the
# table it reads typed it, or the database's reason for refusing it; keyed by (map,
# the map key holding it: to_right, to_left, left_filter or right_filter, its text).
# Likewise each constant a map writes (Constant.key).
ExpressionTypes = dict[tuple[str, str, str], Column | str]


@dataclass(frozen=True)
class Constant:
    """A value from a map file that an apply function writes into a target column: a
    default, a value-map output or fallback (written from text), an on_delete mark."""

    map: str
    field: FieldMap | None  # None for a mark
    side: Side
    column: str
    what: str  # "default", "value_map entry", "fallback", "mark"
    value: Scalar
    from_text: bool  # written as a text value (value maps), else as a literal

    @property
    def key(self) -> tuple[str, str, str]:
        """Its entry in ExpressionTypes."""
        return (self.map, "constant", f"{self.side} {self.column} {self.what} {self.value!r}")


def constants(table_map: TableMap) -> list[Constant]:
    """Every constant the map writes, once per target column."""
    found: list[Constant] = []
    for direction in table_map.directions:
        to_side = target_of(direction)
        for field in table_map.carried_fields(direction):
            column = field.column(to_side)
            if column is None:
                continue
            default = field.default_for(to_side)
            if default is not None:
                found.append(
                    Constant(table_map.name, field, to_side, column, "default", default, False)
                )
            if field.value_map is not None:
                outputs = [b if direction == "to_right" else a for a, b in field.value_map]
                found += [
                    Constant(table_map.name, field, to_side, column, "value_map entry", v, True)
                    for v in outputs
                ]
            fallback = field.fallback_for(to_side)
            if fallback is not None:
                found.append(
                    Constant(table_map.name, field, to_side, column, "fallback", fallback, True)
                )
    found += [
        Constant(table_map.name, None, side, column, "mark", value, False)
        for side, column, value in table_map.marks
    ]
    return list({c.key: c for c in found}.values())


def refused_by_the_database(
    table_map: TableMap,
    tables: dict[Side, Table],
    expression_types: ExpressionTypes,
) -> list[tuple[str, FieldMap | None]]:
    """What a target database refused when asked (checked.probe_expressions): a constant
    its column cannot hold."""
    refused: list[tuple[str, FieldMap | None]] = []
    for constant in constants(table_map):
        written = tables[constant.side].column(constant.column)
        reason = expression_types.get(constant.key)
        # Values outside an enum are judged with the value maps (typecheck, field_problems).
        if isinstance(reason, str) and written is not None and written.enum_labels is None:
            refused.append(
                (
                    f"{constant.what} {constant.value!r} cannot be written into"
                    f" {tables[constant.side].label}.{constant.column} ({written.type_sql}):"
                    f" {reason}",
                    constant.field,
                )
            )
    return refused
