-- replicator plan for database cds (reached through the right side's connection)
-- bundle bc1d792f6a6d2b28fdf5dfd75252cfd800d64b33213facde8980fc2674795760: 44 to create, 0 to replace, 0 to drop
-- Apply in one transaction (replicator deploy does; by hand: psql -1 -f this file).
SELECT pg_advisory_xact_lock(7501166, 0);

-- ==== create control ====
-- The replicator's control schema: change queue, map registry and state,
-- deployment record, error log, and the small functions the applier calls.
-- Safe to run again: it only creates what is missing and replaces functions.
CREATE SCHEMA IF NOT EXISTS replicator;
REVOKE ALL ON SCHEMA replicator FROM PUBLIC;

-- Changes captured on this database, waiting to cross to the other side.
-- id orders changes of one key: a row lock serialises writers of a key, so a
-- later change of it always takes a later id.
CREATE TABLE IF NOT EXISTS replicator.change_queue (
    direction   text        NOT NULL CHECK (direction IN ('to_right', 'to_left')),
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    map_name    text        NOT NULL,
    op          text        NOT NULL CHECK (op IN ('I', 'U', 'D', 'T')),
    image       jsonb       NOT NULL,
    captured_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (direction, id)
) WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);
-- Per lookup of the change's map, the key of the parent row it points at, read at
-- capture where the parent is visible (the other server may only see the image).
ALTER TABLE replicator.change_queue ADD COLUMN IF NOT EXISTS refs jsonb;
-- Per map: the backlog of a paused map is skipped, and a catching-up map's
-- emptiness is checked, without scanning other maps' changes.
CREATE INDEX IF NOT EXISTS change_queue_map ON replicator.change_queue (direction, map_name, id);

-- Changes that arrived here before a parent they look up: held, never dropped,
-- and retried when the parent's map applies a batch. Ids are the source's.
CREATE TABLE IF NOT EXISTS replicator.held_change (
    direction   text        NOT NULL CHECK (direction IN ('to_right', 'to_left')),
    id          bigint      NOT NULL,
    map_name    text        NOT NULL,
    op          text        NOT NULL,
    image       jsonb       NOT NULL,
    refs        jsonb,
    waiting_for text        NOT NULL,
    held_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (direction, id)
);
CREATE INDEX IF NOT EXISTS held_change_map ON replicator.held_change (map_name, direction);

-- Per map and direction: its state and what the applier did last. The state
-- that counts is the one on the direction's source database, where its changes
-- are captured and queued; the applied figures are kept where they are applied.
CREATE TABLE IF NOT EXISTS replicator.map_state (
    map_name        text        NOT NULL,
    direction       text        NOT NULL CHECK (direction IN ('to_right', 'to_left')),
    state           text        NOT NULL DEFAULT 'running'
                                CHECK (state IN ('running', 'paused', 'catching_up', 'stopped', 'failed')),
    applied_total   bigint      NOT NULL DEFAULT 0,
    last_applied_at timestamptz,
    PRIMARY KEY (map_name, direction)
);
ALTER TABLE replicator.map_state
    ADD COLUMN IF NOT EXISTS state_since  timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN IF NOT EXISTS state_reason text;

-- Who did what, when: deploys, state changes, syncs, retries and skips, alerts,
-- and every batch applied here with its counts and duration.
CREATE TABLE IF NOT EXISTS replicator.activity_log (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text        NOT NULL DEFAULT current_user,
    kind      text        NOT NULL,
    map_name  text,
    direction text,
    message   text        NOT NULL,
    detail    jsonb
);
CREATE INDEX IF NOT EXISTS activity_log_at ON replicator.activity_log (at);

