"""The exit codes of every ``replicator`` command, defined once.

Each code has one meaning whatever the verb, and ``DOCUMENTED`` says which verbs
return it and when; the README's table is that text (a test compares them).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    PENDING = 2
    REFUSED = 3
    ATTENTION = 4


# Per code: what it means, and the verbs that return it and when.
DOCUMENTED: dict[ExitCode, tuple[str, str]] = {
    ExitCode.OK: (
        "done",
        "every verb; `plan`: nothing to do; `verify`: the sides agree;"
        " `status --check`: nothing needs a DBA",
    ),
    ExitCode.ERROR: (
        "an error; the message says what and what to do",
        "every verb: a command line it cannot read, a config or map problem (`validate`"
        " lists them all), a database that"
        " cannot be reached or refused a statement, the owner role lacking a privilege,"
        " an interrupted command; `retry`, `held retry`, `sync`, `repair`, and `resume` of a"
        " failed map (it retries the map's open errors): a change failed (it is in the error"
        " log)",
    ),
    ExitCode.PENDING: (
        "a difference was found",
        "`plan`: changes are pending (`plan --undeploy`: something to remove); `verify`:"
        " the sides differ; `repair --dry-run`: rows would be rewritten",
    ),
    ExitCode.REFUSED: (
        "refused: it would throw away changes; nothing was changed",
        "`deploy`: a removed map or direction still has changes queued, unread in its WAL"
        " slot, or held; `undeploy`: changes are queued, parked or held"
        " (`--discard-queued` throws them away); `sync`: both directions of a map were"
        " stopped since its last sync, so `--from left` or `--from right` must say whose rows win",
    ),
    ExitCode.ATTENTION: (
        "done, but something waits for a DBA",
        "`status --check`: a failed map, open errors, a backlog older than `--max-lag`, a"
        " WAL slot lost or never read, no live applier; `sync`: rows left held, waiting"
        " for a parent the other side does not have (`replicator held list`)",
    ),
}


def readme_table() -> str:
    """The README's exit code table, in Markdown."""
    lines = ["| code | meaning | returned by |", "| --- | --- | --- |"]
    lines += [
        f"| {code.value} | {meaning} | {verbs} |" for code, (meaning, verbs) in DOCUMENTED.items()
    ]
    return "\n".join(lines) + "\n"
