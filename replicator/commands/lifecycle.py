"""The functions behind the CLI; each is testable without a subprocess."""

from __future__ import annotations

import logging
from typing import TextIO

import psycopg

from replicator.core.errors import ConnectError, DeployRefused, PrivilegeError, ReplicatorError
from replicator.core.exitcodes import ExitCode
from replicator.core.interrupts import Interrupted, uninterrupted
from replicator.core.output import counted
from replicator.core.quoting import comment
from replicator.inspect import privileges
from replicator.inspect.connections import connect, require_deployed
from replicator.inspect.migrations import read_control_schema
from replicator.maps.loader import load_maps
from replicator.maps.model import CONTROL_SCHEMA, Config, Side
from replicator.operations.checked import check
from replicator.operations.deployer import (
    DatabasePlan,
    LockTimeout,
    commit_all,
    deploy,
    drifted_maps,
    open_transactions,
    plan_database,
    read_deployed,
    slot_exists,
)
from replicator.operations.lockholders import lock_holders, writing_sessions
from replicator.operations.status import (
    applier_rows,
    status_rows,
)
from replicator.operations.undeployer import UndeployPlan, undeploy_database
from replicator.runtime import logs, metrics
from replicator.runtime.applier import Applier, install_signal_handlers
from replicator.runtime.retrying import Backoff
from replicator.sqlgen.bundle import Bundle, compile_bundle
from replicator.sqlgen.roles import compile_roles


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


def compiled(config: Config) -> Bundle:
    checked = check(config)
    return compile_bundle(config, checked.maps, checked.catalogs)


def cmd_validate(config: Config, out: TextIO) -> ExitCode:
    checked = check(config)
    for warning in checked.warnings:
        out.write(f"warning: {warning}\n")
    maps = checked.maps.maps
    directions = sum(len(m.directions) for m in maps)
    out.write(
        f"{counted(len(maps), 'map')} ({counted(directions, 'direction')})"
        f" {'is' if len(maps) == 1 else 'are'} valid\n"
    )
    return ExitCode.OK


def cmd_plan(
    config: Config, out: TextIO, only: Side | None = None, err: TextIO | None = None
) -> ExitCode:
    """Print the SQL deploy would run (``only``: for the database of that side, a file
    psql can apply there); exit 2 when anything is pending. ``err`` gets a summary of
    what changes against what is deployed, per database."""
    bundle = compiled(config)
    pending = False
    for database in bundle.databases:
        if only is not None and only not in config.hosted(database.role):
            continue
        with connect(config, database.role) as conn:
            plan = plan_database(
                database,
                bundle,
                read_deployed(conn),
                slot_exists(conn, database),
                drifted_maps(conn),
                read_control_schema(conn),
            )
        if plan.pending:
            pending = True
            out.write(plan.sql)
        else:
            out.write(
                f"-- database {comment(database.label)}: nothing to do (bundle {bundle.sha256})\n"
            )
        if err is not None:
            err.write(_plan_summary(plan) + "\n")
    return ExitCode.PENDING if pending else ExitCode.OK


def _plan_summary(plan: DatabasePlan) -> str:
    """What a plan changes in one database, against what is deployed there."""
    if not plan.pending:
        return f"database {plan.database.label}: nothing to do"
    changed = [
        f"{verb} {', '.join(names)}"
        for verb, names in (
            ("migrate the control schema", plan.migrated),
            ("create", plan.created),
            ("replace", plan.replaced),
            ("drop", plan.dropped),
        )
        if names
    ]
    if plan.slot_sql:
        changed.append(f"create slot {plan.database.slot}")
    return f"database {plan.database.label}: " + "; ".join(changed)


def cmd_plan_roles(config: Config, out: TextIO, only: Side | None = None) -> ExitCode:
    """Print the roles SQL a superuser runs once per database (no connection needed);
    ``only``: for the database of that side."""
    maps = load_maps(config.maps_dir, config.path.parent)
    for script in compile_roles(config, maps):
        if only is None or only in config.hosted(script.role):
            out.write(script.sql)
    return ExitCode.OK