-- Changes that could not be applied, with the database's own words.
CREATE TABLE IF NOT EXISTS replicator.error_log (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    map_name   text        NOT NULL,
    direction  text        NOT NULL,
    change_id  bigint,
    op         text        NOT NULL,
    key        jsonb       NOT NULL,
    image      jsonb       NOT NULL,
    sqlstate   text        NOT NULL,
    message    text        NOT NULL,
    detail     text,
    logged_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS error_log_map ON replicator.error_log (map_name, direction, logged_at);
-- One open error per map, direction and key: a later failure of the same key
-- counts an attempt. An error is open until it is retried successfully,
-- skipped by a DBA, or superseded by a later change of its key that applied.
ALTER TABLE replicator.error_log
    ADD COLUMN IF NOT EXISTS refs        jsonb,
    ADD COLUMN IF NOT EXISTS attempts    integer     NOT NULL DEFAULT 1,
    ADD COLUMN IF NOT EXISTS last_seen   timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN IF NOT EXISTS state       text        NOT NULL DEFAULT 'open'
        CHECK (state IN ('open', 'retried', 'skipped', 'superseded')),
    ADD COLUMN IF NOT EXISTS resolved_by text,
    ADD COLUMN IF NOT EXISTS resolved_at timestamptz;
CREATE INDEX IF NOT EXISTS error_log_open ON replicator.error_log (map_name, direction)
    WHERE state = 'open';

-- Two servers: the ids of the last batch applied here from the other side,
-- written in the same transaction as the batch, so a replay after a crash
-- between this commit and the source's dequeue skips them.
CREATE TABLE IF NOT EXISTS replicator.applied_batch (
    direction  text        PRIMARY KEY CHECK (direction IN ('to_right', 'to_left')),
    change_ids bigint[]    NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- Initial sync, per map and direction, kept where the rows are written and
-- updated with every chunk: a sync killed at any point continues from here.
CREATE TABLE IF NOT EXISTS replicator.sync_progress (
    map_name    text        NOT NULL,
    direction   text        NOT NULL CHECK (direction IN ('to_right', 'to_left')),
    last_key    jsonb,
    copied      bigint      NOT NULL DEFAULT 0,
    failed      bigint      NOT NULL DEFAULT 0,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    PRIMARY KEY (map_name, direction)
);

-- What deploy put here: one row per artifact, with the SQL that removes it.
CREATE TABLE IF NOT EXISTS replicator.deployed_artifact (
    name        text        PRIMARY KEY,
    sha256      text        NOT NULL,
    drop_sql    text        NOT NULL,
    deployed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS replicator.deployment (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bundle_sha256 text        NOT NULL,
    deployed_at   timestamptz NOT NULL DEFAULT now(),
    deployed_by   text        NOT NULL DEFAULT current_user
);

-- Records a change that could not be applied (the generated apply functions call it).
CREATE OR REPLACE FUNCTION replicator.log_error(p_map text, p_direction text, p_change jsonb,
                                               p_key jsonb, p_sqlstate text, p_message text,
                                               p_detail text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE replicator.error_log
       SET attempts = attempts + 1, last_seen = now(), change_id = (p_change->>'id')::bigint,
           op = p_change->>'op', image = p_change->'image', refs = p_change->'refs',
           sqlstate = p_sqlstate, message = p_message, detail = NULLIF(p_detail, '')
     WHERE state = 'open' AND map_name = p_map AND direction = p_direction AND key = p_key;
    IF NOT FOUND THEN
        INSERT INTO replicator.error_log
               (map_name, direction, change_id, op, key, image, refs, sqlstate, message, detail)
        VALUES (p_map, p_direction, (p_change->>'id')::bigint, p_change->>'op', p_key,
                p_change->'image', p_change->'refs', p_sqlstate, p_message, NULLIF(p_detail, ''));
    END IF;
END
$$;

-- A later change of a key applied: its open error is no longer the row's truth,
-- and retrying it would write an older version over a newer one.
CREATE OR REPLACE FUNCTION replicator.supersede_errors(p_map text, p_direction text, p_keys jsonb[])
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE replicator.error_log
       SET state = 'superseded', resolved_at = now(), resolved_by = 'replicator'
     WHERE state = 'open' AND map_name = p_map AND direction = p_direction AND key = ANY (p_keys)
$$;

-- The oldest changes of a direction whose maps may apply: paused, stopped and
-- failed maps keep their backlog, in order, for later.
CREATE OR REPLACE FUNCTION replicator.runnable_ids(p_direction text, p_limit integer)
RETURNS bigint[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM replicator.map_state
                    WHERE direction = p_direction AND state IN ('paused', 'stopped', 'failed')) THEN
        RETURN ARRAY(SELECT id FROM replicator.change_queue
                      WHERE direction = p_direction ORDER BY id LIMIT p_limit);
    END IF;
    -- Per running map, its oldest changes (an index range each), then the oldest of those.
    RETURN ARRAY(
        SELECT q.id
          FROM replicator.map_state AS s
         CROSS JOIN LATERAL (SELECT id FROM replicator.change_queue
                              WHERE direction = p_direction AND map_name = s.map_name
                              ORDER BY id LIMIT p_limit) AS q
         WHERE s.direction = p_direction AND s.state IN ('running', 'catching_up')
         ORDER BY q.id
         LIMIT p_limit);
END
$$;

-- A catching-up map whose backlog has drained is running again.
CREATE OR REPLACE FUNCTION replicator.caught_up(p_direction text)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    WITH done AS (
        UPDATE replicator.map_state AS s
           SET state = 'running', state_since = now(), state_reason = 'backlog applied'
         WHERE s.direction = p_direction AND s.state = 'catching_up'
           AND NOT EXISTS (SELECT 1 FROM replicator.change_queue AS q
                            WHERE q.direction = p_direction AND q.map_name = s.map_name)
        RETURNING s.map_name
    )
    INSERT INTO replicator.activity_log (kind, map_name, direction, message)
    SELECT 'state', map_name, p_direction, 'catching_up → running: backlog applied' FROM done
$$;

-- replicator retry: apply a logged change again, after the DBA fixed its cause.
-- A failure counts another attempt on the same error; success closes it.
CREATE OR REPLACE FUNCTION replicator.retry_error(p_id bigint, OUT outcome text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_error replicator.error_log;
BEGIN
    SELECT * INTO v_error FROM replicator.error_log WHERE id = p_id FOR UPDATE;
    IF NOT FOUND OR v_error.state <> 'open' THEN
        outcome := coalesce(v_error.state, 'unknown');
        RETURN;
    END IF;
    IF replicator.apply_batch(v_error.direction, jsonb_build_array(jsonb_build_object(
           'id', v_error.change_id, 'map', v_error.map_name, 'op', v_error.op,
           'image', v_error.image, 'refs', v_error.refs))) > 0 THEN
        outcome := 'failed again';
    ELSE
        UPDATE replicator.error_log
           SET state = 'retried', resolved_at = now(), resolved_by = current_user
         WHERE id = p_id;
        outcome := 'applied';
    END IF;
    INSERT INTO replicator.activity_log (kind, map_name, direction, message, detail)
    VALUES ('retry', v_error.map_name, v_error.direction, format('error %s: %s', p_id, outcome),
            jsonb_build_object('error_id', p_id, 'key', v_error.key));
END
$$;

-- Raised by a value map that meets a value it has no entry for and no fallback.
CREATE OR REPLACE FUNCTION replicator.unmapped_value(p_map text, p_field text, p_value text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'map %: field %: value % has no entry in the value_map and no fallback',
        p_map, p_field, quote_literal(p_value)
        USING ERRCODE = 'invalid_parameter_value';
END
$$;

-- Raised for a null arriving at a field whose on_null says refuse.
CREATE OR REPLACE FUNCTION replicator.refused_null(p_map text, p_field text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'map %: field %: the value is null and on_null says refuse', p_map, p_field
        USING ERRCODE = 'not_null_violation';
END
$$;

-- One line per batch applied here, for the activity log.
CREATE OR REPLACE FUNCTION replicator.log_batch(p_direction text, p_taken integer, p_failed integer,
                                                p_skipped integer, p_started timestamptz)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO replicator.activity_log (kind, direction, message, detail)
    VALUES ('batch', p_direction,
            format('applied %s, failed %s, skipped %s', p_taken - p_failed - p_skipped, p_failed, p_skipped),
            jsonb_build_object('taken', p_taken, 'failed', p_failed, 'skipped', p_skipped,
                               'ms', round(extract(epoch FROM clock_timestamp() - p_started) * 1000, 1)))
$$;

-- One database: take a batch off the queue, apply it, all in the caller's
-- transaction, so apply and dequeue commit together. Returns (taken, failed).
CREATE OR REPLACE FUNCTION replicator.apply_queued(p_direction text, p_limit integer,
                                                   OUT taken integer, OUT failed integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- Batches range from one change to thousands: a plan cached for a small one
-- (plpgsql caches after a few calls) made large ones several times slower.
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    v_batch jsonb;
    v_started timestamptz := clock_timestamp();
BEGIN
    WITH batch AS (
        DELETE FROM replicator.change_queue AS q
         WHERE q.direction = p_direction
           -- An array computed once (ARRAY(subquery)), not IN (subquery) nor a
           -- bare function call, which a sequential-scan plan would call per row:
           -- the plan must stay a primary-key lookup however long the queue grows.
           AND q.id = ANY (ARRAY(SELECT unnest(replicator.runnable_ids(p_direction, p_limit))))
        RETURNING q.id, q.map_name, q.op, q.image, q.refs
    )
    SELECT jsonb_agg(jsonb_build_object('id', id, 'map', map_name, 'op', op, 'image', image,
                                        'refs', refs)
                     ORDER BY id),
           count(*)
      INTO v_batch, taken
      FROM batch;
    failed := 0;
    IF taken > 0 THEN
        failed := replicator.apply_batch(p_direction, v_batch);
        PERFORM replicator.log_batch(p_direction, taken, failed, 0, v_started);
        PERFORM replicator.caught_up(p_direction);
    END IF;
END
$$;

-- Two servers, source side: the oldest changes of a direction, as one jsonb array
-- with their ids beside it.
CREATE OR REPLACE FUNCTION replicator.peek_batch(p_direction text, p_limit integer,
                                                 OUT ids bigint[], OUT batch jsonb)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(id ORDER BY id), '{}'),
           coalesce(jsonb_agg(jsonb_build_object('id', id, 'map', map_name, 'op', op, 'image', image,
                                                 'refs', refs)
                              ORDER BY id), '[]')
      FROM (SELECT id, map_name, op, image, refs FROM replicator.change_queue
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT unnest(replicator.runnable_ids(p_direction, p_limit))))) AS oldest
$$;

-- Two servers, source side: forget changes the target has durably applied.
CREATE OR REPLACE FUNCTION replicator.ack_batch(p_direction text, p_ids bigint[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_gone integer;
BEGIN
    DELETE FROM replicator.change_queue WHERE direction = p_direction AND id = ANY (p_ids);
    GET DIAGNOSTICS v_gone = ROW_COUNT;
    PERFORM replicator.caught_up(p_direction);
    RETURN v_gone;
END
$$;

-- Two servers, target side: apply a batch from the other server unless it was
-- already applied (a replay after a crash), and record its ids in the same
-- transaction. Returns (applied, failed, skipped).
CREATE OR REPLACE FUNCTION replicator.apply_remote(p_direction text, p_batch jsonb,
                                                   OUT applied integer, OUT failed integer,
                                                   OUT skipped integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- Batches range from one change to thousands: a plan cached for a small one
-- (plpgsql caches after a few calls) made large ones several times slower.
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    v_done bigint[];
    v_fresh jsonb;
    v_started timestamptz := clock_timestamp();
BEGIN
    SELECT change_ids INTO v_done FROM replicator.applied_batch
     WHERE direction = p_direction FOR UPDATE;
    SELECT coalesce(jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), '[]'), count(*)
      INTO v_fresh, applied
      FROM jsonb_array_elements(p_batch) AS c
     WHERE NOT ((c.value->>'id')::bigint = ANY (coalesce(v_done, '{}')));
    skipped := jsonb_array_length(p_batch) - applied;
    failed := 0;
    IF applied > 0 THEN
        failed := replicator.apply_batch(p_direction, v_fresh);
    END IF;
    applied := applied - failed;
    PERFORM replicator.log_batch(p_direction, applied + failed + skipped, failed, skipped, v_started);
    INSERT INTO replicator.applied_batch (direction, change_ids)
    SELECT p_direction, coalesce(array_agg((c.value->>'id')::bigint), '{}')
      FROM jsonb_array_elements(p_batch) AS c
    ON CONFLICT (direction) DO UPDATE
       SET change_ids = EXCLUDED.change_ids, applied_at = now();
END
$$;

-- Per map and direction as this database sees it: the state and backlog where
-- the direction's source lives; held changes, applied figures and errors where
-- its target lives. replicator status joins the two databases' views.
CREATE OR REPLACE VIEW replicator.status AS
SELECT s.map_name,
       s.direction,
       s.state,
       s.state_since,
       s.state_reason,
       coalesce(q.queued, 0)                            AS queued,
       q.oldest_captured_at,
       now() - q.oldest_captured_at                     AS oldest_change_age,
       coalesce(h.held, 0)                              AS held,
       s.applied_total,
       s.last_applied_at,
       coalesce(e.open_errors, 0)                       AS errors,
       coalesce(e.errors_last_hour, 0)                  AS errors_last_hour,
       coalesce(e.logged, 0)                            AS errors_logged
  FROM replicator.map_state AS s
  LEFT JOIN (SELECT map_name, direction, count(*) AS queued, min(captured_at) AS oldest_captured_at
               FROM replicator.change_queue GROUP BY map_name, direction) AS q
         USING (map_name, direction)
  LEFT JOIN (SELECT map_name, direction, count(*) AS held
               FROM replicator.held_change GROUP BY map_name, direction) AS h
         USING (map_name, direction)
  LEFT JOIN (SELECT map_name, direction,
                    count(*) AS logged,
                    count(*) FILTER (WHERE state = 'open') AS open_errors,
                    count(*) FILTER (WHERE last_seen > now() - interval '1 hour') AS errors_last_hour
               FROM replicator.error_log GROUP BY map_name, direction) AS e
         USING (map_name, direction);

-- T: a TRUNCATE of the source table; its map's on_truncate decides what happens.
-- Queues deployed before it could hold only I, U and D.
ALTER TABLE replicator.change_queue DROP CONSTRAINT IF EXISTS change_queue_op_check;
ALTER TABLE replicator.change_queue
    ADD CONSTRAINT change_queue_op_check CHECK (op IN ('I', 'U', 'D', 'T')) NOT VALID;

-- WAL capture: per logical slot of this database, what its listener reads and how
-- far it got. behind_since is the commit time of the oldest transaction the last
-- read left in the slot (null: it read everything there was).
CREATE TABLE IF NOT EXISTS replicator.wal_listener (
    slot_name    text        PRIMARY KEY,
    tables       text[]      NOT NULL,
    read_at      timestamptz,
    consumed_at  timestamptz,
    behind_since timestamptz
);

-- Per slot: the WAL it holds back from removal, and how far behind its listener is.
CREATE OR REPLACE VIEW replicator.slot_status AS
SELECT l.slot_name,
       s.active,
       coalesce(s.wal_status, 'missing')                                  AS wal_status,
       pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint       AS retained_bytes,
       pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint AS unread_bytes,
       l.read_at,
       l.consumed_at,
       now() - l.behind_since                                             AS oldest_unconsumed_age
  FROM replicator.wal_listener AS l
  LEFT JOIN pg_replication_slots AS s USING (slot_name);

-- WAL capture: the map directions stopped as of the last change the listener read.
-- map_state says what holds now; the slot may still hold changes committed before
-- a stop (they are captured) or while stopped (they are not). Kept in stream order
-- from the slot's own record of map_state's changes.
CREATE TABLE IF NOT EXISTS replicator.wal_stopped (
    map_name  text NOT NULL,
    direction text NOT NULL,
    PRIMARY KEY (map_name, direction)
);
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('control', 'faafc84ddac0feae48cbb8524da67fb81bf8046ff31d43111fea756a780c8c45', '')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create drift ====
-- Drift: what each deployed map relies on in this database's catalog, recorded by
-- deploy, and replicator.drift(), which compares that record with the catalog now.
-- Tables and columns are kept by oid and attnum, so a rename is seen as a rename.
-- Safe to run again: it only creates what is missing and replaces functions.
CREATE TABLE IF NOT EXISTS replicator.map_dependency (
    map_name     text     NOT NULL,
    side         text     NOT NULL CHECK (side IN ('left', 'right')),
    kind         text     NOT NULL CHECK (kind IN ('table', 'column', 'trigger')),
    table_oid    oid      NOT NULL,
    schema_name  text     NOT NULL,  -- the table as deployed
    table_name   text     NOT NULL,
    attnum       smallint NOT NULL DEFAULT 0,  -- column: its number; otherwise 0
    name         text     NOT NULL DEFAULT '',  -- column or trigger name as deployed
    type_oid     oid,
    typmod       integer,
    type_sql     text,
    uses         text     NOT NULL DEFAULT '',  -- how the map uses it: "field credit_limit", "left_filter"
    -- The capture reads this column by name: a capture trigger its key, filter and
    -- lookup columns; a WAL capture function every column it watches. Renamed or
    -- dropped, the trigger cannot capture, and the WAL function's changes are parked.
    capture_reads boolean NOT NULL DEFAULT false,
    capture      text,  -- this side's capture method, where the map's changes are captured here
    lookup       text,  -- a table the map reads through a lookup: the map that owns it
    PRIMARY KEY (map_name, side, kind, table_oid, attnum, name)
);

-- WAL capture: changes decoded for a map direction whose capture function failed
-- because the table changed under it (a column renamed, dropped, retyped). Kept in
-- stream order, never dropped; queued by replicator.unpark_wal once the map is fixed.
CREATE TABLE IF NOT EXISTS replicator.wal_parked (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    map_name  text        NOT NULL,
    direction text        NOT NULL CHECK (direction IN ('to_right', 'to_left')),
    changes   jsonb       NOT NULL,  -- the capture function's argument
    reason    text        NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS wal_parked_map ON replicator.wal_parked (map_name, direction, id);

-- Trigger capture: changes of rows whose key, filter or lookup columns, or the parent
-- tables its references are looked up in, the capture trigger could no longer read
-- (renamed or dropped under it). The application's write went through; the change was
-- not queued, and replicator sync copies such rows after the fix.
CREATE TABLE IF NOT EXISTS replicator.uncaptured (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    map_name    text        NOT NULL,
    direction   text        NOT NULL,
    op          text        NOT NULL,
    image       jsonb       NOT NULL,
    captured_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS uncaptured_map ON replicator.uncaptured (map_name, direction);

-- Deploy: what one map uses of one table on one side, resolved to oids and attnums
-- in the deploying transaction. p_columns: [{"column", "uses", "capture_reads"}].
CREATE OR REPLACE FUNCTION replicator.record_dependency(p_map text, p_side text, p_schema text,
                                                       p_table text, p_columns jsonb,
                                                       p_triggers text[], p_capture text,
                                                       p_lookup text, p_reads boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_oid oid := to_regclass(format('%I.%I', p_schema, p_table));
BEGIN
    IF v_oid IS NULL THEN
        RAISE EXCEPTION 'replicator: map %: table %.% does not exist', p_map, p_schema, p_table
            USING ERRCODE = 'undefined_table';
    END IF;
    INSERT INTO replicator.map_dependency AS d
           (map_name, side, kind, table_oid, schema_name, table_name, capture, lookup,
            capture_reads)
    VALUES (p_map, p_side, 'table', v_oid, p_schema, p_table, p_capture, p_lookup, p_reads)
        ON CONFLICT (map_name, side, kind, table_oid, attnum, name)
        DO UPDATE SET capture = coalesce(d.capture, EXCLUDED.capture),
                      capture_reads = d.capture_reads OR EXCLUDED.capture_reads,
                      lookup = CASE WHEN p_lookup IS NULL THEN NULL ELSE d.lookup END;
    INSERT INTO replicator.map_dependency AS d
           (map_name, side, kind, table_oid, schema_name, table_name, attnum, name,
            type_oid, typmod, type_sql, uses, capture_reads, capture, lookup)
    SELECT p_map, p_side, 'column', v_oid, p_schema, p_table, a.attnum, a.attname,
           a.atttypid, a.atttypmod, format_type(a.atttypid, a.atttypmod),
           c.value->>'uses', (c.value->>'capture_reads')::boolean, p_capture, p_lookup
      FROM jsonb_array_elements(p_columns) AS c
      JOIN pg_attribute AS a
        ON a.attrelid = v_oid AND a.attname = c.value->>'column' AND NOT a.attisdropped
        ON CONFLICT (map_name, side, kind, table_oid, attnum, name)
        DO UPDATE SET uses = d.uses || ', ' || EXCLUDED.uses,
                      capture_reads = d.capture_reads OR EXCLUDED.capture_reads,
                      capture = coalesce(d.capture, EXCLUDED.capture),
                      lookup = CASE WHEN p_lookup IS NULL THEN NULL ELSE d.lookup END;
    INSERT INTO replicator.map_dependency (map_name, side, kind, table_oid, schema_name,
                                           table_name, name, capture)
    SELECT p_map, p_side, 'trigger', v_oid, p_schema, p_table, t, p_capture
      FROM unnest(p_triggers) AS t
        ON CONFLICT DO NOTHING;
END
$$;

-- A row image with keys renamed ({"old name": "new name"}); anything but an object as it is.
CREATE OR REPLACE FUNCTION replicator.renamed_keys(p_row jsonb, p_renames jsonb)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN jsonb_typeof(p_row) = 'object' THEN
           (SELECT coalesce(jsonb_object_agg(coalesce(p_renames->>e.key, e.key), e.value), '{}')
              FROM jsonb_each(p_row) AS e)
           ELSE p_row
           END
$$;

-- Deploy, before the record is made again: changes still waiting for a map whose
-- source columns were renamed since the last deploy (queued, or parked by WAL
-- capture) carry the columns under their old names; they follow the renames here,
-- so the map edited to the new names reads their values rather than nulls.
CREATE OR REPLACE FUNCTION replicator.follow_renames()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_map record;
BEGIN
    FOR v_map IN
        SELECT d.map_name,
               CASE d.side WHEN 'left' THEN 'to_right' ELSE 'to_left' END AS direction,
               jsonb_object_agg(d.name, a.attname::text) AS renames
          FROM replicator.map_dependency AS d
          JOIN pg_attribute AS a
            ON a.attrelid = d.table_oid AND a.attnum = d.attnum AND NOT a.attisdropped
         WHERE d.kind = 'column' AND d.capture IS NOT NULL AND d.lookup IS NULL
           AND a.attname <> d.name
         GROUP BY 1, 2
    LOOP
        UPDATE replicator.change_queue
           SET image = replicator.renamed_keys(image, v_map.renames)
         WHERE map_name = v_map.map_name AND direction = v_map.direction;
        UPDATE replicator.wal_parked AS p
           SET changes = (SELECT jsonb_agg(c.value || jsonb_build_object(
                                     'old', replicator.renamed_keys(c.value->'old', v_map.renames),
                                     'new', replicator.renamed_keys(c.value->'new', v_map.renames))
                                 ORDER BY c.n)
                            FROM jsonb_array_elements(p.changes) WITH ORDINALITY AS c(value, n))
         WHERE p.map_name = v_map.map_name AND p.direction = v_map.direction;
        INSERT INTO replicator.activity_log (kind, map_name, direction, message, detail)
        VALUES ('drift', v_map.map_name, v_map.direction,
                'changes waiting for the map follow its renamed columns', v_map.renames);
    END LOOP;
END
$$;

-- What changed under the deployed maps since deploy: one row per table, column or
-- capture trigger that is not what the map relies on, with a message naming it, what
-- happens to the map's changes meanwhile, and the fix.
CREATE OR REPLACE FUNCTION replicator.drift()
RETURNS TABLE (map_name text, side text, table_name text, column_name text, change text,
               message text)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH found AS (
        SELECT d.*, c.oid IS NOT NULL AS table_there, n.nspname AS now_schema,
               c.relname AS now_table, a.attname AS now_column,
               a.atttypid AS now_type, a.atttypmod AS now_typmod,
               coalesce(a.attisdropped, true) AS column_gone,
               d.schema_name || '.' || d.table_name AS label,
               'map ' || d.map_name || ': ' || d.schema_name || '.' || d.table_name AS prefix,
               CASE d.capture
                    WHEN 'trigger' THEN 'changes of ' || d.schema_name || '.' || d.table_name
                         || ' are not captured meanwhile (the capture trigger reads this column);'
                         || ' after the fix run replicator sync ' || d.map_name
                    WHEN 'wal' THEN 'changes of ' || d.schema_name || '.' || d.table_name
                         || ' decoded meanwhile are kept in replicator.wal_parked and queued after the fix'
               END AS capture_note,
               CASE WHEN d.kind = 'table' AND d.capture_reads
                    THEN '; changes of map ' || d.map_name || ' are not captured meanwhile (its'
                         || ' capture trigger looks references up in this table); after the fix'
                         || ' run replicator sync ' || d.map_name
                    ELSE ''
               END AS refs_note,
               EXISTS (SELECT FROM pg_trigger AS t
                        WHERE t.tgrelid = d.table_oid AND t.tgname = d.name) AS trigger_there
          FROM replicator.map_dependency AS d
          LEFT JOIN pg_class AS c ON c.oid = d.table_oid
          LEFT JOIN pg_namespace AS n ON n.oid = c.relnamespace
          LEFT JOIN pg_attribute AS a ON a.attrelid = d.table_oid AND a.attnum = d.attnum
                                     AND d.kind = 'column'
    ), drifted (map_name, side, table_name, column_name, change, message) AS (
    SELECT f.map_name, f.side, f.label, NULL, 'table dropped',
           f.prefix || CASE WHEN to_regclass(format('%I.%I', f.schema_name, f.table_name)) IS NULL
               THEN ' was dropped; create it again, or remove the map, and run replicator deploy'
               ELSE ' was dropped and created again; run replicator deploy (its capture and'
                    || ' functions went with it), then replicator sync ' || f.map_name
           END
           || f.refs_note
      FROM found AS f
     WHERE f.kind = 'table' AND NOT f.table_there
    UNION ALL
    SELECT f.map_name, f.side, f.label, NULL, 'table renamed',
           f.prefix || coalesce(' (looked up through map ' || f.lookup || ')', '')
           || ' was renamed to ' || f.now_schema || '.' || f.now_table || '; '
           || CASE WHEN f.now_schema = f.schema_name
                   THEN 'edit ' || coalesce('map ' || f.lookup, 'the map') || ' (' || f.side
                        || ' = "' || f.now_table || '")'
                   ELSE 'move it back to schema ' || f.schema_name
              END
           || ' and run replicator deploy'
           || CASE WHEN f.capture = 'wal'
                   THEN '; changes made under the new name are not decoded (the slot reads tables'
                        || ' by name): after the fix run replicator sync ' || f.map_name
                   ELSE ''
              END
           || f.refs_note
      FROM found AS f
     WHERE f.kind = 'table' AND f.table_there
       AND (f.now_schema, f.now_table) IS DISTINCT FROM (f.schema_name, f.table_name)
    UNION ALL
    SELECT f.map_name, f.side, f.label, f.name,
           CASE WHEN f.column_gone THEN 'column dropped'
                WHEN f.now_column <> f.name THEN 'column renamed'
                ELSE 'column retyped'
           END,
           f.prefix || ' column "' || f.name || '" '
           || CASE WHEN f.column_gone
                   THEN 'was dropped; edit the map (' || f.uses || ') and run replicator deploy'
                   WHEN f.now_column <> f.name
                   THEN 'was renamed to "' || f.now_column || '"; edit the map (' || f.uses
                        || ') and run replicator deploy'
                   ELSE 'changed type from ' || f.type_sql || ' to '
                        || format_type(f.now_type, f.now_typmod) || '; check the map ('
                        || f.uses || ') with replicator validate and run replicator deploy'
              END
           || CASE WHEN f.capture_reads AND (f.column_gone OR f.now_column <> f.name)
                   THEN '; ' || f.capture_note
                   ELSE ''
              END
      FROM found AS f
     WHERE f.kind = 'column' AND f.table_there
       AND (f.column_gone OR f.now_column <> f.name OR f.now_type <> f.type_oid
            OR f.now_typmod <> f.typmod)
    UNION ALL
    SELECT f.map_name, f.side, f.label, NULL, 'trigger dropped',
           f.prefix || ' capture trigger "' || f.name || '" is gone (DROP COLUMN ... CASCADE'
           || ' drops it with a column it watches): '
           || CASE WHEN f.name LIKE '%\_upd' THEN 'updates'
                   WHEN f.name LIKE '%\_trunc' THEN 'truncates'
                   ELSE 'inserts and deletes'
              END
           || ' of ' || f.label || ' are not captured; edit the map if a column it used is gone,'
           || ' run replicator deploy (it creates the trigger again), then replicator sync '
           || f.map_name
      FROM found AS f
     WHERE f.kind = 'trigger' AND f.table_there AND NOT f.trigger_there
    )
    SELECT * FROM drifted
    UNION ALL
    -- Parked for another reason than a change this record shows (say, a table that is
    -- not the map's own): named here, so the map does not wait unnoticed.
    SELECT p.map_name, NULL, NULL, NULL, 'changes parked',
           'map ' || p.map_name || ': WAL capture could not queue its changes since '
           || to_char(min(p.parked_at), 'YYYY-MM-DD HH24:MI:SS TZ') || ' (' || min(p.reason)
           || '); they are kept in replicator.wal_parked and queued once the map is fixed'
      FROM replicator.wal_parked AS p
     WHERE p.map_name NOT IN (SELECT d.map_name FROM drifted AS d)
     GROUP BY p.map_name
     ORDER BY 1, 2, 3, 4
$$;

-- WAL capture: queue the changes parked for maps that can capture again (their
-- function works, e.g. after the map was fixed and deployed), oldest first; a map
-- whose function still fails keeps its changes. Returns how many were queued.
CREATE OR REPLACE FUNCTION replicator.unpark_wal()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_route record;
    v_parked record;
    v_queued integer := 0;
    v_route_queued integer;
    v_count integer;
    v_function regprocedure;
BEGIN
    FOR v_route IN SELECT DISTINCT p.map_name, p.direction FROM replicator.wal_parked AS p LOOP
        v_function := to_regprocedure(format('replicator.%I(jsonb)',
                                             'wal_' || v_route.map_name || '_' || v_route.direction));
        CONTINUE WHEN v_function IS NULL;
        v_route_queued := 0;
        BEGIN
            FOR v_parked IN
                SELECT p.id, p.changes FROM replicator.wal_parked AS p
                 WHERE p.map_name = v_route.map_name AND p.direction = v_route.direction
                 ORDER BY p.id
            LOOP
                EXECUTE format('SELECT %s($1)', v_function::regproc) INTO STRICT v_count
                  USING v_parked.changes;
                v_route_queued := v_route_queued + v_count;
                DELETE FROM replicator.wal_parked WHERE id = v_parked.id;
            END LOOP;
            v_queued := v_queued + v_route_queued;
        EXCEPTION
            WHEN syntax_error_or_access_rule_violation OR data_exception THEN
                NULL;  -- still does not fit the table: stays parked
        END;
    END LOOP;
    RETURN v_queued;
END
$$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('drift', '211334ae101ba64ac56fc5f67918395909a2f174653ef0e7f4b6bf35586e44be', '')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/companies/to_right/apply ====
-- Map 'companies', 'to_right': write a batch of captured changes into "cds"."company".
-- The newest change per key wins. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
CREATE OR REPLACE FUNCTION "replicator"."write_companies_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'companies', 'fno.companies'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.company were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", c.id DESC
)
DELETE FROM "cds"."company" AS t
 USING latest AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4))
 WHERE l.op = 'D'
   AND "t"."company_code" = "s"."dataareaid";
    RETURN;
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", c.id DESC
)
INSERT INTO "cds"."company" AS t ("company_code", "name")
SELECT "s"."dataareaid",
       "s"."name"
  FROM latest AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "name" character varying(60))
 WHERE l.op <> 'D'
    ON CONFLICT ("company_code") DO UPDATE
   SET "name" = EXCLUDED."name"
 WHERE ("t"."name") IS DISTINCT FROM (EXCLUDED."name")
   -- An initial sync from the side that is not master adds rows, never overwrites.
   AND current_setting('replicator.keep_existing', true) IS DISTINCT FROM 'on'
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply. A change
-- that applies settles the open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_companies_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'companies' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_companies_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('companies', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad change(s) below
    END;
    FOR v_change IN
        SELECT value FROM jsonb_array_elements(p_changes) ORDER BY (value->>'id')::bigint
    LOOP
        BEGIN
            PERFORM "replicator"."write_companies_to_right"(jsonb_build_array(v_change), p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('companies', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('companies', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_right/apply', 'b5b461e1c3a7f08f312d6b157a97678fdd08dabbac4f9db3d66c405d23e7e2e6', 'DROP FUNCTION IF EXISTS "replicator"."apply_companies_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_companies_to_right"(jsonb, boolean);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/contact_persons/to_right/apply ====
-- Map 'contact_persons', 'to_right': write a batch of captured changes into "cds"."contact".
-- The newest change per key wins. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
CREATE OR REPLACE FUNCTION "replicator"."write_contact_persons_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'contact_persons', 'fno.contact_persons'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.contact were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."contact_person_id") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."contact_person_id", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
)
DELETE FROM "cds"."contact" AS t
 USING resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20))
 WHERE l.op = 'D'
   AND "t"."companyid" = "l"."lookup_1" AND "t"."contactpersonid" = "s"."contact_person_id";
    RETURN;
END IF;
-- One statement: a held change that a newer change of its key overtakes is no
-- longer wanted; a change whose parent has not arrived on this side yet is held,
-- not written with a null reference (the applier retries it when the parent's
-- map applies); the rest is written.
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."contact_person_id") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."contact_person_id", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_right'
       AND h.map_name = 'contact_persons'
       AND h.id < l.id
       AND h.image -> 'dataareaid' = l.image -> 'dataareaid' AND h.image -> 'contact_person_id' = l.image -> 'contact_person_id'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, waiting_for)
    SELECT 'to_right', l.id, 'contact_persons', l.op, l.image, l.refs,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
)
INSERT INTO "cds"."contact" AS t ("companyid", "contactpersonid", "firstname", "lastname", "emailaddress1", "parent_account_number", "is_sellable")
SELECT "l"."lookup_1",
       "s"."contact_person_id",
       "s"."first_name",
       "s"."last_name",
       "s"."email",
       "s"."customer_account",
       CAST(false AS boolean)
  FROM resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20),
       "first_name" character varying(50),
       "last_name" character varying(50),
       "email" character varying(80),
       "customer_account" character varying(20))
 WHERE l.op <> 'D'
   AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
    ON CONFLICT ("companyid", "contactpersonid") DO UPDATE
   SET "firstname" = EXCLUDED."firstname",
       "lastname" = EXCLUDED."lastname",
       "emailaddress1" = EXCLUDED."emailaddress1",
       "parent_account_number" = EXCLUDED."parent_account_number",
       "is_sellable" = ("t"."is_sellable" OR EXCLUDED."is_sellable")
 WHERE ("t"."firstname", "t"."lastname", "t"."emailaddress1", "t"."parent_account_number", "t"."is_sellable") IS DISTINCT FROM (EXCLUDED."firstname", EXCLUDED."lastname", EXCLUDED."emailaddress1", EXCLUDED."parent_account_number", ("t"."is_sellable" OR EXCLUDED."is_sellable"))
   -- An initial sync from the side that is not master adds rows, never overwrites.
   AND current_setting('replicator.keep_existing', true) IS DISTINCT FROM 'on'
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply. A change
-- that applies settles the open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_contact_persons_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'contact_persons' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_contact_persons_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('contact_persons', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'contact_person_id', c.value->'image'->'contact_person_id')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad change(s) below
    END;
    FOR v_change IN
        SELECT value FROM jsonb_array_elements(p_changes) ORDER BY (value->>'id')::bigint
    LOOP
        BEGIN
            PERFORM "replicator"."write_contact_persons_to_right"(jsonb_build_array(v_change), p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('contact_persons', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'contact_person_id', v_change->'image'->'contact_person_id')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('contact_persons', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'contact_person_id', v_change->'image'->'contact_person_id'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_right/apply', '89db0130b87e5009e9394cfa12225917abe0411466b31d461d5bd1250e9c5753', '-- Removing map ''contact_persons'' (''to_right'') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = ''contact_persons'' AND direction = ''to_right'';
    IF v_held > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % held changes waiting for a parent (see replicator.held_change); let their parents arrive, or delete them there yourself, then deploy again'',
            ''contact_persons'', ''to_right'', v_held
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_contact_persons_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_contact_persons_to_right"(jsonb, boolean);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_groups/to_right/apply ====
-- Map 'customer_groups', 'to_right': write a batch of captured changes into "cds"."customer_group".
-- The newest change per key wins. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
CREATE OR REPLACE FUNCTION "replicator"."write_customer_groups_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customer_groups', 'fno.customer_groups'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.customer_group were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."customer_group") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "customer_group" character varying(10))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."customer_group", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
)
DELETE FROM "cds"."customer_group" AS t
 USING resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "customer_group" character varying(10))
 WHERE l.op = 'D'
   AND "t"."companyid" = "l"."lookup_1" AND "t"."group_code" = "s"."customer_group";
    RETURN;
END IF;
-- One statement: a held change that a newer change of its key overtakes is no
-- longer wanted; a change whose parent has not arrived on this side yet is held,
-- not written with a null reference (the applier retries it when the parent's
-- map applies); the rest is written.
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."customer_group") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "customer_group" character varying(10))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."customer_group", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_right'
       AND h.map_name = 'customer_groups'
       AND h.id < l.id
       AND h.image -> 'dataareaid' = l.image -> 'dataareaid' AND h.image -> 'customer_group' = l.image -> 'customer_group'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, waiting_for)
    SELECT 'to_right', l.id, 'customer_groups', l.op, l.image, l.refs,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
)
INSERT INTO "cds"."customer_group" AS t ("companyid", "group_code", "name")
SELECT "l"."lookup_1",
       "s"."customer_group",
       "s"."description"
  FROM resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "customer_group" character varying(10),
       "description" character varying(60))
 WHERE l.op <> 'D'
   AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
    ON CONFLICT ("companyid", "group_code") DO UPDATE
   SET "name" = EXCLUDED."name"
 WHERE ("t"."name") IS DISTINCT FROM (EXCLUDED."name")
   -- An initial sync from the side that is not master adds rows, never overwrites.
   AND current_setting('replicator.keep_existing', true) IS DISTINCT FROM 'on'
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply. A change
-- that applies settles the open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_customer_groups_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'customer_groups' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_customer_groups_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('customer_groups', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'customer_group', c.value->'image'->'customer_group')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad change(s) below
    END;
    FOR v_change IN
        SELECT value FROM jsonb_array_elements(p_changes) ORDER BY (value->>'id')::bigint
    LOOP
        BEGIN
            PERFORM "replicator"."write_customer_groups_to_right"(jsonb_build_array(v_change), p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('customer_groups', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'customer_group', v_change->'image'->'customer_group')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('customer_groups', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'customer_group', v_change->'image'->'customer_group'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_right/apply', 'a090b992d20af688a19e1a6ae4b86dbc7da6f1f47c1b23108affc813920312c1', '-- Removing map ''customer_groups'' (''to_right'') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = ''customer_groups'' AND direction = ''to_right'';
    IF v_held > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % held changes waiting for a parent (see replicator.held_change); let their parents arrive, or delete them there yourself, then deploy again'',
            ''customer_groups'', ''to_right'', v_held
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_customer_groups_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customer_groups_to_right"(jsonb, boolean);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_payment_methods/to_right/apply ====
-- Map 'customer_payment_methods', 'to_right': write a batch of captured changes into "cds"."customer_payment_method".
-- The newest change per key wins. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
CREATE OR REPLACE FUNCTION "replicator"."write_customer_payment_methods_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customer_payment_methods', 'fno.customer_payment_methods'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.customer_payment_method were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_method") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_method" character varying(10))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."payment_method", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
)
DELETE FROM "cds"."customer_payment_method" AS t
 USING resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_method" character varying(10))
 WHERE l.op = 'D'
   AND "t"."companyid" = "l"."lookup_1" AND "t"."code" = "s"."payment_method";
    RETURN;
