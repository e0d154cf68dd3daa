"""The functions behind the CLI; each is testable without a subprocess."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, TextIO, cast

import psycopg
from psycopg.rows import TupleRow, dict_row

from replicator.applier import Applier, install_signal_handlers
from replicator.catalog import SchemaCatalog, probe_types, read_schema
from replicator.compiler import Bundle, compile_bundle, expression_probe
from replicator.config import redacted
from replicator.deployer import (
    DatabasePlan,
    deploy,
    open_transactions,
    plan_database,
    read_deployed,
)
from replicator.errors import DatabaseError, DeployRefused, ExpressionError
from replicator.loader import load_maps
from replicator.model import SIDES, Config, Direction, MapSet, Side, source_of, target_of
from replicator.output import write_table
from replicator.resources import sql_file
from replicator.validate import ExpressionTypes, validate

EXIT_OK = 0
EXIT_PENDING = 2


def connect(config: Config, role: Side) -> psycopg.Connection[TupleRow]:
    side = config.side(role)
    try:
        return psycopg.connect(side.conninfo, autocommit=True)
    except psycopg.OperationalError as exc:
        raise DatabaseError(
            f"cannot connect to the {role} side {side.name!r} ({side.conninfo_source},"
            f" {redacted(side.conninfo)}): {str(exc).strip()}"
        ) from None


@contextlib.contextmanager
def every_database(config: Config) -> Iterator[dict[Side, psycopg.Connection[TupleRow]]]:
    """One connection per database (one, or one per side), closed afterwards."""
    with contextlib.ExitStack() as stack:
        yield {role: stack.enter_context(connect(config, role)) for role in config.databases}


def read_catalogs(config: Config) -> dict[Side, SchemaCatalog]:
    catalogs: dict[Side, SchemaCatalog] = {}
    for role in SIDES:
        with connect(config, role) as conn:
            catalogs[role] = read_schema(conn, config.side(role).schema)
    return catalogs


def probe_expressions(
    config: Config, maps: MapSet, catalogs: dict[Side, SchemaCatalog]
) -> ExpressionTypes:
    """The type of every to_right/to_left expression, as its source database sees it."""
    views: dict[Side, list[tuple[str, str]]] = {side: [] for side in SIDES}
    spots: dict[str, tuple[str, Direction, str]] = {}
    for table_map in maps.maps:
        for direction in table_map.directions:
            source = catalogs[source_of(direction)].table(table_map.table(source_of(direction)))
            for field in table_map.carried_fields(direction):
                expression = field.expression_for(direction)
                if source is None or expression is None:
                    continue
                view = f"replicator_probe_{len(spots)}"
                try:
                    statement = expression_probe(view, source, expression.text)
                except ExpressionError:
                    continue  # validate reports it
                spots[view] = (table_map.name, direction, expression.text)
                views[source_of(direction)].append((view, statement))
    found: ExpressionTypes = {}
    for side in SIDES:
        if views[side]:
            with connect(config, side) as conn:
                for view, typed in probe_types(conn, views[side]).items():
                    found[spots[view]] = typed
    return found


def check(config: Config) -> tuple[MapSet, dict[Side, SchemaCatalog]]:
    """Load the maps and validate them against the live catalogs (raises MapError)."""
    maps = load_maps(config.maps_dir, config.path.parent)
    catalogs = read_catalogs(config)
    validate(config, maps, catalogs, probe_expressions(config, maps, catalogs))
    return maps, catalogs


def compiled(config: Config) -> Bundle:
    maps, catalogs = check(config)
    return compile_bundle(config, maps, catalogs)


def cmd_validate(config: Config, out: TextIO) -> int:
    maps, _ = check(config)
    directions = sum(len(m.directions) for m in maps.maps)
    out.write(f"{len(maps.maps)} maps ({directions} directions) are valid\n")
    return EXIT_OK


def cmd_plan(config: Config, out: TextIO, only: Side | None = None) -> int:
    """Print the SQL deploy would run; exit 2 when anything is pending."""
    bundle = compiled(config)
    pending = False
    for database in bundle.databases:
        if only is not None and database.role != only:
            continue
        with connect(config, database.role) as conn:
            plan = plan_database(database, bundle, read_deployed(conn))
        if plan.pending:
            pending = True
            out.write(plan.sql)
        else:
            out.write(f"-- database {database.label}: nothing to do (bundle {bundle.sha256})\n")
    return EXIT_PENDING if pending else EXIT_OK


def cmd_deploy(config: Config, out: TextIO) -> int:
    bundle = compiled(config)
    conninfos = [config.side(database.role).conninfo for database in bundle.databases]
    try:
        with open_transactions(conninfos) as connections:
            plans = deploy(bundle, connections)
    except psycopg.errors.ObjectInUse as exc:
        raise DeployRefused(
            f"deploy refused, nothing changed: {exc.diag.message_primary}"
        ) from None
    for plan in plans:
        out.write(_deploy_summary(plan) + "\n")
    return EXIT_OK


def _deploy_summary(plan: DatabasePlan) -> str:
    if not plan.pending:
        return f"database {plan.database.label}: already up to date"
    parts = [
        f"{len(names)} {verb}"
        for verb, names in (
            ("created", plan.created),
            ("replaced", plan.replaced),
            ("dropped", plan.dropped),
        )
        if names
    ]
    return f"database {plan.database.label}: {', '.join(parts)}"


def cmd_run(config: Config, once: bool = False) -> int:
    """Run the applier until SIGTERM/SIGINT (or, with ``once``, until the queues are empty)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    applier = Applier(config, batch_size=config.batch_size, poll_interval=config.poll_interval)
    install_signal_handlers(applier.request_stop)
    totals = applier.run(until_idle=once)
    logging.getLogger("replicator.applier").info(
        "stopped: %d applied, %d failed, %d skipped in %d batches",
        totals.applied,
        totals.failed,
        totals.skipped,
        totals.batches,
    )
    return EXIT_OK


