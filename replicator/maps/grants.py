"""What each role does to each mapped table, and which WAL functions capture calls:
decided from the config and the maps alone (no database). The roles SQL
(``plan --roles``) grants it; the privilege checks ask each database for it."""

from __future__ import annotations

from replicator.core.errors import ConfigError
from replicator.core.quoting import Sql, ident
from replicator.maps.model import (
    DIRECTIONS,
    SIDES,
    Config,
    MapSet,
    Roles,
    Side,
    source_of,
    target_of,
)

# The order PostgreSQL prints privileges in, so a grant reads the same every time.
PRIVILEGE_ORDER = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRIGGER")

# What WAL capture calls, as the owner (deploy: the origins; validate: the origin
# states) and as the runtime role (the listener and the applier). PostgreSQL grants
# none of them to PUBLIC; granting the pg_replication_origin_status view is not enough,
# its rows come from pg_show_replication_origin_status().
WAL_FUNCTIONS = (
    "pg_replication_origin_create(text)",
    "pg_replication_origin_drop(text)",
    "pg_replication_origin_oid(text)",
    "pg_replication_origin_progress(text, boolean)",
    "pg_replication_origin_session_setup(text)",
    "pg_replication_origin_session_reset()",
    "pg_replication_origin_xact_setup(pg_lsn, timestamp with time zone)",
    "pg_show_replication_origin_status()",
)


def roles_of(config: Config) -> Roles:
    """The configured roles, or a ConfigError saying how to name them."""
    if config.roles is None:
        raise ConfigError(
            f"{config.path}: no [roles] section: name the owner and runtime roles"
            ' ([roles] owner = "replicator_owner", runtime = "replicator_runtime")'
        )
    return config.roles


def table_privileges(
    config: Config, maps: MapSet, hosted: tuple[Side, ...]
) -> dict[str, dict[Sql, set[str]]]:
    """Per role, and per mapped table of the hosted sides, what it does to the table. The
    owner's functions read it (capture, snapshot, judging conflicts) and fire triggers
    on it; the writer of its side writes it (the apply functions hand it the rows) and
    reads the rows it changes."""
    roles = roles_of(config)
    privileges: dict[str, dict[Sql, set[str]]] = {roles.owner: {}}
    for table_map in maps.maps:
        for side in SIDES:
            if side in hosted:
                table = ident(config.side(side).schema, table_map.table(side))
                privileges[roles.owner].setdefault(table, set()).add("SELECT")
        for direction in DIRECTIONS:
            if direction not in table_map.directions:
                continue
            source, target = source_of(direction), target_of(direction)
            if source in hosted and config.side(source).capture == "trigger":
                privileges[roles.owner][
                    ident(config.side(source).schema, table_map.table(source))
                ].add("TRIGGER")
            if target in hosted:
                table = ident(config.side(target).schema, table_map.table(target))
                written = privileges.setdefault(roles.writer(target), {}).setdefault(table, set())
                written |= {"SELECT", "INSERT", "UPDATE"}
                if table_map.on_delete == "propagate" or table_map.on_truncate == "replicate":
                    written.add("DELETE")
    return privileges
