"""The activity log, written from Python: who (the database role, and the OS user
in the detail), what, and why."""

from __future__ import annotations

import getpass
import json
from typing import Any

import psycopg
from psycopg.rows import TupleRow


def record(
    conn: psycopg.Connection[TupleRow],
    kind: str,
    message: str,
    map_name: str | None = None,
    direction: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        "INSERT INTO replicator.activity_log (kind, map_name, direction, message, detail)"
        " VALUES (%s, %s, %s, %s, %s::jsonb)",
        (
            kind,
            map_name,
            direction,
            message,
            json.dumps({"os_user": getpass.getuser(), **(detail or {})}),
        ),
    )
