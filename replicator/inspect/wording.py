"""How the checks of the maps name what they find: directions, value lists,
and a missing table or column with the closest existing name.
"""

from __future__ import annotations

import difflib

from replicator.inspect.catalog import SchemaCatalog, Table
from replicator.maps.model import Direction, Side


def arrow(direction: Direction) -> str:
    return "left → right" if direction == "to_right" else "right → left"


def listing(values: tuple[str, ...]) -> str:
    return ", ".join(repr(v) for v in values)


def missing_table(side: Side, name: str, catalog: SchemaCatalog) -> str:
    message = f"{side} table {catalog.schema}.{name} does not exist"
    close = difflib.get_close_matches(name, [t.name for t in catalog.tables], n=1)
    return message + (f" (did you mean {close[0]}?)" if close else "")


def missing_column(side: Side, name: str, table: Table) -> str:
    message = f"{side} column {name!r} does not exist in {table.label}"
    close = difflib.get_close_matches(name, [c.name for c in table.columns], n=1)
    return message + (f" (did you mean {close[0]!r}?)" if close else "")