END IF;
-- One statement: a held change that a newer change of its key overtakes is no
-- longer wanted; a change whose parent has not arrived on this side yet is held,
-- not written with a null reference (the applier retries it when the parent's
-- map applies); the rest is written.
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_method") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_method" character varying(10))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."payment_method", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_right'
       AND h.map_name = 'customer_payment_methods'
       AND h.id < l.id
       AND h.image -> 'dataareaid' = l.image -> 'dataareaid' AND h.image -> 'payment_method' = l.image -> 'payment_method'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, waiting_for)
    SELECT 'to_right', l.id, 'customer_payment_methods', l.op, l.image, l.refs,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
)
INSERT INTO "cds"."customer_payment_method" AS t ("companyid", "code", "name", "payment_type")
SELECT "l"."lookup_1",
       "s"."payment_method",
       "s"."description",
       CAST(CASE WHEN "s"."payment_type" IS NULL THEN NULL WHEN "s"."payment_type"::text = 'Check' THEN 'check' WHEN "s"."payment_type"::text = 'Electronic' THEN 'electronic' WHEN "s"."payment_type"::text = 'Cash' THEN 'cash' ELSE "replicator"."unmapped_value"('customer_payment_methods', 'payment_type', "s"."payment_type"::text) END AS "cds"."payment_type")
  FROM resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_method" character varying(10),
       "description" character varying(60),
       "payment_type" character varying(12))
 WHERE l.op <> 'D'
   AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
    ON CONFLICT ("companyid", "code") DO UPDATE
   SET "name" = EXCLUDED."name",
       "payment_type" = EXCLUDED."payment_type"
 WHERE ("t"."name", "t"."payment_type") IS DISTINCT FROM (EXCLUDED."name", EXCLUDED."payment_type")
   -- An initial sync from the side that is not master adds rows, never overwrites.
   AND current_setting('replicator.keep_existing', true) IS DISTINCT FROM 'on'
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply. A change
-- that applies settles the open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_customer_payment_methods_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'customer_payment_methods' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_customer_payment_methods_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('customer_payment_methods', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_method', c.value->'image'->'payment_method')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad change(s) below
    END;
    FOR v_change IN
        SELECT value FROM jsonb_array_elements(p_changes) ORDER BY (value->>'id')::bigint
    LOOP
        BEGIN
            PERFORM "replicator"."write_customer_payment_methods_to_right"(jsonb_build_array(v_change), p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('customer_payment_methods', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_method', v_change->'image'->'payment_method')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('customer_payment_methods', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_method', v_change->'image'->'payment_method'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_right/apply', '056ef105ea5ea31f04beb72334168f9745beaac6487d714c456b43913458adfe', '-- Removing map ''customer_payment_methods'' (''to_right'') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = ''customer_payment_methods'' AND direction = ''to_right'';
    IF v_held > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % held changes waiting for a parent (see replicator.held_change); let their parents arrive, or delete them there yourself, then deploy again'',
            ''customer_payment_methods'', ''to_right'', v_held
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_customer_payment_methods_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customer_payment_methods_to_right"(jsonb, boolean);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_person/to_right/apply ====
-- Map 'customers_person', 'to_right': write a batch of captured changes into "cds"."contact".
-- The newest change per key wins. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
CREATE OR REPLACE FUNCTION "replicator"."write_customers_person_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customers_person', 'fno.customers'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.contact were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."account_num") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "account_num" character varying(20))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."account_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
)
DELETE FROM "cds"."contact" AS t
 USING resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "account_num" character varying(20))
 WHERE l.op = 'D'
   AND "t"."companyid" = "l"."lookup_1" AND "t"."customer_number" = "s"."account_num";
    RETURN;
END IF;
-- One statement: a held change that a newer change of its key overtakes is no
-- longer wanted; a change whose parent has not arrived on this side yet is held,
-- not written with a null reference (the applier retries it when the parent's
-- map applies); the rest is written.
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."account_num") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "account_num" character varying(20))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."account_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_right'
       AND h.map_name = 'customers_person'
       AND h.id < l.id
       AND h.image -> 'dataareaid' = l.image -> 'dataareaid' AND h.image -> 'account_num' = l.image -> 'account_num'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, waiting_for)
    SELECT 'to_right', l.id, 'customers_person', l.op, l.image, l.refs,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
)
INSERT INTO "cds"."contact" AS t ("companyid", "customer_number", "firstname", "middlename", "lastname", "emailaddress1", "is_sellable")
SELECT "l"."lookup_1",
       "s"."account_num",
       (CAST(SPLIT_PART("s"."name", ' ', 1) AS VARCHAR(50))),
       (CAST(NULLIF(REGEXP_REPLACE(REGEXP_REPLACE("s"."name", '^[^ ]* ?', ''), ' ?[^ ]*$', ''), '') AS VARCHAR(50))),
       (CAST(CASE WHEN POSITION(' ' IN "s"."name") > 0 THEN REGEXP_REPLACE("s"."name", '^.* ', '') END AS VARCHAR(50))),
       "s"."email",
       CAST(true AS boolean)
  FROM resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "account_num" character varying(20),
       "name" character varying(100),
       "email" character varying(80))
 WHERE l.op <> 'D'
   AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
    ON CONFLICT ("companyid", "customer_number") DO UPDATE
   SET "firstname" = EXCLUDED."firstname",
       "middlename" = EXCLUDED."middlename",
       "lastname" = EXCLUDED."lastname",
       "emailaddress1" = EXCLUDED."emailaddress1",
       "is_sellable" = ("t"."is_sellable" OR EXCLUDED."is_sellable")
 WHERE ("t"."firstname", "t"."middlename", "t"."lastname", "t"."emailaddress1", "t"."is_sellable") IS DISTINCT FROM (EXCLUDED."firstname", EXCLUDED."middlename", EXCLUDED."lastname", EXCLUDED."emailaddress1", ("t"."is_sellable" OR EXCLUDED."is_sellable"))
   -- An initial sync from the side that is not master adds rows, never overwrites.
   AND current_setting('replicator.keep_existing', true) IS DISTINCT FROM 'on'
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply. A change
-- that applies settles the open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_customers_person_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'customers_person' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_customers_person_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('customers_person', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'account_num', c.value->'image'->'account_num')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad change(s) below
    END;
    FOR v_change IN
        SELECT value FROM jsonb_array_elements(p_changes) ORDER BY (value->>'id')::bigint
    LOOP
        BEGIN
            PERFORM "replicator"."write_customers_person_to_right"(jsonb_build_array(v_change), p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('customers_person', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'account_num', v_change->'image'->'account_num')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('customers_person', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'account_num', v_change->'image'->'account_num'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_right/apply', '7b053552d1fae84a4772b18f38fd86ef870d60a0a7b56b5841c69a26b75accc4', '-- Removing map ''customers_person'' (''to_right'') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = ''customers_person'' AND direction = ''to_right'';
    IF v_held > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % held changes waiting for a parent (see replicator.held_change); let their parents arrive, or delete them there yourself, then deploy again'',
            ''customers_person'', ''to_right'', v_held
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_customers_person_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customers_person_to_right"(jsonb, boolean);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/loyalty_cards/to_right/apply ====
-- Map 'loyalty_cards', 'to_right': write a batch of captured changes into "cds"."loyalty_card".
-- The newest change per key wins. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
CREATE OR REPLACE FUNCTION "replicator"."write_loyalty_cards_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'loyalty_cards', 'fno.loyalty_cards'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.loyalty_card were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."card_number") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "card_number" character varying(20))
     WHERE c.op <> 'T'
     ORDER BY "k"."card_number", c.id DESC
)
DELETE FROM "cds"."loyalty_card" AS t
 USING latest AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "card_number" character varying(20))
 WHERE l.op = 'D'
   AND "t"."card_number" = "s"."card_number";
    RETURN;
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."card_number") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "card_number" character varying(20))
     WHERE c.op <> 'T'
     ORDER BY "k"."card_number", c.id DESC
)
INSERT INTO "cds"."loyalty_card" AS t ("card_number", "tier", "issued_on", "is_blocked")
SELECT "s"."card_number",
       "s"."tier",
       "s"."issued_on",
       "s"."blocked"
  FROM latest AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "blocked" boolean)
 WHERE l.op <> 'D'
    ON CONFLICT ("card_number") DO UPDATE
   SET "tier" = EXCLUDED."tier",
       "issued_on" = EXCLUDED."issued_on",
       "is_blocked" = EXCLUDED."is_blocked"
 WHERE ("t"."tier", "t"."issued_on", "t"."is_blocked") IS DISTINCT FROM (EXCLUDED."tier", EXCLUDED."issued_on", EXCLUDED."is_blocked")
   -- An initial sync from the side that is not master adds rows, never overwrites.
   AND current_setting('replicator.keep_existing', true) IS DISTINCT FROM 'on'
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply. A change
-- that applies settles the open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_loyalty_cards_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'loyalty_cards' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_loyalty_cards_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('loyalty_cards', 'to_right', ARRAY(
                SELECT jsonb_build_object('card_number', c.value->'image'->'card_number')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad change(s) below
    END;
    FOR v_change IN
        SELECT value FROM jsonb_array_elements(p_changes) ORDER BY (value->>'id')::bigint
    LOOP
        BEGIN
            PERFORM "replicator"."write_loyalty_cards_to_right"(jsonb_build_array(v_change), p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('loyalty_cards', 'to_right', ARRAY[jsonb_build_object('card_number', v_change->'image'->'card_number')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('loyalty_cards', 'to_right', v_change, jsonb_build_object('card_number', v_change->'image'->'card_number'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_right/apply', '0a5ee89d37cc9ad764c19b2a978ce689a02a6fcfbc46f198feb6d93b4b9752c8', 'DROP FUNCTION IF EXISTS "replicator"."apply_loyalty_cards_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_loyalty_cards_to_right"(jsonb, boolean);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/name_affixes/to_right/apply ====
-- Map 'name_affixes', 'to_right': write a batch of captured changes into "cds"."name_affix".
-- The newest change per key wins. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
CREATE OR REPLACE FUNCTION "replicator"."write_name_affixes_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'name_affixes', 'fno.name_affixes'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.name_affix were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."affix", "k"."affix_type") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "affix" character varying(20),
       "affix_type" character varying(10))
     WHERE c.op <> 'T'
     ORDER BY "k"."affix", "k"."affix_type", c.id DESC
)
DELETE FROM "cds"."name_affix" AS t
 USING latest AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "affix" character varying(20),
       "affix_type" character varying(10))
 WHERE l.op = 'D'
   AND "t"."affix" = "s"."affix" AND "t"."affix_type" = "s"."affix_type";
    RETURN;
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."affix", "k"."affix_type") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "affix" character varying(20),
       "affix_type" character varying(10))
     WHERE c.op <> 'T'
     ORDER BY "k"."affix", "k"."affix_type", c.id DESC
)
INSERT INTO "cds"."name_affix" AS t ("affix", "affix_type", "description")
SELECT "s"."affix",
       "s"."affix_type",
       "s"."description"
  FROM latest AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "affix" character varying(20),
       "affix_type" character varying(10),
       "description" character varying(60))
 WHERE l.op <> 'D'
    ON CONFLICT ("affix", "affix_type") DO UPDATE
   SET "description" = EXCLUDED."description"
 WHERE ("t"."description") IS DISTINCT FROM (EXCLUDED."description")
   -- An initial sync from the side that is not master adds rows, never overwrites.
   AND current_setting('replicator.keep_existing', true) IS DISTINCT FROM 'on'
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply. A change
-- that applies settles the open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_name_affixes_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'name_affixes' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_name_affixes_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('name_affixes', 'to_right', ARRAY(
                SELECT jsonb_build_object('affix', c.value->'image'->'affix', 'affix_type', c.value->'image'->'affix_type')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad change(s) below
    END;
    FOR v_change IN
        SELECT value FROM jsonb_array_elements(p_changes) ORDER BY (value->>'id')::bigint
    LOOP
        BEGIN
            PERFORM "replicator"."write_name_affixes_to_right"(jsonb_build_array(v_change), p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('name_affixes', 'to_right', ARRAY[jsonb_build_object('affix', v_change->'image'->'affix', 'affix_type', v_change->'image'->'affix_type')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('name_affixes', 'to_right', v_change, jsonb_build_object('affix', v_change->'image'->'affix', 'affix_type', v_change->'image'->'affix_type'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_right/apply', '89f41c7a466bd7fe185b1cce9e3fe2eeffdcf865ab513a5a280c79f54d7443cd', 'DROP FUNCTION IF EXISTS "replicator"."apply_name_affixes_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_name_affixes_to_right"(jsonb, boolean);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_days/to_right/apply ====
-- Map 'payment_days', 'to_right': write a batch of captured changes into "cds"."payment_day".
-- The newest change per key wins. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
CREATE OR REPLACE FUNCTION "replicator"."write_payment_days_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_days', 'fno.payment_days'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.payment_day were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_day_name") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."payment_day_name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
)
DELETE FROM "cds"."payment_day" AS t
 USING resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30))
 WHERE l.op = 'D'
   AND "t"."companyid" = "l"."lookup_1" AND "t"."name" = "s"."payment_day_name";
    RETURN;
END IF;
-- One statement: a held change that a newer change of its key overtakes is no
-- longer wanted; a change whose parent has not arrived on this side yet is held,
-- not written with a null reference (the applier retries it when the parent's
-- map applies); the rest is written.
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_day_name") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."payment_day_name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_right'
       AND h.map_name = 'payment_days'
       AND h.id < l.id
       AND h.image -> 'dataareaid' = l.image -> 'dataareaid' AND h.image -> 'payment_day_name' = l.image -> 'payment_day_name'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, waiting_for)
    SELECT 'to_right', l.id, 'payment_days', l.op, l.image, l.refs,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
)
INSERT INTO "cds"."payment_day" AS t ("companyid", "name", "description")
SELECT "l"."lookup_1",
       "s"."payment_day_name",
       "s"."description"
  FROM resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "description" character varying(60))
 WHERE l.op <> 'D'
   AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
    ON CONFLICT ("companyid", "name") DO UPDATE
   SET "description" = EXCLUDED."description"
 WHERE ("t"."description") IS DISTINCT FROM (EXCLUDED."description")
   -- An initial sync from the side that is not master adds rows, never overwrites.
   AND current_setting('replicator.keep_existing', true) IS DISTINCT FROM 'on'
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply. A change
-- that applies settles the open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_days_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'payment_days' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_payment_days_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('payment_days', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_day_name', c.value->'image'->'payment_day_name')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad change(s) below
    END;
    FOR v_change IN
        SELECT value FROM jsonb_array_elements(p_changes) ORDER BY (value->>'id')::bigint
    LOOP
        BEGIN
            PERFORM "replicator"."write_payment_days_to_right"(jsonb_build_array(v_change), p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('payment_days', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_day_name', v_change->'image'->'payment_day_name')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('payment_days', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_day_name', v_change->'image'->'payment_day_name'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_right/apply', 'cfd19eb980b158c05c8e02d32678fa3b8e3fb058051f8498a7ac10df171744c8', '-- Removing map ''payment_days'' (''to_right'') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = ''payment_days'' AND direction = ''to_right'';
    IF v_held > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % held changes waiting for a parent (see replicator.held_change); let their parents arrive, or delete them there yourself, then deploy again'',
            ''payment_days'', ''to_right'', v_held
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_payment_days_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_days_to_right"(jsonb, boolean);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_day_lines/to_right/apply ====
-- Map 'payment_day_lines', 'to_right': write a batch of captured changes into "cds"."payment_day_line".
-- The newest change per key wins. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
CREATE OR REPLACE FUNCTION "replicator"."write_payment_day_lines_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_day_lines', 'fno.payment_day_lines'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.payment_day_line were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_day_name", "k"."line_num") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer)
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."payment_day_name", "k"."line_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentdayid" FROM "cds"."payment_day" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentdayid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentdayid') ->> 'payment_day_name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
)
DELETE FROM "cds"."payment_day_line" AS t
 USING resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer)
 WHERE l.op = 'D'
   AND "t"."companyid" = "l"."lookup_1" AND "t"."paymentdayid" = "l"."lookup_2" AND "t"."line_number" = "s"."line_num";
    RETURN;
