-- The replicator's control schema: change queue, map registry and state,
-- deployment record, error log, and the small functions the applier calls.
-- Safe to run again: it only creates what is missing and replaces functions.
-- Created by the first deploy, or beforehand for the owner role by replicator plan
-- --roles (the owner then needs no CREATE on the database, which IF NOT EXISTS asks).
-- replicator_write holds the writers' functions (see the apply functions); only the
-- owner and the writers may use it.
DO $schema$
BEGIN
    IF to_regnamespace('replicator') IS NULL THEN
        CREATE SCHEMA replicator;
    END IF;
    IF to_regnamespace('replicator_write') IS NULL THEN
        CREATE SCHEMA replicator_write;
    END IF;
END
$schema$;
REVOKE ALL ON SCHEMA replicator FROM PUBLIC;
REVOKE ALL ON SCHEMA replicator_write FROM PUBLIC;

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
-- Versions (see replicator.versions): an update's row before it, which says the
-- fields it wrote (null: every field, e.g. WAL capture without REPLICA IDENTITY FULL);
-- the row's key on this side; and the newest change of the row from the other side
-- that was applied here before this one (null until known: set when an incoming
-- change of the row is applied here, or when this one crosses).
-- xid: the capturing transaction, whose commit time stamps the change (the row's own
-- xmin moves when seen is set).
ALTER TABLE replicator.change_queue
    ADD COLUMN IF NOT EXISTS before jsonb,
    ADD COLUMN IF NOT EXISTS key    jsonb,
    ADD COLUMN IF NOT EXISTS seen   bigint,
    ADD COLUMN IF NOT EXISTS xid    xid    DEFAULT xid(pg_current_xact_id()),
    DROP COLUMN IF EXISTS before_refs,
    DROP COLUMN IF EXISTS forced;
-- A row's changes not yet sent, found by key when a change of it arrives from there.
-- The key leads: a plan made while the queue looked small would otherwise read every
-- queued change of the map for each row.
CREATE INDEX IF NOT EXISTS change_queue_row ON replicator.change_queue (key, map_name, direction);

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
ALTER TABLE replicator.held_change
    ADD COLUMN IF NOT EXISTS before jsonb,
    ADD COLUMN IF NOT EXISTS key    jsonb,
    ADD COLUMN IF NOT EXISTS seen   bigint,
    ADD COLUMN IF NOT EXISTS stamp  bigint,
    ADD COLUMN IF NOT EXISTS forced boolean NOT NULL DEFAULT false,
    DROP COLUMN IF EXISTS before_refs,
    DROP COLUMN IF EXISTS at;
CREATE INDEX IF NOT EXISTS held_change_key ON replicator.held_change (map_name, direction, key);

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
-- The last stop of the direction no sync has copied after yet (null: none). What its
-- source changed since was not captured, so replicator sync copies from that side;
-- a sync clears it once the direction runs again.
ALTER TABLE replicator.map_state ADD COLUMN IF NOT EXISTS stopped_at timestamptz;
UPDATE replicator.map_state SET stopped_at = state_since
 WHERE state = 'stopped' AND stopped_at IS NULL;

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
-- skipped by a DBA, or superseded: a later change of its key is applied together
-- with it (its fields would otherwise be lost) and both apply.
ALTER TABLE replicator.error_log
    ADD COLUMN IF NOT EXISTS before      jsonb,
    ADD COLUMN IF NOT EXISTS seen        bigint,
    ADD COLUMN IF NOT EXISTS stamp       bigint,
    ADD COLUMN IF NOT EXISTS forced      boolean     NOT NULL DEFAULT false,
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
           before = p_change->'before', seen = (p_change->>'seen')::bigint,
           stamp = (p_change->>'stamp')::bigint, forced = coalesce((p_change->>'force')::boolean, false),
           sqlstate = p_sqlstate, message = p_message, detail = NULLIF(p_detail, '')
     WHERE state = 'open' AND map_name = p_map AND direction = p_direction AND key = p_key;
    IF NOT FOUND THEN
        INSERT INTO replicator.error_log
               (map_name, direction, change_id, op, key, image, refs, before, seen, stamp, forced,
                sqlstate, message, detail)
        VALUES (p_map, p_direction, (p_change->>'id')::bigint, p_change->>'op', p_key,
                p_change->'image', p_change->'refs', p_change->'before',
                (p_change->>'seen')::bigint, (p_change->>'stamp')::bigint,
                coalesce((p_change->>'force')::boolean, false), p_sqlstate, p_message,
                NULLIF(p_detail, ''));
    END IF;
