"""The options of each verb of the ``replicator`` command line: one function per verb
(named for it) that adds them to its sub-parser. cli's table of verbs names them."""

from __future__ import annotations

import argparse

from replicator.core.exitcodes import ExitCode
from replicator.operations import repair as repair_module
from replicator.operations import verify as verify_module
from replicator.runtime import logs


def _side(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--side", choices=["left", "right"], help=what)


def plan(parser: argparse.ArgumentParser) -> None:
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


def undeploy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--discard-queued",
        action="store_true",
        help="throw away changes still queued, parked or held instead of refusing",
    )


def run(parser: argparse.ArgumentParser) -> None:
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


def status(parser: argparse.ArgumentParser) -> None:
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


def state(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("maps", nargs="+", metavar="MAP")
    parser.add_argument("--direction", choices=["to_right", "to_left"], help="only this way")
    parser.add_argument("--reason", default="", help="why, for the activity log")


def errors(parser: argparse.ArgumentParser) -> None:
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


def retry(parser: argparse.ArgumentParser) -> None:
    _which(parser, "open error")


def skip(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", type=int, metavar="ID")
    parser.add_argument("--reason", default="", help="why, for the activity log")
    _side(parser, "the database holding the error (two servers)")


def held(parser: argparse.ArgumentParser) -> None:
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


def discard(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("map", metavar="MAP")
    parser.add_argument("--direction", choices=["to_right", "to_left"], help="only this way")
    parser.add_argument("--reason", required=True, help="why, for the activity log")


def conflicts(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("map", nargs="?", metavar="MAP")
    parser.add_argument(
        "--waiting", action="store_true", help="only manual ones waiting for a decision"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def resolve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", type=int, metavar="ID")
    parser.add_argument(
        "--take", required=True, choices=["left", "right"], help="the side that wins"
    )
    _side(parser, "the database holding the conflict (two servers)")


def sync(parser: argparse.ArgumentParser) -> None:
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


def purge(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--older-than", required=True, metavar="DURATION", help="e.g. 30d, 12h")
    parser.add_argument(
        "--dry-run", action="store_true", help="count what would be deleted; delete nothing"
    )


def compare(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("maps", nargs="*", metavar="MAP", help="default: every map")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def verify(parser: argparse.ArgumentParser) -> None:
    compare(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--chunk",
        type=int,
        default=verify_module.CHUNK,
        help="rows per hashed chunk (default 1000)",
    )


def repair(parser: argparse.ArgumentParser) -> None:
    compare(parser)
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