END IF;
-- One statement: a held change that a newer change of its key overtakes is no
-- longer wanted; a change whose parent has not arrived on this side yet is held,
-- not written with a null reference (the applier retries it when the parent's
-- map applies); the rest is written.
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_day_name", "k"."line_num") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer)
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."payment_day_name", "k"."line_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentdayid" FROM "cds"."payment_day" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentdayid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentdayid') ->> 'payment_day_name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_right'
       AND h.map_name = 'payment_day_lines'
       AND h.id < l.id
       AND h.image -> 'dataareaid' = l.image -> 'dataareaid' AND h.image -> 'payment_day_name' = l.image -> 'payment_day_name' AND h.image -> 'line_num' = l.image -> 'line_num'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, waiting_for)
    SELECT 'to_right', l.id, 'payment_day_lines', l.op, l.image, l.refs,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'payment_day_name' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'payment_days' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'payment_day_name' IS NOT NULL AND "l"."lookup_2" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
)
INSERT INTO "cds"."payment_day_line" AS t ("companyid", "paymentdayid", "line_number", "weekday", "dayofmonth")
SELECT "l"."lookup_1",
       "l"."lookup_2",
       "s"."line_num",
       CAST(CASE WHEN "s"."week_day" IS NULL THEN NULL WHEN "s"."week_day"::text = 'None' THEN 'none' WHEN "s"."week_day"::text = 'Monday' THEN 'monday' WHEN "s"."week_day"::text = 'Tuesday' THEN 'tuesday' WHEN "s"."week_day"::text = 'Wednesday' THEN 'wednesday' WHEN "s"."week_day"::text = 'Thursday' THEN 'thursday' WHEN "s"."week_day"::text = 'Friday' THEN 'friday' WHEN "s"."week_day"::text = 'Saturday' THEN 'saturday' WHEN "s"."week_day"::text = 'Sunday' THEN 'sunday' ELSE "replicator"."unmapped_value"('payment_day_lines', 'week_day', "s"."week_day"::text) END AS "cds"."weekday"),
       "s"."day_of_month"
  FROM resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer,
       "week_day" character varying(10),
       "day_of_month" integer)
 WHERE l.op <> 'D'
   AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'payment_day_name' IS NOT NULL AND "l"."lookup_2" IS NULL))
    ON CONFLICT ("companyid", "paymentdayid", "line_number") DO UPDATE
   SET "weekday" = EXCLUDED."weekday",
       "dayofmonth" = EXCLUDED."dayofmonth"
 WHERE ("t"."weekday", "t"."dayofmonth") IS DISTINCT FROM (EXCLUDED."weekday", EXCLUDED."dayofmonth")
   -- An initial sync from the side that is not master adds rows, never overwrites.
   AND current_setting('replicator.keep_existing', true) IS DISTINCT FROM 'on'
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply. A change
-- that applies settles the open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_day_lines_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'payment_day_lines' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_payment_day_lines_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('payment_day_lines', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_day_name', c.value->'image'->'payment_day_name', 'line_num', c.value->'image'->'line_num')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad change(s) below
    END;
    FOR v_change IN
        SELECT value FROM jsonb_array_elements(p_changes) ORDER BY (value->>'id')::bigint
    LOOP
        BEGIN
            PERFORM "replicator"."write_payment_day_lines_to_right"(jsonb_build_array(v_change), p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('payment_day_lines', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_day_name', v_change->'image'->'payment_day_name', 'line_num', v_change->'image'->'line_num')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('payment_day_lines', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_day_name', v_change->'image'->'payment_day_name', 'line_num', v_change->'image'->'line_num'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_right/apply', '420f60227c06b27b44fce8f470809d80130dcdee702afe85e3868b74f98028f3', '-- Removing map ''payment_day_lines'' (''to_right'') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = ''payment_day_lines'' AND direction = ''to_right'';
    IF v_held > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % held changes waiting for a parent (see replicator.held_change); let their parents arrive, or delete them there yourself, then deploy again'',
            ''payment_day_lines'', ''to_right'', v_held
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_payment_day_lines_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_day_lines_to_right"(jsonb, boolean);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedules/to_right/apply ====
-- Map 'payment_schedules', 'to_right': write a batch of captured changes into "cds"."payment_schedule".
-- The newest change per key wins. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
CREATE OR REPLACE FUNCTION "replicator"."write_payment_schedules_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_schedules', 'fno.payment_schedules'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.payment_schedule were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."schedule_name") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."schedule_name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
)
DELETE FROM "cds"."payment_schedule" AS t
 USING resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30))
 WHERE l.op = 'D'
   AND "t"."companyid" = "l"."lookup_1" AND "t"."name" = "s"."schedule_name";
    RETURN;
END IF;
-- One statement: a held change that a newer change of its key overtakes is no
-- longer wanted; a change whose parent has not arrived on this side yet is held,
-- not written with a null reference (the applier retries it when the parent's
-- map applies); the rest is written.
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."schedule_name") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."schedule_name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_right'
       AND h.map_name = 'payment_schedules'
       AND h.id < l.id
       AND h.image -> 'dataareaid' = l.image -> 'dataareaid' AND h.image -> 'schedule_name' = l.image -> 'schedule_name'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, waiting_for)
    SELECT 'to_right', l.id, 'payment_schedules', l.op, l.image, l.refs,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
)
INSERT INTO "cds"."payment_schedule" AS t ("companyid", "name", "description", "allocation")
SELECT "l"."lookup_1",
       "s"."schedule_name",
       "s"."description",
       CAST(CASE WHEN "s"."allocation" IS NULL THEN NULL WHEN "s"."allocation"::text = 'Percent' THEN 'percent' WHEN "s"."allocation"::text = 'Fixed' THEN 'fixed' ELSE "replicator"."unmapped_value"('payment_schedules', 'allocation', "s"."allocation"::text) END AS "cds"."allocation_type")
  FROM resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "description" character varying(60),
       "allocation" character varying(10))
 WHERE l.op <> 'D'
   AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
    ON CONFLICT ("companyid", "name") DO UPDATE
   SET "description" = EXCLUDED."description",
       "allocation" = EXCLUDED."allocation"
 WHERE ("t"."description", "t"."allocation") IS DISTINCT FROM (EXCLUDED."description", EXCLUDED."allocation")
   -- An initial sync from the side that is not master adds rows, never overwrites.
   AND current_setting('replicator.keep_existing', true) IS DISTINCT FROM 'on'
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply. A change
-- that applies settles the open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_schedules_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'payment_schedules' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_payment_schedules_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('payment_schedules', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'schedule_name', c.value->'image'->'schedule_name')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad change(s) below
    END;
    FOR v_change IN
        SELECT value FROM jsonb_array_elements(p_changes) ORDER BY (value->>'id')::bigint
    LOOP
        BEGIN
            PERFORM "replicator"."write_payment_schedules_to_right"(jsonb_build_array(v_change), p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('payment_schedules', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'schedule_name', v_change->'image'->'schedule_name')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('payment_schedules', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'schedule_name', v_change->'image'->'schedule_name'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_right/apply', 'f42ec8e76a0ab82a609fa1ad02e8f5e90088a12091689ebe8ef3301939b6e39a', '-- Removing map ''payment_schedules'' (''to_right'') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = ''payment_schedules'' AND direction = ''to_right'';
    IF v_held > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % held changes waiting for a parent (see replicator.held_change); let their parents arrive, or delete them there yourself, then deploy again'',
            ''payment_schedules'', ''to_right'', v_held
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_payment_schedules_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_schedules_to_right"(jsonb, boolean);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedule_lines/to_right/apply ====
-- Map 'payment_schedule_lines', 'to_right': write a batch of captured changes into "cds"."payment_schedule_line".
-- The newest change per key wins. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
CREATE OR REPLACE FUNCTION "replicator"."write_payment_schedule_lines_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_schedule_lines', 'fno.payment_schedule_lines'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.payment_schedule_line were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."schedule_name", "k"."line_num") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer)
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."schedule_name", "k"."line_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentscheduleid" FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentscheduleid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentscheduleid') ->> 'schedule_name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
)
DELETE FROM "cds"."payment_schedule_line" AS t
 USING resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer)
 WHERE l.op = 'D'
   AND "t"."companyid" = "l"."lookup_1" AND "t"."paymentscheduleid" = "l"."lookup_2" AND "t"."line_number" = "s"."line_num";
    RETURN;
END IF;
-- One statement: a held change that a newer change of its key overtakes is no
-- longer wanted; a change whose parent has not arrived on this side yet is held,
-- not written with a null reference (the applier retries it when the parent's
-- map applies); the rest is written.
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."schedule_name", "k"."line_num") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer)
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."schedule_name", "k"."line_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentscheduleid" FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentscheduleid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentscheduleid') ->> 'schedule_name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_right'
       AND h.map_name = 'payment_schedule_lines'
       AND h.id < l.id
       AND h.image -> 'dataareaid' = l.image -> 'dataareaid' AND h.image -> 'schedule_name' = l.image -> 'schedule_name' AND h.image -> 'line_num' = l.image -> 'line_num'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, waiting_for)
    SELECT 'to_right', l.id, 'payment_schedule_lines', l.op, l.image, l.refs,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'schedule_name' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'payment_schedules' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'schedule_name' IS NOT NULL AND "l"."lookup_2" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
)
INSERT INTO "cds"."payment_schedule_line" AS t ("companyid", "paymentscheduleid", "line_number", "percentage", "months", "days")
SELECT "l"."lookup_1",
       "l"."lookup_2",
       "s"."line_num",
       "s"."percent",
       "s"."due_months",
       "s"."due_days"
  FROM resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer,
       "percent" numeric(32,6),
       "due_months" integer,
       "due_days" integer)
 WHERE l.op <> 'D'
   AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'schedule_name' IS NOT NULL AND "l"."lookup_2" IS NULL))
    ON CONFLICT ("companyid", "paymentscheduleid", "line_number") DO UPDATE
   SET "percentage" = EXCLUDED."percentage",
       "months" = EXCLUDED."months",
       "days" = EXCLUDED."days"
 WHERE ("t"."percentage", "t"."months", "t"."days") IS DISTINCT FROM (EXCLUDED."percentage", EXCLUDED."months", EXCLUDED."days")
   -- An initial sync from the side that is not master adds rows, never overwrites.
   AND current_setting('replicator.keep_existing', true) IS DISTINCT FROM 'on'
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply. A change
-- that applies settles the open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_schedule_lines_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'payment_schedule_lines' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_payment_schedule_lines_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('payment_schedule_lines', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'schedule_name', c.value->'image'->'schedule_name', 'line_num', c.value->'image'->'line_num')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad change(s) below
    END;
    FOR v_change IN
        SELECT value FROM jsonb_array_elements(p_changes) ORDER BY (value->>'id')::bigint
    LOOP
        BEGIN
            PERFORM "replicator"."write_payment_schedule_lines_to_right"(jsonb_build_array(v_change), p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('payment_schedule_lines', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'schedule_name', v_change->'image'->'schedule_name', 'line_num', v_change->'image'->'line_num')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('payment_schedule_lines', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'schedule_name', v_change->'image'->'schedule_name', 'line_num', v_change->'image'->'line_num'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_right/apply', '64a3e839a0bf3947b3eaf7b883fb929d34cb0e58956ea4acdcc76d81b0d37e38', '-- Removing map ''payment_schedule_lines'' (''to_right'') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = ''payment_schedule_lines'' AND direction = ''to_right'';
    IF v_held > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % held changes waiting for a parent (see replicator.held_change); let their parents arrive, or delete them there yourself, then deploy again'',
            ''payment_schedule_lines'', ''to_right'', v_held
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_payment_schedule_lines_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_schedule_lines_to_right"(jsonb, boolean);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_terms/to_right/apply ====
-- Map 'payment_terms', 'to_right': write a batch of captured changes into "cds"."payment_term".
-- The newest change per key wins. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
CREATE OR REPLACE FUNCTION "replicator"."write_payment_terms_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_terms', 'fno.payment_terms'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.payment_term were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_term_id") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."payment_term_id", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentscheduleid" FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentscheduleid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentscheduleid') ->> 'schedule_name' AS character varying(30))) AS "lookup_2",
           (SELECT "p1"."paymentdayid" FROM "cds"."payment_day" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentdayid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentdayid') ->> 'payment_day_name' AS character varying(30))) AS "lookup_3"
      FROM latest AS l
)
DELETE FROM "cds"."payment_term" AS t
 USING resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10))
 WHERE l.op = 'D'
   AND "t"."companyid" = "l"."lookup_1" AND "t"."code" = "s"."payment_term_id";
    RETURN;