END
$$;

-- The open errors of a batch's keys applied with it (replicator.apply_batch hands them
-- in): they are settled.
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
           'image', v_error.image, 'refs', v_error.refs, 'before', v_error.before,
           'key', v_error.key, 'seen', v_error.seen, 'stamp', v_error.stamp,
           'force', v_error.forced))) > 0 THEN
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

-- What this database knows of each row the replicator keeps in step, per map, side and
-- key (the key columns of the row on that side): which writes of the row it holds.
-- clock has one entry per field (named as messages name it) and "" for the row
-- itself (inserted, updated or deleted: every change writes it):
-- [newest left change, newest right change, their stamps]. A change is the
-- capturing side's change id; its stamp is its commit time in microseconds, made
-- to grow with the row's changes on that side. Two sides that hold the same writes
-- hold equal clocks, and rows the maps make equal (see the Conflicts chapter).
-- gone: the row as it was when deleted here (its fields live on for a change from
-- the other side that had not seen the delete); applied_lsn: on a side whose WAL is
-- captured, where the WAL stood when the replicator last wrote the row here.
CREATE TABLE IF NOT EXISTS replicator.versions (
    map_name    text        NOT NULL,
    side        text        NOT NULL CHECK (side IN ('left', 'right')),
    key         jsonb       NOT NULL,
    clock       jsonb       NOT NULL DEFAULT '{}',
    gone        jsonb,
    applied_lsn pg_lsn,
    touched_at  timestamptz NOT NULL DEFAULT now(),
    -- The key leads: a plan made while the table looked small would otherwise read
    -- every clock of the map for each row.
    PRIMARY KEY (key, map_name, side)
);
-- replicator purge: versions of rows deleted long ago.
CREATE INDEX IF NOT EXISTS versions_gone ON replicator.versions (touched_at) WHERE gone IS NOT NULL;

-- The value-based conflict detection before versions kept these.
DROP TRIGGER IF EXISTS change_queue_tombstone ON replicator.change_queue;
DROP TABLE IF EXISTS replicator.tombstone;
DROP FUNCTION IF EXISTS replicator.keep_tombstone();
DROP TABLE IF EXISTS replicator.row_clock;

-- A transaction's commit time in microseconds, the stamp newest_wins compares (a WAL
-- listener's queueing transaction carries the source's, through its replication
-- origin). Null unless track_commit_timestamp is on.
CREATE OR REPLACE FUNCTION replicator.commit_stamp(p_xid xid)
RETURNS bigint
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN current_setting('track_commit_timestamp')::boolean
                THEN (extract(epoch FROM pg_xact_commit_timestamp(p_xid)) * 1000000)::bigint END
$$;
DROP FUNCTION IF EXISTS replicator.committed_at(xid);

