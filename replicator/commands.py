"""The functions behind the CLI; each is testable without a subprocess."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import TextIO

import psycopg
from psycopg.rows import TupleRow

from replicator import metrics
from replicator.applier import Applier, Backoff, install_signal_handlers
from replicator.catalog import SchemaCatalog, probe_types, read_schema
from replicator.clockcheck import clock_problems
from replicator.compiler import (
    Bundle,
    compile_bundle,
    constant_probe,
    expression_probe,
)
from replicator.connections import connect, require_deployed
from replicator.deployer import (
    DatabasePlan,
    LockTimeout,
    commit_all,
    deploy,
    drifted_maps,
    lock_holders,
    open_transactions,
    plan_database,
    read_deployed,
    slot_exists,
    writing_sessions,
)
from replicator.errors import ConnectError, DeployRefused, ExpressionError, ReplicatorError
from replicator.interrupts import Interrupted, uninterrupted
from replicator.loader import load_maps
from replicator.model import CONTROL_SCHEMA, SIDES, Config, MapSet, Side, TableMap, source_of
from replicator.output import write_table
from replicator.quoting import DOLLAR_TAG, Sql, comment, ident
from replicator.roles import PRIVILEGE_ORDER, compile_roles, table_privileges
from replicator.status import applier_notes, slot_rows, status_rows
from replicator.validate import ExpressionTypes, constants, validate
from replicator.walcheck import read_server_problems

EXIT_OK = 0
EXIT_PENDING = 2


def read_catalogs(config: Config) -> dict[Side, SchemaCatalog]:
    """Both sides' schemas; row level security as it meets the role the generated
    functions will run as (the [roles] owner, else whoever connects to deploy)."""
    writer = config.roles.owner if config.roles else None
    catalogs: dict[Side, SchemaCatalog] = {}
    for role in SIDES:
        with connect(config, role) as conn:
            catalogs[role] = read_schema(conn, config.side(role).schema, writer=writer)
    return catalogs


def check_deployed(config: Config) -> None:
    """Raise DatabaseError, saying to deploy, unless every database reachable now has been
    deployed to. One that cannot be reached is the command's to report (the applier
    retries it, status shows what the other one says)."""
    for role in config.databases:
        try:
            conn = connect(config, role)
        except ConnectError:
            continue
        with conn:
            require_deployed(conn, config, role)


# A probe: the database it runs on (through that side), its key in ExpressionTypes,
# and the CREATE TEMP VIEW statement for a view of a given name.
Probe = tuple[Side, tuple[str, str, str], Callable[[str], Sql]]


def probe_expressions(
    config: Config, maps: MapSet, catalogs: dict[Side, SchemaCatalog]
) -> ExpressionTypes:
    """What each database says of what the maps will make it do: the type of every
    to_right/to_left expression and every filter, whether each constant fits its column."""
    views: dict[Side, list[tuple[str, str]]] = {side: [] for side in SIDES}
    spots: dict[str, tuple[str, str, str]] = {}
    for table_map in maps.maps:
        for side, key, statement in (
            *_expression_probes(table_map, catalogs),
            *_constant_probes(table_map, catalogs),
        ):
            view = f"replicator_probe_{len(spots)}"
            try:
                views[side].append((view, statement(view)))
            except ExpressionError:
                continue  # validate reports it
            spots[view] = key
    found: ExpressionTypes = {}
    for side in SIDES:
        if views[side]:
            with connect(config, side) as conn:
                for view, typed in probe_types(conn, views[side]).items():
                    found[spots[view]] = typed
    return found


def _expression_probes(table_map: TableMap, catalogs: dict[Side, SchemaCatalog]) -> list[Probe]:
    """Each to_right/to_left expression and filter, over the table it reads."""
    read: list[tuple[Side, str, str]] = [  # (side read, the map key holding it, text)
        (source_of(direction), direction, expression.text)
        for direction in table_map.directions
        for field in table_map.carried_fields(direction)
        if (expression := field.expression_for(direction)) is not None
    ]
    read += [
        (side, f"{side}_filter", text)
        for side in SIDES
        if (text := table_map.filter(side)) is not None
    ]
    probes: list[Probe] = []
    for side, key, text in read:
        table = catalogs[side].table(table_map.table(side))
        if table is not None and not DOLLAR_TAG.search(table.name):  # else validate says why
            probes.append(
                (
                    side,
                    (table_map.name, key, text),
                    partial(expression_probe, source=table, text=text),
                )
            )
    return probes


def _constant_probes(table_map: TableMap, catalogs: dict[Side, SchemaCatalog]) -> list[Probe]:
    """Each constant the map writes, cast to its column."""
    probes: list[Probe] = []
    for constant in constants(table_map):
        table = catalogs[constant.side].table(table_map.table(constant.side))
        column = table.column(constant.column) if table is not None else None
        if column is not None:  # else validate reports a missing table or column
            probes.append(
                (
                    constant.side,
                    constant.key,
                    partial(
                        constant_probe,
                        value=constant.value,
                        from_text=constant.from_text,
                        column=column,
                    ),
                )
            )
    return probes


def check(config: Config) -> tuple[MapSet, dict[Side, SchemaCatalog]]:
    """Load the maps and validate them against the live catalogs and, for WAL capture,
    the servers (raises MapError)."""
    maps = load_maps(config.maps_dir, config.path.parent)
    catalogs = read_catalogs(config)
    validate(
        config,
        maps,
        catalogs,
        probe_expressions(config, maps, catalogs),
        [*read_server_problems(config), *clock_problems(config, maps)],
    )
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
            plan = plan_database(
                database,
                bundle,
                read_deployed(conn),
                slot_exists(conn, database),
                drifted_maps(conn),
            )
        if plan.pending:
            pending = True
            out.write(plan.sql)
        else:
            out.write(
                f"-- database {comment(database.label)}: nothing to do (bundle {bundle.sha256})\n"
            )
    return EXIT_PENDING if pending else EXIT_OK


def cmd_plan_roles(config: Config, out: TextIO, only: Side | None = None) -> int:
    """Print the roles SQL a superuser runs once per database (no connection needed)."""
    maps = load_maps(config.maps_dir, config.path.parent)
    for script in compile_roles(config, maps):
        if only is None or script.role == only:
            out.write(script.sql)
    return EXIT_OK


def cmd_deploy(config: Config, out: TextIO) -> int:
    committed = False
    try:
        check_owner(config)
        maps, catalogs = check(config)
        check_owner(config, maps)
        bundle = compile_bundle(config, maps, catalogs)
        missing = []
        for database in bundle.databases:
            with connect(config, database.role) as conn:
                if not slot_exists(conn, database):
                    missing.append(database)
        try:
            with open_transactions(config, [d.role for d in bundle.databases]) as connections:
                plans = deploy(bundle, connections)
                # All commit or none: a signal now would stop between two databases.
                with uninterrupted():
                    commit_all(connections)
                    committed = True
        except BaseException as exc:
            if committed:
                raise
            # A slot outlives the rolled-back transaction that made it; unused, it would
            # hold WAL back for ever.
            for database in missing:
                with connect(config, database.role) as conn:
                    conn.execute(
                        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                        " WHERE slot_name = %s AND NOT active",
                        (database.slot,),
                    )
            if isinstance(exc, psycopg.errors.ObjectInUse):
                raise DeployRefused(
                    f"deploy refused, nothing changed: {exc.diag.message_primary}"
                ) from None
            if isinstance(exc, LockTimeout):
                raise DeployRefused(_lock_timeout_message(config, exc)) from None
            raise
    except Interrupted as exc:
        if committed:
            raise
        # psycopg cancelled the statement in flight (a lock wait too) and the
        # transactions rolled back.
        raise ReplicatorError(
            f"deploy was interrupted ({exc.signal_name}): nothing was applied"
        ) from None
    for plan in plans:
        out.write(_deploy_summary(plan) + "\n")
    return EXIT_OK


def _lock_timeout_message(config: Config, timeout: LockTimeout) -> str:
    """Deploy waited too long for a lock: who holds what it waited for."""
    database = timeout.database
    schemas = [config.side(side).schema for side in config.hosted(database.role)]
    with connect(config, database.role) as conn:
        if timeout.slot:
            holders = writing_sessions(conn)
            waited = (
                f"creating the slot {database.slot} waited {timeout.seconds} s (lock_timeout)"
                " for the server's transactions that have written to end"
            )
        else:
            holders = lock_holders(conn, [*dict.fromkeys(schemas), CONTROL_SCHEMA])
            waited = (
                f"no lock within {timeout.seconds} s (lock_timeout) on the tables deploy changes"
            )
    head = f"deploy refused, nothing changed: database {database.label}: {waited}"
    if not holders:
        return f"{head}; whoever held it has finished since: deploy again"
    more = f" (and {len(holders) - 3} more)" if len(holders) > 3 else ""
    return (
        f"{head}: {'; '.join(str(h) for h in holders[:3])}{more}. End or commit that"
        f" transaction (SELECT pg_terminate_backend({holders[0].pid}) ends the session),"
        " then deploy again"
    )


def check_owner(config: Config, maps: MapSet | None = None) -> None:
    """Refuse a deploy the [roles] owner cannot carry out (its plan acts as that role),
    saying what to do. Without ``maps``: a missing owner, or a connection that may not
    act as it (checked first: validating reads the tables as the connection). With the
    validated ``maps``: a database the roles SQL has not prepared, a mapped table the
    owner may not use. Nothing to check without [roles]."""
    if config.roles is None:
        return
    for role in config.databases:
        with connect(config, role) as conn:
            problem = (
                _acting_problem(conn, config.roles.owner)
                if maps is None
                else _prepared_problem(conn, config, maps, role, config.roles.owner)
            )
        if problem is not None:
            raise DeployRefused(f"deploy refused, nothing changed: {problem}")


RUN_ROLES = "run the SQL of replicator plan --roles as a superuser"


def _acting_problem(conn: psycopg.Connection[TupleRow], owner: str) -> str | None:
    row = conn.execute(
        "SELECT current_user, (SELECT pg_has_role(current_user, oid, 'MEMBER')"
        " FROM pg_roles WHERE rolname = %s)",
        (owner,),
    ).fetchone()
    assert row is not None
    user, member = str(row[0]), row[1]
    if member is None:
        return f"the owner role {ident(owner)} does not exist: {RUN_ROLES} first"
    if not member:
        return (
            f"role {user} may not act as the owner role {owner}: deploy as {owner}, as a"
            f" superuser, or as a member of {owner} (GRANT {ident(owner)} TO {ident(user)})"
        )
    return None


def _prepared_problem(
    conn: psycopg.Connection[TupleRow], config: Config, maps: MapSet, role: Side, owner: str
) -> str | None:
    database = config.label(role)
    row = conn.execute(
        "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'replicator'"
    ).fetchone()
    if row is None:
        return f"database {database} has no schema replicator yet: {RUN_ROLES} first"
    if row[0] != owner:
        return (
            f"database {database}: the schema replicator belongs to {row[0]}, not to {owner}:"
            f" {RUN_ROLES} first"
        )
    missing = [
        f"{privilege} on {table}"
        for table, granted in table_privileges(config, maps, config.hosted(role)).items()
        for (privilege,) in conn.execute(
            "SELECT p FROM unnest(%s::text[]) AS p WHERE to_regclass(%s) IS NOT NULL"
            " AND NOT has_table_privilege(%s, to_regclass(%s), p) ORDER BY p",
            ([p for p in PRIVILEGE_ORDER if p in granted], table, owner, table),
        ).fetchall()
    ]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        return (
            f"database {database}: the owner role {owner} lacks {missing[0]}{more}:"
            f" {RUN_ROLES}; it grants what the maps need"
        )
    return None


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
    if plan.slot_sql:
        parts.append(f"slot {plan.database.slot} created")
    return f"database {plan.database.label}: {', '.join(parts)}"


def cmd_run(config: Config, once: bool = False, metrics_address: str | None = None) -> int:
    """Run the applier until SIGTERM/SIGINT (or, with ``once``, until the queues are empty);
    with ``metrics_address`` (ADDR:PORT), serve Prometheus metrics meanwhile."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    measured = metrics.Metrics()
    applier = Applier(
        config,
        batch_size=config.batch_size,
        poll_interval=config.poll_interval,
        backoff=Backoff(give_up_after=config.give_up_after),
        on_batch=lambda direction, seconds: measured.batch(config.arrow(direction), seconds),
    )
    if metrics_address:
        port = metrics.serve(metrics_address, lambda: status_rows(config), measured)
        logging.getLogger("replicator.metrics").info(
            "serving metrics at http://%s:%d/metrics", metrics_address.rpartition(":")[0], port
        )
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