END IF;
-- One statement: a held change that a newer change of its key overtakes is no
-- longer wanted; a change whose parent has not arrived on this side yet is held,
-- not written with a null reference (the applier retries it when the parent's
-- map applies); the rest is written.
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_term_id") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."payment_term_id", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentscheduleid" FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentscheduleid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentscheduleid') ->> 'schedule_name' AS character varying(30))) AS "lookup_2",
           (SELECT "p1"."paymentdayid" FROM "cds"."payment_day" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentdayid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentdayid') ->> 'payment_day_name' AS character varying(30))) AS "lookup_3"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_right'
       AND h.map_name = 'payment_terms'
       AND h.id < l.id
       AND h.image -> 'dataareaid' = l.image -> 'dataareaid' AND h.image -> 'payment_term_id' = l.image -> 'payment_term_id'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, waiting_for)
    SELECT 'to_right', l.id, 'payment_terms', l.op, l.image, l.refs,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'payment_schedule' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'payment_schedules' END, CASE WHEN (l.image ->> 'payment_day' IS NOT NULL AND "l"."lookup_3" IS NULL) THEN 'payment_days' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'payment_schedule' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'payment_day' IS NOT NULL AND "l"."lookup_3" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
)
INSERT INTO "cds"."payment_term" AS t ("companyid", "code", "name", "due_days", "paymentscheduleid", "paymentdayid")
SELECT "l"."lookup_1",
       "s"."payment_term_id",
       "s"."description",
       "s"."net_days",
       "l"."lookup_2",
       "l"."lookup_3"
  FROM resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10),
       "description" character varying(60),
       "net_days" integer,
       "payment_schedule" character varying(30),
       "payment_day" character varying(30))
 WHERE l.op <> 'D'
   AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'payment_schedule' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'payment_day' IS NOT NULL AND "l"."lookup_3" IS NULL))
    ON CONFLICT ("companyid", "code") DO UPDATE
   SET "name" = EXCLUDED."name",
       "due_days" = EXCLUDED."due_days",
       "paymentscheduleid" = EXCLUDED."paymentscheduleid",
       "paymentdayid" = EXCLUDED."paymentdayid"
 WHERE ("t"."name", "t"."due_days", "t"."paymentscheduleid", "t"."paymentdayid") IS DISTINCT FROM (EXCLUDED."name", EXCLUDED."due_days", EXCLUDED."paymentscheduleid", EXCLUDED."paymentdayid")
   -- An initial sync from the side that is not master adds rows, never overwrites.
   AND current_setting('replicator.keep_existing', true) IS DISTINCT FROM 'on'
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply. A change
-- that applies settles the open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_terms_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'payment_terms' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_payment_terms_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('payment_terms', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_term_id', c.value->'image'->'payment_term_id')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad change(s) below
    END;
    FOR v_change IN
        SELECT value FROM jsonb_array_elements(p_changes) ORDER BY (value->>'id')::bigint
    LOOP
        BEGIN
            PERFORM "replicator"."write_payment_terms_to_right"(jsonb_build_array(v_change), p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('payment_terms', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_term_id', v_change->'image'->'payment_term_id')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('payment_terms', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_term_id', v_change->'image'->'payment_term_id'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_right/apply', 'd3e756ee07d3811de2d5c4f224f3b98bd76d6a0f19d08cadc75066a94462ad95', '-- Removing map ''payment_terms'' (''to_right'') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = ''payment_terms'' AND direction = ''to_right'';
    IF v_held > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % held changes waiting for a parent (see replicator.held_change); let their parents arrive, or delete them there yourself, then deploy again'',
            ''payment_terms'', ''to_right'', v_held
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_payment_terms_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_terms_to_right"(jsonb, boolean);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_organization/to_right/apply ====
-- Map 'customers_organization', 'to_right': write a batch of captured changes into "cds"."account".
-- The newest change per key wins. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
CREATE OR REPLACE FUNCTION "replicator"."write_customers_organization_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customers_organization', 'fno.customers'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.account were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."account_num") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "account_num" character varying(20))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."account_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."customergroupid" FROM "cds"."customer_group" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'customergroupid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."group_code" = CAST((l.refs -> 'customergroupid') ->> 'customer_group' AS character varying(10))) AS "lookup_2",
           (SELECT "p1"."paymenttermid" FROM "cds"."payment_term" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymenttermid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.refs -> 'paymenttermid') ->> 'payment_term_id' AS character varying(10))) AS "lookup_3",
           (SELECT "p1"."customerpaymentmethodid" FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'customerpaymentmethodid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.refs -> 'customerpaymentmethodid') ->> 'payment_method' AS character varying(10))) AS "lookup_4"
      FROM latest AS l
)
DELETE FROM "cds"."account" AS t
 USING resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "account_num" character varying(20))
 WHERE l.op = 'D'
   AND "t"."companyid" = "l"."lookup_1" AND "t"."accountnumber" = "s"."account_num";
    RETURN;
END IF;
-- One statement: a held change that a newer change of its key overtakes is no
-- longer wanted; a change whose parent has not arrived on this side yet is held,
-- not written with a null reference (the applier retries it when the parent's
-- map applies); the rest is written.
WITH latest AS (
    SELECT DISTINCT ON ("k"."dataareaid", "k"."account_num") c.id, c.op, c.image, c.refs
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb, refs jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "account_num" character varying(20))
     WHERE c.op <> 'T'
     ORDER BY "k"."dataareaid", "k"."account_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."customergroupid" FROM "cds"."customer_group" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'customergroupid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."group_code" = CAST((l.refs -> 'customergroupid') ->> 'customer_group' AS character varying(10))) AS "lookup_2",
           (SELECT "p1"."paymenttermid" FROM "cds"."payment_term" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymenttermid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.refs -> 'paymenttermid') ->> 'payment_term_id' AS character varying(10))) AS "lookup_3",
           (SELECT "p1"."customerpaymentmethodid" FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'customerpaymentmethodid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.refs -> 'customerpaymentmethodid') ->> 'payment_method' AS character varying(10))) AS "lookup_4"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_right'
       AND h.map_name = 'customers_organization'
       AND h.id < l.id
       AND h.image -> 'dataareaid' = l.image -> 'dataareaid' AND h.image -> 'account_num' = l.image -> 'account_num'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, waiting_for)
    SELECT 'to_right', l.id, 'customers_organization', l.op, l.image, l.refs,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'customer_group' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'customer_groups' END, CASE WHEN (l.image ->> 'payment_terms' IS NOT NULL AND "l"."lookup_3" IS NULL) THEN 'payment_terms' END, CASE WHEN (l.image ->> 'payment_method' IS NOT NULL AND "l"."lookup_4" IS NULL) THEN 'customer_payment_methods' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'customer_group' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'payment_terms' IS NOT NULL AND "l"."lookup_3" IS NULL) OR (l.image ->> 'payment_method' IS NOT NULL AND "l"."lookup_4" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
)
INSERT INTO "cds"."account" AS t ("companyid", "accountnumber", "name", "customergroupid", "paymenttermid", "customerpaymentmethodid", "emailaddress1", "creditlimit", "credit_hold", "relationship_type")
SELECT "l"."lookup_1",
       "s"."account_num",
       "s"."name",
       "l"."lookup_2",
       "l"."lookup_3",
       "l"."lookup_4",
       "s"."email",
       (CAST(ROUND("s"."credit_limit", 4) AS DECIMAL(38, 4))),
       CAST(CASE WHEN "s"."blocked" IS NULL THEN NULL WHEN "s"."blocked"::text = 'No' THEN 'none' WHEN "s"."blocked"::text = 'Invoice' THEN 'invoice_hold' WHEN "s"."blocked"::text = 'All' THEN 'full_hold' ELSE "replicator"."unmapped_value"('customers_organization', 'blocked', "s"."blocked"::text) END AS "cds"."hold_status"),
       CAST('customer' AS character varying(20))
  FROM resolved AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "account_num" character varying(20),
       "name" character varying(100),
       "customer_group" character varying(10),
       "payment_terms" character varying(10),
       "payment_method" character varying(10),
       "email" character varying(80),
       "credit_limit" numeric(32,6),
       "blocked" character varying(10))
 WHERE l.op <> 'D'
   AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'customer_group' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'payment_terms' IS NOT NULL AND "l"."lookup_3" IS NULL) OR (l.image ->> 'payment_method' IS NOT NULL AND "l"."lookup_4" IS NULL))
    ON CONFLICT ("companyid", "accountnumber") DO UPDATE
   SET "name" = EXCLUDED."name",
       "customergroupid" = EXCLUDED."customergroupid",
       "paymenttermid" = EXCLUDED."paymenttermid",
       "customerpaymentmethodid" = EXCLUDED."customerpaymentmethodid",
       "emailaddress1" = COALESCE(EXCLUDED."emailaddress1", "t"."emailaddress1"),
       "creditlimit" = EXCLUDED."creditlimit",
       "credit_hold" = EXCLUDED."credit_hold",
       "relationship_type" = EXCLUDED."relationship_type"
 WHERE ("t"."name", "t"."customergroupid", "t"."paymenttermid", "t"."customerpaymentmethodid", "t"."emailaddress1", "t"."creditlimit", "t"."credit_hold", "t"."relationship_type") IS DISTINCT FROM (EXCLUDED."name", EXCLUDED."customergroupid", EXCLUDED."paymenttermid", EXCLUDED."customerpaymentmethodid", COALESCE(EXCLUDED."emailaddress1", "t"."emailaddress1"), EXCLUDED."creditlimit", EXCLUDED."credit_hold", EXCLUDED."relationship_type")
   -- An initial sync from the side that is not master adds rows, never overwrites.
   AND current_setting('replicator.keep_existing', true) IS DISTINCT FROM 'on'
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply. A change
-- that applies settles the open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_customers_organization_to_right"(p_changes jsonb, p_deletes boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'customers_organization' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_customers_organization_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('customers_organization', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'account_num', c.value->'image'->'account_num')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad change(s) below
    END;
    FOR v_change IN
        SELECT value FROM jsonb_array_elements(p_changes) ORDER BY (value->>'id')::bigint
    LOOP
        BEGIN
            PERFORM "replicator"."write_customers_organization_to_right"(jsonb_build_array(v_change), p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('customers_organization', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'account_num', v_change->'image'->'account_num')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('customers_organization', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'account_num', v_change->'image'->'account_num'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_right/apply', '052c468968a7e82b51125e7ef2a36e8cfb14025cf5006ccd73abe1b9fc6e2504', '-- Removing map ''customers_organization'' (''to_right'') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = ''customers_organization'' AND direction = ''to_right'';
    IF v_held > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % held changes waiting for a parent (see replicator.held_change); let their parents arrive, or delete them there yourself, then deploy again'',
            ''customers_organization'', ''to_right'', v_held
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_customers_organization_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customers_organization_to_right"(jsonb, boolean);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create dispatch ====
-- Hands each change of a batch to the apply function of its map: deletes and
-- truncates first, children before parents; then inserts and updates, parents before children,
-- each map followed by a retry of its held changes if a parent it waits for applied.
CREATE OR REPLACE FUNCTION "replicator"."apply_batch"(p_direction text, p_batch jsonb)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $dispatch$
DECLARE
    v_changes jsonb;
    v_count integer;
    v_map_failed integer;
    v_held integer;
    v_failed integer := 0;
    v_delete_failed jsonb := '{}';
    v_applied text[] := '{}';  -- maps that wrote rows in this batch
BEGIN
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customers_organization' AND c.value->>'op' IN ('D', 'T');
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_customers_organization_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('customers_organization', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_terms' AND c.value->>'op' IN ('D', 'T');
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_payment_terms_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('payment_terms', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_schedule_lines' AND c.value->>'op' IN ('D', 'T');
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_payment_schedule_lines_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('payment_schedule_lines', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_schedules' AND c.value->>'op' IN ('D', 'T');
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_payment_schedules_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('payment_schedules', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_day_lines' AND c.value->>'op' IN ('D', 'T');
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_payment_day_lines_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('payment_day_lines', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_days' AND c.value->>'op' IN ('D', 'T');
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_payment_days_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('payment_days', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'name_affixes' AND c.value->>'op' IN ('D', 'T');
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_name_affixes_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('name_affixes', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'loyalty_cards' AND c.value->>'op' IN ('D', 'T');
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_loyalty_cards_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('loyalty_cards', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customers_person' AND c.value->>'op' IN ('D', 'T');
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_customers_person_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('customers_person', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customer_payment_methods' AND c.value->>'op' IN ('D', 'T');
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_customer_payment_methods_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('customer_payment_methods', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customer_groups' AND c.value->>'op' IN ('D', 'T');
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_customer_groups_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('customer_groups', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'contact_persons' AND c.value->>'op' IN ('D', 'T');
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_contact_persons_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('contact_persons', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'companies' AND c.value->>'op' IN ('D', 'T');
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_companies_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('companies', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'companies';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_companies_to_right"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            v_held := 0;
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'companies')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'companies' AND direction = 'to_right';
            v_applied := array_append(v_applied, 'companies');
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'contact_persons';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_contact_persons_to_right"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'contact_persons')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'contact_persons' AND direction = 'to_right';
            v_applied := array_append(v_applied, 'contact_persons');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'contact_persons'
                RETURNING id, op, image, refs
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_contact_persons_to_right"(v_changes, false);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'contact_persons';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'contact_persons' AND direction = 'to_right';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'contact_persons');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customer_groups';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customer_groups_to_right"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'customer_groups')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'customer_groups' AND direction = 'to_right';
            v_applied := array_append(v_applied, 'customer_groups');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customer_groups'
                RETURNING id, op, image, refs
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customer_groups_to_right"(v_changes, false);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customer_groups';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'customer_groups' AND direction = 'to_right';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'customer_groups');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customer_payment_methods';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customer_payment_methods_to_right"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'customer_payment_methods')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'customer_payment_methods' AND direction = 'to_right';
            v_applied := array_append(v_applied, 'customer_payment_methods');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customer_payment_methods'
                RETURNING id, op, image, refs
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customer_payment_methods_to_right"(v_changes, false);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customer_payment_methods';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'customer_payment_methods' AND direction = 'to_right';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'customer_payment_methods');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customers_person';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customers_person_to_right"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'customers_person')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'customers_person' AND direction = 'to_right';
            v_applied := array_append(v_applied, 'customers_person');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customers_person'
                RETURNING id, op, image, refs
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customers_person_to_right"(v_changes, false);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customers_person';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'customers_person' AND direction = 'to_right';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'customers_person');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'loyalty_cards';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_loyalty_cards_to_right"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            v_held := 0;
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'loyalty_cards')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'loyalty_cards' AND direction = 'to_right';
            v_applied := array_append(v_applied, 'loyalty_cards');
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'name_affixes';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_name_affixes_to_right"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            v_held := 0;
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'name_affixes')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'name_affixes' AND direction = 'to_right';
            v_applied := array_append(v_applied, 'name_affixes');
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_days';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_days_to_right"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'payment_days')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'payment_days' AND direction = 'to_right';
            v_applied := array_append(v_applied, 'payment_days');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_days'
                RETURNING id, op, image, refs
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_days_to_right"(v_changes, false);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_days';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'payment_days' AND direction = 'to_right';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'payment_days');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_day_lines';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_day_lines_to_right"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'payment_day_lines')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'payment_day_lines' AND direction = 'to_right';
            v_applied := array_append(v_applied, 'payment_day_lines');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies', 'payment_days']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_day_lines'
                RETURNING id, op, image, refs
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_day_lines_to_right"(v_changes, false);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_day_lines';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'payment_day_lines' AND direction = 'to_right';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'payment_day_lines');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_schedules';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_schedules_to_right"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'payment_schedules')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'payment_schedules' AND direction = 'to_right';
            v_applied := array_append(v_applied, 'payment_schedules');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_schedules'
                RETURNING id, op, image, refs
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_schedules_to_right"(v_changes, false);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_schedules';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'payment_schedules' AND direction = 'to_right';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'payment_schedules');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_schedule_lines';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_schedule_lines_to_right"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'payment_schedule_lines')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'payment_schedule_lines' AND direction = 'to_right';
            v_applied := array_append(v_applied, 'payment_schedule_lines');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies', 'payment_schedules']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_schedule_lines'
                RETURNING id, op, image, refs
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_schedule_lines_to_right"(v_changes, false);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_schedule_lines';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'payment_schedule_lines' AND direction = 'to_right';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'payment_schedule_lines');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_terms';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_terms_to_right"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'payment_terms')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'payment_terms' AND direction = 'to_right';
            v_applied := array_append(v_applied, 'payment_terms');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies', 'payment_schedules', 'payment_days']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_terms'
                RETURNING id, op, image, refs
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_terms_to_right"(v_changes, false);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_terms';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'payment_terms' AND direction = 'to_right';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'payment_terms');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customers_organization';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customers_organization_to_right"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'customers_organization')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'customers_organization' AND direction = 'to_right';
            v_applied := array_append(v_applied, 'customers_organization');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies', 'customer_groups', 'payment_terms', 'customer_payment_methods']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customers_organization'
                RETURNING id, op, image, refs
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customers_organization_to_right"(v_changes, false);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customers_organization';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'customers_organization' AND direction = 'to_right';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'customers_organization');
                END IF;
            END IF;
        END IF;
    END IF;
    -- A change for a map this database does not know goes to the error log, never away.
    INSERT INTO "replicator"."error_log" (map_name, direction, change_id, op, key, image, sqlstate, message)
    SELECT c.value->>'map', p_direction, (c.value->>'id')::bigint, c.value->>'op', '{}'::jsonb,
           c.value->'image', '42704', 'no map of this name is deployed for this direction'
      FROM jsonb_array_elements(p_batch) AS c
     WHERE NOT ((c.value->>'map') || '/' || p_direction = ANY (ARRAY['companies/to_right', 'contact_persons/to_right', 'customer_groups/to_right', 'customer_payment_methods/to_right', 'customers_person/to_right', 'loyalty_cards/to_right', 'name_affixes/to_right', 'payment_days/to_right', 'payment_day_lines/to_right', 'payment_schedules/to_right', 'payment_schedule_lines/to_right', 'payment_terms/to_right', 'customers_organization/to_right']::text[]));
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_failed + v_count;
END
$dispatch$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('dispatch', 'be0c0e8205eb0317d3cf2ddb3bc20f96406d3f176c5ab283e56ccf738cba13e1', '')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/companies/to_left/capture ====
-- Map 'companies', 'to_left': capture changes of "cds"."company".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_companies_to_left"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- The replicator's own writes are never captured again (loop safety). An
    -- initial sync of this map notes what it overwrote here.
    IF current_setting('replicator.applying', true) = 'on' THEN
        IF TG_OP = 'UPDATE' AND current_setting('replicator.sync_log', true) = 'companies' THEN
            INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
            VALUES ('overwrite', 'companies', 'to_right',
                    'initial sync overwrote a differing row of ' || 'cds.company',
                    jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('companies', 'to_left', 'T', '{}');
        IF NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
            PERFORM pg_notify('replicator_wake', '');
        END IF;
        RETURN NULL;
    END IF;
    -- A column this function reads by name (key, filter, lookup), or a parent table its
    -- references are looked up in, was renamed or dropped under the map: the write goes
    -- through, and the change is noted, not queued (replicator.drift() names what
    -- changed; replicator sync copies the row after the fix).
    v_image := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    IF NOT (v_image ?& ARRAY['company_code']::text[]) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('companies', 'to_left', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."company_code") IS NOT DISTINCT FROM ("new"."company_code");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('companies', 'to_left', 'D', to_jsonb(OLD), NULL);
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('companies', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), NULL);
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_companies_to_left"
AFTER INSERT OR DELETE ON "cds"."company"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_companies_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_companies_to_left_trunc"
AFTER TRUNCATE ON "cds"."company"
FOR EACH STATEMENT EXECUTE FUNCTION "replicator"."capture_companies_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_companies_to_left_upd"
AFTER UPDATE ON "cds"."company"
FOR EACH ROW
WHEN (("old"."company_code", "old"."name") IS DISTINCT FROM ("new"."company_code", "new"."name"))
EXECUTE FUNCTION "replicator"."capture_companies_to_left"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_left/capture', '5fea17a17598402f741e942aab9640bb16fd4f636d76a9f586e3149a0123ce29', '-- Removing map ''companies'' (''to_left'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''companies'' AND direction = ''to_left'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''companies'', ''to_left'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_companies_to_left"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/companies/to_left/snapshot ====
-- Map 'companies', 'to_left': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_companies_to_left"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'companies',
               'op', 'I', 'image', to_jsonb("new"), 'refs', NULL)
             ORDER BY "new"."company_code"), '[]')
      FROM (SELECT * FROM "cds"."company" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."company_code") > (CAST(p_after ->> 'company_code' AS character varying(4))))
             ORDER BY "new"."company_code"
             LIMIT p_limit) AS "new"