-- Changes of a direction as they cross, with what the other side judges them by:
-- seen, the newest change of the row from there that was applied here before it
-- (a capture leaves it open; then nothing has been applied to the row since, and the
-- row's clock says it), and the stamp, its commit time raised to the row's stamp
-- before it, so that a row's stamps on one side only grow.
CREATE OR REPLACE FUNCTION replicator.outgoing(p_direction text, p_ids bigint[])
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', c.id, 'map', c.map_name, 'op', c.op, 'image', c.image, 'refs', c.refs,
               'before', c.before, 'key', c.key, 'seen', c.seen, 'stamp', c.stamp)
             ORDER BY c.id), '[]')
      FROM (SELECT q.id, q.map_name, q.op, q.image, q.refs, q.before, q.key,
                   coalesce(q.seen, (v.clock->''->>s.other)::bigint, 0) AS seen,
                   greatest(max(replicator.commit_stamp(q.xid))
                                OVER (PARTITION BY q.map_name, q.key ORDER BY q.id),
                            (v.clock->''->>s.own_stamp)::bigint) AS stamp
              FROM replicator.change_queue AS q
             CROSS JOIN (SELECT CASE p_direction WHEN 'to_right' THEN 'left' ELSE 'right' END,
                                CASE p_direction WHEN 'to_right' THEN 1 ELSE 0 END,
                                CASE p_direction WHEN 'to_right' THEN 2 ELSE 3 END)
                     AS s(side, other, own_stamp)
              -- By primary key (LIMIT: a plan made while the table looked small would
              -- otherwise read every clock for each change).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM replicator.versions AS v
                    WHERE v.key = q.key AND v.map_name = q.map_name AND v.side = s.side
                    LIMIT 1) AS v ON true
             WHERE q.direction = p_direction AND q.id = ANY (p_ids)) AS c
$$;

