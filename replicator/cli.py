"""``replicator`` command line: a thin argparse shell over replicator.commands.

Exit codes: 0 done (plan: nothing to do), 1 error, 2 plan: changes pending,
3 deploy refused because it would lose queued changes.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import psycopg

from replicator import commands
from replicator.config import load_config
from replicator.errors import ReplicatorError


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
    sub.add_parser("deploy", help="apply the plan, one transaction per database")
    run = sub.add_parser("run", help="run the applier until SIGTERM or SIGINT")
    run.add_argument("--once", action="store_true", help="stop when both queues are empty")
    status = sub.add_parser("status", help="per map and direction: state, backlog, applied, errors")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = load_config(args.config)
        if args.command == "validate":
            return commands.cmd_validate(config, sys.stdout)
        if args.command == "plan":
            return commands.cmd_plan(config, sys.stdout, only=args.side)
        if args.command == "deploy":
            return commands.cmd_deploy(config, sys.stdout)
        if args.command == "run":
            return commands.cmd_run(config, once=args.once)
        return commands.cmd_status(config, sys.stdout, as_json=args.json)
    except ReplicatorError as exc:
        print(f"replicator: {exc}", file=sys.stderr)
        return exc.exit_code
    except psycopg.Error as exc:
        print(f"replicator: database error: {exc.diag.message_primary or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