$snapshot$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_left/snapshot', 'b9b05794b4a288954700350534967ed4fa24b20dc5fac2d8663e0d4ab2d03410', 'DROP FUNCTION IF EXISTS "replicator"."snapshot_companies_to_left"(jsonb, integer);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/contact_persons/to_left/capture ====
-- Map 'contact_persons', 'to_left': capture changes of "cds"."contact".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_contact_persons_to_left"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- The replicator's own writes are never captured again (loop safety). An
    -- initial sync of this map notes what it overwrote here.
    IF current_setting('replicator.applying', true) = 'on' THEN
        IF TG_OP = 'UPDATE' AND current_setting('replicator.sync_log', true) = 'contact_persons' THEN
            INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
            VALUES ('overwrite', 'contact_persons', 'to_right',
                    'initial sync overwrote a differing row of ' || 'cds.contact',
                    jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('contact_persons', 'to_left', 'T', '{}');
        IF NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
            PERFORM pg_notify('replicator_wake', '');
        END IF;
        RETURN NULL;
    END IF;
    -- A column this function reads by name (key, filter, lookup), or a parent table its
    -- references are looked up in, was renamed or dropped under the map: the write goes
    -- through, and the change is noted, not queued (replicator.drift() names what
    -- changed; replicator sync copies the row after the fix).
    v_image := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    IF NOT (v_image ?& ARRAY['companyid', 'contactpersonid']::text[]
       AND to_regclass('"cds"."company"') IS NOT NULL) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('contact_persons', 'to_left', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(("old"."contactpersonid" IS NOT NULL), false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(("new"."contactpersonid" IS NOT NULL), false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."companyid", "old"."contactpersonid") IS NOT DISTINCT FROM ("new"."companyid", "new"."contactpersonid");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('contact_persons', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('contact_persons', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_left"
AFTER INSERT OR DELETE ON "cds"."contact"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_contact_persons_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_left_trunc"
AFTER TRUNCATE ON "cds"."contact"
FOR EACH STATEMENT EXECUTE FUNCTION "replicator"."capture_contact_persons_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_left_upd"
AFTER UPDATE ON "cds"."contact"
FOR EACH ROW
WHEN (("old"."companyid", "old"."contactpersonid", "old"."firstname", "old"."lastname", "old"."emailaddress1", "old"."parent_account_number") IS DISTINCT FROM ("new"."companyid", "new"."contactpersonid", "new"."firstname", "new"."lastname", "new"."emailaddress1", "new"."parent_account_number"))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_left"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_left/capture', 'a1fb3b81da92784926192ad9ab91366de677e7c8e2ee73f671c95ef3c738ac8e', '-- Removing map ''contact_persons'' (''to_left'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''contact_persons'' AND direction = ''to_left'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''contact_persons'', ''to_left'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_contact_persons_to_left"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/contact_persons/to_left/snapshot ====
-- Map 'contact_persons', 'to_left': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_contact_persons_to_left"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'contact_persons',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")))
             ORDER BY "new"."companyid", "new"."contactpersonid"), '[]')
      FROM (SELECT * FROM "cds"."contact" AS "new"
             WHERE coalesce(("new"."contactpersonid" IS NOT NULL), false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."contactpersonid") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'contactpersonid' AS character varying(20))))
             ORDER BY "new"."companyid", "new"."contactpersonid"
             LIMIT p_limit) AS "new"
$snapshot$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_left/snapshot', '2e0f46be589dfe637b56f1f5e29c549ec822e08594d242ecfd5957131bbb57e0', 'DROP FUNCTION IF EXISTS "replicator"."snapshot_contact_persons_to_left"(jsonb, integer);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_groups/to_left/capture ====
-- Map 'customer_groups', 'to_left': capture changes of "cds"."customer_group".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_customer_groups_to_left"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- The replicator's own writes are never captured again (loop safety). An
    -- initial sync of this map notes what it overwrote here.
    IF current_setting('replicator.applying', true) = 'on' THEN
        IF TG_OP = 'UPDATE' AND current_setting('replicator.sync_log', true) = 'customer_groups' THEN
            INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
            VALUES ('overwrite', 'customer_groups', 'to_right',
                    'initial sync overwrote a differing row of ' || 'cds.customer_group',
                    jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('customer_groups', 'to_left', 'T', '{}');
        IF NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
            PERFORM pg_notify('replicator_wake', '');
        END IF;
        RETURN NULL;
    END IF;
    -- A column this function reads by name (key, filter, lookup), or a parent table its
    -- references are looked up in, was renamed or dropped under the map: the write goes
    -- through, and the change is noted, not queued (replicator.drift() names what
    -- changed; replicator sync copies the row after the fix).
    v_image := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    IF NOT (v_image ?& ARRAY['companyid', 'group_code']::text[]
       AND to_regclass('"cds"."company"') IS NOT NULL) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('customer_groups', 'to_left', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."companyid", "old"."group_code") IS NOT DISTINCT FROM ("new"."companyid", "new"."group_code");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customer_groups', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customer_groups', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_left"
AFTER INSERT OR DELETE ON "cds"."customer_group"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_customer_groups_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_left_trunc"
AFTER TRUNCATE ON "cds"."customer_group"
FOR EACH STATEMENT EXECUTE FUNCTION "replicator"."capture_customer_groups_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_left_upd"
AFTER UPDATE ON "cds"."customer_group"
FOR EACH ROW
WHEN (("old"."companyid", "old"."group_code", "old"."name") IS DISTINCT FROM ("new"."companyid", "new"."group_code", "new"."name"))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_left"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_left/capture', 'c733ec3f9dadc53402c58949cb949242425005038159ba8a40df068127fdd6ea', '-- Removing map ''customer_groups'' (''to_left'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''customer_groups'' AND direction = ''to_left'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''customer_groups'', ''to_left'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_customer_groups_to_left"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_groups/to_left/snapshot ====
-- Map 'customer_groups', 'to_left': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_customer_groups_to_left"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'customer_groups',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")))
             ORDER BY "new"."companyid", "new"."group_code"), '[]')
      FROM (SELECT * FROM "cds"."customer_group" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."group_code") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'group_code' AS character varying(10))))
             ORDER BY "new"."companyid", "new"."group_code"
             LIMIT p_limit) AS "new"
$snapshot$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_left/snapshot', '880fd3b084079bc64acc9c732ec8336b46fd056ed0450ce69a4a99c496a4065e', 'DROP FUNCTION IF EXISTS "replicator"."snapshot_customer_groups_to_left"(jsonb, integer);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_payment_methods/to_left/capture ====
-- Map 'customer_payment_methods', 'to_left': capture changes of "cds"."customer_payment_method".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_customer_payment_methods_to_left"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- The replicator's own writes are never captured again (loop safety). An
    -- initial sync of this map notes what it overwrote here.
    IF current_setting('replicator.applying', true) = 'on' THEN
        IF TG_OP = 'UPDATE' AND current_setting('replicator.sync_log', true) = 'customer_payment_methods' THEN
            INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
            VALUES ('overwrite', 'customer_payment_methods', 'to_right',
                    'initial sync overwrote a differing row of ' || 'cds.customer_payment_method',
                    jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('customer_payment_methods', 'to_left', 'T', '{}');
        IF NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
            PERFORM pg_notify('replicator_wake', '');
        END IF;
        RETURN NULL;
    END IF;
    -- A column this function reads by name (key, filter, lookup), or a parent table its
    -- references are looked up in, was renamed or dropped under the map: the write goes
    -- through, and the change is noted, not queued (replicator.drift() names what
    -- changed; replicator sync copies the row after the fix).
    v_image := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    IF NOT (v_image ?& ARRAY['companyid', 'code']::text[]
       AND to_regclass('"cds"."company"') IS NOT NULL) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('customer_payment_methods', 'to_left', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."companyid", "old"."code") IS NOT DISTINCT FROM ("new"."companyid", "new"."code");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customer_payment_methods', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customer_payment_methods', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_left"
AFTER INSERT OR DELETE ON "cds"."customer_payment_method"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_left_trunc"
AFTER TRUNCATE ON "cds"."customer_payment_method"
FOR EACH STATEMENT EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_left_upd"
AFTER UPDATE ON "cds"."customer_payment_method"
FOR EACH ROW
WHEN (("old"."companyid", "old"."code", "old"."name", "old"."payment_type") IS DISTINCT FROM ("new"."companyid", "new"."code", "new"."name", "new"."payment_type"))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_left"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_left/capture', '10f85fe83750fc2b82799788e7dbc57aaa5179ee5aaa98fff85b55b0644e58f6', '-- Removing map ''customer_payment_methods'' (''to_left'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''customer_payment_methods'' AND direction = ''to_left'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''customer_payment_methods'', ''to_left'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_customer_payment_methods_to_left"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_payment_methods/to_left/snapshot ====
-- Map 'customer_payment_methods', 'to_left': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_customer_payment_methods_to_left"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'customer_payment_methods',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")))
             ORDER BY "new"."companyid", "new"."code"), '[]')
      FROM (SELECT * FROM "cds"."customer_payment_method" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."code") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'code' AS character varying(10))))
             ORDER BY "new"."companyid", "new"."code"
             LIMIT p_limit) AS "new"
$snapshot$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_left/snapshot', 'e4a688c675a3f50563d5b02c5a8f024e4c3471b0698458facca1bae867be2c0c', 'DROP FUNCTION IF EXISTS "replicator"."snapshot_customer_payment_methods_to_left"(jsonb, integer);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_person/to_left/capture ====
-- Map 'customers_person', 'to_left': capture changes of "cds"."contact".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_customers_person_to_left"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- The replicator's own writes are never captured again (loop safety). An
    -- initial sync of this map notes what it overwrote here.
    IF current_setting('replicator.applying', true) = 'on' THEN
        IF TG_OP = 'UPDATE' AND current_setting('replicator.sync_log', true) = 'customers_person' THEN
            INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
            VALUES ('overwrite', 'customers_person', 'to_right',
                    'initial sync overwrote a differing row of ' || 'cds.contact',
                    jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('customers_person', 'to_left', 'T', '{}');
        IF NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
            PERFORM pg_notify('replicator_wake', '');
        END IF;
        RETURN NULL;
    END IF;
    -- A column this function reads by name (key, filter, lookup), or a parent table its
    -- references are looked up in, was renamed or dropped under the map: the write goes
    -- through, and the change is noted, not queued (replicator.drift() names what
    -- changed; replicator sync copies the row after the fix).
    v_image := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    IF NOT (v_image ?& ARRAY['companyid', 'customer_number', 'is_sellable']::text[]
       AND to_regclass('"cds"."company"') IS NOT NULL) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('customers_person', 'to_left', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(("old"."is_sellable" AND "old"."customer_number" IS NOT NULL), false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(("new"."is_sellable" AND "new"."customer_number" IS NOT NULL), false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."companyid", "old"."customer_number") IS NOT DISTINCT FROM ("new"."companyid", "new"."customer_number");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customers_person', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customers_person', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_customers_person_to_left"
AFTER INSERT OR DELETE ON "cds"."contact"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_customers_person_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_left_trunc"
AFTER TRUNCATE ON "cds"."contact"
FOR EACH STATEMENT EXECUTE FUNCTION "replicator"."capture_customers_person_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_left_upd"
AFTER UPDATE ON "cds"."contact"
FOR EACH ROW
WHEN (("old"."companyid", "old"."customer_number", "old"."firstname", "old"."middlename", "old"."lastname", "old"."emailaddress1", "old"."is_sellable") IS DISTINCT FROM ("new"."companyid", "new"."customer_number", "new"."firstname", "new"."middlename", "new"."lastname", "new"."emailaddress1", "new"."is_sellable"))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_left"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_left/capture', '03d8163e271afa9299f3f5dc7a12ce3919628d28ec0eb7fd7b7996f945e11f37', '-- Removing map ''customers_person'' (''to_left'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''customers_person'' AND direction = ''to_left'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''customers_person'', ''to_left'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_customers_person_to_left"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_person/to_left/snapshot ====
-- Map 'customers_person', 'to_left': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_customers_person_to_left"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'customers_person',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")))
             ORDER BY "new"."companyid", "new"."customer_number"), '[]')
      FROM (SELECT * FROM "cds"."contact" AS "new"
             WHERE coalesce(("new"."is_sellable" AND "new"."customer_number" IS NOT NULL), false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."customer_number") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'customer_number' AS character varying(20))))
             ORDER BY "new"."companyid", "new"."customer_number"
             LIMIT p_limit) AS "new"
$snapshot$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_left/snapshot', '85430efdd95ef4165602dd24b9081530429f57bcf1da1cb89404ee565fc59316', 'DROP FUNCTION IF EXISTS "replicator"."snapshot_customers_person_to_left"(jsonb, integer);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/loyalty_cards/to_left/capture ====
-- Map 'loyalty_cards', 'to_left': capture changes of "cds"."loyalty_card".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_loyalty_cards_to_left"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- The replicator's own writes are never captured again (loop safety). An
    -- initial sync of this map notes what it overwrote here.
    IF current_setting('replicator.applying', true) = 'on' THEN
        IF TG_OP = 'UPDATE' AND current_setting('replicator.sync_log', true) = 'loyalty_cards' THEN
            INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
            VALUES ('overwrite', 'loyalty_cards', 'to_right',
                    'initial sync overwrote a differing row of ' || 'cds.loyalty_card',
                    jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('loyalty_cards', 'to_left', 'T', '{}');
        IF NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
            PERFORM pg_notify('replicator_wake', '');
        END IF;
        RETURN NULL;
    END IF;
    -- A column this function reads by name (key, filter, lookup), or a parent table its
    -- references are looked up in, was renamed or dropped under the map: the write goes
    -- through, and the change is noted, not queued (replicator.drift() names what
    -- changed; replicator sync copies the row after the fix).
    v_image := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    IF NOT (v_image ?& ARRAY['card_number']::text[]) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('loyalty_cards', 'to_left', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."card_number") IS NOT DISTINCT FROM ("new"."card_number");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('loyalty_cards', 'to_left', 'D', to_jsonb(OLD), NULL);
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('loyalty_cards', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), NULL);
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_left"
AFTER INSERT OR DELETE ON "cds"."loyalty_card"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_left_trunc"
AFTER TRUNCATE ON "cds"."loyalty_card"
FOR EACH STATEMENT EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_left_upd"
AFTER UPDATE ON "cds"."loyalty_card"
FOR EACH ROW
WHEN (("old"."card_number", "old"."tier", "old"."issued_on", "old"."is_blocked") IS DISTINCT FROM ("new"."card_number", "new"."tier", "new"."issued_on", "new"."is_blocked"))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_left"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_left/capture', '41e7d7bfa99278eef5f308f8c9282a7c671842e5ae571e969c677f760d4f23b4', '-- Removing map ''loyalty_cards'' (''to_left'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''loyalty_cards'' AND direction = ''to_left'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''loyalty_cards'', ''to_left'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_loyalty_cards_to_left"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/loyalty_cards/to_left/snapshot ====
-- Map 'loyalty_cards', 'to_left': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_loyalty_cards_to_left"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'loyalty_cards',
               'op', 'I', 'image', to_jsonb("new"), 'refs', NULL)
             ORDER BY "new"."card_number"), '[]')
      FROM (SELECT * FROM "cds"."loyalty_card" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."card_number") > (CAST(p_after ->> 'card_number' AS character varying(20))))
             ORDER BY "new"."card_number"
             LIMIT p_limit) AS "new"
