"""The replication origins the replicator's own sessions run under on a database
with WAL capture. The listener asks its slot to leave out changes made under any
of them, so nothing the replicator writes is captured again (loop safety).

Origins belong to the server, not to a database, and PostgreSQL 15 lets one
session at a time use an origin: each database gets its own, named
``<purpose>/<database>``."""

from __future__ import annotations

APPLY = "replicator_apply"  # the applier writing changes from the other side
CAPTURE = "replicator_capture"  # the listener queueing what it decoded; holds its progress
SYNC = "replicator_sync"  # initial sync
ADMIN = "replicator_admin"  # retry of logged errors

ALL = (APPLY, CAPTURE, SYNC, ADMIN)


def name_sql(purpose: str) -> str:
    """The origin of ``purpose`` (SQL: a parameter or a column) on the connection's database."""
    return f"{purpose} || '/' || current_database()"