@dataclass(frozen=True)
class StatusRow:
    map: str
    direction: str
    state: str
    queued: int
    oldest_queued_seconds: float | None
    held: int  # arrived before a parent they look up; applied when it arrives
    applied_total: int
    last_applied_at: str | None
    errors: int
    errors_last_hour: int


def status_rows(config: Config) -> list[StatusRow]:
    """Per map and direction: queue figures from the source database, state, applied
    figures and errors from the target database."""
    seen: dict[Side, dict[tuple[str, str], dict[str, Any]]] = {}
    now = datetime.now(UTC)
    for role in config.databases:
        with connect(config, role) as conn, conn.cursor(row_factory=dict_row) as cur:
            found = cur.execute(sql_file("status.sql")).fetchall()
        seen[role] = {(str(r["map_name"]), str(r["direction"])): r for r in found}
    keys = sorted({key for rows in seen.values() for key in rows})
    result: list[StatusRow] = []
    for map_name, direction_text in keys:
        direction = cast(Direction, direction_text)
        source = seen[config.database_of(source_of(direction))].get((map_name, direction), {})
        target = seen[config.database_of(target_of(direction))].get((map_name, direction), {})
        oldest = source.get("oldest_captured_at")
        applied_at = target.get("last_applied_at")
        result.append(
            StatusRow(
                map=map_name,
                direction=config.arrow(direction),
                state=str(source.get("state") or "not deployed"),
                queued=int(source.get("queued", 0)),
                oldest_queued_seconds=(now - oldest).total_seconds() if oldest else None,
                held=int(target.get("held", 0)),
                applied_total=int(target.get("applied_total", 0)),
                last_applied_at=applied_at.isoformat(timespec="seconds") if applied_at else None,
                errors=int(target.get("errors", 0)),  # open ones
                errors_last_hour=int(target.get("errors_last_hour", 0)),
            )
        )
    return result


def cmd_status(config: Config, out: TextIO, as_json: bool = False) -> int:
    rows = status_rows(config)
    if as_json:
        out.write(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
        return EXIT_OK
    headers = [
        "map",
        "direction",
        "state",
        "queued",
        "oldest queued",
        "held",
        "applied",
        "last applied",
        "errors",
    ]
    table = [
        [
            r.map,
            r.direction,
            r.state,
            str(r.queued),
            f"{r.oldest_queued_seconds:.1f} s" if r.oldest_queued_seconds is not None else "",
            str(r.held),
            str(r.applied_total),
            r.last_applied_at or "",
            f"{r.errors} ({r.errors_last_hour} last hour)" if r.errors else "0",
        ]
        for r in rows
    ]
    write_table(out, headers, table)
    return EXIT_OK
