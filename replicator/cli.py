"""The ``replicator`` command line: a parser built from one table of verbs, each a thin
call into replicator.commands (lifecycle, admin) or operations (verify, repair). Exit
codes: replicator.core.exitcodes."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import NoReturn

import psycopg

from replicator import cliargs
from replicator.commands import admin, lifecycle, statusview
from replicator.core.errors import ReplicatorError
from replicator.core.exitcodes import DOCUMENTED, ExitCode
from replicator.core.interrupts import Interrupted, interruptible
from replicator.inspect.connections import identified
from replicator.maps.config import load_config, parse_duration, scrubbed
from replicator.maps.model import Config
from replicator.operations import repair as repair_module
from replicator.operations import verifyreport
from replicator.operations.status import Limits

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


def _status(config: Config, args: argparse.Namespace) -> ExitCode:
    limits = Limits(
        max_lag=parse_duration(args.max_lag).total_seconds(), max_errors=args.max_errors
    )
    return statusview.cmd_status(config, sys.stdout, args.json, args.check, limits)


def _state(config: Config, args: argparse.Namespace) -> ExitCode:
    return admin.cmd_state(config, sys.stdout, args.verb, args.maps, args.direction, args.reason)


def _retry(config: Config, args: argparse.Namespace) -> ExitCode:
    return admin.cmd_retry(config, sys.stdout, args.id, None if args.all else args.map, args.side)


def _held(config: Config, args: argparse.Namespace) -> ExitCode:
    if args.held_action == "list":
        return admin.cmd_held(config, sys.stdout, args.map, args.json)
    chosen = None if args.all else args.map
    if args.held_action == "retry":
        return admin.cmd_held_retry(config, sys.stdout, args.id, chosen, args.side)
    return admin.cmd_held_discard(config, sys.stdout, args.id, chosen, args.side, args.reason)


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
        cliargs.plan,
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
        cliargs.undeploy,
        needs_deploy=False,  # with nothing deployed, it says so and is done
    ),
    Verb(
        "run",
        "run the applier until SIGTERM or SIGINT",
        lambda config, args: lifecycle.cmd_run(
            config, args.once, args.metrics, args.log_level, args.log_format
        ),
        cliargs.run,
    ),
    Verb(
        "status",
        "per map and direction: state, backlog, errors; WAL slots; the applier",
        _status,
        cliargs.status,
    ),
    Verb(
        "pause",
        "keep capturing a map's changes but apply nothing until resumed",
        _state,
        cliargs.state,
    ),
    Verb(
        "resume",
        "apply a paused or failed map again (its open errors, then its backlog)",
        _state,
        cliargs.state,
    ),
    Verb(
        "stop",
        "stop capturing a map's changes (resuming then needs replicator sync)",
        _state,
        cliargs.state,
    ),
    Verb(
        "errors",
        "changes that could not be applied, still open",
        lambda config, args: admin.cmd_errors(config, sys.stdout, args.map, args.all, args.json),
        cliargs.errors,
    ),
    Verb(
        "retry",
        "apply logged changes again after fixing their cause",
        _retry,
        cliargs.retry,
    ),
    Verb(
        "skip",
        "close an error without applying its change",
        lambda config, args: admin.cmd_skip(config, sys.stdout, args.id, args.reason, args.side),
        cliargs.skip,
    ),
    Verb(
        "held",
        "changes waiting for a parent: list, retry, discard",
        _held,
        cliargs.held,
    ),
    Verb(
        "discard",
        "throw away the backlog of a map removed from the maps files",
        lambda config, args: admin.cmd_discard(
            config, sys.stdout, args.map, args.direction, args.reason
        ),
        cliargs.discard,
    ),
    Verb(
        "conflicts",
        "changes that met a row changed on both sides",
        lambda config, args: admin.cmd_conflicts(
            config, sys.stdout, args.map, args.waiting, args.json
        ),
        cliargs.conflicts,
    ),
    Verb(
        "resolve",
        "settle a manual conflict: one side's row is written over the other's",
        lambda config, args: admin.cmd_resolve(config, sys.stdout, args.id, args.take, args.side),
        cliargs.resolve,
    ),
    Verb(
        "sync",
        "copy the rows that exist before replication (initial sync)",
        lambda config, args: admin.cmd_sync(
            config, sys.stdout, args.maps, args.chunk, args.from_side
        ),
        cliargs.sync,
    ),
    Verb(
        "purge",
        "delete closed errors, decided conflicts and activity older than a duration",
        lambda config, args: admin.cmd_purge(
            config, sys.stdout, parse_duration(args.older_than), args.dry_run
        ),
        cliargs.purge,
    ),
    Verb(
        "verify",
        f"compare both sides under the maps (exit {ExitCode.PENDING.value} if they differ)",
        lambda config, args: verifyreport.cmd_verify(
            config, sys.stdout, sys.stderr, args.maps, args.chunk, args.json, args.quiet
        ),
        cliargs.verify,
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
        cliargs.repair,
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
    return _parser(os.environ.get("REPLICATOR_CONFIG", "replicator.toml"))


# Built once per default config path: building it costs 9 ms, more than many verbs
# take, and argparse parsers can be read from again and again.
@functools.cache
def _parser(default_config: str) -> argparse.ArgumentParser:
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
        default=Path(default_config),
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