-- One database: take a batch off the queue, apply it, all in the caller's
-- transaction, so apply and dequeue commit together. Returns (taken, failed).
-- p_final: the applier's last try at a batch that kept meeting serialization
-- failures; changes that still meet one are logged as errors (see apply_batch).
DROP FUNCTION IF EXISTS replicator.apply_queued(text, integer);
CREATE OR REPLACE FUNCTION replicator.apply_queued(p_direction text, p_limit integer,
                                                   p_final boolean DEFAULT false,
                                                   OUT taken integer, OUT failed integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- Batches range from one change to thousands: a plan cached for a small one
-- (plpgsql caches after a few calls) made large ones several times slower.
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    v_ids bigint[] := replicator.runnable_ids(p_direction, p_limit);
    v_batch jsonb;
    v_started timestamptz := clock_timestamp();
BEGIN
    taken := cardinality(v_ids);
    failed := 0;
    IF taken > 0 THEN
        v_batch := replicator.outgoing(p_direction, v_ids);
        DELETE FROM replicator.change_queue WHERE direction = p_direction AND id = ANY (v_ids);
        PERFORM replicator.absorb_batch(p_direction, v_batch);
        failed := replicator.apply_batch(p_direction, v_batch, p_final);
        PERFORM replicator.log_batch(p_direction, taken, failed, 0, v_started);
        PERFORM replicator.caught_up(p_direction);
    END IF;
END
$$;

-- Two servers, source side: the oldest changes of a direction, as they cross, with
-- their ids beside them.
CREATE OR REPLACE FUNCTION replicator.peek_batch(p_direction text, p_limit integer,
                                                 OUT ids bigint[], OUT batch jsonb)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    ids := ARRAY(SELECT unnest(replicator.runnable_ids(p_direction, p_limit)) ORDER BY 1);
    batch := replicator.outgoing(p_direction, ids);
END
$$;

-- Two servers, source side: forget changes the target has durably applied, recording
-- them in the rows' clocks here.
DROP FUNCTION IF EXISTS replicator.ack_batch(text, bigint[], timestamptz);
CREATE OR REPLACE FUNCTION replicator.ack_batch(p_direction text, p_ids bigint[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_gone integer;
BEGIN
    PERFORM replicator.absorb_batch(p_direction, replicator.outgoing(p_direction, p_ids));
    DELETE FROM replicator.change_queue WHERE direction = p_direction AND id = ANY (p_ids);
    GET DIAGNOSTICS v_gone = ROW_COUNT;
    PERFORM replicator.caught_up(p_direction);
    RETURN v_gone;
END
$$;

-- Two servers, target side: apply a batch from the other server unless it was
-- already applied (a replay after a crash), and record its ids in the same
-- transaction. Returns (applied, failed, skipped). p_final: as for apply_queued.
DROP FUNCTION IF EXISTS replicator.apply_remote(text, jsonb);
CREATE OR REPLACE FUNCTION replicator.apply_remote(p_direction text, p_batch jsonb,
                                                   p_final boolean DEFAULT false,
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
        failed := replicator.apply_batch(p_direction, v_fresh, p_final);
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

-- Changes that met a row the target's application had changed since the last
-- value that crossed over: who won, per field, and what happened. A manual
-- conflict waits (outcome 'waiting', one per key) until replicator resolve.
CREATE TABLE IF NOT EXISTS replicator.conflict_log (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    map_name    text        NOT NULL,
    direction   text        NOT NULL CHECK (direction IN ('to_right', 'to_left')),
    change_id   bigint,
    op          text        NOT NULL,
    key         jsonb       NOT NULL,  -- the incoming change's key (source columns)
    target_key  jsonb       NOT NULL,  -- the same row's key here (target columns)
    incoming    jsonb       NOT NULL,  -- the source row the change carried
    local       jsonb,                 -- the row here before (null: deleted here)
    incoming_at timestamptz,
    local_at    timestamptz,
    fields      jsonb       NOT NULL,  -- per field in conflict: its policy and who won
    policy      text        NOT NULL,
    outcome     text        NOT NULL
                CHECK (outcome IN ('took_incoming', 'kept_local', 'merged', 'waiting', 'resolved')),
    logged_at   timestamptz NOT NULL DEFAULT now(),
    resolved_by text,
    resolved_at timestamptz,
    taken       text        CHECK (taken IN ('left', 'right'))
);
CREATE INDEX IF NOT EXISTS conflict_log_map ON replicator.conflict_log (map_name, direction, logged_at);
CREATE UNIQUE INDEX IF NOT EXISTS conflict_log_waiting
    ON replicator.conflict_log (map_name, direction, key) WHERE outcome = 'waiting';

-- Per map and direction as this database sees it: the state and backlog where
-- the direction's source lives; held changes, applied figures, errors and waiting
-- conflicts where its target lives. replicator status joins the two databases' views.
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
       coalesce(e.logged, 0)                            AS errors_logged,
       coalesce(c.waiting, 0)                           AS conflicts_waiting
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
         USING (map_name, direction)
  LEFT JOIN (SELECT map_name, direction, count(*) AS waiting
               FROM replicator.conflict_log WHERE outcome = 'waiting'
              GROUP BY map_name, direction) AS c
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

-- replicator run, while it cannot reach a database (this one or the other): since
-- when it has been retrying, why, and when it gives up (reason 'gave up: ...' once
-- it has). Written to each database it can reach, removed once it is through again;
-- replicator status shows it.
CREATE TABLE IF NOT EXISTS replicator.applier_retry (
    only_one      boolean     PRIMARY KEY DEFAULT true CHECK (only_one),
    failing_since timestamptz NOT NULL,
    gives_up_at   timestamptz NOT NULL,
    reason        text        NOT NULL,
    noted_at      timestamptz NOT NULL DEFAULT now()
);

-- ==== The applier's heartbeat (replicator status, status --check) ====
-- One row per database: the session the applier holds here (alive while that backend
-- is in pg_stat_activity), where it runs, and when it last polled for work (at most
-- once a second). Kept apart from the queue: nothing reads it but status.
CREATE TABLE IF NOT EXISTS replicator.applier_heartbeat (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    pid        integer     NOT NULL,  -- the applier's backend on this database
    host       text        NOT NULL,  -- the machine the applier runs on
    os_pid     integer     NOT NULL,  -- its process there
    started_at timestamptz NOT NULL DEFAULT now(),
    polled_at  timestamptz NOT NULL DEFAULT now()
);
