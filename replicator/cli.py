"""The ``replicator`` command line: a parser built from one table of verbs, each a thin
call into replicator.commands (lifecycle, admin) or operations (verify, repair). Exit
codes: replicator.core.exitcodes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import NoReturn

import psycopg

from replicator.commands import admin, lifecycle
from replicator.core.errors import ReplicatorError
from replicator.core.exitcodes import DOCUMENTED, ExitCode
from replicator.core.interrupts import Interrupted, interruptible
from replicator.inspect.connections import identified
from replicator.maps.config import load_config, parse_duration, scrubbed
from replicator.maps.model import Config
from replicator.operations import repair as repair_module
from replicator.operations import verify as verify_module
from replicator.operations.status import Limits
from replicator.runtime import logs

DESCRIPTION = """\
Keep the records two PostgreSQL applications share in step, both ways, in near real
time. Table maps (maps/*.toml, named in replicator.toml) compile to SQL you review
(plan) and install (deploy); the applier (run) moves each captured change to the
other side once, and never back."""

Arguments = Callable[[argparse.ArgumentParser], None]
Run = Callable[[Config, argparse.Namespace], ExitCode]


@dataclass(frozen=True)
class Verb:
    name: str
    help: str
    run: Run
    arguments: Arguments = lambda parser: None
    needs_deploy: bool = True  # reads or calls what deploy creates: says to deploy first


def _side(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--side", choices=["left", "right"], help=what)


def _plan_arguments(parser: argparse.ArgumentParser) -> None:
    _side(parser, "only the database of this side: a file psql can apply there")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--roles",
        action="store_true",
        help="the one-time SQL a superuser runs instead: the [roles] and their rights",
    )
    which.add_argument(
        "--undeploy", action="store_true", help="the SQL replicator undeploy would run instead"
    )
    parser.add_argument(
        "--discard-queued",
        action="store_true",
        help="with --undeploy: the SQL that throws away changes still waiting",
    )


def _plan(config: Config, args: argparse.Namespace) -> ExitCode:
    if args.discard_queued and not args.undeploy:
        raise ReplicatorError(
            "--discard-queued goes with --undeploy: plan --undeploy --discard-queued"
        )
    if args.roles:
        return lifecycle.cmd_plan_roles(config, sys.stdout, only=args.side)
    if args.undeploy:
        return lifecycle.cmd_plan_undeploy(config, sys.stdout, args.side, args.discard_queued)
    return lifecycle.cmd_plan(config, sys.stdout, only=args.side, err=sys.stderr)


def _undeploy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--discard-queued",
        action="store_true",
        help="throw away changes still queued, parked or held instead of refusing",
    )


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="stop when both queues are empty")
    parser.add_argument(
        "--metrics",
        metavar="ADDR:PORT",
        help="serve Prometheus metrics at http://ADDR:PORT/metrics",
    )
    parser.add_argument(
        "--log-level", choices=logs.LEVELS, default="info", help="least severe lines logged"
    )
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="text lines, or one JSON object per line (time, level, logger, message)",
    )


def _status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"only what needs a DBA, one line each; exit {ExitCode.ATTENTION.value} if anything"
        " does (for monitoring)",
    )
    parser.add_argument(
        "--max-lag",
        default="5m",
        metavar="DURATION",
        help="with --check: how long the oldest queued change may wait (default 5m)",
    )
    parser.add_argument(
        "--max-errors",
        type=int,
        default=0,
        metavar="N",
        help="with --check: how many open errors are tolerated (default 0)",
    )


def _status(config: Config, args: argparse.Namespace) -> ExitCode:
    limits = Limits(
        max_lag=parse_duration(args.max_lag).total_seconds(), max_errors=args.max_errors
    )
    return lifecycle.cmd_status(config, sys.stdout, args.json, args.check, limits)


def _state_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("maps", nargs="+", metavar="MAP")
    parser.add_argument("--direction", choices=["to_right", "to_left"], help="only this way")
    parser.add_argument("--reason", default="", help="why, for the activity log")


def _state(config: Config, args: argparse.Namespace) -> ExitCode:
    return admin.cmd_state(config, sys.stdout, args.verb, args.maps, args.direction, args.reason)


def _errors_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("map", nargs="?", metavar="MAP")
    parser.add_argument("--all", action="store_true", help="closed ones too (retried, skipped)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _which(parser: argparse.ArgumentParser, what: str) -> None:
    """ID | --map MAP | --all, and --side for an id both databases have."""
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=int, metavar="ID")
    which.add_argument("--map", metavar="MAP", help=f"every {what} of this map")
    which.add_argument("--all", action="store_true", help=f"every {what}")
    _side(parser, "the database holding the id (two servers)")


def _retry(config: Config, args: argparse.Namespace) -> ExitCode:
    return admin.cmd_retry(config, sys.stdout, args.id, None if args.all else args.map, args.side)


def _skip_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", type=int, metavar="ID")
    parser.add_argument("--reason", default="", help="why, for the activity log")
    _side(parser, "the database holding the error (two servers)")


def _held_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="held_action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="held changes, oldest first, with what they wait for")
    listing.add_argument("map", nargs="?", metavar="MAP")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    retry = actions.add_parser(
        "retry", help="apply held changes whose parent has arrived; the others stay held"
    )
    _which(retry, "held change")
    discard = actions.add_parser(
        "discard", help="throw held changes away (kept in the activity log with the reason)"
    )
    _which(discard, "held change")
    discard.add_argument("--reason", required=True, help="why, for the activity log")


def _held(config: Config, args: argparse.Namespace) -> ExitCode:
    if args.held_action == "list":
        return admin.cmd_held(config, sys.stdout, args.map, args.json)
    chosen = None if args.all else args.map
    if args.held_action == "retry":
        return admin.cmd_held_retry(config, sys.stdout, args.id, chosen, args.side)
    return admin.cmd_held_discard(config, sys.stdout, args.id, chosen, args.side, args.reason)


def _discard_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("map", metavar="MAP")
    parser.add_argument("--direction", choices=["to_right", "to_left"], help="only this way")
    parser.add_argument("--reason", required=True, help="why, for the activity log")


def _conflicts_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("map", nargs="?", metavar="MAP")
    parser.add_argument(
        "--waiting", action="store_true", help="only manual ones waiting for a decision"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _resolve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", type=int, metavar="ID")
    parser.add_argument(
        "--take", required=True, choices=["left", "right"], help="the side that wins"
    )
    _side(parser, "the database holding the conflict (two servers)")


def _sync_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("maps", nargs="*", metavar="MAP", help="default: every map")
    parser.add_argument(
        "--from",
        dest="from_side",
        choices=["left", "right"],
        help="the side whose rows win (default: the side of a direction stopped since the"
        " last sync, else the map's master)",
    )
    parser.add_argument(
        "--chunk", type=int, default=5000, help="rows per transaction (default 5000)"
    )


def _purge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--older-than", required=True, metavar="DURATION", help="e.g. 30d, 12h")
    parser.add_argument(
        "--dry-run", action="store_true", help="count what would be deleted; delete nothing"
    )


def _compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("maps", nargs="*", metavar="MAP", help="default: every map")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _verify_arguments(parser: argparse.ArgumentParser) -> None:
    _compare_arguments(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--chunk",
        type=int,
        default=verify_module.CHUNK,
        help="rows per hashed chunk (default 1000)",
    )


def _repair_arguments(parser: argparse.ArgumentParser) -> None:
    _compare_arguments(parser)
    parser.add_argument(
        "--from",
        dest="from_side",
        required=True,
        choices=["left", "right"],
        help="the side that wins",
    )
    parser.add_argument(
        "--chunk", type=int, default=repair_module.CHUNK, help="rows per transaction (default 500)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would be rewritten; write nothing"
    )


VERBS = (
    Verb(
        "validate",
        "check the maps, the servers and the owner's rights against both databases",
        lambda config, args: lifecycle.cmd_validate(config, sys.stdout),
        needs_deploy=False,
    ),
    Verb(
        "plan",
        f"print the SQL deploy would run (exit {ExitCode.PENDING.value} if anything is pending)",
        _plan,
        _plan_arguments,
        needs_deploy=False,
    ),
    Verb(
        "deploy",
        "apply the plan, one transaction per database",
        lambda config, args: lifecycle.cmd_deploy(config, sys.stdout),
        needs_deploy=False,
    ),
    Verb(
        "undeploy",
        "remove the replicator from both databases (plan --undeploy shows the SQL)",
        lambda config, args: lifecycle.cmd_undeploy(config, sys.stdout, args.discard_queued),
        _undeploy_arguments,
        needs_deploy=False,  # with nothing deployed, it says so and is done
    ),
    Verb(
        "run",
        "run the applier until SIGTERM or SIGINT",
        lambda config, args: lifecycle.cmd_run(
            config, args.once, args.metrics, args.log_level, args.log_format
        ),
        _run_arguments,
    ),
    Verb(
        "status",
        "per map and direction: state, backlog, errors; WAL slots; the applier",
        _status,
        _status_arguments,
    ),
    Verb(
        "pause",
        "keep capturing a map's changes but apply nothing until resumed",
        _state,
        _state_arguments,
    ),
    Verb(
        "resume",
        "apply a paused or failed map again (its open errors, then its backlog)",
        _state,
        _state_arguments,
    ),
    Verb(
        "stop",
        "stop capturing a map's changes (resuming then needs replicator sync)",
        _state,
        _state_arguments,
    ),
    Verb(
        "errors",
        "changes that could not be applied, still open",
        lambda config, args: admin.cmd_errors(config, sys.stdout, args.map, args.all, args.json),
        _errors_arguments,
    ),
    Verb(
        "retry",
        "apply logged changes again after fixing their cause",
        _retry,
        lambda parser: _which(parser, "open error"),
    ),
    Verb(
        "skip",
        "close an error without applying its change",
        lambda config, args: admin.cmd_skip(config, sys.stdout, args.id, args.reason, args.side),
        _skip_arguments,
    ),
    Verb(
        "held",
        "changes waiting for a parent: list, retry, discard",
        _held,
        _held_arguments,
    ),
    Verb(
        "discard",
        "throw away the backlog of a map removed from the maps files",
        lambda config, args: admin.cmd_discard(
            config, sys.stdout, args.map, args.direction, args.reason
        ),
        _discard_arguments,
    ),
    Verb(
        "conflicts",
        "changes that met a row changed on both sides",
        lambda config, args: admin.cmd_conflicts(
            config, sys.stdout, args.map, args.waiting, args.json
        ),
        _conflicts_arguments,
    ),
    Verb(
        "resolve",
        "settle a manual conflict: one side's row is written over the other's",
        lambda config, args: admin.cmd_resolve(config, sys.stdout, args.id, args.take, args.side),
        _resolve_arguments,
    ),
    Verb(
        "sync",
        "copy the rows that exist before replication (initial sync)",
        lambda config, args: admin.cmd_sync(
            config, sys.stdout, args.maps, args.chunk, args.from_side
        ),
        _sync_arguments,
    ),
    Verb(
        "purge",
        "delete closed errors, decided conflicts and activity older than a duration",
        lambda config, args: admin.cmd_purge(
            config, sys.stdout, parse_duration(args.older_than), args.dry_run
        ),
        _purge_arguments,
    ),
    Verb(
        "verify",
        f"compare both sides under the maps (exit {ExitCode.PENDING.value} if they differ)",
        lambda config, args: verify_module.cmd_verify(
            config, sys.stdout, sys.stderr, args.maps, args.chunk, args.json, args.quiet
        ),
        _verify_arguments,
    ),
    Verb(
        "repair",
        "rewrite the rows verify finds different",
        lambda config, args: repair_module.cmd_repair(
            config,
            sys.stdout,
            sys.stderr,
            args.maps,
            args.from_side,
            args.chunk,
            args.quiet,
            args.dry_run,
        ),
        _repair_arguments,
    ),
)
BY_NAME = {verb.name: verb for verb in VERBS}
# Verbs that read or call what deploy creates; before any deploy they say to deploy.
NEED_A_DEPLOY = frozenset(verb.name for verb in VERBS if verb.needs_deploy)


def version() -> str:
    try:
        return metadata.version("replicator")
    except metadata.PackageNotFoundError:  # run from a source tree without installing
        return "unknown (not installed)"


def _epilog() -> str:
    codes = "\n".join(f"  {code.value}  {meaning}" for code, (meaning, _) in DOCUMENTED.items())
    return f"exit codes (the README's table says which verb returns which):\n{codes}"


class _Parser(argparse.ArgumentParser):
    """argparse, but a command line it cannot read exits 1 (an error) rather than
    argparse's 2, which replicator's exit codes keep for "a difference was found"."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.ERROR, f"{self.prog}: error: {message}\n")


def parser() -> argparse.ArgumentParser:
    top = _Parser(
        prog="replicator",
        description=DESCRIPTION,
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"replicator {version()}")
    top.add_argument(
        "-c",
        "--config",
        type=Path,
        default=Path(os.environ.get("REPLICATOR_CONFIG", "replicator.toml")),
        help="path of replicator.toml (default: $REPLICATOR_CONFIG or ./replicator.toml)",
    )
    sub = top.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    for verb in VERBS:
        verb.arguments(sub.add_parser(verb.name, help=verb.help, description=verb.help))
    return top


def main(argv: list[str] | None = None) -> ExitCode:
    args = parser().parse_args(argv)
    if args.verb == "run":
        return _dispatch(args)  # the applier finishes its batch on a signal, then exits 0
    try:
        with interruptible():
            return _dispatch(args)
    except Interrupted as exc:
        print(f"replicator: {args.verb} was interrupted ({exc.signal_name})", file=sys.stderr)
        return ExitCode.ERROR


def _dispatch(args: argparse.Namespace) -> ExitCode:
    conninfos: tuple[str, ...] = ()
    verb = BY_NAME[args.verb]
    try:
        config = load_config(args.config)
        conninfos = config.conninfos
        if not (args.verb == "plan" and args.roles):  # that one needs no connection
            config = identified(config)
        if verb.needs_deploy:
            lifecycle.check_deployed(config)
        return verb.run(config, args)
    except ReplicatorError as exc:
        print(f"replicator: {exc}", file=sys.stderr)
        return exc.exit_code
    except psycopg.Error as exc:
        message = exc.diag.message_primary or str(exc)
        print(f"replicator: database error: {scrubbed(message, *conninfos)}", file=sys.stderr)
        return ExitCode.ERROR


if __name__ == "__main__":
    sys.exit(main())
