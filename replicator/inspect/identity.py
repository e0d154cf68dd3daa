"""What WAL capture and the replicator's roles need of a mapped table: a replica
identity covering the key and the filter's columns (the whole row for a map that
flows both ways), a logged table, and no row level security hiding rows.
"""

from __future__ import annotations

from replicator.core.quoting import ident
from replicator.inspect.catalog import Table
from replicator.maps.expressions import columns_read
from replicator.maps.model import Side, TableMap


def identity_problem(table_map: TableMap, side: Side, table: Table) -> str | None:
    """WAL capture learns which row an update or delete touched, and whether it was
    in the map's filter before, from the old row's replica identity columns only."""
    keys = [f.column(side) or "" for f in table_map.key_fields]
    filtered = [
        c for c in columns_read(table_map.filter(side) or "") if table.column(c) and c not in keys
    ]
    identity = table.identity_columns
    missing_keys = [c for c in keys if c not in identity]
    missing_filtered = [c for c in filtered if c not in identity]
    if not missing_keys and not missing_filtered:
        return None
    lacking = " and ".join(
        f"{what} column(s) {', '.join(columns)}"
        for what, columns in (("key", missing_keys), ("filter", missing_filtered))
        if columns
    )
    return (
        f"{table.label}: replica identity ({_identity_description(table)}) does not"
        f" include {lacking} that WAL capture needs for updates and deletes:"
        f" {_identity_fix(table, keys + filtered)}"
    )


def unlogged_problem(table: Table, side: Side) -> str:
    """An UNLOGGED table writes nothing to the WAL: a slot never sees its changes."""
    return (
        f"{table.label} is UNLOGGED: its changes are not written to the WAL, so WAL capture"
        f" never sees them: make it logged (ALTER TABLE {ident(table.schema, table.name)}"
        f' SET LOGGED), or capture the {side} side with triggers (capture = "trigger" in'
        f" [{side}])"
    )


def row_security_problem(table: Table) -> str | None:
    """Row level security that binds a role the replicator reads or writes a table as:
    rows a policy hides would be missed by sync and verify, and a row hidden in the
    way of an insert can be neither seen nor written."""
    security = table.row_security
    if security is None:
        return None
    name = ident(table.schema, table.name)
    who = " and ".join(security.hidden_from)
    many = len(security.hidden_from) > 1
    bypass = " and ".join(f"ALTER ROLE {ident(r)} BYPASSRLS" for r in security.hidden_from)
    return (
        f"{table.label} has row level security {'forced' if security.forced else 'enabled'}"
        f" and it applies to {'roles' if many else 'role'} {who}, which the replicator"
        f" reads and writes the table as: rows its policies hide would be neither copied"
        f" nor replicated. Let {'them' if many else 'it'} bypass it ({bypass}, as a"
        f" superuser) or give {'them' if many else 'it'} a policy that shows every row"
        f" (CREATE POLICY replicator ON {name}"
        f" TO {', '.join(ident(r) for r in security.hidden_from)}"
        f" USING (true) WITH CHECK (true))"
    )


def conflict_identity_problem(table: Table) -> str | None:
    """A map flowing both ways judges conflicts by the whole row before each update,
    which the WAL carries only with REPLICA IDENTITY FULL."""
    if table.replica_identity == "f":
        return None
    return (
        f"{table.label}: replica identity ({_identity_description(table)}) leaves the"
        " row before an update out of the WAL, and a map that flows both ways judges"
        f" conflicts by it: ALTER TABLE {table.label} REPLICA IDENTITY FULL"
    )


def _identity_description(table: Table) -> str:
    key = table.identity_key
    if table.replica_identity == "n":
        return "NOTHING"
    if table.replica_identity == "d":
        return (
            f"DEFAULT: primary key {', '.join(key.columns)}" if key else "DEFAULT: no primary key"
        )
    return (
        f"USING INDEX {key.name}: {', '.join(key.columns)}"
        if key
        else "USING INDEX of a dropped index"
    )


def _identity_fix(table: Table, needed: list[str]) -> str:
    """Name an existing index that would do; else say what to create."""
    name = table.label
    full = f"ALTER TABLE {name} REPLICA IDENTITY FULL"
    not_null = {c.name for c in table.columns if c.not_null}
    # PostgreSQL takes as replica identity only a unique index over NOT NULL columns.
    usable = [
        key
        for key in table.unique_keys
        if set(needed) <= set(key.columns) and set(key.columns) <= not_null
    ]
    if usable:
        best = min(usable, key=lambda key: (len(key.columns), not key.primary))
        return f"ALTER TABLE {name} REPLICA IDENTITY USING INDEX {best.name}, or {full}"
    columns = f"({', '.join(needed)})"
    index = (
        f"make a unique index on {columns} (NOT NULL columns) the replica identity"
        f" (ALTER TABLE {name} REPLICA IDENTITY USING INDEX ...)"
    )
    if table.replica_identity == "d" and not any(key.primary for key in table.unique_keys):
        return f"add a primary key on {columns}, {index}, or {full}"
    return f"{index}, or {full}"