def cmd_plan_undeploy(
    config: Config, out: TextIO, only: Side | None = None, discard: bool = False
) -> ExitCode:
    """Print the SQL undeploy would run; exit 2 (something to remove) or 0."""
    pending = False
    for role in config.databases:
        if only is not None and only not in config.hosted(role):
            continue
        with connect(config, role) as conn:
            plan = undeploy_database(conn, config, role, discard)
        if plan is None:
            out.write(f"-- database {comment(config.label(role))}: nothing is deployed\n")
        else:
            pending = True
            out.write(plan.sql)
    return ExitCode.PENDING if pending else ExitCode.OK


def cmd_undeploy(config: Config, out: TextIO, discard: bool = False) -> ExitCode:
    """Remove the replicator from every database: triggers, functions, the control schema,
    slot and origins; refused (exit 3) while changes wait, unless ``discard``; refused
    while an applier runs."""
    running = [a for a in applier_rows(config) if a.alive]
    if running:
        a = running[0]
        raise ReplicatorError(
            f"an applier is running on {a.host} (pid {a.os_pid}) against {a.database}: stop it"
            " first (it would recreate what undeploy removes, or hold the slot)"
        )
    plans: list[UndeployPlan] = []
    for role in config.databases:
        with connect(config, role) as conn:
            plan = undeploy_database(conn, config, role, discard)
        if plan is not None:
            plans.append(plan)
    if not plans:
        out.write("nothing is deployed\n")
        return ExitCode.OK
    waiting = [p for p in plans if p.waiting and not discard]
    if waiting:
        raise DeployRefused(
            "undeploy refused, nothing changed: "
            + "; ".join(
                f"{counted(p.waiting, 'change')} still queued, parked or held on database {p.label}"
                for p in waiting
            )
            + ": run the applier until they are applied (replicator run --once), or"
            " replicator undeploy --discard-queued to throw them away"
        )
    with open_transactions(config, [p.role for p in plans]) as connections:
        for plan, conn in zip(plans, connections, strict=True):
            conn.execute(plan.sql.encode())
        with uninterrupted():
            commit_all(connections)
    for plan in plans:
        out.write(
            f"database {plan.label}: the replicator is removed"
            + (f" ({counted(plan.waiting, 'waiting change')} discarded)" if plan.waiting else "")
            + "\n"
        )
    return ExitCode.OK


def cmd_deploy(config: Config, out: TextIO) -> ExitCode:
    committed = False
    try:
        _refuse(privileges.acting_problems(config))
        checked = check(config)  # validate asks what the owner lacks, too
        bundle = compile_bundle(config, checked.maps, checked.catalogs)
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
                # The guards in the generated SQL speak for psql, where nothing else
                # says who is talking: here the CLI does.
                said = (exc.diag.message_primary or "").removeprefix("replicator: ")
                raise DeployRefused(f"deploy refused, nothing changed: {said}") from None
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
    return ExitCode.OK


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


def _refuse(problems: list[str]) -> None:
    """A deploy the [roles] owner cannot carry out fails before anything runs."""
    if problems:
        raise PrivilegeError(f"deploy refused, nothing changed: {problems[0]}")


def _deploy_summary(plan: DatabasePlan) -> str:
    if not plan.pending:
        return f"database {plan.database.label}: already up to date"
    migrated = [f"control schema at version {plan.control_version}"] if plan.migrated else []
    parts = migrated + [
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


def cmd_run(
    config: Config,
    once: bool = False,
    metrics_address: str | None = None,
    log_level: str = "info",
    log_format: logs.Format = "text",
) -> ExitCode:
    """Run the applier until SIGTERM/SIGINT (or, with ``once``, until the queues are empty);
    with ``metrics_address`` (ADDR:PORT), serve Prometheus metrics meanwhile. The log goes
    to stderr at ``log_level``, as text or JSON lines."""
    logs.configure(log_level, log_format)
    measured = metrics.Metrics()
    applier = Applier(
        config,
        batch_size=config.batch_size,
        poll_interval=config.poll_interval,
        backoff=Backoff(give_up_after=config.give_up_after),
        on_batch=lambda direction, seconds: measured.batch(direction, seconds),
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
    return ExitCode.OK