$snapshot$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_left/snapshot', '0661f8dc0efb0f6026826fee200bf37d465d86229f566442cda7df4c404821e4', 'DROP FUNCTION IF EXISTS "replicator"."snapshot_loyalty_cards_to_left"(jsonb, integer);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/name_affixes/to_left/capture ====
-- Map 'name_affixes', 'to_left': capture changes of "cds"."name_affix".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_name_affixes_to_left"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- The replicator's own writes are never captured again (loop safety). An
    -- initial sync of this map notes what it overwrote here.
    IF current_setting('replicator.applying', true) = 'on' THEN
        IF TG_OP = 'UPDATE' AND current_setting('replicator.sync_log', true) = 'name_affixes' THEN
            INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
            VALUES ('overwrite', 'name_affixes', 'to_right',
                    'initial sync overwrote a differing row of ' || 'cds.name_affix',
                    jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('name_affixes', 'to_left', 'T', '{}');
        IF NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
            PERFORM pg_notify('replicator_wake', '');
        END IF;
        RETURN NULL;
    END IF;
    -- A column this function reads by name (key, filter, lookup), or a parent table its
    -- references are looked up in, was renamed or dropped under the map: the write goes
    -- through, and the change is noted, not queued (replicator.drift() names what
    -- changed; replicator sync copies the row after the fix).
    v_image := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    IF NOT (v_image ?& ARRAY['affix', 'affix_type']::text[]) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('name_affixes', 'to_left', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."affix", "old"."affix_type") IS NOT DISTINCT FROM ("new"."affix", "new"."affix_type");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('name_affixes', 'to_left', 'D', to_jsonb(OLD), NULL);
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('name_affixes', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), NULL);
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_left"
AFTER INSERT OR DELETE ON "cds"."name_affix"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_name_affixes_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_left_trunc"
AFTER TRUNCATE ON "cds"."name_affix"
FOR EACH STATEMENT EXECUTE FUNCTION "replicator"."capture_name_affixes_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_left_upd"
AFTER UPDATE ON "cds"."name_affix"
FOR EACH ROW
WHEN (("old"."affix", "old"."affix_type", "old"."description") IS DISTINCT FROM ("new"."affix", "new"."affix_type", "new"."description"))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_left"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_left/capture', '6273da223b449dbddaee09cdb84a4fa2b3fd54e69e0733ec61d493c98e3c3be8', '-- Removing map ''name_affixes'' (''to_left'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''name_affixes'' AND direction = ''to_left'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''name_affixes'', ''to_left'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_name_affixes_to_left"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/name_affixes/to_left/snapshot ====
-- Map 'name_affixes', 'to_left': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_name_affixes_to_left"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'name_affixes',
               'op', 'I', 'image', to_jsonb("new"), 'refs', NULL)
             ORDER BY "new"."affix", "new"."affix_type"), '[]')
      FROM (SELECT * FROM "cds"."name_affix" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."affix", "new"."affix_type") > (CAST(p_after ->> 'affix' AS character varying(20)), CAST(p_after ->> 'affix_type' AS character varying(10))))
             ORDER BY "new"."affix", "new"."affix_type"
             LIMIT p_limit) AS "new"
$snapshot$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_left/snapshot', 'cd33f91b21d930ad90f5040be1db3535b6d4027d15efd2974e0b553d97b56e68', 'DROP FUNCTION IF EXISTS "replicator"."snapshot_name_affixes_to_left"(jsonb, integer);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_days/to_left/capture ====
-- Map 'payment_days', 'to_left': capture changes of "cds"."payment_day".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_days_to_left"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- The replicator's own writes are never captured again (loop safety). An
    -- initial sync of this map notes what it overwrote here.
    IF current_setting('replicator.applying', true) = 'on' THEN
        IF TG_OP = 'UPDATE' AND current_setting('replicator.sync_log', true) = 'payment_days' THEN
            INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
            VALUES ('overwrite', 'payment_days', 'to_right',
                    'initial sync overwrote a differing row of ' || 'cds.payment_day',
                    jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('payment_days', 'to_left', 'T', '{}');
        IF NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
            PERFORM pg_notify('replicator_wake', '');
        END IF;
        RETURN NULL;
    END IF;
    -- A column this function reads by name (key, filter, lookup), or a parent table its
    -- references are looked up in, was renamed or dropped under the map: the write goes
    -- through, and the change is noted, not queued (replicator.drift() names what
    -- changed; replicator sync copies the row after the fix).
    v_image := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    IF NOT (v_image ?& ARRAY['companyid', 'name']::text[]
       AND to_regclass('"cds"."company"') IS NOT NULL) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('payment_days', 'to_left', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."companyid", "old"."name") IS NOT DISTINCT FROM ("new"."companyid", "new"."name");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_days', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_days', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_payment_days_to_left"
AFTER INSERT OR DELETE ON "cds"."payment_day"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_payment_days_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_left_trunc"
AFTER TRUNCATE ON "cds"."payment_day"
FOR EACH STATEMENT EXECUTE FUNCTION "replicator"."capture_payment_days_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_left_upd"
AFTER UPDATE ON "cds"."payment_day"
FOR EACH ROW
WHEN (("old"."companyid", "old"."name", "old"."description") IS DISTINCT FROM ("new"."companyid", "new"."name", "new"."description"))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_left"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_left/capture', 'f3cfcd2e70c20fa3c6e5f1a9f7bb8e99e48d98a413791289e1720b7ddfeeb087', '-- Removing map ''payment_days'' (''to_left'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''payment_days'' AND direction = ''to_left'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''payment_days'', ''to_left'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_days_to_left"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_days/to_left/snapshot ====
-- Map 'payment_days', 'to_left': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_payment_days_to_left"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'payment_days',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")))
             ORDER BY "new"."companyid", "new"."name"), '[]')
      FROM (SELECT * FROM "cds"."payment_day" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."name") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'name' AS character varying(30))))
             ORDER BY "new"."companyid", "new"."name"
             LIMIT p_limit) AS "new"
$snapshot$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_left/snapshot', 'dc3716bf4414a27ac0ad667a2d55733a7febb1d8a1de87a62e785e73d64e7f93', 'DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_days_to_left"(jsonb, integer);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_day_lines/to_left/capture ====
-- Map 'payment_day_lines', 'to_left': capture changes of "cds"."payment_day_line".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_day_lines_to_left"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- The replicator's own writes are never captured again (loop safety). An
    -- initial sync of this map notes what it overwrote here.
    IF current_setting('replicator.applying', true) = 'on' THEN
        IF TG_OP = 'UPDATE' AND current_setting('replicator.sync_log', true) = 'payment_day_lines' THEN
            INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
            VALUES ('overwrite', 'payment_day_lines', 'to_right',
                    'initial sync overwrote a differing row of ' || 'cds.payment_day_line',
                    jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('payment_day_lines', 'to_left', 'T', '{}');
        IF NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
            PERFORM pg_notify('replicator_wake', '');
        END IF;
        RETURN NULL;
    END IF;
    -- A column this function reads by name (key, filter, lookup), or a parent table its
    -- references are looked up in, was renamed or dropped under the map: the write goes
    -- through, and the change is noted, not queued (replicator.drift() names what
    -- changed; replicator sync copies the row after the fix).
    v_image := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    IF NOT (v_image ?& ARRAY['companyid', 'paymentdayid', 'line_number']::text[]
       AND to_regclass('"cds"."company"') IS NOT NULL
       AND to_regclass('"cds"."payment_day"') IS NOT NULL) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('payment_day_lines', 'to_left', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."companyid", "old"."paymentdayid", "old"."line_number") IS NOT DISTINCT FROM ("new"."companyid", "new"."paymentdayid", "new"."line_number");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_day_lines', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'payment_day_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "old"."paymentdayid" AND "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_day_lines', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'payment_day_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_left"
AFTER INSERT OR DELETE ON "cds"."payment_day_line"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_left_trunc"
AFTER TRUNCATE ON "cds"."payment_day_line"
FOR EACH STATEMENT EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_left_upd"
AFTER UPDATE ON "cds"."payment_day_line"
FOR EACH ROW
WHEN (("old"."companyid", "old"."paymentdayid", "old"."line_number", "old"."weekday", "old"."dayofmonth") IS DISTINCT FROM ("new"."companyid", "new"."paymentdayid", "new"."line_number", "new"."weekday", "new"."dayofmonth"))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_left"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_left/capture', 'cd3696372a0d29cd81c5f16593bd35da3cd0986e705caf80655f0efbc37d85cc', '-- Removing map ''payment_day_lines'' (''to_left'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''payment_day_lines'' AND direction = ''to_left'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''payment_day_lines'', ''to_left'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_day_lines_to_left"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_day_lines/to_left/snapshot ====
-- Map 'payment_day_lines', 'to_left': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_payment_day_lines_to_left"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'payment_day_lines',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'payment_day_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")))
             ORDER BY "new"."companyid", "new"."paymentdayid", "new"."line_number"), '[]')
      FROM (SELECT * FROM "cds"."payment_day_line" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."paymentdayid", "new"."line_number") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'paymentdayid' AS uuid), CAST(p_after ->> 'line_number' AS integer)))
             ORDER BY "new"."companyid", "new"."paymentdayid", "new"."line_number"
             LIMIT p_limit) AS "new"
$snapshot$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_left/snapshot', '1ebcd235c3875db7f7be04ccc13b19cad831fa3a6ca0874f6cb1dc182f991a44', 'DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_day_lines_to_left"(jsonb, integer);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedules/to_left/capture ====
-- Map 'payment_schedules', 'to_left': capture changes of "cds"."payment_schedule".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_schedules_to_left"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- The replicator's own writes are never captured again (loop safety). An
    -- initial sync of this map notes what it overwrote here.
    IF current_setting('replicator.applying', true) = 'on' THEN
        IF TG_OP = 'UPDATE' AND current_setting('replicator.sync_log', true) = 'payment_schedules' THEN
            INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
            VALUES ('overwrite', 'payment_schedules', 'to_right',
                    'initial sync overwrote a differing row of ' || 'cds.payment_schedule',
                    jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('payment_schedules', 'to_left', 'T', '{}');
        IF NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
            PERFORM pg_notify('replicator_wake', '');
        END IF;
        RETURN NULL;
    END IF;
    -- A column this function reads by name (key, filter, lookup), or a parent table its
    -- references are looked up in, was renamed or dropped under the map: the write goes
    -- through, and the change is noted, not queued (replicator.drift() names what
    -- changed; replicator sync copies the row after the fix).
    v_image := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    IF NOT (v_image ?& ARRAY['companyid', 'name']::text[]
       AND to_regclass('"cds"."company"') IS NOT NULL) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('payment_schedules', 'to_left', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."companyid", "old"."name") IS NOT DISTINCT FROM ("new"."companyid", "new"."name");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_schedules', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_schedules', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_left"
AFTER INSERT OR DELETE ON "cds"."payment_schedule"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_left_trunc"
AFTER TRUNCATE ON "cds"."payment_schedule"
FOR EACH STATEMENT EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_left_upd"
AFTER UPDATE ON "cds"."payment_schedule"
FOR EACH ROW
WHEN (("old"."companyid", "old"."name", "old"."description", "old"."allocation") IS DISTINCT FROM ("new"."companyid", "new"."name", "new"."description", "new"."allocation"))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_left"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_left/capture', 'c3e8bcc3609dcfaf72ef55b4adf7b747b7650a94a8068790c5397accd484b53a', '-- Removing map ''payment_schedules'' (''to_left'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''payment_schedules'' AND direction = ''to_left'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''payment_schedules'', ''to_left'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_schedules_to_left"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedules/to_left/snapshot ====
-- Map 'payment_schedules', 'to_left': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_payment_schedules_to_left"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'payment_schedules',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")))
             ORDER BY "new"."companyid", "new"."name"), '[]')
      FROM (SELECT * FROM "cds"."payment_schedule" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."name") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'name' AS character varying(30))))
             ORDER BY "new"."companyid", "new"."name"
             LIMIT p_limit) AS "new"
$snapshot$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_left/snapshot', 'bba4fab87accfb41f3d5e784806a52c8c220fa97a06dc2cea63f00ebcd7eaf85', 'DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_schedules_to_left"(jsonb, integer);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedule_lines/to_left/capture ====
-- Map 'payment_schedule_lines', 'to_left': capture changes of "cds"."payment_schedule_line".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_schedule_lines_to_left"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- The replicator's own writes are never captured again (loop safety). An
    -- initial sync of this map notes what it overwrote here.
    IF current_setting('replicator.applying', true) = 'on' THEN
        IF TG_OP = 'UPDATE' AND current_setting('replicator.sync_log', true) = 'payment_schedule_lines' THEN
            INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
            VALUES ('overwrite', 'payment_schedule_lines', 'to_right',
                    'initial sync overwrote a differing row of ' || 'cds.payment_schedule_line',
                    jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('payment_schedule_lines', 'to_left', 'T', '{}');
        IF NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
            PERFORM pg_notify('replicator_wake', '');
        END IF;
        RETURN NULL;
    END IF;
    -- A column this function reads by name (key, filter, lookup), or a parent table its
    -- references are looked up in, was renamed or dropped under the map: the write goes
    -- through, and the change is noted, not queued (replicator.drift() names what
    -- changed; replicator sync copies the row after the fix).
    v_image := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    IF NOT (v_image ?& ARRAY['companyid', 'paymentscheduleid', 'line_number']::text[]
       AND to_regclass('"cds"."company"') IS NOT NULL
       AND to_regclass('"cds"."payment_schedule"') IS NOT NULL) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('payment_schedule_lines', 'to_left', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."companyid", "old"."paymentscheduleid", "old"."line_number") IS NOT DISTINCT FROM ("new"."companyid", "new"."paymentscheduleid", "new"."line_number");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_schedule_lines', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'schedule_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "old"."paymentscheduleid" AND "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_schedule_lines', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'schedule_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "new"."paymentscheduleid" AND "p1"."companyid" = "new"."companyid")));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_left"
AFTER INSERT OR DELETE ON "cds"."payment_schedule_line"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_left_trunc"
AFTER TRUNCATE ON "cds"."payment_schedule_line"
FOR EACH STATEMENT EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_left_upd"
AFTER UPDATE ON "cds"."payment_schedule_line"
FOR EACH ROW
WHEN (("old"."companyid", "old"."paymentscheduleid", "old"."line_number", "old"."percentage", "old"."months", "old"."days") IS DISTINCT FROM ("new"."companyid", "new"."paymentscheduleid", "new"."line_number", "new"."percentage", "new"."months", "new"."days"))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_left"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_left/capture', '1e2e0d0eb91f5374c5939a488bc67a7ed02ffde367726ab76fd4b4c48701c6e5', '-- Removing map ''payment_schedule_lines'' (''to_left'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''payment_schedule_lines'' AND direction = ''to_left'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''payment_schedule_lines'', ''to_left'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_schedule_lines_to_left"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedule_lines/to_left/snapshot ====
-- Map 'payment_schedule_lines', 'to_left': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_payment_schedule_lines_to_left"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'payment_schedule_lines',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'schedule_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "new"."paymentscheduleid" AND "p1"."companyid" = "new"."companyid")))
             ORDER BY "new"."companyid", "new"."paymentscheduleid", "new"."line_number"), '[]')
      FROM (SELECT * FROM "cds"."payment_schedule_line" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."paymentscheduleid", "new"."line_number") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'paymentscheduleid' AS uuid), CAST(p_after ->> 'line_number' AS integer)))
             ORDER BY "new"."companyid", "new"."paymentscheduleid", "new"."line_number"
             LIMIT p_limit) AS "new"
$snapshot$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_left/snapshot', 'f33a6a751ec45833b131654bcbe294dca91f20444a0da2f919a79cedb22d8f2a', 'DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_schedule_lines_to_left"(jsonb, integer);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_terms/to_left/capture ====
-- Map 'payment_terms', 'to_left': capture changes of "cds"."payment_term".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_terms_to_left"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- The replicator's own writes are never captured again (loop safety). An
    -- initial sync of this map notes what it overwrote here.
    IF current_setting('replicator.applying', true) = 'on' THEN
        IF TG_OP = 'UPDATE' AND current_setting('replicator.sync_log', true) = 'payment_terms' THEN
            INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
            VALUES ('overwrite', 'payment_terms', 'to_right',
                    'initial sync overwrote a differing row of ' || 'cds.payment_term',
                    jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('payment_terms', 'to_left', 'T', '{}');
        IF NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
            PERFORM pg_notify('replicator_wake', '');
        END IF;
        RETURN NULL;
    END IF;
    -- A column this function reads by name (key, filter, lookup), or a parent table its
    -- references are looked up in, was renamed or dropped under the map: the write goes
    -- through, and the change is noted, not queued (replicator.drift() names what
    -- changed; replicator sync copies the row after the fix).
    v_image := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    IF NOT (v_image ?& ARRAY['companyid', 'code', 'paymentscheduleid', 'paymentdayid']::text[]
       AND to_regclass('"cds"."company"') IS NOT NULL
       AND to_regclass('"cds"."payment_schedule"') IS NOT NULL
       AND to_regclass('"cds"."payment_day"') IS NOT NULL) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('payment_terms', 'to_left', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."companyid", "old"."code") IS NOT DISTINCT FROM ("new"."companyid", "new"."code");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_terms', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'payment_schedule', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "old"."paymentscheduleid" AND "p1"."companyid" = "old"."companyid"),
       'payment_day', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "old"."paymentdayid" AND "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_terms', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'payment_schedule', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "new"."paymentscheduleid" AND "p1"."companyid" = "new"."companyid"),
       'payment_day', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_left"
AFTER INSERT OR DELETE ON "cds"."payment_term"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_payment_terms_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_left_trunc"
AFTER TRUNCATE ON "cds"."payment_term"
FOR EACH STATEMENT EXECUTE FUNCTION "replicator"."capture_payment_terms_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_left_upd"
AFTER UPDATE ON "cds"."payment_term"
FOR EACH ROW
WHEN (("old"."companyid", "old"."code", "old"."name", "old"."due_days", "old"."paymentscheduleid", "old"."paymentdayid") IS DISTINCT FROM ("new"."companyid", "new"."code", "new"."name", "new"."due_days", "new"."paymentscheduleid", "new"."paymentdayid"))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_left"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_left/capture', '9a7f3a26cb41531aa9fb74581d972d0e505af997e9f028c09155a6d3e69e274f', '-- Removing map ''payment_terms'' (''to_left'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''payment_terms'' AND direction = ''to_left'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''payment_terms'', ''to_left'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_terms_to_left"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_terms/to_left/snapshot ====
-- Map 'payment_terms', 'to_left': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_payment_terms_to_left"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'payment_terms',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'payment_schedule', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "new"."paymentscheduleid" AND "p1"."companyid" = "new"."companyid"),
       'payment_day', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")))
             ORDER BY "new"."companyid", "new"."code"), '[]')
      FROM (SELECT * FROM "cds"."payment_term" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."code") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'code' AS character varying(10))))
             ORDER BY "new"."companyid", "new"."code"
             LIMIT p_limit) AS "new"
