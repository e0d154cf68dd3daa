"""Undeploy: the SQL that removes what the deploys recorded from one database (the
slot and origins last), and the changes still waiting there."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.rows import TupleRow

from replicator.core import locks, origins
from replicator.core.quoting import Sql, comment, ident, literal, sql_join
from replicator.maps.model import Config, Side
from replicator.operations.deployer import read_deployed
from replicator.sqlgen.render import database_guard, lock_key, render_template


@dataclass(frozen=True)
class UndeployPlan:
    """What undeploy removes from one database, the SQL that does it, and the changes
    still waiting there (which it refuses to lose unless told to discard them)."""

    role: Side
    label: str
    sql: str
    waiting: int  # queued, parked and held changes here


def undeploy_database(
    conn: psycopg.Connection[TupleRow],
    config: Config,
    role: Side,
    discard: bool,
) -> UndeployPlan | None:
    """The undeploy SQL of the database ``role`` reaches, built from what its deploys
    recorded; None if nothing is deployed there."""
    deployed = read_deployed(conn)
    if not deployed:
        return None
    row = conn.execute(
        "SELECT (SELECT count(*) FROM replicator.change_queue)"
        " + (SELECT count(*) FROM replicator.held_change)"
        " + (SELECT count(*) FROM replicator.wal_parked)"
    ).fetchone()
    waiting = int(row[0]) if row else 0
    slots = [
        str(r[0]) for r in conn.execute("SELECT slot_name FROM replicator.wal_listener ORDER BY 1")
    ]
    label = config.label(role)
    schemas = tuple(dict.fromkeys(config.side(side).schema for side in config.hosted(role)))
    sql = render_template(
        "undeploy.sql.j2",
        label=comment(label),
        label_literal=literal(label),
        role=Sql(role),
        guard=database_guard(label, schemas),
        owner=ident(config.roles.owner) if config.roles else None,
        deploy_lock=lock_key(locks.DEPLOY),
        discard=discard,
        # The WAL artifact's own drop would remove the slot mid-transaction: the slot
        # and origins go last instead, and the schema takes its function.
        drops=[
            {"name": Sql(d.name), "sql": Sql(d.drop_sql.strip())}
            for name, d in reversed(list(deployed.items()))
            if d.drop_sql.strip() and name != "wal"
        ],
        slots=[{"name": Sql(slot), "literal": literal(slot)} for slot in slots],
        origins=Sql("ARRAY[{}]::text[]").format(sql_join(literal(o) for o in origins.ALL)),
    )
    return UndeployPlan(role, label, sql, waiting)
