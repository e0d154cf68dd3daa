"""The test harness itself: throwaway servers are fit for logical replication."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import psycopg

from devtools.throwaway import ThrowawayServer, server_has_setting
from tests.support import wait_for_wal_flush

FreshDb = Callable[[ThrowawayServer], str]


def test_create_and_query_database(pg: ThrowawayServer, fresh_db: FreshDb) -> None:
    url = fresh_db(pg)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        conn.execute("INSERT INTO t VALUES (1, 'ünï')")
        assert conn.execute("SELECT v FROM t").fetchall() == [("ünï",)]
        assert conn.execute("SELECT current_database()").fetchone() == (url.rsplit("/", 1)[1],)


def test_wal_level_is_logical(pg: ThrowawayServer) -> None:
    with pg.connect() as conn:
        assert conn.execute("SHOW wal_level").fetchone() == ("logical",)


def test_wal2json_slot_sees_insert(pg: ThrowawayServer, fresh_db: FreshDb) -> None:
    url = fresh_db(pg)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        conn.execute("SELECT pg_create_logical_replication_slot('harness', 'wal2json')")
        try:
            conn.execute("INSERT INTO t VALUES (7, 'seven')")
            inserts = _peek_inserts(conn, "harness")
            assert len(inserts) == 1
            assert inserts[0]["table"] == "t"
            assert {col["name"]: col["value"] for col in inserts[0]["columns"]} == {
                "id": 7,
                "v": "seven",
            }
        finally:
            conn.execute("SELECT pg_drop_replication_slot('harness')")
        count = conn.execute("SELECT count(*) FROM pg_replication_slots").fetchone()
        assert count == (0,)


def _peek_inserts(conn: psycopg.Connection[Any], slot: str) -> list[dict[str, Any]]:
    """The wal2json insert records pending in ``slot``, waiting for them to appear.

    With synchronous_commit=off a commit becomes decodable only once the WAL
    writer has flushed it, a few milliseconds after COMMIT returns.
    """
    deadline = time.monotonic() + 5
    while True:
        rows = conn.execute(
            "SELECT data FROM pg_logical_slot_peek_changes(%s, NULL, NULL, 'format-version', '2')",
            (slot,),
        ).fetchall()
        inserts = [c for c in (json.loads(data) for (data,) in rows) if c["action"] == "I"]
        if inserts or time.monotonic() > deadline:
            return inserts
        time.sleep(0.01)


def test_wait_for_wal_flush_flushes_every_commit_made_before_it(
    pg: ThrowawayServer, fresh_db: FreshDb
) -> None:
    """Project.drain relies on it: a slot decodes only flushed WAL, and test servers
    commit asynchronously. Repeated, since the WAL writer alone often flushes in time."""
    url = fresh_db(pg)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (x int)")
        for _ in range(100):
            conn.execute("INSERT INTO t VALUES (1)")
            [(written,)] = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchall()
            wait_for_wal_flush(url)
            assert conn.execute(
                "SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", (written,)
            ).fetchone() == (True,)


def test_restart_keeps_data(fresh_db: FreshDb) -> None:
    # Own server: restarting the shared one would cut off other tests' sessions.
    with ThrowawayServer() as server:
        url = fresh_db(server)
        port = server.port
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE t AS SELECT 42 AS answer")
            before = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
        server.restart()
        assert server.port == port
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT answer FROM t").fetchone() == (42,)
            assert conn.execute("SELECT pg_postmaster_start_time()").fetchone() != before
    assert not server.running


def test_output_plugin_libraries_detection(pg: ThrowawayServer) -> None:
    detected = server_has_setting("output_plugin_libraries")
    assert isinstance(detected, bool)
    with pg.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_settings WHERE name = 'output_plugin_libraries'"
        ).fetchone()
    assert row == (int(detected),)
    assert server_has_setting("wal_level") is True
