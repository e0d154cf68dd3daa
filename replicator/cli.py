"""``replicator`` command line: a thin argparse shell over replicator.commands.

Exit codes: 0 done (plan: nothing to do), 1 error (retry: a change still
fails), 2 plan: changes pending (verify: the sides differ), 3 deploy refused
because it would lose queued or held changes.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import psycopg

from replicator import admin, commands
from replicator import repair as repair_module
from replicator import verify as verify_module
from replicator.config import load_config, parse_duration, scrubbed
from replicator.connections import identified
from replicator.errors import ReplicatorError
from replicator.interrupts import Interrupted, interruptible


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="replicator", description=__doc__)
    top.add_argument(
        "-c",
        "--config",
        type=Path,
        default=Path(os.environ.get("REPLICATOR_CONFIG", "replicator.toml")),
        help="path of replicator.toml (default: $REPLICATOR_CONFIG or ./replicator.toml)",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("validate", help="check the maps against both databases; exit 1 on problems")
    plan = sub.add_parser(
        "plan", help="print the SQL deploy would run; exit 2 if anything is pending"
    )
    plan.add_argument("--side", choices=["left", "right"], help="only the database of this side")
    plan.add_argument(
        "--roles",
        action="store_true",
        help="print instead the one-time SQL a superuser runs: the [roles] and their rights",
    )
    sub.add_parser("deploy", help="apply the plan, one transaction per database")
    run = sub.add_parser("run", help="run the applier until SIGTERM or SIGINT")
    run.add_argument("--once", action="store_true", help="stop when both queues are empty")
    run.add_argument(
        "--metrics",
        metavar="ADDR:PORT",
        help="serve Prometheus metrics at http://ADDR:PORT/metrics",
    )
    status = sub.add_parser("status", help="per map and direction: state, backlog, applied, errors")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    for action, text in (
        ("pause", "keep capturing a map's changes but apply nothing until resumed"),
        ("resume", "apply a paused or failed map again (its backlog first); restart a stopped one"),
        ("stop", "stop capturing a map's changes (resuming then needs replicator sync)"),
    ):
        state = sub.add_parser(action, help=text)
        state.add_argument("maps", nargs="+", metavar="MAP")
        state.add_argument("--direction", choices=["to_right", "to_left"], help="only this way")
        state.add_argument("--reason", default="", help="why, for the activity log")
    errors = sub.add_parser("errors", help="changes that could not be applied, still open")
    errors.add_argument("map", nargs="?", metavar="MAP")
    errors.add_argument("--all", action="store_true", help="closed ones too (retried, skipped)")
    errors.add_argument("--json", action="store_true", help="machine-readable output")
    retry = sub.add_parser("retry", help="apply logged changes again after fixing their cause")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=int, metavar="ID")
    which.add_argument("--map", metavar="MAP", help="every open error of this map")
    which.add_argument("--all", action="store_true", help="every open error")
    skip = sub.add_parser("skip", help="close an error without applying its change")
    skip.add_argument("id", type=int, metavar="ID")
    skip.add_argument("--reason", default="", help="why, for the activity log")
    conflicts = sub.add_parser("conflicts", help="changes that met a row changed on both sides")
    conflicts.add_argument("map", nargs="?", metavar="MAP")
    conflicts.add_argument(
        "--waiting", action="store_true", help="only manual ones waiting for a decision"
    )
    conflicts.add_argument("--json", action="store_true", help="machine-readable output")
    resolve = sub.add_parser(
        "resolve", help="settle a manual conflict: one side's row is written over the other's"
    )
    resolve.add_argument("id", type=int, metavar="ID")
    resolve.add_argument(
        "--take", required=True, choices=["left", "right"], help="the side that wins"
    )
    for command in (retry, skip, resolve):
        command.add_argument(
            "--side", choices=["left", "right"], help="the database holding the entry (two servers)"
        )
    sync = sub.add_parser("sync", help="copy the rows that exist before replication (initial sync)")
    sync.add_argument("maps", nargs="*", metavar="MAP", help="default: every map")
    sync.add_argument("--chunk", type=int, default=5000, help="rows per transaction (default 5000)")
    purge = sub.add_parser("purge", help="delete closed errors and activity older than a duration")
    purge.add_argument("--older-than", required=True, metavar="DURATION", help="e.g. 30d, 12h")
    verify = sub.add_parser(
        "verify", help="compare both sides under the maps; exit 2 if they differ"
    )
    repair = sub.add_parser("repair", help="rewrite the rows verify finds different")
    repair.add_argument(
        "--from",
        dest="from_side",
        required=True,
        choices=["left", "right"],
        help="the side that wins",
    )
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    for command in (verify, repair):
        command.add_argument("maps", nargs="*", metavar="MAP", help="default: every map")
        command.add_argument("--quiet", action="store_true", help="no progress bar")
    verify.add_argument(
        "--chunk",
        type=int,
        default=verify_module.CHUNK,
        help="rows per hashed chunk (default 1000)",
    )
    repair.add_argument(
        "--chunk", type=int, default=repair_module.CHUNK, help="rows per transaction (default 500)"
    )
    return top


# Verbs that read or call what deploy creates; before any deploy they say to deploy.
NEED_A_DEPLOY = frozenset(
    {
        "run",
        "status",
        "pause",
        "resume",
        "stop",
        "errors",
        "retry",
        "skip",
        "conflicts",
        "resolve",
        "sync",
        "purge",
        "verify",
        "repair",
    }
)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "run":
        return _dispatch(args)  # the applier finishes its batch on a signal, then exits 0
    try:
        with interruptible():
            return _dispatch(args)
    except Interrupted as exc:
        print(f"replicator: {args.command} was interrupted ({exc.signal_name})", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    conninfos: tuple[str, ...] = ()
    try:
        config = load_config(args.config)
        conninfos = config.conninfos
        if not (args.command == "plan" and args.roles):  # that one needs no connection
            config = identified(config)
        if args.command in NEED_A_DEPLOY:
            commands.check_deployed(config)
        if args.command == "validate":
            return commands.cmd_validate(config, sys.stdout)
        if args.command == "plan" and args.roles:
            return commands.cmd_plan_roles(config, sys.stdout, only=args.side)
        if args.command == "plan":
            return commands.cmd_plan(config, sys.stdout, only=args.side)
        if args.command == "deploy":
            return commands.cmd_deploy(config, sys.stdout)
        if args.command == "run":
            return commands.cmd_run(config, once=args.once, metrics_address=args.metrics)
        if args.command in ("pause", "resume", "stop"):
            return admin.cmd_state(
                config, sys.stdout, args.command, args.maps, args.direction, args.reason
            )
        if args.command == "errors":
            return admin.cmd_errors(config, sys.stdout, args.map, args.all, args.json)
        if args.command == "retry":
            return admin.cmd_retry(
                config, sys.stdout, args.id, None if args.all else args.map, args.side
            )
        if args.command == "skip":
            return admin.cmd_skip(config, sys.stdout, args.id, args.reason, args.side)
        if args.command == "conflicts":
            return admin.cmd_conflicts(config, sys.stdout, args.map, args.waiting, args.json)
        if args.command == "resolve":
            return admin.cmd_resolve(config, sys.stdout, args.id, args.take, args.side)
        if args.command == "sync":
            return admin.cmd_sync(config, sys.stdout, args.maps, args.chunk)
        if args.command == "purge":
            return admin.cmd_purge(config, sys.stdout, parse_duration(args.older_than))
        if args.command == "verify":
            return verify_module.cmd_verify(
                config, sys.stdout, sys.stderr, args.maps, args.chunk, args.json, args.quiet
            )
        if args.command == "repair":
            return repair_module.cmd_repair(
                config, sys.stdout, sys.stderr, args.maps, args.from_side, args.chunk, args.quiet
            )
        return commands.cmd_status(config, sys.stdout, as_json=args.json)
    except ReplicatorError as exc:
        print(f"replicator: {exc}", file=sys.stderr)
        return exc.exit_code
    except psycopg.Error as exc:
        message = exc.diag.message_primary or str(exc)
        print(f"replicator: database error: {scrubbed(message, *conninfos)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