$snapshot$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_left/snapshot', 'ee54a7b74e31519c680ced77790e65e3365129fdcee9e41f7b0da9fbfb6e339b', 'DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_terms_to_left"(jsonb, integer);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_organization/to_left/capture ====
-- Map 'customers_organization', 'to_left': capture changes of "cds"."account".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_customers_organization_to_left"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- The replicator's own writes are never captured again (loop safety). An
    -- initial sync of this map notes what it overwrote here.
    IF current_setting('replicator.applying', true) = 'on' THEN
        IF TG_OP = 'UPDATE' AND current_setting('replicator.sync_log', true) = 'customers_organization' THEN
            INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
            VALUES ('overwrite', 'customers_organization', 'to_right',
                    'initial sync overwrote a differing row of ' || 'cds.account',
                    jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('customers_organization', 'to_left', 'T', '{}');
        IF NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
            PERFORM pg_notify('replicator_wake', '');
        END IF;
        RETURN NULL;
    END IF;
    -- A column this function reads by name (key, filter, lookup), or a parent table its
    -- references are looked up in, was renamed or dropped under the map: the write goes
    -- through, and the change is noted, not queued (replicator.drift() names what
    -- changed; replicator sync copies the row after the fix).
    v_image := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    IF NOT (v_image ?& ARRAY['companyid', 'accountnumber', 'relationship_type', 'customergroupid', 'paymenttermid', 'customerpaymentmethodid']::text[]
       AND to_regclass('"cds"."company"') IS NOT NULL
       AND to_regclass('"cds"."customer_group"') IS NOT NULL
       AND to_regclass('"cds"."payment_term"') IS NOT NULL
       AND to_regclass('"cds"."customer_payment_method"') IS NOT NULL) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('customers_organization', 'to_left', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(("old"."relationship_type" = 'customer'), false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(("new"."relationship_type" = 'customer'), false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."companyid", "old"."accountnumber") IS NOT DISTINCT FROM ("new"."companyid", "new"."accountnumber");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customers_organization', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'customer_group', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'group_code', "p1"."group_code") FROM "cds"."customer_group" AS "p1" WHERE "p1"."customergroupid" = "old"."customergroupid" AND "p1"."companyid" = "old"."companyid"),
       'payment_terms', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."payment_term" AS "p1" WHERE "p1"."paymenttermid" = "old"."paymenttermid" AND "p1"."companyid" = "old"."companyid"),
       'payment_method', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."customerpaymentmethodid" = "old"."customerpaymentmethodid" AND "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customers_organization', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'customer_group', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'group_code', "p1"."group_code") FROM "cds"."customer_group" AS "p1" WHERE "p1"."customergroupid" = "new"."customergroupid" AND "p1"."companyid" = "new"."companyid"),
       'payment_terms', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."payment_term" AS "p1" WHERE "p1"."paymenttermid" = "new"."paymenttermid" AND "p1"."companyid" = "new"."companyid"),
       'payment_method', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."customerpaymentmethodid" = "new"."customerpaymentmethodid" AND "p1"."companyid" = "new"."companyid")));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_left"
AFTER INSERT OR DELETE ON "cds"."account"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_customers_organization_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_left_trunc"
AFTER TRUNCATE ON "cds"."account"
FOR EACH STATEMENT EXECUTE FUNCTION "replicator"."capture_customers_organization_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_left_upd"
AFTER UPDATE ON "cds"."account"
FOR EACH ROW
WHEN (("old"."companyid", "old"."accountnumber", "old"."name", "old"."customergroupid", "old"."paymenttermid", "old"."customerpaymentmethodid", "old"."emailaddress1", "old"."creditlimit", "old"."credit_hold", "old"."relationship_type") IS DISTINCT FROM ("new"."companyid", "new"."accountnumber", "new"."name", "new"."customergroupid", "new"."paymenttermid", "new"."customerpaymentmethodid", "new"."emailaddress1", "new"."creditlimit", "new"."credit_hold", "new"."relationship_type"))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_left"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_left/capture', '7d48b3f07f9d6dabda91756284048b0da92700351ee1295aee222463a6d1862a', '-- Removing map ''customers_organization'' (''to_left'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''customers_organization'' AND direction = ''to_left'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''customers_organization'', ''to_left'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_customers_organization_to_left"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_organization/to_left/snapshot ====
-- Map 'customers_organization', 'to_left': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_customers_organization_to_left"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'customers_organization',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'customer_group', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'group_code', "p1"."group_code") FROM "cds"."customer_group" AS "p1" WHERE "p1"."customergroupid" = "new"."customergroupid" AND "p1"."companyid" = "new"."companyid"),
       'payment_terms', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."payment_term" AS "p1" WHERE "p1"."paymenttermid" = "new"."paymenttermid" AND "p1"."companyid" = "new"."companyid"),
       'payment_method', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."customerpaymentmethodid" = "new"."customerpaymentmethodid" AND "p1"."companyid" = "new"."companyid")))
             ORDER BY "new"."companyid", "new"."accountnumber"), '[]')
      FROM (SELECT * FROM "cds"."account" AS "new"
             WHERE coalesce(("new"."relationship_type" = 'customer'), false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."accountnumber") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'accountnumber' AS character varying(20))))
             ORDER BY "new"."companyid", "new"."accountnumber"
             LIMIT p_limit) AS "new"
$snapshot$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_left/snapshot', '89c792a9c24eb2374bdefafd9ab36981a6402aeb74ba2e1ff2e8aea36792d20d', 'DROP FUNCTION IF EXISTS "replicator"."snapshot_customers_organization_to_left"(jsonb, integer);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create registry ====
-- The maps and directions this database takes part in.
INSERT INTO "replicator"."map_state" (map_name, direction)
VALUES ('companies', 'to_right'), ('companies', 'to_left'), ('contact_persons', 'to_right'), ('contact_persons', 'to_left'), ('customer_groups', 'to_right'), ('customer_groups', 'to_left'), ('customer_payment_methods', 'to_right'), ('customer_payment_methods', 'to_left'), ('customers_person', 'to_right'), ('customers_person', 'to_left'), ('loyalty_cards', 'to_right'), ('loyalty_cards', 'to_left'), ('name_affixes', 'to_right'), ('name_affixes', 'to_left'), ('payment_days', 'to_right'), ('payment_days', 'to_left'), ('payment_day_lines', 'to_right'), ('payment_day_lines', 'to_left'), ('payment_schedules', 'to_right'), ('payment_schedules', 'to_left'), ('payment_schedule_lines', 'to_right'), ('payment_schedule_lines', 'to_left'), ('payment_terms', 'to_right'), ('payment_terms', 'to_left'), ('customers_organization', 'to_right'), ('customers_organization', 'to_left')
ON CONFLICT (map_name, direction) DO NOTHING;
DELETE FROM "replicator"."map_state"
 WHERE (map_name, direction) NOT IN (VALUES ('companies', 'to_right'), ('companies', 'to_left'), ('contact_persons', 'to_right'), ('contact_persons', 'to_left'), ('customer_groups', 'to_right'), ('customer_groups', 'to_left'), ('customer_payment_methods', 'to_right'), ('customer_payment_methods', 'to_left'), ('customers_person', 'to_right'), ('customers_person', 'to_left'), ('loyalty_cards', 'to_right'), ('loyalty_cards', 'to_left'), ('name_affixes', 'to_right'), ('name_affixes', 'to_left'), ('payment_days', 'to_right'), ('payment_days', 'to_left'), ('payment_day_lines', 'to_right'), ('payment_day_lines', 'to_left'), ('payment_schedules', 'to_right'), ('payment_schedules', 'to_left'), ('payment_schedule_lines', 'to_right'), ('payment_schedule_lines', 'to_left'), ('payment_terms', 'to_right'), ('payment_terms', 'to_left'), ('customers_organization', 'to_right'), ('customers_organization', 'to_left'));
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('registry', '88f21506d694418358d47f74d68b36bb2c11e2aa03c963d8d64dac81751100b9', '')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create dependencies ====
-- What the maps rely on in this database, resolved to oids and attnums now, so that
-- replicator.drift() can tell when a table or column they use is renamed, dropped or
-- retyped, or a capture trigger is gone.
SELECT replicator.follow_renames();
DELETE FROM "replicator"."map_dependency";
SELECT replicator.record_dependency('companies', 'right', 'cds', 'company',
       '[{"column": "company_code", "uses": "field dataareaid", "capture_reads": true}, {"column": "name", "uses": "field name", "capture_reads": false}]',
       ARRAY['replicator_companies_to_left', 'replicator_companies_to_left_upd', 'replicator_companies_to_left_trunc']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('contact_persons', 'right', 'cds', 'contact',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "contactpersonid", "uses": "field contact_person_id, right_filter", "capture_reads": true}, {"column": "firstname", "uses": "field first_name", "capture_reads": false}, {"column": "lastname", "uses": "field last_name", "capture_reads": false}, {"column": "emailaddress1", "uses": "field email", "capture_reads": false}, {"column": "parent_account_number", "uses": "field customer_account", "capture_reads": false}, {"column": "is_sellable", "uses": "field is_sellable", "capture_reads": false}]',
       ARRAY['replicator_contact_persons_to_left', 'replicator_contact_persons_to_left_upd', 'replicator_contact_persons_to_left_trunc']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('contact_persons', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('customer_groups', 'right', 'cds', 'customer_group',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "group_code", "uses": "field customer_group", "capture_reads": true}, {"column": "name", "uses": "field description", "capture_reads": false}]',
       ARRAY['replicator_customer_groups_to_left', 'replicator_customer_groups_to_left_upd', 'replicator_customer_groups_to_left_trunc']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('customer_groups', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('customer_payment_methods', 'right', 'cds', 'customer_payment_method',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "code", "uses": "field payment_method", "capture_reads": true}, {"column": "name", "uses": "field description", "capture_reads": false}, {"column": "payment_type", "uses": "field payment_type", "capture_reads": false}]',
       ARRAY['replicator_customer_payment_methods_to_left', 'replicator_customer_payment_methods_to_left_upd', 'replicator_customer_payment_methods_to_left_trunc']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('customer_payment_methods', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('customers_person', 'right', 'cds', 'contact',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "customer_number", "uses": "field account_num, right_filter", "capture_reads": true}, {"column": "firstname", "uses": "field firstname, field name", "capture_reads": false}, {"column": "middlename", "uses": "field middlename, field name", "capture_reads": false}, {"column": "lastname", "uses": "field lastname, field name", "capture_reads": false}, {"column": "emailaddress1", "uses": "field email", "capture_reads": false}, {"column": "is_sellable", "uses": "field is_sellable, right_filter", "capture_reads": true}]',
       ARRAY['replicator_customers_person_to_left', 'replicator_customers_person_to_left_upd', 'replicator_customers_person_to_left_trunc']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('customers_person', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('loyalty_cards', 'right', 'cds', 'loyalty_card',
       '[{"column": "card_number", "uses": "field card_number", "capture_reads": true}, {"column": "tier", "uses": "field tier", "capture_reads": false}, {"column": "issued_on", "uses": "field issued_on", "capture_reads": false}, {"column": "is_blocked", "uses": "field blocked", "capture_reads": false}]',
       ARRAY['replicator_loyalty_cards_to_left', 'replicator_loyalty_cards_to_left_upd', 'replicator_loyalty_cards_to_left_trunc']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('name_affixes', 'right', 'cds', 'name_affix',
       '[{"column": "affix", "uses": "field affix", "capture_reads": true}, {"column": "affix_type", "uses": "field affix_type", "capture_reads": true}, {"column": "description", "uses": "field description", "capture_reads": false}]',
       ARRAY['replicator_name_affixes_to_left', 'replicator_name_affixes_to_left_upd', 'replicator_name_affixes_to_left_trunc']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_days', 'right', 'cds', 'payment_day',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "name", "uses": "field payment_day_name", "capture_reads": true}, {"column": "description", "uses": "field description", "capture_reads": false}]',
       ARRAY['replicator_payment_days_to_left', 'replicator_payment_days_to_left_upd', 'replicator_payment_days_to_left_trunc']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_days', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('payment_day_lines', 'right', 'cds', 'payment_day_line',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "paymentdayid", "uses": "field payment_day_name", "capture_reads": true}, {"column": "line_number", "uses": "field line_num", "capture_reads": true}, {"column": "weekday", "uses": "field week_day", "capture_reads": false}, {"column": "dayofmonth", "uses": "field day_of_month", "capture_reads": false}]',
       ARRAY['replicator_payment_day_lines_to_left', 'replicator_payment_day_lines_to_left_upd', 'replicator_payment_day_lines_to_left_trunc']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_day_lines', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('payment_day_lines', 'right', 'cds', 'payment_day',
       '[{"column": "paymentdayid", "uses": "lookup payment_days", "capture_reads": false}, {"column": "companyid", "uses": "lookup payment_days", "capture_reads": false}, {"column": "name", "uses": "lookup payment_days", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'payment_days', true);
SELECT replicator.record_dependency('payment_schedules', 'right', 'cds', 'payment_schedule',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "name", "uses": "field schedule_name", "capture_reads": true}, {"column": "description", "uses": "field description", "capture_reads": false}, {"column": "allocation", "uses": "field allocation", "capture_reads": false}]',
       ARRAY['replicator_payment_schedules_to_left', 'replicator_payment_schedules_to_left_upd', 'replicator_payment_schedules_to_left_trunc']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_schedules', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('payment_schedule_lines', 'right', 'cds', 'payment_schedule_line',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "paymentscheduleid", "uses": "field schedule_name", "capture_reads": true}, {"column": "line_number", "uses": "field line_num", "capture_reads": true}, {"column": "percentage", "uses": "field percent", "capture_reads": false}, {"column": "months", "uses": "field due_months", "capture_reads": false}, {"column": "days", "uses": "field due_days", "capture_reads": false}]',
       ARRAY['replicator_payment_schedule_lines_to_left', 'replicator_payment_schedule_lines_to_left_upd', 'replicator_payment_schedule_lines_to_left_trunc']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_schedule_lines', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('payment_schedule_lines', 'right', 'cds', 'payment_schedule',
       '[{"column": "paymentscheduleid", "uses": "lookup payment_schedules", "capture_reads": false}, {"column": "companyid", "uses": "lookup payment_schedules", "capture_reads": false}, {"column": "name", "uses": "lookup payment_schedules", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'payment_schedules', true);
SELECT replicator.record_dependency('payment_terms', 'right', 'cds', 'payment_term',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "code", "uses": "field payment_term_id", "capture_reads": true}, {"column": "name", "uses": "field description", "capture_reads": false}, {"column": "due_days", "uses": "field net_days", "capture_reads": false}, {"column": "paymentscheduleid", "uses": "field payment_schedule", "capture_reads": true}, {"column": "paymentdayid", "uses": "field payment_day", "capture_reads": true}]',
       ARRAY['replicator_payment_terms_to_left', 'replicator_payment_terms_to_left_upd', 'replicator_payment_terms_to_left_trunc']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_terms', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('payment_terms', 'right', 'cds', 'payment_schedule',
       '[{"column": "paymentscheduleid", "uses": "lookup payment_schedules", "capture_reads": false}, {"column": "companyid", "uses": "lookup payment_schedules", "capture_reads": false}, {"column": "name", "uses": "lookup payment_schedules", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'payment_schedules', true);
SELECT replicator.record_dependency('payment_terms', 'right', 'cds', 'payment_day',
       '[{"column": "paymentdayid", "uses": "lookup payment_days", "capture_reads": false}, {"column": "companyid", "uses": "lookup payment_days", "capture_reads": false}, {"column": "name", "uses": "lookup payment_days", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'payment_days', true);
SELECT replicator.record_dependency('customers_organization', 'right', 'cds', 'account',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "accountnumber", "uses": "field account_num", "capture_reads": true}, {"column": "name", "uses": "field name", "capture_reads": false}, {"column": "customergroupid", "uses": "field customer_group", "capture_reads": true}, {"column": "paymenttermid", "uses": "field payment_terms", "capture_reads": true}, {"column": "customerpaymentmethodid", "uses": "field payment_method", "capture_reads": true}, {"column": "emailaddress1", "uses": "field email", "capture_reads": false}, {"column": "creditlimit", "uses": "field credit_limit", "capture_reads": false}, {"column": "credit_hold", "uses": "field blocked", "capture_reads": false}, {"column": "relationship_type", "uses": "field relationship_type, right_filter", "capture_reads": true}]',
       ARRAY['replicator_customers_organization_to_left', 'replicator_customers_organization_to_left_upd', 'replicator_customers_organization_to_left_trunc']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('customers_organization', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('customers_organization', 'right', 'cds', 'customer_group',
       '[{"column": "customergroupid", "uses": "lookup customer_groups", "capture_reads": false}, {"column": "companyid", "uses": "lookup customer_groups", "capture_reads": false}, {"column": "group_code", "uses": "lookup customer_groups", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'customer_groups', true);
SELECT replicator.record_dependency('customers_organization', 'right', 'cds', 'payment_term',
       '[{"column": "paymenttermid", "uses": "lookup payment_terms", "capture_reads": false}, {"column": "companyid", "uses": "lookup payment_terms", "capture_reads": false}, {"column": "code", "uses": "lookup payment_terms", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'payment_terms', true);
SELECT replicator.record_dependency('customers_organization', 'right', 'cds', 'customer_payment_method',
       '[{"column": "customerpaymentmethodid", "uses": "lookup customer_payment_methods", "capture_reads": false}, {"column": "companyid", "uses": "lookup customer_payment_methods", "capture_reads": false}, {"column": "code", "uses": "lookup customer_payment_methods", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'customer_payment_methods', true);
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('dependencies', '2b8dc951126d9cde2ee12635f45c207ea1a27da3cf62427548ee0f84746f8e75', '')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

INSERT INTO replicator.deployment (bundle_sha256) VALUES ('bc1d792f6a6d2b28fdf5dfd75252cfd800d64b33213facde8980fc2674795760');
INSERT INTO replicator.activity_log (kind, message, detail)
VALUES ('deploy', 'deployed bundle bc1d792f6a6d: 44 to create, 0 to replace, 0 to drop', jsonb_build_object('bundle', 'bc1d792f6a6d2b28fdf5dfd75252cfd800d64b33213facde8980fc2674795760'));