def cmd_status(config: Config, out: TextIO, as_json: bool = False) -> int:
    # First what the applier noted where it could: a database it cannot reach makes
    # the rest of status fail, but whoever asks learns how long it has been retrying.
    notes = applier_notes(config)
    if not as_json:
        for note in notes:
            out.write(f"{note}\n")
        if notes:
            out.write("\n")
    rows = status_rows(config)
    slots = slot_rows(config)
    if as_json:
        document = {
            "maps": [asdict(r) for r in rows],
            "slots": [asdict(s) for s in slots],
            "applier": [asdict(n) for n in notes],
        }
        out.write(json.dumps(document, indent=2) + "\n")
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
        "conflicts waiting",
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
            str(r.conflicts_waiting),
        ]
        for r in rows
    ]
    write_table(out, headers, table)
    failed = [r for r in rows if r.state == "failed" and r.state_reason]
    if failed:
        out.write("\n")
        for r in failed:
            out.write(f"{r.map} ({r.direction}) failed: {r.state_reason}\n")
    uncaptured = [r for r in rows if r.uncaptured]
    if uncaptured:
        out.write("\n")
        for r in uncaptured:
            out.write(
                f"{r.map} ({r.direction}): {r.uncaptured} change(s) not captured"
                + (f", the latest because its {r.uncaptured_reason}" if r.uncaptured_reason else "")
                + f" (rows in replicator.uncaptured); after the fix, replicator sync {r.map}\n"
            )
    if slots:
        out.write("\n")
        write_table(
            out,
            [
                "database",
                "slot",
                "wal status",
                "reading",
                "retained WAL",
                "oldest unread",
                "warning",
            ],
            [
                [
                    s.database,
                    s.slot,
                    s.wal_status,
                    "yes" if s.active else "no",
                    _bytes(s.retained_bytes),
                    f"{s.oldest_unconsumed_seconds:.1f} s"
                    if s.oldest_unconsumed_seconds is not None
                    else "",
                    s.warning or "",
                ]
                for s in slots
            ],
        )
    return EXIT_OK


def _bytes(value: int | None) -> str:
    """Bytes as pg_size_pretty prints them."""
    if value is None:
        return ""
    size = float(value)
    for unit in ("bytes", "kB", "MB"):
        if abs(size) < 10 * 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.0f} GB"
