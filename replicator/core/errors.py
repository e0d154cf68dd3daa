"""Typed errors. Each one says where (file, map, field) and what to do."""

from __future__ import annotations

from dataclasses import dataclass

from replicator.core.exitcodes import ExitCode


@dataclass(frozen=True)
class Where:
    """The place an error points at; every part is optional. (TOML syntax errors
    carry their own line and column in the message.)"""

    file: str | None = None
    map: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.map:
            parts.append(f"map {self.map!r}")
        if self.field:
            parts.append(f"field {self.field!r}")
        return ": ".join(parts)


class ReplicatorError(Exception):
    """Base of every error the replicator raises on purpose."""

    exit_code = ExitCode.ERROR


class ConfigError(ReplicatorError):
    """replicator.toml is missing, unreadable or wrong."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the maps, found while loading or validating."""

    where: Where
    message: str

    def __str__(self) -> str:
        where = str(self.where)
        return f"{where}: {self.message}" if where else self.message


class MapError(ReplicatorError):
    """The maps are wrong; carries every problem found, so a DBA fixes them in one pass."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        # Problems with no file are the servers' (what WAL capture needs).
        where = "in the maps" if all(p.where.file for p in problems) else "found"
        head = f"{count} problem{'s' if count != 1 else ''} {where}; nothing was deployed"
        super().__init__("\n".join([head, *(f"  {p}" for p in problems)]))


class ExpressionError(ReplicatorError):
    """A user SQL expression is invalid or uses something outside the allow-list."""


class DatabaseError(ReplicatorError):
    """The database refused something; the message says what and where."""


class ConnectError(DatabaseError):
    """A side's database could not be reached, or refused the login; the message names
    the side and its connection without the password. The applier retries these."""


class DeployRefused(ReplicatorError):
    """A deploy or undeploy would lose data (queued or held changes of a removed map)
    and was refused; nothing changed."""

    exit_code = ExitCode.REFUSED


class SyncRefused(ReplicatorError):
    """A sync cannot tell which side's rows win (both directions of a map were stopped
    since its last sync) and was refused; nothing was copied."""

    exit_code = ExitCode.REFUSED


class PrivilegeError(ReplicatorError):
    """The owner role named in [roles] may not do what the maps need of it (the roles
    SQL has not been run, or not since a map started using another table)."""
