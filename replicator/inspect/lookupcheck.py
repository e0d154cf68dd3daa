"""Checks of each lookup against the catalogs: the parent column exists, the
matched columns identify one parent row, and the field's own column holds its values.
"""

from __future__ import annotations

from replicator.core.errors import Problem, Where
from replicator.inspect.catalog import SchemaCatalog
from replicator.inspect.typecheck import loss_reason
from replicator.maps.model import SIDES, FieldMap, MapSet, Side, TableMap, lookup_scope


def lookup_problems(
    maps: MapSet, table_map: TableMap, catalogs: dict[Side, SchemaCatalog]
) -> list[Problem]:
    """Each lookup names a parent column that exists, identifies one parent row, and
    whose values the field's own column can hold."""
    problems: list[Problem] = []
    for field in table_map.fields:
        if field.lookup is None or field.lookup.map not in maps.names:
            continue  # an unknown map is reported by the loader
        parent = maps.by_name(field.lookup.map)
        where = Where(table_map.file, table_map.name, field.label)
        for side in SIDES:
            problems += _side_problems(catalogs[side], side, table_map, field, parent, where)
    return problems


def _side_problems(
    catalog: SchemaCatalog,
    side: Side,
    table_map: TableMap,
    field: FieldMap,
    parent: TableMap,
    where: Where,
) -> list[Problem]:
    """One lookup on one side."""
    assert field.lookup is not None
    child_table = catalog.table(table_map.table(side))
    parent_table = catalog.table(parent.table(side))
    child_column = child_table.column(field.column(side) or "") if child_table else None
    if (
        parent_table is None
        or child_table is None
        or child_column is None
        or parent_table.kind != "r"
        or child_table.kind != "r"
    ):
        return []  # reported with the map that names them
    ref = field.lookup.column(side)
    parent_column = parent_table.column(ref)
    if parent_column is None:
        return [
            Problem(
                where,
                f"lookup {parent.name}: {side} column {ref!r} does not exist in"
                f" {parent_table.label}; name the column the field refers to with"
                f' lookup = {{ map = "{parent.name}", {side} = "..." }}',
            )
        ]
    messages: list[str] = []
    reason = loss_reason(parent_column, child_column)
    if reason is not None:
        messages.append(
            f"lookup {parent.name}: {child_table.label}.{child_column.name}"
            f" ({child_column.type_sql}) cannot hold {parent_table.label}.{ref}"
            f" ({parent_column.type_sql}): {reason}; point lookup.{side} at the"
            f" column of {parent_table.label} this field holds"
        )
    scope = lookup_scope(table_map, field, parent)
    matched = {ref, *(parent_key.column(side) or "" for parent_key, _ in scope)}
    if not any(set(key.columns) <= matched for key in parent_table.unique_keys):
        messages.append(
            f"lookup {parent.name}: ({', '.join(sorted(matched))}) does not identify one"
            f" row of {parent_table.label} (no primary key or unique index on them)"
        )
    return [Problem(where, message) for message in messages]
