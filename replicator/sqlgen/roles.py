"""The one-time SQL a superuser runs before the first deploy (``replicator plan --roles``):
the owner, runtime and writer roles, and what each may do to each mapped table. Pure: config
and maps in, SQL text out."""

from __future__ import annotations

from dataclasses import dataclass

from replicator.core.quoting import Sql, bare, comment, ident, literal, sql_join
from replicator.maps.grants import PRIVILEGE_ORDER, WAL_FUNCTIONS, roles_of, table_privileges
from replicator.maps.model import (
    WRITE_SCHEMA,
    Config,
    MapSet,
    Side,
)
from replicator.sqlgen.render import LIST, database_guard, render_template


@dataclass(frozen=True)
class RolesScript:
    """The roles SQL of one database."""

    role: Side  # the side whose connection reaches the database
    label: str
    sql: str


def _grants(granted: dict[Sql, set[str]]) -> list[dict[str, Sql]]:
    return [
        {
            "name": table,
            "privileges": sql_join([Sql(p) for p in PRIVILEGE_ORDER if p in privileges]),
        }
        for table, privileges in sorted(granted.items())
    ]


def compile_roles(config: Config, maps: MapSet) -> tuple[RolesScript, ...]:
    """The roles SQL of each database the config reaches."""
    roles = roles_of(config)
    scripts = []
    for role in config.databases:
        hosted = config.hosted(role)
        privileges = table_privileges(config, maps, hosted)
        schemas = tuple(dict.fromkeys(config.side(side).schema for side in hosted))
        sql = render_template(
            "roles.sql.j2",
            label=comment(config.label(role)),
            guard=database_guard(config.label(role), schemas),
            side=bare(role),
            owner=ident(roles.owner),
            runtime=ident(roles.runtime),
            owner_literal=literal(roles.owner),
            runtime_literal=literal(roles.runtime),
            write_schema=ident(WRITE_SCHEMA),
            write_schema_literal=literal(WRITE_SCHEMA),
            schemas=[ident(s) for s in schemas],
            tables=_grants(privileges[roles.owner]),
            writers=[
                {
                    "side": bare(side),
                    "name": ident(roles.writer(side)),
                    "literal": literal(roles.writer(side)),
                    "schema": ident(config.side(side).schema),
                    "tables": _grants(privileges.get(roles.writer(side), {})),
                    "written": sql_join(
                        [literal(t) for t in sorted(privileges.get(roles.writer(side), {}))],
                        LIST,
                    ),
                }
                for side in hosted
            ],
            wal=bool(config.wal_sides(role)),
            wal_functions=sql_join([Sql(signature) for signature in WAL_FUNCTIONS], ",\n    "),
        )
        scripts.append(RolesScript(role, config.label(role), sql))
    return tuple(scripts)
