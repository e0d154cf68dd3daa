-- replicator plan for database fno (reached through the left side's connection)
-- bundle ccb9ab5a10ffcc078d42617a8ffd772b1c53fb2a76edbd750f5c16082e7bca6e: control schema to version 1, 57 to create, 0 to replace, 0 to drop
--   migrate control/0001_baseline
--   create  drift
--   create  map/companies/to_left/apply
--   create  map/contact_persons/to_left/apply
--   create  map/customer_groups/to_left/apply
--   create  map/customer_payment_methods/to_left/apply
--   create  map/customers_person/to_left/apply
--   create  map/loyalty_cards/to_left/apply
--   create  map/name_affixes/to_left/apply
--   create  map/payment_days/to_left/apply
--   create  map/payment_day_lines/to_left/apply
--   create  map/payment_schedules/to_left/apply
--   create  map/payment_schedule_lines/to_left/apply
--   create  map/payment_terms/to_left/apply
--   create  map/customers_organization/to_left/apply
--   create  dispatch
--   create  map/companies/to_right/capture
--   create  map/companies/to_right/snapshot
--   create  map/contact_persons/to_right/capture
--   create  map/contact_persons/to_right/snapshot
--   create  map/customer_groups/to_right/capture
--   create  map/customer_groups/to_right/snapshot
--   create  map/customer_payment_methods/to_right/capture
--   create  map/customer_payment_methods/to_right/snapshot
--   create  map/customers_person/to_right/capture
--   create  map/customers_person/to_right/snapshot
--   create  map/loyalty_cards/to_right/capture
--   create  map/loyalty_cards/to_right/snapshot
--   create  map/name_affixes/to_right/capture
--   create  map/name_affixes/to_right/snapshot
--   create  map/payment_days/to_right/capture
--   create  map/payment_days/to_right/snapshot
--   create  map/payment_day_lines/to_right/capture
--   create  map/payment_day_lines/to_right/snapshot
--   create  map/payment_schedules/to_right/capture
--   create  map/payment_schedules/to_right/snapshot
--   create  map/payment_schedule_lines/to_right/capture
--   create  map/payment_schedule_lines/to_right/snapshot
--   create  map/payment_terms/to_right/capture
--   create  map/payment_terms/to_right/snapshot
--   create  map/customers_organization/to_right/capture
--   create  map/customers_organization/to_right/snapshot
--   create  map/companies/to_right/absorb
--   create  map/contact_persons/to_right/absorb
--   create  map/customer_groups/to_right/absorb
--   create  map/customer_payment_methods/to_right/absorb
--   create  map/customers_person/to_right/absorb
--   create  map/loyalty_cards/to_right/absorb
--   create  map/name_affixes/to_right/absorb
--   create  map/payment_days/to_right/absorb
--   create  map/payment_day_lines/to_right/absorb
--   create  map/payment_schedules/to_right/absorb
--   create  map/payment_schedule_lines/to_right/absorb
--   create  map/payment_terms/to_right/absorb
--   create  map/customers_organization/to_right/absorb
--   create  absorb
--   create  registry
--   create  dependencies
-- Apply in one transaction (replicator deploy does; by hand, connected to this database:
-- psql -v ON_ERROR_STOP=1 -1 -f this-file).
-- Names below are qualified; built-in functions are found before anything else.
SET LOCAL search_path = pg_catalog, pg_temp;
-- For the fno database only: on any other (a file applied to the wrong database)
-- it stops here, and psql -v ON_ERROR_STOP=1 -1 rolls everything back.
DO $database$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'fno') THEN
        RAISE EXCEPTION 'replicator: this file is for the % database (schema %), but psql is connected to database %, which lacks it',
            'fno', 'fno', current_database()
            USING HINT = 'connect to that database: psql -v ON_ERROR_STOP=1 -1 -f FILE DBNAME';
    END IF;
END
$database$;
-- Waiting for a lock (an open transaction on a mapped table) fails after this long
-- rather than hanging, and holds up the table's writers no longer.
SET LOCAL lock_timeout = '10s';
-- Everything created here belongs to the owner role, whoever connects.
SET LOCAL ROLE "replicator_owner";
SELECT pg_advisory_xact_lock(7501166, 0);

-- ==== migrate control/0001_baseline ====
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

-- ==== the control schema's version ====
-- The control schema's version: one row per numbered migration (sql/migrations/) that
-- ran here. Deploy runs the missing ones, in order, in its transaction, and records
-- each with the sha256 of the text it ran.
CREATE TABLE replicator.schema_migration (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    sha256     text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text        NOT NULL DEFAULT current_user
);
INSERT INTO replicator.schema_migration (version, name, sha256)
VALUES (1, 'baseline', 'fbeb9b000f6afedc2d1f05707d24c6017f56b2266c6f595fff93cce2e5971c9e');

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
-- The parked changes' commit position, which their capture function compares.
ALTER TABLE replicator.wal_parked ADD COLUMN IF NOT EXISTS lsn pg_lsn;

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
-- Also changes whose filter raised for the row (a division by zero, a cast): the
-- database's error, and which filter. Null for a change the drift above kept out.
ALTER TABLE replicator.uncaptured
    ADD COLUMN IF NOT EXISTS sqlstate text,
    ADD COLUMN IF NOT EXISTS reason   text;

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
               -- NULL when the trigger is gone; 'D' disabled, 'R' fires for replicas only.
               (SELECT t.tgenabled FROM pg_trigger AS t
                 WHERE t.tgrelid = d.table_oid AND t.tgname = d.name) AS trigger_fires,
               format(CASE WHEN d.name LIKE '%\_upd' THEN 'updates of %s are not captured'
                           WHEN d.name LIKE '%\_trunc' THEN 'truncates of %s are not captured'
                           WHEN d.name LIKE '%\_sync'
                           THEN 'rows replicator sync overwrites in %s are not noted'
                           ELSE 'inserts and deletes of %s are not captured'
                      END, d.schema_name || '.' || d.table_name) AS trigger_loss
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
           || ' drops it with a column it watches): ' || f.trigger_loss || '; edit the map if'
           || ' a column it used is gone, run replicator deploy (it creates the trigger again),'
           || ' then replicator sync ' || f.map_name
      FROM found AS f
     WHERE f.kind = 'trigger' AND f.table_there AND f.trigger_fires IS NULL
    UNION ALL
    SELECT f.map_name, f.side, f.label, NULL, 'trigger disabled',
           f.prefix || ' capture trigger "' || f.name || '" '
           || CASE f.trigger_fires WHEN 'D' THEN 'is disabled'
                   ELSE 'fires only for replica sessions (ENABLE REPLICA TRIGGER)'
              END
           || ': ' || f.trigger_loss || '; run replicator deploy (it creates the trigger'
           || ' again, enabled) or, as the table''s owner, '
           || format('ALTER TABLE %I.%I ENABLE TRIGGER %I', f.schema_name, f.table_name, f.name)
           || ', then replicator sync ' || f.map_name
      FROM found AS f
     WHERE f.kind = 'trigger' AND f.table_there AND f.trigger_fires IN ('D', 'R')
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
        v_function := to_regprocedure(format('replicator.%I(jsonb, pg_lsn)',
                                             'wal_' || v_route.map_name || '_' || v_route.direction));
        CONTINUE WHEN v_function IS NULL;
        v_route_queued := 0;
        BEGIN
            FOR v_parked IN
                SELECT p.id, p.changes, coalesce(p.lsn, '0/0') AS lsn FROM replicator.wal_parked AS p
                 WHERE p.map_name = v_route.map_name AND p.direction = v_route.direction
                 ORDER BY p.id
            LOOP
                EXECUTE format('SELECT %s($1, $2)', v_function::regproc) INTO STRICT v_count
                  USING v_parked.changes, v_parked.lsn;
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
VALUES ('drift', 'f8b6a45e0b69fc09679f4796b243a97ad55e82836af44eb4dbb68da5740482dd', $sql$$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/companies/to_left/apply ====
-- Map 'companies', 'to_left': the writes to "fno"."companies", as replicator_left_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_left_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."companies_to_left"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"fno"."companies", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "fno"."companies" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "fno"."companies" ("dataareaid", "name")
    SELECT (r.n)."dataareaid",
       (r.n)."name"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("dataareaid") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "fno"."companies" AS t
       SET "name" = (r.n)."name"
      FROM r
     WHERE r."do" = 'U' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_written;
RETURN v_written;
END
$writer$;

-- An initial sync's rows for keys this side does not hold (the sync function below
-- found them so): inserted in one statement, decoded once. p_rows: the rows, by
-- target column. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."companies_to_left_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "fno"."companies" ("dataareaid", "name")
SELECT n."dataareaid",
       n."name"
  FROM jsonb_populate_recordset(NULL::"fno"."companies", p_rows) AS n
    ON CONFLICT ("dataareaid") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."companies_to_left"(jsonb, boolean) OWNER TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."companies_to_left_sync"(jsonb) OWNER TO "replicator_left_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_left_writer";

-- Map 'companies', 'to_left': write a batch of captured changes into "fno"."companies".
-- Deletes and upserts run as two passes (p_deletes), so a batch can delete children
-- before parents and insert parents before children.
--
-- Versions (replicator.versions): every change carries what its side had seen of this
-- one (seen: the newest change of the row from here applied there before it). Per
-- field, and for the row itself, a change that had seen this side's newest write of
-- it wins; one that had not is concurrent with it, and the policy decides
-- ('left_wins' for the row). This side's newest write is in the row's clock, or still
-- queued here. Both sides decide on the same writes the same way, so they end equal.
-- Rows are written only as they were judged (same xmin): one changed meanwhile makes
-- the batch retry. plpgsql rather than sql: it keeps the statements' plans.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The rows themselves are
-- written by the writer's function above. The capture triggers here skip what it
-- writes (loop safety): the marker below counts only for a role that may use the
-- writers' schema.
CREATE OR REPLACE FUNCTION "replicator"."write_companies_to_left"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
DECLARE
    v_wanted integer;
    v_written integer;
    v_inserted jsonb;  -- the keys inserted here, with this side's newest queued change known then
    v_touched jsonb;   -- the keys of the rows written here
    v_outside jsonb;   -- the key of a row the batch would change outside the map's filter here
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'companies', 'cds.company'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.companies were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('company_code', c.image->'company_code') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_1",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."company_code") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "company_code" character varying(4))
    WINDOW w AS (PARTITION BY "k"."company_code")
     ORDER BY "k"."company_code", c.id DESC
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("s"."company_code" AS character varying(4)) AS "k_1",
           false AS unresolved
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "company_code" character varying(4),
       "name" character varying(60))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'name'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'name'->>2)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."companies" AS t
            WHERE "t"."dataareaid" = "l"."k_1"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1")
              AND v.map_name = 'companies' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "ot_1",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1") AND q.map_name = 'companies'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."name" AS "n_1",
           g."name" AS "c_1",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "company_code" character varying(4),
       "name" character varying(60))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."companies",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           j.x_0 OR j."x_1" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'name', j."f_1") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'companies', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'name', CASE WHEN j."i_1" IS NULL THEN j.clock->'name'
                    ELSE jsonb_build_array(coalesce(j.clock->'name'->0, to_jsonb(0)), greatest(coalesce((j.clock->'name'->>1)::bigint, 0), "j"."i_1"), j.clock->'name'->2, "j"."t_1") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'companies' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'companies', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'name', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.present AND NOT j.exists_after AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), removed AS (
    SELECT "replicator_write"."companies_to_left"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
                                 false) AS written
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding
)
SELECT count(*) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (SELECT written FROM removed),
       jsonb_agg(j.own_key) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.present AND NOT j.exists_after AND NOT j.holding))[1]
  INTO v_wanted, v_written, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'companies', 'fno.companies'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('company_code', c.image->'company_code') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_1",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."company_code") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "company_code" character varying(4))
    WINDOW w AS (PARTITION BY "k"."company_code")
     ORDER BY "k"."company_code", c.id DESC
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("s"."company_code" AS character varying(4)) AS "k_1",
           false AS unresolved
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "company_code" character varying(4),
       "name" character varying(60))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'name'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'name'->>2)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."companies" AS t
            WHERE "t"."dataareaid" = "l"."k_1"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1")
              AND v.map_name = 'companies' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "ot_1",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1") AND q.map_name = 'companies'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."name" AS "n_1",
           g."name" AS "c_1",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "company_code" character varying(4),
       "name" character varying(60))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."companies",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           j.x_0 OR j."x_1" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'name', j."f_1") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'companies', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'name', CASE WHEN j."i_1" IS NULL THEN j.clock->'name'
                    ELSE jsonb_build_array(coalesce(j.clock->'name'->0, to_jsonb(0)), greatest(coalesce((j.clock->'name'->>1)::bigint, 0), "j"."i_1"), j.clock->'name'->2, "j"."t_1") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'companies' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'companies', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'name', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND NOT (j.present AND NOT j.exists_after) AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."companies_to_left"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('dataareaid', j."k_1", 'name', j."f_1"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('dataareaid', j."k_1", 'name', j."f_1")) END), '[]'),
               false) AS written
      FROM planned AS j
     WHERE j.exists_after AND NOT j.holding AND (NOT j.present           OR (j."f_1") IS DISTINCT FROM (j."c_1"))
)
SELECT count(*) FILTER (WHERE j.exists_after AND NOT j.holding AND (NOT j.present                             OR (j."f_1") IS DISTINCT FROM (j."c_1"))),
       (SELECT written FROM written),
       jsonb_agg(jsonb_build_object('key', j.own_key, 'known', j.queued_upto))
           FILTER (WHERE j.exists_after AND NOT j.present AND NOT j.holding),
       jsonb_agg(j.own_key) FILTER (WHERE j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.exists_after AND NOT j.holding                                       AND (j."f_1") IS DISTINCT FROM (j."c_1")))[1]
  INTO v_wanted, v_written, v_inserted, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'companies', 'fno.companies'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'companies'
                             AND q.direction || '' = 'to_right' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'companies', 'fno.companies'
        USING ERRCODE = 'serialization_failure';
END IF;

END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A key that applies settles its open
-- error (it was applied with the batch, see replicator.apply_batch). p_final: the
-- applier's last try at this batch after repeated serialization failures; a key that
-- still fails so is logged like any error, so the rest applies and no retry is endless.
DROP FUNCTION IF EXISTS "replicator"."apply_companies_to_left"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_companies_to_left"(p_changes jsonb, p_deletes boolean, p_final boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_key_changes jsonb;
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'companies' AND direction = 'to_left');
    BEGIN
        PERFORM "replicator"."write_companies_to_left"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('companies', 'to_left', ARRAY(
                SELECT jsonb_build_object('company_code', c.value->'image'->'company_code') FROM jsonb_array_elements(p_changes) AS c));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN serialization_failure THEN
            IF NOT p_final THEN
                RAISE;  -- transient: the applier retries the whole batch
            END IF;     -- its last try: find the key(s) that keep failing below
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('company_code', c.value->'image'->'company_code')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_companies_to_left"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('companies', 'to_left', ARRAY[jsonb_build_object('company_code', v_change->'image'->'company_code')]);
            END IF;
        EXCEPTION
            WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                IF v_sqlstate = '40001' AND NOT p_final THEN
                    RAISE;  -- serialization_failure: transient until the last try
                END IF;
                PERFORM "replicator"."log_error"('companies', 'to_left', v_change, jsonb_build_object('company_code', v_change->'image'->'company_code'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change of this batch counts once: deletes in the delete pass, the
                -- rest after; an earlier one applied with it counted when it came.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes
                                           AND c.value->'earlier' IS NULL);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;

-- replicator sync's fast path: of a chunk of an initial sync (forced inserts, in key
-- order), the rows whose key this side holds nowhere (no row, no clock, nothing of it
-- queued here) are written in one set-based insert, decoded once: for them the apply
-- function above could decide nothing else, and judges nothing. Returns the changes it
-- left to the apply function: the rest of the chunk, or all of it when held changes
-- or open errors wait here (the apply function retries or supersedes those), when the
-- map has lookups (each parent resolved there), or when the insert met anything else
-- (a row inserted meanwhile, a value refused): the apply function logs what fails.
CREATE OR REPLACE FUNCTION "replicator"."sync_companies_to_left"(p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $sync$
DECLARE
    v_wanted bigint;
    v_written bigint;
    v_rest jsonb;
    v_inserted jsonb;
BEGIN
    IF EXISTS (SELECT FROM "replicator"."held_change" WHERE direction = 'to_left')
       OR EXISTS (SELECT FROM "replicator"."error_log"
                   WHERE state = 'open' AND map_name = 'companies' AND direction = 'to_left') THEN
        RETURN p_changes;
    END IF;
    BEGIN
        WITH incoming AS MATERIALIZED (
            SELECT c.change, c.ordinal,
                   CAST("s"."company_code" AS character varying(4)) AS "k_1",
                   "s"."name" AS "f_1",
                   c.change->>'op' = 'I' AND coalesce((c.change->>'force')::boolean, false) AS insert_only
              FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS c(change, ordinal)
             CROSS JOIN LATERAL jsonb_to_record(c.change->'image') AS s(
               "company_code" character varying(4),
       "name" character varying(60))
        ), judged AS (
            SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1") AS own_key,
                   l.insert_only
                   AND NOT EXISTS (SELECT FROM "fno"."companies" AS t WHERE "t"."dataareaid" = "l"."k_1")
                   AND NOT EXISTS (SELECT FROM "replicator"."versions" AS v
                                    WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1")
                                      AND v.map_name = 'companies' AND v.side = 'left')
                   AND NOT EXISTS (SELECT FROM "replicator"."change_queue" AS q
                                    WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1") AND q.map_name = 'companies'
                                      AND q.direction || '' = 'to_right')
                   AS fresh
              FROM incoming AS l
        ), written AS (
            SELECT "replicator_write"."companies_to_left_sync"(coalesce(jsonb_agg(jsonb_build_object('dataareaid', j."k_1", 'name', j."f_1")), '[]')) AS written
              FROM judged AS j
             WHERE j.fresh
        )
        SELECT count(*) FILTER (WHERE j.fresh), (SELECT written FROM written),
               jsonb_agg(j.change ORDER BY j.ordinal) FILTER (WHERE NOT j.fresh),
               jsonb_agg(j.own_key) FILTER (WHERE j.fresh)
          INTO v_wanted, v_written, v_rest, v_inserted
          FROM judged AS j;
        IF v_written < v_wanted THEN
            -- A key inserted here after it was judged: the apply function judges the chunk.
            RAISE EXCEPTION 'replicator: map %: a row of % changed while a chunk was synced to it',
                'companies', 'fno.companies'
                USING ERRCODE = 'serialization_failure';
        END IF;
        -- A row inserted and deleted here, and both queued, after it was judged: likewise.
        IF EXISTS (SELECT FROM "replicator"."change_queue" AS q
                    WHERE q.key = ANY (ARRAY(SELECT x.value FROM jsonb_array_elements(coalesce(v_inserted, '[]')) AS x))
                      AND q.map_name = 'companies' AND q.direction || '' = 'to_right') THEN
            RAISE EXCEPTION 'replicator: map %: a row of % changed while a chunk was synced to it',
                'companies', 'fno.companies'
                USING ERRCODE = 'serialization_failure';
        END IF;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;
        WHEN OTHERS THEN
            RETURN p_changes;  -- undone: the apply function judges, and logs what fails
    END;
    IF v_wanted > 0 THEN
        UPDATE "replicator"."map_state"
           SET applied_total = applied_total + v_wanted, last_applied_at = now()
         WHERE map_name = 'companies' AND direction = 'to_left';
    END IF;
    RETURN coalesce(v_rest, '[]');
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_left/apply', 'a52959a64ab0c918033a4ced2877484990b3807193f7ceb946e2774b8e031473', $sql$DROP FUNCTION IF EXISTS "replicator"."apply_companies_to_left"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_companies_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."companies_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_companies_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."companies_to_left_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/contact_persons/to_left/apply ====
-- Map 'contact_persons', 'to_left': the writes to "fno"."contact_persons", as replicator_left_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_left_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."contact_persons_to_left"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"fno"."contact_persons", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "fno"."contact_persons" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "fno"."contact_persons" ("dataareaid", "contact_person_id", "first_name", "last_name", "email", "customer_account")
    SELECT (r.n)."dataareaid",
       (r.n)."contact_person_id",
       (r.n)."first_name",
       (r.n)."last_name",
       (r.n)."email",
       (r.n)."customer_account"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("dataareaid", "contact_person_id") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "fno"."contact_persons" AS t
       SET "first_name" = (r.n)."first_name",
       "last_name" = (r.n)."last_name",
       "email" = (r.n)."email",
       "customer_account" = (r.n)."customer_account"
      FROM r
     WHERE r."do" = 'U' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_written;
RETURN v_written;
END
$writer$;

-- An initial sync's rows for keys this side does not hold (the sync function below
-- found them so): inserted in one statement, decoded once. p_rows: the rows, by
-- target column. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."contact_persons_to_left_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "fno"."contact_persons" ("dataareaid", "contact_person_id", "first_name", "last_name", "email", "customer_account")
SELECT n."dataareaid",
       n."contact_person_id",
       n."first_name",
       n."last_name",
       n."email",
       n."customer_account"
  FROM jsonb_populate_recordset(NULL::"fno"."contact_persons", p_rows) AS n
    ON CONFLICT ("dataareaid", "contact_person_id") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."contact_persons_to_left"(jsonb, boolean) OWNER TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."contact_persons_to_left_sync"(jsonb) OWNER TO "replicator_left_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_left_writer";

-- Map 'contact_persons', 'to_left': write a batch of captured changes into "fno"."contact_persons".
-- Deletes and upserts run as two passes (p_deletes), so a batch can delete children
-- before parents and insert parents before children.
--
-- Versions (replicator.versions): every change carries what its side had seen of this
-- one (seen: the newest change of the row from here applied there before it). Per
-- field, and for the row itself, a change that had seen this side's newest write of
-- it wins; one that had not is concurrent with it, and the policy decides
-- ('left_wins' for the row). This side's newest write is in the row's clock, or still
-- queued here. Both sides decide on the same writes the same way, so they end equal.
-- Rows are written only as they were judged (same xmin): one changed meanwhile makes
-- the batch retry. plpgsql rather than sql: it keeps the statements' plans.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The rows themselves are
-- written by the writer's function above. The capture triggers here skip what it
-- writes (loop safety): the marker below counts only for a role that may use the
-- writers' schema.
CREATE OR REPLACE FUNCTION "replicator"."write_contact_persons_to_left"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
DECLARE
    v_wanted integer;
    v_written integer;
    v_inserted jsonb;  -- the keys inserted here, with this side's newest queued change known then
    v_touched jsonb;   -- the keys of the rows written here
    v_outside jsonb;   -- the key of a row the batch would change outside the map's filter here
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'contact_persons', 'cds.contact'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.contact_persons were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'contactpersonid', c.image->'contactpersonid') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'firstname' IS DISTINCT FROM c.image->'firstname')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'lastname' IS DISTINCT FROM c.image->'lastname')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'emailaddress1' IS DISTINCT FROM c.image->'emailaddress1')) AS "w_3",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'parent_account_number' IS DISTINCT FROM c.image->'parent_account_number')) AS "w_4",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."contactpersonid") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           max(c.id) FILTER (WHERE "w_3") OVER w AS "i_3",
           max(c.seen) FILTER (WHERE "w_3") OVER w AS "s_3",
           max(c.stamp) FILTER (WHERE "w_3") OVER w AS "t_3",
           max(c.id) FILTER (WHERE "w_4") OVER w AS "i_4",
           max(c.seen) FILTER (WHERE "w_4") OVER w AS "s_4",
           max(c.stamp) FILTER (WHERE "w_4") OVER w AS "t_4",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "contactpersonid" character varying(20))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."contactpersonid")
     ORDER BY "k"."companyid", "k"."contactpersonid", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."contactpersonid" AS character varying(20)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "contactpersonid" character varying(20),
       "firstname" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80),
       "parent_account_number" character varying(20))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'contact_person_id', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'first_name'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'first_name'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'last_name'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'last_name'->>2)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'email'->>0)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'email'->>2)::bigint, q."ot_3") AS "ot_3",
           greatest((v.clock->'customer_account'->>0)::bigint, q."o_4", 0) AS "o_4",
           greatest((v.clock->'customer_account'->>2)::bigint, q."ot_4") AS "ot_4",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."contact_persons" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."contact_person_id" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'contact_person_id', "l"."k_2")
              AND v.map_name = 'contact_persons' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'first_name' IS DISTINCT FROM q.image->'first_name')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'first_name' IS DISTINCT FROM q.image->'first_name')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'last_name' IS DISTINCT FROM q.image->'last_name')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'last_name' IS DISTINCT FROM q.image->'last_name')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'email' IS DISTINCT FROM q.image->'email')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'email' IS DISTINCT FROM q.image->'email')))
                      AS "ot_3",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customer_account' IS DISTINCT FROM q.image->'customer_account')))
                      AS "o_4",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customer_account' IS DISTINCT FROM q.image->'customer_account')))
                      AS "ot_4",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'contact_person_id', "l"."k_2") AND q.map_name = 'contact_persons'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."firstname" AS "n_1",
           g."first_name" AS "c_1",
           COALESCE("s"."lastname", CAST('-' AS character varying(50))) AS "n_2",
           g."last_name" AS "c_2",
           "s"."emailaddress1" AS "n_3",
           g."email" AS "c_3",
           "s"."parent_account_number" AS "n_4",
           g."customer_account" AS "c_4",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "contactpersonid" character varying(20),
       "firstname" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80),
       "parent_account_number" character varying(20))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."contact_persons",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR false) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           j."i_4" IS NOT NULL
               AND (j.forced OR j."s_4" >= j."o_4" OR false) AS "take_4",
           j."i_4" IS NOT NULL AND NOT j.forced AND j."s_4" < j."o_4"
               AND j."n_4" IS DISTINCT FROM j."c_4" AS "x_4",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_3"
                WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_4"
                WHEN j."take_4" THEN "j"."n_4" ELSE j."c_4" END AS "f_4",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" OR j."x_4" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'contact_person_id', j."k_2", 'first_name', j."f_1", 'last_name', j."f_2", 'email', j."f_3", 'customer_account', j."f_4") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'contact_persons', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'first_name', CASE WHEN j."i_1" IS NULL THEN j.clock->'first_name'
                    ELSE jsonb_build_array(coalesce(j.clock->'first_name'->0, to_jsonb(0)), greatest(coalesce((j.clock->'first_name'->>1)::bigint, 0), "j"."i_1"), j.clock->'first_name'->2, "j"."t_1") END,
               'last_name', CASE WHEN j."i_2" IS NULL THEN j.clock->'last_name'
                    ELSE jsonb_build_array(coalesce(j.clock->'last_name'->0, to_jsonb(0)), greatest(coalesce((j.clock->'last_name'->>1)::bigint, 0), "j"."i_2"), j.clock->'last_name'->2, "j"."t_2") END,
               'email', CASE WHEN j."i_3" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(coalesce(j.clock->'email'->0, to_jsonb(0)), greatest(coalesce((j.clock->'email'->>1)::bigint, 0), "j"."i_3"), j.clock->'email'->2, "j"."t_3") END,
               'customer_account', CASE WHEN j."i_4" IS NULL THEN j.clock->'customer_account'
                    ELSE jsonb_build_array(coalesce(j.clock->'customer_account'->0, to_jsonb(0)), greatest(coalesce((j.clock->'customer_account'->>1)::bigint, 0), "j"."i_4"), j.clock->'customer_account'->2, "j"."t_4") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'contact_persons' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'contact_persons', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'first_name', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'last_name', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'email', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_3" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'customer_account', CASE WHEN j."x_4" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_4" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") AND NOT (j."x_4" AND NOT j."take_4") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") AND NOT (j."x_4" AND j."take_4") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.present AND NOT j.exists_after AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), removed AS (
    SELECT "replicator_write"."contact_persons_to_left"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
                                 false) AS written
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding
)
SELECT count(*) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (SELECT written FROM removed),
       jsonb_agg(j.own_key) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.present AND NOT j.exists_after AND NOT j.holding))[1]
  INTO v_wanted, v_written, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'contact_persons', 'fno.contact_persons'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'contactpersonid', c.image->'contactpersonid') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'firstname' IS DISTINCT FROM c.image->'firstname')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'lastname' IS DISTINCT FROM c.image->'lastname')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'emailaddress1' IS DISTINCT FROM c.image->'emailaddress1')) AS "w_3",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'parent_account_number' IS DISTINCT FROM c.image->'parent_account_number')) AS "w_4",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."contactpersonid") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           max(c.id) FILTER (WHERE "w_3") OVER w AS "i_3",
           max(c.seen) FILTER (WHERE "w_3") OVER w AS "s_3",
           max(c.stamp) FILTER (WHERE "w_3") OVER w AS "t_3",
           max(c.id) FILTER (WHERE "w_4") OVER w AS "i_4",
           max(c.seen) FILTER (WHERE "w_4") OVER w AS "s_4",
           max(c.stamp) FILTER (WHERE "w_4") OVER w AS "t_4",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "contactpersonid" character varying(20))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."contactpersonid")
     ORDER BY "k"."companyid", "k"."contactpersonid", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."contactpersonid" AS character varying(20)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "contactpersonid" character varying(20),
       "firstname" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80),
       "parent_account_number" character varying(20))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'contact_person_id', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'first_name'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'first_name'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'last_name'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'last_name'->>2)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'email'->>0)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'email'->>2)::bigint, q."ot_3") AS "ot_3",
           greatest((v.clock->'customer_account'->>0)::bigint, q."o_4", 0) AS "o_4",
           greatest((v.clock->'customer_account'->>2)::bigint, q."ot_4") AS "ot_4",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."contact_persons" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."contact_person_id" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'contact_person_id', "l"."k_2")
              AND v.map_name = 'contact_persons' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'first_name' IS DISTINCT FROM q.image->'first_name')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'first_name' IS DISTINCT FROM q.image->'first_name')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'last_name' IS DISTINCT FROM q.image->'last_name')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'last_name' IS DISTINCT FROM q.image->'last_name')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'email' IS DISTINCT FROM q.image->'email')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'email' IS DISTINCT FROM q.image->'email')))
                      AS "ot_3",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customer_account' IS DISTINCT FROM q.image->'customer_account')))
                      AS "o_4",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customer_account' IS DISTINCT FROM q.image->'customer_account')))
                      AS "ot_4",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'contact_person_id', "l"."k_2") AND q.map_name = 'contact_persons'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."firstname" AS "n_1",
           g."first_name" AS "c_1",
           COALESCE("s"."lastname", CAST('-' AS character varying(50))) AS "n_2",
           g."last_name" AS "c_2",
           "s"."emailaddress1" AS "n_3",
           g."email" AS "c_3",
           "s"."parent_account_number" AS "n_4",
           g."customer_account" AS "c_4",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "contactpersonid" character varying(20),
       "firstname" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80),
       "parent_account_number" character varying(20))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."contact_persons",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR false) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           j."i_4" IS NOT NULL
               AND (j.forced OR j."s_4" >= j."o_4" OR false) AS "take_4",
           j."i_4" IS NOT NULL AND NOT j.forced AND j."s_4" < j."o_4"
               AND j."n_4" IS DISTINCT FROM j."c_4" AS "x_4",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_3"
                WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_4"
                WHEN j."take_4" THEN "j"."n_4" ELSE j."c_4" END AS "f_4",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" OR j."x_4" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'contact_person_id', j."k_2", 'first_name', j."f_1", 'last_name', j."f_2", 'email', j."f_3", 'customer_account', j."f_4") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'contact_persons', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'first_name', CASE WHEN j."i_1" IS NULL THEN j.clock->'first_name'
                    ELSE jsonb_build_array(coalesce(j.clock->'first_name'->0, to_jsonb(0)), greatest(coalesce((j.clock->'first_name'->>1)::bigint, 0), "j"."i_1"), j.clock->'first_name'->2, "j"."t_1") END,
               'last_name', CASE WHEN j."i_2" IS NULL THEN j.clock->'last_name'
                    ELSE jsonb_build_array(coalesce(j.clock->'last_name'->0, to_jsonb(0)), greatest(coalesce((j.clock->'last_name'->>1)::bigint, 0), "j"."i_2"), j.clock->'last_name'->2, "j"."t_2") END,
               'email', CASE WHEN j."i_3" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(coalesce(j.clock->'email'->0, to_jsonb(0)), greatest(coalesce((j.clock->'email'->>1)::bigint, 0), "j"."i_3"), j.clock->'email'->2, "j"."t_3") END,
               'customer_account', CASE WHEN j."i_4" IS NULL THEN j.clock->'customer_account'
                    ELSE jsonb_build_array(coalesce(j.clock->'customer_account'->0, to_jsonb(0)), greatest(coalesce((j.clock->'customer_account'->>1)::bigint, 0), "j"."i_4"), j.clock->'customer_account'->2, "j"."t_4") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'contact_persons' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'contact_persons', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'first_name', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'last_name', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'email', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_3" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'customer_account', CASE WHEN j."x_4" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_4" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") AND NOT (j."x_4" AND NOT j."take_4") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") AND NOT (j."x_4" AND j."take_4") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND NOT (j.present AND NOT j.exists_after) AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), held AS (
    -- A change whose parent has not arrived on this side yet is held, with the row's
    -- other changes, not written with a null reference (the applier retries it when
    -- the parent's map applies).
    INSERT INTO "replicator"."held_change" (direction, id, map_name, op, image, refs, before, key, seen, stamp,
                           forced, waiting_for)
    SELECT 'to_left', c.id, 'contact_persons', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('companyid', c.image->'companyid', 'contactpersonid', c.image->'contactpersonid') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."contact_persons_to_left"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('dataareaid', j."k_1", 'contact_person_id', j."k_2", 'first_name', j."f_1", 'last_name', j."f_2", 'email', j."f_3", 'customer_account', j."f_4"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('dataareaid', j."k_1", 'contact_person_id', j."k_2", 'first_name', j."f_1", 'last_name', j."f_2", 'email', j."f_3", 'customer_account', j."f_4")) END), '[]'),
               false) AS written
      FROM planned AS j
     WHERE j.exists_after AND NOT j.holding AND (NOT j.present           OR (j."f_1", j."f_2", j."f_3", j."f_4") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4"))
)
SELECT count(*) FILTER (WHERE j.exists_after AND NOT j.holding AND (NOT j.present                             OR (j."f_1", j."f_2", j."f_3", j."f_4") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4"))),
       (SELECT written FROM written),
       jsonb_agg(jsonb_build_object('key', j.own_key, 'known', j.queued_upto))
           FILTER (WHERE j.exists_after AND NOT j.present AND NOT j.holding),
       jsonb_agg(j.own_key) FILTER (WHERE j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.exists_after AND NOT j.holding                                       AND (j."f_1", j."f_2", j."f_3", j."f_4") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4")))[1]
  INTO v_wanted, v_written, v_inserted, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'contact_persons', 'fno.contact_persons'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'contact_persons'
                             AND q.direction || '' = 'to_right' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'contact_persons', 'fno.contact_persons'
        USING ERRCODE = 'serialization_failure';
END IF;

END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A key that applies settles its open
-- error (it was applied with the batch, see replicator.apply_batch). p_final: the
-- applier's last try at this batch after repeated serialization failures; a key that
-- still fails so is logged like any error, so the rest applies and no retry is endless.
DROP FUNCTION IF EXISTS "replicator"."apply_contact_persons_to_left"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_contact_persons_to_left"(p_changes jsonb, p_deletes boolean, p_final boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_key_changes jsonb;
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'contact_persons' AND direction = 'to_left');
    BEGIN
        PERFORM "replicator"."write_contact_persons_to_left"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('contact_persons', 'to_left', ARRAY(
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'contactpersonid', c.value->'image'->'contactpersonid') FROM jsonb_array_elements(p_changes) AS c));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN serialization_failure THEN
            IF NOT p_final THEN
                RAISE;  -- transient: the applier retries the whole batch
            END IF;     -- its last try: find the key(s) that keep failing below
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'contactpersonid', c.value->'image'->'contactpersonid')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_contact_persons_to_left"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('contact_persons', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'contactpersonid', v_change->'image'->'contactpersonid')]);
            END IF;
        EXCEPTION
            WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                IF v_sqlstate = '40001' AND NOT p_final THEN
                    RAISE;  -- serialization_failure: transient until the last try
                END IF;
                PERFORM "replicator"."log_error"('contact_persons', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'contactpersonid', v_change->'image'->'contactpersonid'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change of this batch counts once: deletes in the delete pass, the
                -- rest after; an earlier one applied with it counted when it came.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes
                                           AND c.value->'earlier' IS NULL);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;

-- replicator sync's fast path: of a chunk of an initial sync (forced inserts, in key
-- order), the rows whose key this side holds nowhere (no row, no clock, nothing of it
-- queued here) are written in one set-based insert, decoded once: for them the apply
-- function above could decide nothing else, and judges nothing. Returns the changes it
-- left to the apply function: the rest of the chunk, or all of it when held changes
-- or open errors wait here (the apply function retries or supersedes those), when the
-- map has lookups (each parent resolved there), or when the insert met anything else
-- (a row inserted meanwhile, a value refused): the apply function logs what fails.
CREATE OR REPLACE FUNCTION "replicator"."sync_contact_persons_to_left"(p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $sync$
BEGIN
    RETURN p_changes;  -- lookups: the apply function resolves each row's parents
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_left/apply', 'fc325c825d527d4e00ed8ef08316b2f17fa9f7d1dea1f8a4a044a834bd335613', $sql$-- Removing map 'contact_persons' ('to_left') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'contact_persons' AND direction = 'to_left';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'contact_persons', 'to_left', v_held, 'contact_persons', 'contact_persons', 'contact_persons', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_contact_persons_to_left"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_contact_persons_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."contact_persons_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_contact_persons_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."contact_persons_to_left_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_groups/to_left/apply ====
-- Map 'customer_groups', 'to_left': the writes to "fno"."customer_groups", as replicator_left_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_left_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."customer_groups_to_left"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"fno"."customer_groups", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "fno"."customer_groups" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "fno"."customer_groups" ("dataareaid", "customer_group", "description")
    SELECT (r.n)."dataareaid",
       (r.n)."customer_group",
       (r.n)."description"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("dataareaid", "customer_group") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "fno"."customer_groups" AS t
       SET "description" = (r.n)."description"
      FROM r
     WHERE r."do" = 'U' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_written;
RETURN v_written;
END
$writer$;

-- An initial sync's rows for keys this side does not hold (the sync function below
-- found them so): inserted in one statement, decoded once. p_rows: the rows, by
-- target column. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."customer_groups_to_left_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "fno"."customer_groups" ("dataareaid", "customer_group", "description")
SELECT n."dataareaid",
       n."customer_group",
       n."description"
  FROM jsonb_populate_recordset(NULL::"fno"."customer_groups", p_rows) AS n
    ON CONFLICT ("dataareaid", "customer_group") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."customer_groups_to_left"(jsonb, boolean) OWNER TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."customer_groups_to_left_sync"(jsonb) OWNER TO "replicator_left_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_left_writer";

-- Map 'customer_groups', 'to_left': write a batch of captured changes into "fno"."customer_groups".
-- Deletes and upserts run as two passes (p_deletes), so a batch can delete children
-- before parents and insert parents before children.
--
-- Versions (replicator.versions): every change carries what its side had seen of this
-- one (seen: the newest change of the row from here applied there before it). Per
-- field, and for the row itself, a change that had seen this side's newest write of
-- it wins; one that had not is concurrent with it, and the policy decides
-- ('left_wins' for the row). This side's newest write is in the row's clock, or still
-- queued here. Both sides decide on the same writes the same way, so they end equal.
-- Rows are written only as they were judged (same xmin): one changed meanwhile makes
-- the batch retry. plpgsql rather than sql: it keeps the statements' plans.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The rows themselves are
-- written by the writer's function above. The capture triggers here skip what it
-- writes (loop safety): the marker below counts only for a role that may use the
-- writers' schema.
CREATE OR REPLACE FUNCTION "replicator"."write_customer_groups_to_left"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
DECLARE
    v_wanted integer;
    v_written integer;
    v_inserted jsonb;  -- the keys inserted here, with this side's newest queued change known then
    v_touched jsonb;   -- the keys of the rows written here
    v_outside jsonb;   -- the key of a row the batch would change outside the map's filter here
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customer_groups', 'cds.customer_group'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.customer_groups were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'group_code', c.image->'group_code') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_1",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."group_code") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "group_code" character varying(10))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."group_code")
     ORDER BY "k"."companyid", "k"."group_code", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."group_code" AS character varying(10)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "group_code" character varying(10),
       "name" character varying(60))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'customer_group', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>2)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."customer_groups" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."customer_group" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'customer_group', "l"."k_2")
              AND v.map_name = 'customer_groups' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "ot_1",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'customer_group', "l"."k_2") AND q.map_name = 'customer_groups'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."name" AS "n_1",
           g."description" AS "c_1",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "group_code" character varying(10),
       "name" character varying(60))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."customer_groups",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           j.x_0 OR j."x_1" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'customer_group', j."k_2", 'description', j."f_1") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customer_groups', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), "j"."i_1"), j.clock->'description'->2, "j"."t_1") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'customer_groups' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customer_groups', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.present AND NOT j.exists_after AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), removed AS (
    SELECT "replicator_write"."customer_groups_to_left"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
                                 false) AS written
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding
)
SELECT count(*) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (SELECT written FROM removed),
       jsonb_agg(j.own_key) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.present AND NOT j.exists_after AND NOT j.holding))[1]
  INTO v_wanted, v_written, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customer_groups', 'fno.customer_groups'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'group_code', c.image->'group_code') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_1",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."group_code") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "group_code" character varying(10))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."group_code")
     ORDER BY "k"."companyid", "k"."group_code", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."group_code" AS character varying(10)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "group_code" character varying(10),
       "name" character varying(60))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'customer_group', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>2)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."customer_groups" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."customer_group" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'customer_group', "l"."k_2")
              AND v.map_name = 'customer_groups' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "ot_1",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'customer_group', "l"."k_2") AND q.map_name = 'customer_groups'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."name" AS "n_1",
           g."description" AS "c_1",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "group_code" character varying(10),
       "name" character varying(60))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."customer_groups",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           j.x_0 OR j."x_1" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'customer_group', j."k_2", 'description', j."f_1") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customer_groups', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), "j"."i_1"), j.clock->'description'->2, "j"."t_1") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'customer_groups' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customer_groups', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND NOT (j.present AND NOT j.exists_after) AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), held AS (
    -- A change whose parent has not arrived on this side yet is held, with the row's
    -- other changes, not written with a null reference (the applier retries it when
    -- the parent's map applies).
    INSERT INTO "replicator"."held_change" (direction, id, map_name, op, image, refs, before, key, seen, stamp,
                           forced, waiting_for)
    SELECT 'to_left', c.id, 'customer_groups', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('companyid', c.image->'companyid', 'group_code', c.image->'group_code') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."customer_groups_to_left"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('dataareaid', j."k_1", 'customer_group', j."k_2", 'description', j."f_1"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('dataareaid', j."k_1", 'customer_group', j."k_2", 'description', j."f_1")) END), '[]'),
               false) AS written
      FROM planned AS j
     WHERE j.exists_after AND NOT j.holding AND (NOT j.present           OR (j."f_1") IS DISTINCT FROM (j."c_1"))
)
SELECT count(*) FILTER (WHERE j.exists_after AND NOT j.holding AND (NOT j.present                             OR (j."f_1") IS DISTINCT FROM (j."c_1"))),
       (SELECT written FROM written),
       jsonb_agg(jsonb_build_object('key', j.own_key, 'known', j.queued_upto))
           FILTER (WHERE j.exists_after AND NOT j.present AND NOT j.holding),
       jsonb_agg(j.own_key) FILTER (WHERE j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.exists_after AND NOT j.holding                                       AND (j."f_1") IS DISTINCT FROM (j."c_1")))[1]
  INTO v_wanted, v_written, v_inserted, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customer_groups', 'fno.customer_groups'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'customer_groups'
                             AND q.direction || '' = 'to_right' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customer_groups', 'fno.customer_groups'
        USING ERRCODE = 'serialization_failure';
END IF;

END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A key that applies settles its open
-- error (it was applied with the batch, see replicator.apply_batch). p_final: the
-- applier's last try at this batch after repeated serialization failures; a key that
-- still fails so is logged like any error, so the rest applies and no retry is endless.
DROP FUNCTION IF EXISTS "replicator"."apply_customer_groups_to_left"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_customer_groups_to_left"(p_changes jsonb, p_deletes boolean, p_final boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_key_changes jsonb;
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'customer_groups' AND direction = 'to_left');
    BEGIN
        PERFORM "replicator"."write_customer_groups_to_left"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('customer_groups', 'to_left', ARRAY(
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'group_code', c.value->'image'->'group_code') FROM jsonb_array_elements(p_changes) AS c));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN serialization_failure THEN
            IF NOT p_final THEN
                RAISE;  -- transient: the applier retries the whole batch
            END IF;     -- its last try: find the key(s) that keep failing below
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'group_code', c.value->'image'->'group_code')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_customer_groups_to_left"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('customer_groups', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'group_code', v_change->'image'->'group_code')]);
            END IF;
        EXCEPTION
            WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                IF v_sqlstate = '40001' AND NOT p_final THEN
                    RAISE;  -- serialization_failure: transient until the last try
                END IF;
                PERFORM "replicator"."log_error"('customer_groups', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'group_code', v_change->'image'->'group_code'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change of this batch counts once: deletes in the delete pass, the
                -- rest after; an earlier one applied with it counted when it came.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes
                                           AND c.value->'earlier' IS NULL);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;

-- replicator sync's fast path: of a chunk of an initial sync (forced inserts, in key
-- order), the rows whose key this side holds nowhere (no row, no clock, nothing of it
-- queued here) are written in one set-based insert, decoded once: for them the apply
-- function above could decide nothing else, and judges nothing. Returns the changes it
-- left to the apply function: the rest of the chunk, or all of it when held changes
-- or open errors wait here (the apply function retries or supersedes those), when the
-- map has lookups (each parent resolved there), or when the insert met anything else
-- (a row inserted meanwhile, a value refused): the apply function logs what fails.
CREATE OR REPLACE FUNCTION "replicator"."sync_customer_groups_to_left"(p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $sync$
BEGIN
    RETURN p_changes;  -- lookups: the apply function resolves each row's parents
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_left/apply', '6e53d5b4a56a882cad84c9604e34b47aa19077a5a7445f080c3a056ef5b8958e', $sql$-- Removing map 'customer_groups' ('to_left') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'customer_groups' AND direction = 'to_left';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customer_groups', 'to_left', v_held, 'customer_groups', 'customer_groups', 'customer_groups', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_customer_groups_to_left"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customer_groups_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."customer_groups_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_customer_groups_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."customer_groups_to_left_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_payment_methods/to_left/apply ====
-- Map 'customer_payment_methods', 'to_left': the writes to "fno"."customer_payment_methods", as replicator_left_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_left_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."customer_payment_methods_to_left"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"fno"."customer_payment_methods", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "fno"."customer_payment_methods" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "fno"."customer_payment_methods" ("dataareaid", "payment_method", "description", "payment_type")
    SELECT (r.n)."dataareaid",
       (r.n)."payment_method",
       (r.n)."description",
       (r.n)."payment_type"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("dataareaid", "payment_method") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "fno"."customer_payment_methods" AS t
       SET "description" = (r.n)."description",
       "payment_type" = (r.n)."payment_type"
      FROM r
     WHERE r."do" = 'U' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_written;
RETURN v_written;
END
$writer$;

-- An initial sync's rows for keys this side does not hold (the sync function below
-- found them so): inserted in one statement, decoded once. p_rows: the rows, by
-- target column. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."customer_payment_methods_to_left_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "fno"."customer_payment_methods" ("dataareaid", "payment_method", "description", "payment_type")
SELECT n."dataareaid",
       n."payment_method",
       n."description",
       n."payment_type"
  FROM jsonb_populate_recordset(NULL::"fno"."customer_payment_methods", p_rows) AS n
    ON CONFLICT ("dataareaid", "payment_method") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."customer_payment_methods_to_left"(jsonb, boolean) OWNER TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."customer_payment_methods_to_left_sync"(jsonb) OWNER TO "replicator_left_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_left_writer";

-- Map 'customer_payment_methods', 'to_left': write a batch of captured changes into "fno"."customer_payment_methods".
-- Deletes and upserts run as two passes (p_deletes), so a batch can delete children
-- before parents and insert parents before children.
--
-- Versions (replicator.versions): every change carries what its side had seen of this
-- one (seen: the newest change of the row from here applied there before it). Per
-- field, and for the row itself, a change that had seen this side's newest write of
-- it wins; one that had not is concurrent with it, and the policy decides
-- ('left_wins' for the row). This side's newest write is in the row's clock, or still
-- queued here. Both sides decide on the same writes the same way, so they end equal.
-- Rows are written only as they were judged (same xmin): one changed meanwhile makes
-- the batch retry. plpgsql rather than sql: it keeps the statements' plans.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The rows themselves are
-- written by the writer's function above. The capture triggers here skip what it
-- writes (loop safety): the marker below counts only for a role that may use the
-- writers' schema.
CREATE OR REPLACE FUNCTION "replicator"."write_customer_payment_methods_to_left"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
DECLARE
    v_wanted integer;
    v_written integer;
    v_inserted jsonb;  -- the keys inserted here, with this side's newest queued change known then
    v_touched jsonb;   -- the keys of the rows written here
    v_outside jsonb;   -- the key of a row the batch would change outside the map's filter here
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customer_payment_methods', 'cds.customer_payment_method'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.customer_payment_methods were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'code', c.image->'code') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_type' IS DISTINCT FROM c.image->'payment_type')) AS "w_2",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."code") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "code" character varying(10))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."code")
     ORDER BY "k"."companyid", "k"."code", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."code" AS character varying(10)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "payment_type" text)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'payment_method', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'payment_type'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'payment_type'->>2)::bigint, q."ot_2") AS "ot_2",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."customer_payment_methods" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."payment_method" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_method', "l"."k_2")
              AND v.map_name = 'customer_payment_methods' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_type' IS DISTINCT FROM q.image->'payment_type')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_type' IS DISTINCT FROM q.image->'payment_type')))
                      AS "ot_2",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_method', "l"."k_2") AND q.map_name = 'customer_payment_methods'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."name" AS "n_1",
           g."description" AS "c_1",
           CAST(CASE WHEN "s"."payment_type" IS NULL THEN NULL WHEN "s"."payment_type"::text = 'check' THEN 'Check' WHEN "s"."payment_type"::text = 'electronic' THEN 'Electronic' WHEN "s"."payment_type"::text = 'cash' THEN 'Cash' ELSE "replicator"."unmapped_value"('customer_payment_methods', 'payment_type', "s"."payment_type"::text) END AS character varying(12)) AS "n_2",
           g."payment_type" AS "c_2",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "payment_type" text)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."customer_payment_methods",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           j.x_0 OR j."x_1" OR j."x_2" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'payment_method', j."k_2", 'description', j."f_1", 'payment_type', j."f_2") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customer_payment_methods', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), "j"."i_1"), j.clock->'description'->2, "j"."t_1") END,
               'payment_type', CASE WHEN j."i_2" IS NULL THEN j.clock->'payment_type'
                    ELSE jsonb_build_array(coalesce(j.clock->'payment_type'->0, to_jsonb(0)), greatest(coalesce((j.clock->'payment_type'->>1)::bigint, 0), "j"."i_2"), j.clock->'payment_type'->2, "j"."t_2") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'customer_payment_methods' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customer_payment_methods', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'payment_type', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.present AND NOT j.exists_after AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), removed AS (
    SELECT "replicator_write"."customer_payment_methods_to_left"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
                                 false) AS written
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding
)
SELECT count(*) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (SELECT written FROM removed),
       jsonb_agg(j.own_key) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.present AND NOT j.exists_after AND NOT j.holding))[1]
  INTO v_wanted, v_written, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customer_payment_methods', 'fno.customer_payment_methods'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'code', c.image->'code') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_type' IS DISTINCT FROM c.image->'payment_type')) AS "w_2",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."code") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "code" character varying(10))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."code")
     ORDER BY "k"."companyid", "k"."code", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."code" AS character varying(10)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "payment_type" text)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'payment_method', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'payment_type'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'payment_type'->>2)::bigint, q."ot_2") AS "ot_2",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."customer_payment_methods" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."payment_method" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_method', "l"."k_2")
              AND v.map_name = 'customer_payment_methods' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_type' IS DISTINCT FROM q.image->'payment_type')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_type' IS DISTINCT FROM q.image->'payment_type')))
                      AS "ot_2",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_method', "l"."k_2") AND q.map_name = 'customer_payment_methods'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."name" AS "n_1",
           g."description" AS "c_1",
           CAST(CASE WHEN "s"."payment_type" IS NULL THEN NULL WHEN "s"."payment_type"::text = 'check' THEN 'Check' WHEN "s"."payment_type"::text = 'electronic' THEN 'Electronic' WHEN "s"."payment_type"::text = 'cash' THEN 'Cash' ELSE "replicator"."unmapped_value"('customer_payment_methods', 'payment_type', "s"."payment_type"::text) END AS character varying(12)) AS "n_2",
           g."payment_type" AS "c_2",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "payment_type" text)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."customer_payment_methods",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           j.x_0 OR j."x_1" OR j."x_2" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'payment_method', j."k_2", 'description', j."f_1", 'payment_type', j."f_2") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customer_payment_methods', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), "j"."i_1"), j.clock->'description'->2, "j"."t_1") END,
               'payment_type', CASE WHEN j."i_2" IS NULL THEN j.clock->'payment_type'
                    ELSE jsonb_build_array(coalesce(j.clock->'payment_type'->0, to_jsonb(0)), greatest(coalesce((j.clock->'payment_type'->>1)::bigint, 0), "j"."i_2"), j.clock->'payment_type'->2, "j"."t_2") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'customer_payment_methods' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customer_payment_methods', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'payment_type', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND NOT (j.present AND NOT j.exists_after) AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), held AS (
    -- A change whose parent has not arrived on this side yet is held, with the row's
    -- other changes, not written with a null reference (the applier retries it when
    -- the parent's map applies).
    INSERT INTO "replicator"."held_change" (direction, id, map_name, op, image, refs, before, key, seen, stamp,
                           forced, waiting_for)
    SELECT 'to_left', c.id, 'customer_payment_methods', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('companyid', c.image->'companyid', 'code', c.image->'code') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."customer_payment_methods_to_left"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('dataareaid', j."k_1", 'payment_method', j."k_2", 'description', j."f_1", 'payment_type', j."f_2"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('dataareaid', j."k_1", 'payment_method', j."k_2", 'description', j."f_1", 'payment_type', j."f_2")) END), '[]'),
               false) AS written
      FROM planned AS j
     WHERE j.exists_after AND NOT j.holding AND (NOT j.present           OR (j."f_1", j."f_2") IS DISTINCT FROM (j."c_1", j."c_2"))
)
SELECT count(*) FILTER (WHERE j.exists_after AND NOT j.holding AND (NOT j.present                             OR (j."f_1", j."f_2") IS DISTINCT FROM (j."c_1", j."c_2"))),
       (SELECT written FROM written),
       jsonb_agg(jsonb_build_object('key', j.own_key, 'known', j.queued_upto))
           FILTER (WHERE j.exists_after AND NOT j.present AND NOT j.holding),
       jsonb_agg(j.own_key) FILTER (WHERE j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.exists_after AND NOT j.holding                                       AND (j."f_1", j."f_2") IS DISTINCT FROM (j."c_1", j."c_2")))[1]
  INTO v_wanted, v_written, v_inserted, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customer_payment_methods', 'fno.customer_payment_methods'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'customer_payment_methods'
                             AND q.direction || '' = 'to_right' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customer_payment_methods', 'fno.customer_payment_methods'
        USING ERRCODE = 'serialization_failure';
END IF;

END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A key that applies settles its open
-- error (it was applied with the batch, see replicator.apply_batch). p_final: the
-- applier's last try at this batch after repeated serialization failures; a key that
-- still fails so is logged like any error, so the rest applies and no retry is endless.
DROP FUNCTION IF EXISTS "replicator"."apply_customer_payment_methods_to_left"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_customer_payment_methods_to_left"(p_changes jsonb, p_deletes boolean, p_final boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_key_changes jsonb;
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'customer_payment_methods' AND direction = 'to_left');
    BEGIN
        PERFORM "replicator"."write_customer_payment_methods_to_left"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('customer_payment_methods', 'to_left', ARRAY(
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'code', c.value->'image'->'code') FROM jsonb_array_elements(p_changes) AS c));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN serialization_failure THEN
            IF NOT p_final THEN
                RAISE;  -- transient: the applier retries the whole batch
            END IF;     -- its last try: find the key(s) that keep failing below
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'code', c.value->'image'->'code')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_customer_payment_methods_to_left"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('customer_payment_methods', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'code', v_change->'image'->'code')]);
            END IF;
        EXCEPTION
            WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                IF v_sqlstate = '40001' AND NOT p_final THEN
                    RAISE;  -- serialization_failure: transient until the last try
                END IF;
                PERFORM "replicator"."log_error"('customer_payment_methods', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'code', v_change->'image'->'code'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change of this batch counts once: deletes in the delete pass, the
                -- rest after; an earlier one applied with it counted when it came.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes
                                           AND c.value->'earlier' IS NULL);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;

-- replicator sync's fast path: of a chunk of an initial sync (forced inserts, in key
-- order), the rows whose key this side holds nowhere (no row, no clock, nothing of it
-- queued here) are written in one set-based insert, decoded once: for them the apply
-- function above could decide nothing else, and judges nothing. Returns the changes it
-- left to the apply function: the rest of the chunk, or all of it when held changes
-- or open errors wait here (the apply function retries or supersedes those), when the
-- map has lookups (each parent resolved there), or when the insert met anything else
-- (a row inserted meanwhile, a value refused): the apply function logs what fails.
CREATE OR REPLACE FUNCTION "replicator"."sync_customer_payment_methods_to_left"(p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $sync$
BEGIN
    RETURN p_changes;  -- lookups: the apply function resolves each row's parents
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_left/apply', 'ae251326761d161df228baa1047a2090aa223ceb17add12278942788fc2145aa', $sql$-- Removing map 'customer_payment_methods' ('to_left') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'customer_payment_methods' AND direction = 'to_left';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customer_payment_methods', 'to_left', v_held, 'customer_payment_methods', 'customer_payment_methods', 'customer_payment_methods', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_customer_payment_methods_to_left"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customer_payment_methods_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."customer_payment_methods_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_customer_payment_methods_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."customer_payment_methods_to_left_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_person/to_left/apply ====
-- Map 'customers_person', 'to_left': the writes to "fno"."customers", as replicator_left_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_left_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."customers_person_to_left"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"fno"."customers", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "fno"."customers" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "fno"."customers" ("dataareaid", "account_num", "name", "email", "party_type")
    SELECT (r.n)."dataareaid",
       (r.n)."account_num",
       (r.n)."name",
       (r.n)."email",
       (r.n)."party_type"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("dataareaid", "account_num") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "fno"."customers" AS t
       SET "name" = (r.n)."name",
       "email" = (r.n)."email",
       "party_type" = (r.n)."party_type"
      FROM r
     WHERE r."do" = 'U' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_written;
RETURN v_written;
END
$writer$;

-- An initial sync's rows for keys this side does not hold (the sync function below
-- found them so): inserted in one statement, decoded once. p_rows: the rows, by
-- target column. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."customers_person_to_left_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "fno"."customers" ("dataareaid", "account_num", "name", "email", "party_type")
SELECT n."dataareaid",
       n."account_num",
       n."name",
       n."email",
       n."party_type"
  FROM jsonb_populate_recordset(NULL::"fno"."customers", p_rows) AS n
    ON CONFLICT ("dataareaid", "account_num") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."customers_person_to_left"(jsonb, boolean) OWNER TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."customers_person_to_left_sync"(jsonb) OWNER TO "replicator_left_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_left_writer";

-- Map 'customers_person', 'to_left': write a batch of captured changes into "fno"."customers".
-- Deletes and upserts run as two passes (p_deletes), so a batch can delete children
-- before parents and insert parents before children.
--
-- Versions (replicator.versions): every change carries what its side had seen of this
-- one (seen: the newest change of the row from here applied there before it). Per
-- field, and for the row itself, a change that had seen this side's newest write of
-- it wins; one that had not is concurrent with it, and the policy decides
-- ('left_wins' for the row). This side's newest write is in the row's clock, or still
-- queued here. Both sides decide on the same writes the same way, so they end equal.
-- Rows are written only as they were judged (same xmin): one changed meanwhile makes
-- the batch retry. plpgsql rather than sql: it keeps the statements' plans.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The rows themselves are
-- written by the writer's function above. The capture triggers here skip what it
-- writes (loop safety): the marker below counts only for a role that may use the
-- writers' schema.
CREATE OR REPLACE FUNCTION "replicator"."write_customers_person_to_left"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
DECLARE
    v_wanted integer;
    v_written integer;
    v_inserted jsonb;  -- the keys inserted here, with this side's newest queued change known then
    v_touched jsonb;   -- the keys of the rows written here
    v_outside jsonb;   -- the key of a row the batch would change outside the map's filter here
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customers_person', 'cds.contact'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.customers were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'customer_number', c.image->'customer_number') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'firstname' IS DISTINCT FROM c.image->'firstname' OR c.before->'middlename' IS DISTINCT FROM c.image->'middlename' OR c.before->'lastname' IS DISTINCT FROM c.image->'lastname')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'emailaddress1' IS DISTINCT FROM c.image->'emailaddress1')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)) AS "w_3",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."customer_number") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           max(c.id) FILTER (WHERE "w_3") OVER w AS "i_3",
           max(c.seen) FILTER (WHERE "w_3") OVER w AS "s_3",
           max(c.stamp) FILTER (WHERE "w_3") OVER w AS "t_3",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "customer_number" character varying(20))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."customer_number")
     ORDER BY "k"."companyid", "k"."customer_number", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."customer_number" AS character varying(20)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "customer_number" character varying(20),
       "firstname" character varying(50),
       "middlename" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'account_num', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           0::bigint AS "o_1", NULL::bigint AS "ot_1",
           greatest((v.clock->'email'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'email'->>2)::bigint, q."ot_2") AS "ot_2",
           0::bigint AS "o_3", NULL::bigint AS "ot_3",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  -- A row here outside the map's filter on this side is not the map's to change.
                  NOT coalesce(("t"."party_type" = 'Person'), false) AS outside
             FROM "fno"."customers" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."account_num" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'account_num', "l"."k_2")
              AND v.map_name = 'customers_person' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'email' IS DISTINCT FROM q.image->'email')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'email' IS DISTINCT FROM q.image->'email')))
                      AS "ot_2",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'account_num', "l"."k_2") AND q.map_name = 'customers_person'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           (CAST(CONCAT_WS(' ', "s"."firstname", "s"."middlename", "s"."lastname") AS VARCHAR(100))) AS "n_1",
           g."name" AS "c_1",
           "s"."emailaddress1" AS "n_2",
           g."email" AS "c_2",
           CAST('Person' AS "fno"."party_type") AS "n_3",
           g."party_type" AS "c_3",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "customer_number" character varying(20),
       "firstname" character varying(50),
       "middlename" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."customers",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR false) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_3"
                WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'account_num', j."k_2", 'name', j."f_1", 'email', j."f_2", 'party_type', j."f_3") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customers_person', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'name', CASE WHEN j."i_1" IS NULL THEN j.clock->'name'
                    ELSE jsonb_build_array(coalesce(j.clock->'name'->0, to_jsonb(0)), greatest(coalesce((j.clock->'name'->>1)::bigint, 0), "j"."i_1"), j.clock->'name'->2, "j"."t_1") END,
               'email', CASE WHEN j."i_2" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(coalesce(j.clock->'email'->0, to_jsonb(0)), greatest(coalesce((j.clock->'email'->>1)::bigint, 0), "j"."i_2"), j.clock->'email'->2, "j"."t_2") END,
               'party_type', CASE WHEN j."i_3" IS NULL THEN j.clock->'party_type'
                    ELSE jsonb_build_array(coalesce(j.clock->'party_type'->0, to_jsonb(0)), greatest(coalesce((j.clock->'party_type'->>1)::bigint, 0), "j"."i_3"), j.clock->'party_type'->2, "j"."t_3") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'customers_person' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customers_person', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'name', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'email', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'party_type', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_3" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.present AND NOT j.exists_after AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), removed AS (
    SELECT "replicator_write"."customers_person_to_left"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
                                 false) AS written
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding
)
SELECT count(*) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (SELECT written FROM removed),
       jsonb_agg(j.own_key) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.present AND NOT j.exists_after AND NOT j.holding))[1]
  INTO v_wanted, v_written, v_touched, v_outside
  FROM planned AS j;
IF v_outside IS NOT NULL THEN
    -- Undone with the statement: the row stays as it is, the change goes to the error log.
    RAISE EXCEPTION 'replicator: map %: the row % of % is outside the map''s %, so it is not the map''s to change',
        'customers_person', v_outside, 'fno.customers', 'left_filter (party_type = ''Person'')'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Another application or map owns that row. If it should be this map''s, change it there so that it matches the filter, then retry this error.';
END IF;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_person', 'fno.customers'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'customer_number', c.image->'customer_number') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'firstname' IS DISTINCT FROM c.image->'firstname' OR c.before->'middlename' IS DISTINCT FROM c.image->'middlename' OR c.before->'lastname' IS DISTINCT FROM c.image->'lastname')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'emailaddress1' IS DISTINCT FROM c.image->'emailaddress1')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)) AS "w_3",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."customer_number") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           max(c.id) FILTER (WHERE "w_3") OVER w AS "i_3",
           max(c.seen) FILTER (WHERE "w_3") OVER w AS "s_3",
           max(c.stamp) FILTER (WHERE "w_3") OVER w AS "t_3",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "customer_number" character varying(20))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."customer_number")
     ORDER BY "k"."companyid", "k"."customer_number", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."customer_number" AS character varying(20)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "customer_number" character varying(20),
       "firstname" character varying(50),
       "middlename" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'account_num', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           0::bigint AS "o_1", NULL::bigint AS "ot_1",
           greatest((v.clock->'email'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'email'->>2)::bigint, q."ot_2") AS "ot_2",
           0::bigint AS "o_3", NULL::bigint AS "ot_3",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  -- A row here outside the map's filter on this side is not the map's to change.
                  NOT coalesce(("t"."party_type" = 'Person'), false) AS outside
             FROM "fno"."customers" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."account_num" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'account_num', "l"."k_2")
              AND v.map_name = 'customers_person' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'email' IS DISTINCT FROM q.image->'email')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'email' IS DISTINCT FROM q.image->'email')))
                      AS "ot_2",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'account_num', "l"."k_2") AND q.map_name = 'customers_person'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           (CAST(CONCAT_WS(' ', "s"."firstname", "s"."middlename", "s"."lastname") AS VARCHAR(100))) AS "n_1",
           g."name" AS "c_1",
           "s"."emailaddress1" AS "n_2",
           g."email" AS "c_2",
           CAST('Person' AS "fno"."party_type") AS "n_3",
           g."party_type" AS "c_3",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "customer_number" character varying(20),
       "firstname" character varying(50),
       "middlename" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."customers",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR false) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_3"
                WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'account_num', j."k_2", 'name', j."f_1", 'email', j."f_2", 'party_type', j."f_3") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customers_person', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'name', CASE WHEN j."i_1" IS NULL THEN j.clock->'name'
                    ELSE jsonb_build_array(coalesce(j.clock->'name'->0, to_jsonb(0)), greatest(coalesce((j.clock->'name'->>1)::bigint, 0), "j"."i_1"), j.clock->'name'->2, "j"."t_1") END,
               'email', CASE WHEN j."i_2" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(coalesce(j.clock->'email'->0, to_jsonb(0)), greatest(coalesce((j.clock->'email'->>1)::bigint, 0), "j"."i_2"), j.clock->'email'->2, "j"."t_2") END,
               'party_type', CASE WHEN j."i_3" IS NULL THEN j.clock->'party_type'
                    ELSE jsonb_build_array(coalesce(j.clock->'party_type'->0, to_jsonb(0)), greatest(coalesce((j.clock->'party_type'->>1)::bigint, 0), "j"."i_3"), j.clock->'party_type'->2, "j"."t_3") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'customers_person' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customers_person', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'name', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'email', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'party_type', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_3" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND NOT (j.present AND NOT j.exists_after) AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), held AS (
    -- A change whose parent has not arrived on this side yet is held, with the row's
    -- other changes, not written with a null reference (the applier retries it when
    -- the parent's map applies).
    INSERT INTO "replicator"."held_change" (direction, id, map_name, op, image, refs, before, key, seen, stamp,
                           forced, waiting_for)
    SELECT 'to_left', c.id, 'customers_person', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('companyid', c.image->'companyid', 'customer_number', c.image->'customer_number') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."customers_person_to_left"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('dataareaid', j."k_1", 'account_num', j."k_2", 'name', j."f_1", 'email', j."f_2", 'party_type', j."f_3"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('dataareaid', j."k_1", 'account_num', j."k_2", 'name', j."f_1", 'email', j."f_2", 'party_type', j."f_3")) END), '[]'),
               false) AS written
      FROM planned AS j
     WHERE j.exists_after AND NOT j.holding AND (NOT j.present           OR (j."f_1", j."f_2", j."f_3") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3"))
)
SELECT count(*) FILTER (WHERE j.exists_after AND NOT j.holding AND (NOT j.present                             OR (j."f_1", j."f_2", j."f_3") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3"))),
       (SELECT written FROM written),
       jsonb_agg(jsonb_build_object('key', j.own_key, 'known', j.queued_upto))
           FILTER (WHERE j.exists_after AND NOT j.present AND NOT j.holding),
       jsonb_agg(j.own_key) FILTER (WHERE j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.exists_after AND NOT j.holding                                       AND (j."f_1", j."f_2", j."f_3") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3")))[1]
  INTO v_wanted, v_written, v_inserted, v_touched, v_outside
  FROM planned AS j;
IF v_outside IS NOT NULL THEN
    -- Undone with the statement: the row stays as it is, the change goes to the error log.
    RAISE EXCEPTION 'replicator: map %: the row % of % is outside the map''s %, so it is not the map''s to change',
        'customers_person', v_outside, 'fno.customers', 'left_filter (party_type = ''Person'')'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Another application or map owns that row. If it should be this map''s, change it there so that it matches the filter, then retry this error.';
END IF;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_person', 'fno.customers'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'customers_person'
                             AND q.direction || '' = 'to_right' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_person', 'fno.customers'
        USING ERRCODE = 'serialization_failure';
END IF;

END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A key that applies settles its open
-- error (it was applied with the batch, see replicator.apply_batch). p_final: the
-- applier's last try at this batch after repeated serialization failures; a key that
-- still fails so is logged like any error, so the rest applies and no retry is endless.
DROP FUNCTION IF EXISTS "replicator"."apply_customers_person_to_left"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_customers_person_to_left"(p_changes jsonb, p_deletes boolean, p_final boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_key_changes jsonb;
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'customers_person' AND direction = 'to_left');
    BEGIN
        PERFORM "replicator"."write_customers_person_to_left"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('customers_person', 'to_left', ARRAY(
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'customer_number', c.value->'image'->'customer_number') FROM jsonb_array_elements(p_changes) AS c));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN serialization_failure THEN
            IF NOT p_final THEN
                RAISE;  -- transient: the applier retries the whole batch
            END IF;     -- its last try: find the key(s) that keep failing below
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'customer_number', c.value->'image'->'customer_number')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_customers_person_to_left"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('customers_person', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'customer_number', v_change->'image'->'customer_number')]);
            END IF;
        EXCEPTION
            WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                IF v_sqlstate = '40001' AND NOT p_final THEN
                    RAISE;  -- serialization_failure: transient until the last try
                END IF;
                PERFORM "replicator"."log_error"('customers_person', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'customer_number', v_change->'image'->'customer_number'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change of this batch counts once: deletes in the delete pass, the
                -- rest after; an earlier one applied with it counted when it came.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes
                                           AND c.value->'earlier' IS NULL);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;

-- replicator sync's fast path: of a chunk of an initial sync (forced inserts, in key
-- order), the rows whose key this side holds nowhere (no row, no clock, nothing of it
-- queued here) are written in one set-based insert, decoded once: for them the apply
-- function above could decide nothing else, and judges nothing. Returns the changes it
-- left to the apply function: the rest of the chunk, or all of it when held changes
-- or open errors wait here (the apply function retries or supersedes those), when the
-- map has lookups (each parent resolved there), or when the insert met anything else
-- (a row inserted meanwhile, a value refused): the apply function logs what fails.
CREATE OR REPLACE FUNCTION "replicator"."sync_customers_person_to_left"(p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $sync$
BEGIN
    RETURN p_changes;  -- lookups: the apply function resolves each row's parents
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_left/apply', 'd0680c936240118e96e8c6c91df4153cb8da6fa55b783596fee8cad1858c7758', $sql$-- Removing map 'customers_person' ('to_left') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'customers_person' AND direction = 'to_left';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customers_person', 'to_left', v_held, 'customers_person', 'customers_person', 'customers_person', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_customers_person_to_left"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customers_person_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."customers_person_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_customers_person_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."customers_person_to_left_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/loyalty_cards/to_left/apply ====
-- Map 'loyalty_cards', 'to_left': the writes to "fno"."loyalty_cards", as replicator_left_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_left_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."loyalty_cards_to_left"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"fno"."loyalty_cards", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "fno"."loyalty_cards" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "fno"."loyalty_cards" ("card_number", "tier", "issued_on", "blocked")
    SELECT (r.n)."card_number",
       (r.n)."tier",
       (r.n)."issued_on",
       (r.n)."blocked"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("card_number") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "fno"."loyalty_cards" AS t
       SET "tier" = (r.n)."tier",
       "issued_on" = (r.n)."issued_on",
       "blocked" = (r.n)."blocked"
      FROM r
     WHERE r."do" = 'U' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_written;
RETURN v_written;
END
$writer$;

-- An initial sync's rows for keys this side does not hold (the sync function below
-- found them so): inserted in one statement, decoded once. p_rows: the rows, by
-- target column. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."loyalty_cards_to_left_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "fno"."loyalty_cards" ("card_number", "tier", "issued_on", "blocked")
SELECT n."card_number",
       n."tier",
       n."issued_on",
       n."blocked"
  FROM jsonb_populate_recordset(NULL::"fno"."loyalty_cards", p_rows) AS n
    ON CONFLICT ("card_number") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."loyalty_cards_to_left"(jsonb, boolean) OWNER TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."loyalty_cards_to_left_sync"(jsonb) OWNER TO "replicator_left_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_left_writer";

-- Map 'loyalty_cards', 'to_left': write a batch of captured changes into "fno"."loyalty_cards".
-- Deletes and upserts run as two passes (p_deletes), so a batch can delete children
-- before parents and insert parents before children.
--
-- Versions (replicator.versions): every change carries what its side had seen of this
-- one (seen: the newest change of the row from here applied there before it). Per
-- field, and for the row itself, a change that had seen this side's newest write of
-- it wins; one that had not is concurrent with it, and the policy decides
-- ('left_wins' for the row). This side's newest write is in the row's clock, or still
-- queued here. Both sides decide on the same writes the same way, so they end equal.
-- Rows are written only as they were judged (same xmin): one changed meanwhile makes
-- the batch retry. plpgsql rather than sql: it keeps the statements' plans.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The rows themselves are
-- written by the writer's function above. The capture triggers here skip what it
-- writes (loop safety): the marker below counts only for a role that may use the
-- writers' schema.
CREATE OR REPLACE FUNCTION "replicator"."write_loyalty_cards_to_left"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
DECLARE
    v_wanted integer;
    v_written integer;
    v_inserted jsonb;  -- the keys inserted here, with this side's newest queued change known then
    v_touched jsonb;   -- the keys of the rows written here
    v_outside jsonb;   -- the key of a row the batch would change outside the map's filter here
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'loyalty_cards', 'cds.loyalty_card'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.loyalty_cards were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('card_number', c.image->'card_number') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'tier' IS DISTINCT FROM c.image->'tier')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'issued_on' IS DISTINCT FROM c.image->'issued_on')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'is_blocked' IS DISTINCT FROM c.image->'is_blocked')) AS "w_3",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."card_number") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           max(c.id) FILTER (WHERE "w_3") OVER w AS "i_3",
           max(c.seen) FILTER (WHERE "w_3") OVER w AS "s_3",
           max(c.stamp) FILTER (WHERE "w_3") OVER w AS "t_3",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "card_number" character varying(20))
    WINDOW w AS (PARTITION BY "k"."card_number")
     ORDER BY "k"."card_number", c.id DESC
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("s"."card_number" AS character varying(20)) AS "k_1",
           false AS unresolved
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "is_blocked" boolean)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('card_number', "l"."k_1") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'tier'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'tier'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'issued_on'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'issued_on'->>2)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'blocked'->>0)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'blocked'->>2)::bigint, q."ot_3") AS "ot_3",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."loyalty_cards" AS t
            WHERE "t"."card_number" = "l"."k_1"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('card_number', "l"."k_1")
              AND v.map_name = 'loyalty_cards' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'tier' IS DISTINCT FROM q.image->'tier')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'tier' IS DISTINCT FROM q.image->'tier')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'issued_on' IS DISTINCT FROM q.image->'issued_on')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'issued_on' IS DISTINCT FROM q.image->'issued_on')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'blocked' IS DISTINCT FROM q.image->'blocked')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'blocked' IS DISTINCT FROM q.image->'blocked')))
                      AS "ot_3",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('card_number', "l"."k_1") AND q.map_name = 'loyalty_cards'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           COALESCE("s"."tier", CAST('Basic' AS character varying(10))) AS "n_1",
           g."tier" AS "c_1",
           "s"."issued_on" AS "n_2",
           g."issued_on" AS "c_2",
           "s"."is_blocked" AS "n_3",
           g."blocked" AS "c_3",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "is_blocked" boolean)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."loyalty_cards",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR false) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_3"
                WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('card_number', j."k_1", 'tier', j."f_1", 'issued_on', j."f_2", 'blocked', j."f_3") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'loyalty_cards', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'tier', CASE WHEN j."i_1" IS NULL THEN j.clock->'tier'
                    ELSE jsonb_build_array(coalesce(j.clock->'tier'->0, to_jsonb(0)), greatest(coalesce((j.clock->'tier'->>1)::bigint, 0), "j"."i_1"), j.clock->'tier'->2, "j"."t_1") END,
               'issued_on', CASE WHEN j."i_2" IS NULL THEN j.clock->'issued_on'
                    ELSE jsonb_build_array(coalesce(j.clock->'issued_on'->0, to_jsonb(0)), greatest(coalesce((j.clock->'issued_on'->>1)::bigint, 0), "j"."i_2"), j.clock->'issued_on'->2, "j"."t_2") END,
               'blocked', CASE WHEN j."i_3" IS NULL THEN j.clock->'blocked'
                    ELSE jsonb_build_array(coalesce(j.clock->'blocked'->0, to_jsonb(0)), greatest(coalesce((j.clock->'blocked'->>1)::bigint, 0), "j"."i_3"), j.clock->'blocked'->2, "j"."t_3") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'loyalty_cards' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'loyalty_cards', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'tier', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'issued_on', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'blocked', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_3" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.present AND NOT j.exists_after AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), removed AS (
    SELECT "replicator_write"."loyalty_cards_to_left"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
                                 false) AS written
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding
)
SELECT count(*) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (SELECT written FROM removed),
       jsonb_agg(j.own_key) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.present AND NOT j.exists_after AND NOT j.holding))[1]
  INTO v_wanted, v_written, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'loyalty_cards', 'fno.loyalty_cards'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('card_number', c.image->'card_number') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'tier' IS DISTINCT FROM c.image->'tier')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'issued_on' IS DISTINCT FROM c.image->'issued_on')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'is_blocked' IS DISTINCT FROM c.image->'is_blocked')) AS "w_3",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."card_number") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           max(c.id) FILTER (WHERE "w_3") OVER w AS "i_3",
           max(c.seen) FILTER (WHERE "w_3") OVER w AS "s_3",
           max(c.stamp) FILTER (WHERE "w_3") OVER w AS "t_3",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "card_number" character varying(20))
    WINDOW w AS (PARTITION BY "k"."card_number")
     ORDER BY "k"."card_number", c.id DESC
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("s"."card_number" AS character varying(20)) AS "k_1",
           false AS unresolved
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "is_blocked" boolean)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('card_number', "l"."k_1") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'tier'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'tier'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'issued_on'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'issued_on'->>2)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'blocked'->>0)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'blocked'->>2)::bigint, q."ot_3") AS "ot_3",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."loyalty_cards" AS t
            WHERE "t"."card_number" = "l"."k_1"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('card_number', "l"."k_1")
              AND v.map_name = 'loyalty_cards' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'tier' IS DISTINCT FROM q.image->'tier')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'tier' IS DISTINCT FROM q.image->'tier')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'issued_on' IS DISTINCT FROM q.image->'issued_on')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'issued_on' IS DISTINCT FROM q.image->'issued_on')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'blocked' IS DISTINCT FROM q.image->'blocked')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'blocked' IS DISTINCT FROM q.image->'blocked')))
                      AS "ot_3",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('card_number', "l"."k_1") AND q.map_name = 'loyalty_cards'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           COALESCE("s"."tier", CAST('Basic' AS character varying(10))) AS "n_1",
           g."tier" AS "c_1",
           "s"."issued_on" AS "n_2",
           g."issued_on" AS "c_2",
           "s"."is_blocked" AS "n_3",
           g."blocked" AS "c_3",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "is_blocked" boolean)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."loyalty_cards",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR false) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_3"
                WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('card_number', j."k_1", 'tier', j."f_1", 'issued_on', j."f_2", 'blocked', j."f_3") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'loyalty_cards', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'tier', CASE WHEN j."i_1" IS NULL THEN j.clock->'tier'
                    ELSE jsonb_build_array(coalesce(j.clock->'tier'->0, to_jsonb(0)), greatest(coalesce((j.clock->'tier'->>1)::bigint, 0), "j"."i_1"), j.clock->'tier'->2, "j"."t_1") END,
               'issued_on', CASE WHEN j."i_2" IS NULL THEN j.clock->'issued_on'
                    ELSE jsonb_build_array(coalesce(j.clock->'issued_on'->0, to_jsonb(0)), greatest(coalesce((j.clock->'issued_on'->>1)::bigint, 0), "j"."i_2"), j.clock->'issued_on'->2, "j"."t_2") END,
               'blocked', CASE WHEN j."i_3" IS NULL THEN j.clock->'blocked'
                    ELSE jsonb_build_array(coalesce(j.clock->'blocked'->0, to_jsonb(0)), greatest(coalesce((j.clock->'blocked'->>1)::bigint, 0), "j"."i_3"), j.clock->'blocked'->2, "j"."t_3") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'loyalty_cards' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'loyalty_cards', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'tier', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'issued_on', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'blocked', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_3" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND NOT (j.present AND NOT j.exists_after) AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."loyalty_cards_to_left"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('card_number', j."k_1", 'tier', j."f_1", 'issued_on', j."f_2", 'blocked', j."f_3"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('card_number', j."k_1", 'tier', j."f_1", 'issued_on', j."f_2", 'blocked', j."f_3")) END), '[]'),
               false) AS written
      FROM planned AS j
     WHERE j.exists_after AND NOT j.holding AND (NOT j.present           OR (j."f_1", j."f_2", j."f_3") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3"))
)
SELECT count(*) FILTER (WHERE j.exists_after AND NOT j.holding AND (NOT j.present                             OR (j."f_1", j."f_2", j."f_3") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3"))),
       (SELECT written FROM written),
       jsonb_agg(jsonb_build_object('key', j.own_key, 'known', j.queued_upto))
           FILTER (WHERE j.exists_after AND NOT j.present AND NOT j.holding),
       jsonb_agg(j.own_key) FILTER (WHERE j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.exists_after AND NOT j.holding                                       AND (j."f_1", j."f_2", j."f_3") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3")))[1]
  INTO v_wanted, v_written, v_inserted, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'loyalty_cards', 'fno.loyalty_cards'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'loyalty_cards'
                             AND q.direction || '' = 'to_right' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'loyalty_cards', 'fno.loyalty_cards'
        USING ERRCODE = 'serialization_failure';
END IF;

END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A key that applies settles its open
-- error (it was applied with the batch, see replicator.apply_batch). p_final: the
-- applier's last try at this batch after repeated serialization failures; a key that
-- still fails so is logged like any error, so the rest applies and no retry is endless.
DROP FUNCTION IF EXISTS "replicator"."apply_loyalty_cards_to_left"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_loyalty_cards_to_left"(p_changes jsonb, p_deletes boolean, p_final boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_key_changes jsonb;
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'loyalty_cards' AND direction = 'to_left');
    BEGIN
        PERFORM "replicator"."write_loyalty_cards_to_left"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('loyalty_cards', 'to_left', ARRAY(
                SELECT jsonb_build_object('card_number', c.value->'image'->'card_number') FROM jsonb_array_elements(p_changes) AS c));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN serialization_failure THEN
            IF NOT p_final THEN
                RAISE;  -- transient: the applier retries the whole batch
            END IF;     -- its last try: find the key(s) that keep failing below
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('card_number', c.value->'image'->'card_number')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_loyalty_cards_to_left"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('loyalty_cards', 'to_left', ARRAY[jsonb_build_object('card_number', v_change->'image'->'card_number')]);
            END IF;
        EXCEPTION
            WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                IF v_sqlstate = '40001' AND NOT p_final THEN
                    RAISE;  -- serialization_failure: transient until the last try
                END IF;
                PERFORM "replicator"."log_error"('loyalty_cards', 'to_left', v_change, jsonb_build_object('card_number', v_change->'image'->'card_number'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change of this batch counts once: deletes in the delete pass, the
                -- rest after; an earlier one applied with it counted when it came.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes
                                           AND c.value->'earlier' IS NULL);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;

-- replicator sync's fast path: of a chunk of an initial sync (forced inserts, in key
-- order), the rows whose key this side holds nowhere (no row, no clock, nothing of it
-- queued here) are written in one set-based insert, decoded once: for them the apply
-- function above could decide nothing else, and judges nothing. Returns the changes it
-- left to the apply function: the rest of the chunk, or all of it when held changes
-- or open errors wait here (the apply function retries or supersedes those), when the
-- map has lookups (each parent resolved there), or when the insert met anything else
-- (a row inserted meanwhile, a value refused): the apply function logs what fails.
CREATE OR REPLACE FUNCTION "replicator"."sync_loyalty_cards_to_left"(p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $sync$
DECLARE
    v_wanted bigint;
    v_written bigint;
    v_rest jsonb;
    v_inserted jsonb;
BEGIN
    IF EXISTS (SELECT FROM "replicator"."held_change" WHERE direction = 'to_left')
       OR EXISTS (SELECT FROM "replicator"."error_log"
                   WHERE state = 'open' AND map_name = 'loyalty_cards' AND direction = 'to_left') THEN
        RETURN p_changes;
    END IF;
    BEGIN
        WITH incoming AS MATERIALIZED (
            SELECT c.change, c.ordinal,
                   CAST("s"."card_number" AS character varying(20)) AS "k_1",
                   COALESCE("s"."tier", CAST('Basic' AS character varying(10))) AS "f_1",
                   "s"."issued_on" AS "f_2",
                   "s"."is_blocked" AS "f_3",
                   c.change->>'op' = 'I' AND coalesce((c.change->>'force')::boolean, false) AS insert_only
              FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS c(change, ordinal)
             CROSS JOIN LATERAL jsonb_to_record(c.change->'image') AS s(
               "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "is_blocked" boolean)
        ), judged AS (
            SELECT l.*, jsonb_build_object('card_number', "l"."k_1") AS own_key,
                   l.insert_only
                   AND NOT EXISTS (SELECT FROM "fno"."loyalty_cards" AS t WHERE "t"."card_number" = "l"."k_1")
                   AND NOT EXISTS (SELECT FROM "replicator"."versions" AS v
                                    WHERE v.key = jsonb_build_object('card_number', "l"."k_1")
                                      AND v.map_name = 'loyalty_cards' AND v.side = 'left')
                   AND NOT EXISTS (SELECT FROM "replicator"."change_queue" AS q
                                    WHERE q.key = jsonb_build_object('card_number', "l"."k_1") AND q.map_name = 'loyalty_cards'
                                      AND q.direction || '' = 'to_right')
                   AS fresh
              FROM incoming AS l
        ), written AS (
            SELECT "replicator_write"."loyalty_cards_to_left_sync"(coalesce(jsonb_agg(jsonb_build_object('card_number', j."k_1", 'tier', j."f_1", 'issued_on', j."f_2", 'blocked', j."f_3")), '[]')) AS written
              FROM judged AS j
             WHERE j.fresh
        )
        SELECT count(*) FILTER (WHERE j.fresh), (SELECT written FROM written),
               jsonb_agg(j.change ORDER BY j.ordinal) FILTER (WHERE NOT j.fresh),
               jsonb_agg(j.own_key) FILTER (WHERE j.fresh)
          INTO v_wanted, v_written, v_rest, v_inserted
          FROM judged AS j;
        IF v_written < v_wanted THEN
            -- A key inserted here after it was judged: the apply function judges the chunk.
            RAISE EXCEPTION 'replicator: map %: a row of % changed while a chunk was synced to it',
                'loyalty_cards', 'fno.loyalty_cards'
                USING ERRCODE = 'serialization_failure';
        END IF;
        -- A row inserted and deleted here, and both queued, after it was judged: likewise.
        IF EXISTS (SELECT FROM "replicator"."change_queue" AS q
                    WHERE q.key = ANY (ARRAY(SELECT x.value FROM jsonb_array_elements(coalesce(v_inserted, '[]')) AS x))
                      AND q.map_name = 'loyalty_cards' AND q.direction || '' = 'to_right') THEN
            RAISE EXCEPTION 'replicator: map %: a row of % changed while a chunk was synced to it',
                'loyalty_cards', 'fno.loyalty_cards'
                USING ERRCODE = 'serialization_failure';
        END IF;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;
        WHEN OTHERS THEN
            RETURN p_changes;  -- undone: the apply function judges, and logs what fails
    END;
    IF v_wanted > 0 THEN
        UPDATE "replicator"."map_state"
           SET applied_total = applied_total + v_wanted, last_applied_at = now()
         WHERE map_name = 'loyalty_cards' AND direction = 'to_left';
    END IF;
    RETURN coalesce(v_rest, '[]');
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_left/apply', '4edd9a38b8ed770320cc13988ef91b5b55ffb29bf13fd4f99ce26e198622bd53', $sql$DROP FUNCTION IF EXISTS "replicator"."apply_loyalty_cards_to_left"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_loyalty_cards_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."loyalty_cards_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_loyalty_cards_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."loyalty_cards_to_left_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/name_affixes/to_left/apply ====
-- Map 'name_affixes', 'to_left': the writes to "fno"."name_affixes", as replicator_left_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_left_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."name_affixes_to_left"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"fno"."name_affixes", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "fno"."name_affixes" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "fno"."name_affixes" ("affix", "affix_type", "description")
    SELECT (r.n)."affix",
       (r.n)."affix_type",
       (r.n)."description"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("affix", "affix_type") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "fno"."name_affixes" AS t
       SET "description" = (r.n)."description"
      FROM r
     WHERE r."do" = 'U' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_written;
RETURN v_written;
END
$writer$;

-- An initial sync's rows for keys this side does not hold (the sync function below
-- found them so): inserted in one statement, decoded once. p_rows: the rows, by
-- target column. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."name_affixes_to_left_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "fno"."name_affixes" ("affix", "affix_type", "description")
SELECT n."affix",
       n."affix_type",
       n."description"
  FROM jsonb_populate_recordset(NULL::"fno"."name_affixes", p_rows) AS n
    ON CONFLICT ("affix", "affix_type") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."name_affixes_to_left"(jsonb, boolean) OWNER TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."name_affixes_to_left_sync"(jsonb) OWNER TO "replicator_left_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_left_writer";

-- Map 'name_affixes', 'to_left': write a batch of captured changes into "fno"."name_affixes".
-- Deletes and upserts run as two passes (p_deletes), so a batch can delete children
-- before parents and insert parents before children.
--
-- Versions (replicator.versions): every change carries what its side had seen of this
-- one (seen: the newest change of the row from here applied there before it). Per
-- field, and for the row itself, a change that had seen this side's newest write of
-- it wins; one that had not is concurrent with it, and the policy decides
-- ('left_wins' for the row). This side's newest write is in the row's clock, or still
-- queued here. Both sides decide on the same writes the same way, so they end equal.
-- Rows are written only as they were judged (same xmin): one changed meanwhile makes
-- the batch retry. plpgsql rather than sql: it keeps the statements' plans.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The rows themselves are
-- written by the writer's function above. The capture triggers here skip what it
-- writes (loop safety): the marker below counts only for a role that may use the
-- writers' schema.
CREATE OR REPLACE FUNCTION "replicator"."write_name_affixes_to_left"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
DECLARE
    v_wanted integer;
    v_written integer;
    v_inserted jsonb;  -- the keys inserted here, with this side's newest queued change known then
    v_touched jsonb;   -- the keys of the rows written here
    v_outside jsonb;   -- the key of a row the batch would change outside the map's filter here
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'name_affixes', 'cds.name_affix'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.name_affixes were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('affix', c.image->'affix', 'affix_type', c.image->'affix_type') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')) AS "w_1",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."affix", "k"."affix_type") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "affix" character varying(20),
       "affix_type" character varying(10))
    WINDOW w AS (PARTITION BY "k"."affix", "k"."affix_type")
     ORDER BY "k"."affix", "k"."affix_type", c.id DESC
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("s"."affix" AS character varying(20)) AS "k_1",
           CAST("s"."affix_type" AS character varying(10)) AS "k_2",
           false AS unresolved
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "affix" character varying(20),
       "affix_type" character varying(10),
       "description" character varying(60))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('affix', "l"."k_1", 'affix_type', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>2)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."name_affixes" AS t
            WHERE "t"."affix" = "l"."k_1" AND "t"."affix_type" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('affix', "l"."k_1", 'affix_type', "l"."k_2")
              AND v.map_name = 'name_affixes' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "ot_1",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('affix', "l"."k_1", 'affix_type', "l"."k_2") AND q.map_name = 'name_affixes'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."description" AS "c_1",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "affix" character varying(20),
       "affix_type" character varying(10),
       "description" character varying(60))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."name_affixes",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           j.x_0 OR j."x_1" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('affix', j."k_1", 'affix_type', j."k_2", 'description', j."f_1") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'name_affixes', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), "j"."i_1"), j.clock->'description'->2, "j"."t_1") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'name_affixes' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'name_affixes', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.present AND NOT j.exists_after AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), removed AS (
    SELECT "replicator_write"."name_affixes_to_left"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
                                 false) AS written
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding
)
SELECT count(*) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (SELECT written FROM removed),
       jsonb_agg(j.own_key) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.present AND NOT j.exists_after AND NOT j.holding))[1]
  INTO v_wanted, v_written, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'name_affixes', 'fno.name_affixes'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('affix', c.image->'affix', 'affix_type', c.image->'affix_type') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')) AS "w_1",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."affix", "k"."affix_type") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "affix" character varying(20),
       "affix_type" character varying(10))
    WINDOW w AS (PARTITION BY "k"."affix", "k"."affix_type")
     ORDER BY "k"."affix", "k"."affix_type", c.id DESC
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("s"."affix" AS character varying(20)) AS "k_1",
           CAST("s"."affix_type" AS character varying(10)) AS "k_2",
           false AS unresolved
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "affix" character varying(20),
       "affix_type" character varying(10),
       "description" character varying(60))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('affix', "l"."k_1", 'affix_type', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>2)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."name_affixes" AS t
            WHERE "t"."affix" = "l"."k_1" AND "t"."affix_type" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('affix', "l"."k_1", 'affix_type', "l"."k_2")
              AND v.map_name = 'name_affixes' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "ot_1",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('affix', "l"."k_1", 'affix_type', "l"."k_2") AND q.map_name = 'name_affixes'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."description" AS "c_1",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "affix" character varying(20),
       "affix_type" character varying(10),
       "description" character varying(60))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."name_affixes",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           j.x_0 OR j."x_1" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('affix', j."k_1", 'affix_type', j."k_2", 'description', j."f_1") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'name_affixes', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), "j"."i_1"), j.clock->'description'->2, "j"."t_1") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'name_affixes' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'name_affixes', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND NOT (j.present AND NOT j.exists_after) AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."name_affixes_to_left"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('affix', j."k_1", 'affix_type', j."k_2", 'description', j."f_1"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('affix', j."k_1", 'affix_type', j."k_2", 'description', j."f_1")) END), '[]'),
               false) AS written
      FROM planned AS j
     WHERE j.exists_after AND NOT j.holding AND (NOT j.present           OR (j."f_1") IS DISTINCT FROM (j."c_1"))
)
SELECT count(*) FILTER (WHERE j.exists_after AND NOT j.holding AND (NOT j.present                             OR (j."f_1") IS DISTINCT FROM (j."c_1"))),
       (SELECT written FROM written),
       jsonb_agg(jsonb_build_object('key', j.own_key, 'known', j.queued_upto))
           FILTER (WHERE j.exists_after AND NOT j.present AND NOT j.holding),
       jsonb_agg(j.own_key) FILTER (WHERE j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.exists_after AND NOT j.holding                                       AND (j."f_1") IS DISTINCT FROM (j."c_1")))[1]
  INTO v_wanted, v_written, v_inserted, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'name_affixes', 'fno.name_affixes'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'name_affixes'
                             AND q.direction || '' = 'to_right' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'name_affixes', 'fno.name_affixes'
        USING ERRCODE = 'serialization_failure';
END IF;

END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A key that applies settles its open
-- error (it was applied with the batch, see replicator.apply_batch). p_final: the
-- applier's last try at this batch after repeated serialization failures; a key that
-- still fails so is logged like any error, so the rest applies and no retry is endless.
DROP FUNCTION IF EXISTS "replicator"."apply_name_affixes_to_left"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_name_affixes_to_left"(p_changes jsonb, p_deletes boolean, p_final boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_key_changes jsonb;
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'name_affixes' AND direction = 'to_left');
    BEGIN
        PERFORM "replicator"."write_name_affixes_to_left"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('name_affixes', 'to_left', ARRAY(
                SELECT jsonb_build_object('affix', c.value->'image'->'affix', 'affix_type', c.value->'image'->'affix_type') FROM jsonb_array_elements(p_changes) AS c));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN serialization_failure THEN
            IF NOT p_final THEN
                RAISE;  -- transient: the applier retries the whole batch
            END IF;     -- its last try: find the key(s) that keep failing below
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('affix', c.value->'image'->'affix', 'affix_type', c.value->'image'->'affix_type')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_name_affixes_to_left"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('name_affixes', 'to_left', ARRAY[jsonb_build_object('affix', v_change->'image'->'affix', 'affix_type', v_change->'image'->'affix_type')]);
            END IF;
        EXCEPTION
            WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                IF v_sqlstate = '40001' AND NOT p_final THEN
                    RAISE;  -- serialization_failure: transient until the last try
                END IF;
                PERFORM "replicator"."log_error"('name_affixes', 'to_left', v_change, jsonb_build_object('affix', v_change->'image'->'affix', 'affix_type', v_change->'image'->'affix_type'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change of this batch counts once: deletes in the delete pass, the
                -- rest after; an earlier one applied with it counted when it came.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes
                                           AND c.value->'earlier' IS NULL);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;

-- replicator sync's fast path: of a chunk of an initial sync (forced inserts, in key
-- order), the rows whose key this side holds nowhere (no row, no clock, nothing of it
-- queued here) are written in one set-based insert, decoded once: for them the apply
-- function above could decide nothing else, and judges nothing. Returns the changes it
-- left to the apply function: the rest of the chunk, or all of it when held changes
-- or open errors wait here (the apply function retries or supersedes those), when the
-- map has lookups (each parent resolved there), or when the insert met anything else
-- (a row inserted meanwhile, a value refused): the apply function logs what fails.
CREATE OR REPLACE FUNCTION "replicator"."sync_name_affixes_to_left"(p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $sync$
DECLARE
    v_wanted bigint;
    v_written bigint;
    v_rest jsonb;
    v_inserted jsonb;
BEGIN
    IF EXISTS (SELECT FROM "replicator"."held_change" WHERE direction = 'to_left')
       OR EXISTS (SELECT FROM "replicator"."error_log"
                   WHERE state = 'open' AND map_name = 'name_affixes' AND direction = 'to_left') THEN
        RETURN p_changes;
    END IF;
    BEGIN
        WITH incoming AS MATERIALIZED (
            SELECT c.change, c.ordinal,
                   CAST("s"."affix" AS character varying(20)) AS "k_1",
                   CAST("s"."affix_type" AS character varying(10)) AS "k_2",
                   "s"."description" AS "f_1",
                   c.change->>'op' = 'I' AND coalesce((c.change->>'force')::boolean, false) AS insert_only
              FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS c(change, ordinal)
             CROSS JOIN LATERAL jsonb_to_record(c.change->'image') AS s(
               "affix" character varying(20),
       "affix_type" character varying(10),
       "description" character varying(60))
        ), judged AS (
            SELECT l.*, jsonb_build_object('affix', "l"."k_1", 'affix_type', "l"."k_2") AS own_key,
                   l.insert_only
                   AND NOT EXISTS (SELECT FROM "fno"."name_affixes" AS t WHERE "t"."affix" = "l"."k_1" AND "t"."affix_type" = "l"."k_2")
                   AND NOT EXISTS (SELECT FROM "replicator"."versions" AS v
                                    WHERE v.key = jsonb_build_object('affix', "l"."k_1", 'affix_type', "l"."k_2")
                                      AND v.map_name = 'name_affixes' AND v.side = 'left')
                   AND NOT EXISTS (SELECT FROM "replicator"."change_queue" AS q
                                    WHERE q.key = jsonb_build_object('affix', "l"."k_1", 'affix_type', "l"."k_2") AND q.map_name = 'name_affixes'
                                      AND q.direction || '' = 'to_right')
                   AS fresh
              FROM incoming AS l
        ), written AS (
            SELECT "replicator_write"."name_affixes_to_left_sync"(coalesce(jsonb_agg(jsonb_build_object('affix', j."k_1", 'affix_type', j."k_2", 'description', j."f_1")), '[]')) AS written
              FROM judged AS j
             WHERE j.fresh
        )
        SELECT count(*) FILTER (WHERE j.fresh), (SELECT written FROM written),
               jsonb_agg(j.change ORDER BY j.ordinal) FILTER (WHERE NOT j.fresh),
               jsonb_agg(j.own_key) FILTER (WHERE j.fresh)
          INTO v_wanted, v_written, v_rest, v_inserted
          FROM judged AS j;
        IF v_written < v_wanted THEN
            -- A key inserted here after it was judged: the apply function judges the chunk.
            RAISE EXCEPTION 'replicator: map %: a row of % changed while a chunk was synced to it',
                'name_affixes', 'fno.name_affixes'
                USING ERRCODE = 'serialization_failure';
        END IF;
        -- A row inserted and deleted here, and both queued, after it was judged: likewise.
        IF EXISTS (SELECT FROM "replicator"."change_queue" AS q
                    WHERE q.key = ANY (ARRAY(SELECT x.value FROM jsonb_array_elements(coalesce(v_inserted, '[]')) AS x))
                      AND q.map_name = 'name_affixes' AND q.direction || '' = 'to_right') THEN
            RAISE EXCEPTION 'replicator: map %: a row of % changed while a chunk was synced to it',
                'name_affixes', 'fno.name_affixes'
                USING ERRCODE = 'serialization_failure';
        END IF;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;
        WHEN OTHERS THEN
            RETURN p_changes;  -- undone: the apply function judges, and logs what fails
    END;
    IF v_wanted > 0 THEN
        UPDATE "replicator"."map_state"
           SET applied_total = applied_total + v_wanted, last_applied_at = now()
         WHERE map_name = 'name_affixes' AND direction = 'to_left';
    END IF;
    RETURN coalesce(v_rest, '[]');
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_left/apply', '283f63b89157e759c7b172b226fbe3e9450b4d1c093b8b083f6f7e0a8bc8b4ba', $sql$DROP FUNCTION IF EXISTS "replicator"."apply_name_affixes_to_left"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_name_affixes_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."name_affixes_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_name_affixes_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."name_affixes_to_left_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_days/to_left/apply ====
-- Map 'payment_days', 'to_left': the writes to "fno"."payment_days", as replicator_left_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_left_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."payment_days_to_left"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"fno"."payment_days", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "fno"."payment_days" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "fno"."payment_days" ("dataareaid", "payment_day_name", "description")
    SELECT (r.n)."dataareaid",
       (r.n)."payment_day_name",
       (r.n)."description"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("dataareaid", "payment_day_name") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "fno"."payment_days" AS t
       SET "description" = (r.n)."description"
      FROM r
     WHERE r."do" = 'U' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_written;
RETURN v_written;
END
$writer$;

-- An initial sync's rows for keys this side does not hold (the sync function below
-- found them so): inserted in one statement, decoded once. p_rows: the rows, by
-- target column. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."payment_days_to_left_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "fno"."payment_days" ("dataareaid", "payment_day_name", "description")
SELECT n."dataareaid",
       n."payment_day_name",
       n."description"
  FROM jsonb_populate_recordset(NULL::"fno"."payment_days", p_rows) AS n
    ON CONFLICT ("dataareaid", "payment_day_name") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."payment_days_to_left"(jsonb, boolean) OWNER TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."payment_days_to_left_sync"(jsonb) OWNER TO "replicator_left_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_left_writer";

-- Map 'payment_days', 'to_left': write a batch of captured changes into "fno"."payment_days".
-- Deletes and upserts run as two passes (p_deletes), so a batch can delete children
-- before parents and insert parents before children.
--
-- Versions (replicator.versions): every change carries what its side had seen of this
-- one (seen: the newest change of the row from here applied there before it). Per
-- field, and for the row itself, a change that had seen this side's newest write of
-- it wins; one that had not is concurrent with it, and the policy decides
-- ('left_wins' for the row). This side's newest write is in the row's clock, or still
-- queued here. Both sides decide on the same writes the same way, so they end equal.
-- Rows are written only as they were judged (same xmin): one changed meanwhile makes
-- the batch retry. plpgsql rather than sql: it keeps the statements' plans.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The rows themselves are
-- written by the writer's function above. The capture triggers here skip what it
-- writes (loop safety): the marker below counts only for a role that may use the
-- writers' schema.
CREATE OR REPLACE FUNCTION "replicator"."write_payment_days_to_left"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
DECLARE
    v_wanted integer;
    v_written integer;
    v_inserted jsonb;  -- the keys inserted here, with this side's newest queued change known then
    v_touched jsonb;   -- the keys of the rows written here
    v_outside jsonb;   -- the key of a row the batch would change outside the map's filter here
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_days', 'cds.payment_day'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.payment_days were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'name', c.image->'name') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')) AS "w_1",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."name") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "name" character varying(30))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."name")
     ORDER BY "k"."companyid", "k"."name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."name" AS character varying(30)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'payment_day_name', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>2)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."payment_days" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."payment_day_name" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_day_name', "l"."k_2")
              AND v.map_name = 'payment_days' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "ot_1",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_day_name', "l"."k_2") AND q.map_name = 'payment_days'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."description" AS "c_1",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."payment_days",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           j.x_0 OR j."x_1" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'payment_day_name', j."k_2", 'description', j."f_1") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_days', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), "j"."i_1"), j.clock->'description'->2, "j"."t_1") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'payment_days' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_days', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.present AND NOT j.exists_after AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), removed AS (
    SELECT "replicator_write"."payment_days_to_left"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
                                 false) AS written
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding
)
SELECT count(*) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (SELECT written FROM removed),
       jsonb_agg(j.own_key) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.present AND NOT j.exists_after AND NOT j.holding))[1]
  INTO v_wanted, v_written, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_days', 'fno.payment_days'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'name', c.image->'name') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')) AS "w_1",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."name") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "name" character varying(30))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."name")
     ORDER BY "k"."companyid", "k"."name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."name" AS character varying(30)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'payment_day_name', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>2)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."payment_days" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."payment_day_name" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_day_name', "l"."k_2")
              AND v.map_name = 'payment_days' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "ot_1",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_day_name', "l"."k_2") AND q.map_name = 'payment_days'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."description" AS "c_1",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."payment_days",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           j.x_0 OR j."x_1" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'payment_day_name', j."k_2", 'description', j."f_1") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_days', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), "j"."i_1"), j.clock->'description'->2, "j"."t_1") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'payment_days' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_days', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND NOT (j.present AND NOT j.exists_after) AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), held AS (
    -- A change whose parent has not arrived on this side yet is held, with the row's
    -- other changes, not written with a null reference (the applier retries it when
    -- the parent's map applies).
    INSERT INTO "replicator"."held_change" (direction, id, map_name, op, image, refs, before, key, seen, stamp,
                           forced, waiting_for)
    SELECT 'to_left', c.id, 'payment_days', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('companyid', c.image->'companyid', 'name', c.image->'name') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."payment_days_to_left"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('dataareaid', j."k_1", 'payment_day_name', j."k_2", 'description', j."f_1"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('dataareaid', j."k_1", 'payment_day_name', j."k_2", 'description', j."f_1")) END), '[]'),
               false) AS written
      FROM planned AS j
     WHERE j.exists_after AND NOT j.holding AND (NOT j.present           OR (j."f_1") IS DISTINCT FROM (j."c_1"))
)
SELECT count(*) FILTER (WHERE j.exists_after AND NOT j.holding AND (NOT j.present                             OR (j."f_1") IS DISTINCT FROM (j."c_1"))),
       (SELECT written FROM written),
       jsonb_agg(jsonb_build_object('key', j.own_key, 'known', j.queued_upto))
           FILTER (WHERE j.exists_after AND NOT j.present AND NOT j.holding),
       jsonb_agg(j.own_key) FILTER (WHERE j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.exists_after AND NOT j.holding                                       AND (j."f_1") IS DISTINCT FROM (j."c_1")))[1]
  INTO v_wanted, v_written, v_inserted, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_days', 'fno.payment_days'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'payment_days'
                             AND q.direction || '' = 'to_right' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_days', 'fno.payment_days'
        USING ERRCODE = 'serialization_failure';
END IF;

END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A key that applies settles its open
-- error (it was applied with the batch, see replicator.apply_batch). p_final: the
-- applier's last try at this batch after repeated serialization failures; a key that
-- still fails so is logged like any error, so the rest applies and no retry is endless.
DROP FUNCTION IF EXISTS "replicator"."apply_payment_days_to_left"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_days_to_left"(p_changes jsonb, p_deletes boolean, p_final boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_key_changes jsonb;
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'payment_days' AND direction = 'to_left');
    BEGIN
        PERFORM "replicator"."write_payment_days_to_left"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('payment_days', 'to_left', ARRAY(
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'name', c.value->'image'->'name') FROM jsonb_array_elements(p_changes) AS c));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN serialization_failure THEN
            IF NOT p_final THEN
                RAISE;  -- transient: the applier retries the whole batch
            END IF;     -- its last try: find the key(s) that keep failing below
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'name', c.value->'image'->'name')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_payment_days_to_left"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('payment_days', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'name', v_change->'image'->'name')]);
            END IF;
        EXCEPTION
            WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                IF v_sqlstate = '40001' AND NOT p_final THEN
                    RAISE;  -- serialization_failure: transient until the last try
                END IF;
                PERFORM "replicator"."log_error"('payment_days', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'name', v_change->'image'->'name'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change of this batch counts once: deletes in the delete pass, the
                -- rest after; an earlier one applied with it counted when it came.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes
                                           AND c.value->'earlier' IS NULL);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;

-- replicator sync's fast path: of a chunk of an initial sync (forced inserts, in key
-- order), the rows whose key this side holds nowhere (no row, no clock, nothing of it
-- queued here) are written in one set-based insert, decoded once: for them the apply
-- function above could decide nothing else, and judges nothing. Returns the changes it
-- left to the apply function: the rest of the chunk, or all of it when held changes
-- or open errors wait here (the apply function retries or supersedes those), when the
-- map has lookups (each parent resolved there), or when the insert met anything else
-- (a row inserted meanwhile, a value refused): the apply function logs what fails.
CREATE OR REPLACE FUNCTION "replicator"."sync_payment_days_to_left"(p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $sync$
BEGIN
    RETURN p_changes;  -- lookups: the apply function resolves each row's parents
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_left/apply', 'c0af4995384f5d4b0fb98c59511dd6cd5ae38cf768386cb8e50df0d52b2aacd0', $sql$-- Removing map 'payment_days' ('to_left') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'payment_days' AND direction = 'to_left';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_days', 'to_left', v_held, 'payment_days', 'payment_days', 'payment_days', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_payment_days_to_left"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_days_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."payment_days_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_payment_days_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."payment_days_to_left_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_day_lines/to_left/apply ====
-- Map 'payment_day_lines', 'to_left': the writes to "fno"."payment_day_lines", as replicator_left_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_left_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."payment_day_lines_to_left"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"fno"."payment_day_lines", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "fno"."payment_day_lines" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "fno"."payment_day_lines" ("dataareaid", "payment_day_name", "line_num", "week_day", "day_of_month")
    SELECT (r.n)."dataareaid",
       (r.n)."payment_day_name",
       (r.n)."line_num",
       (r.n)."week_day",
       (r.n)."day_of_month"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("dataareaid", "payment_day_name", "line_num") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "fno"."payment_day_lines" AS t
       SET "week_day" = (r.n)."week_day",
       "day_of_month" = (r.n)."day_of_month"
      FROM r
     WHERE r."do" = 'U' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_written;
RETURN v_written;
END
$writer$;

-- An initial sync's rows for keys this side does not hold (the sync function below
-- found them so): inserted in one statement, decoded once. p_rows: the rows, by
-- target column. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."payment_day_lines_to_left_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "fno"."payment_day_lines" ("dataareaid", "payment_day_name", "line_num", "week_day", "day_of_month")
SELECT n."dataareaid",
       n."payment_day_name",
       n."line_num",
       n."week_day",
       n."day_of_month"
  FROM jsonb_populate_recordset(NULL::"fno"."payment_day_lines", p_rows) AS n
    ON CONFLICT ("dataareaid", "payment_day_name", "line_num") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."payment_day_lines_to_left"(jsonb, boolean) OWNER TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."payment_day_lines_to_left_sync"(jsonb) OWNER TO "replicator_left_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_left_writer";

-- Map 'payment_day_lines', 'to_left': write a batch of captured changes into "fno"."payment_day_lines".
-- Deletes and upserts run as two passes (p_deletes), so a batch can delete children
-- before parents and insert parents before children.
--
-- Versions (replicator.versions): every change carries what its side had seen of this
-- one (seen: the newest change of the row from here applied there before it). Per
-- field, and for the row itself, a change that had seen this side's newest write of
-- it wins; one that had not is concurrent with it, and the policy decides
-- ('left_wins' for the row). This side's newest write is in the row's clock, or still
-- queued here. Both sides decide on the same writes the same way, so they end equal.
-- Rows are written only as they were judged (same xmin): one changed meanwhile makes
-- the batch retry. plpgsql rather than sql: it keeps the statements' plans.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The rows themselves are
-- written by the writer's function above. The capture triggers here skip what it
-- writes (loop safety): the marker below counts only for a role that may use the
-- writers' schema.
CREATE OR REPLACE FUNCTION "replicator"."write_payment_day_lines_to_left"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
DECLARE
    v_wanted integer;
    v_written integer;
    v_inserted jsonb;  -- the keys inserted here, with this side's newest queued change known then
    v_touched jsonb;   -- the keys of the rows written here
    v_outside jsonb;   -- the key of a row the batch would change outside the map's filter here
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_day_lines', 'cds.payment_day_line'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.payment_day_lines were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'paymentdayid', c.image->'paymentdayid', 'line_number', c.image->'line_number') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'weekday' IS DISTINCT FROM c.image->'weekday')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'dayofmonth' IS DISTINCT FROM c.image->'dayofmonth')) AS "w_2",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."paymentdayid", "k"."line_number") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "paymentdayid" uuid,
       "line_number" integer)
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."paymentdayid", "k"."line_number")
     ORDER BY "k"."companyid", "k"."paymentdayid", "k"."line_number", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."payment_day_name" FROM "fno"."payment_days" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_day_name') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_day_name" = CAST((l.refs -> 'payment_day_name') ->> 'name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("l"."lookup_2" AS character varying(30)) AS "k_2",
           CAST("s"."line_number" AS integer) AS "k_3",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'paymentdayid' IS NOT NULL AND "l"."lookup_2" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "paymentdayid" uuid,
       "line_number" integer,
       "weekday" text,
       "dayofmonth" integer)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'payment_day_name', "l"."k_2", 'line_num', "l"."k_3") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'week_day'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'week_day'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'day_of_month'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'day_of_month'->>2)::bigint, q."ot_2") AS "ot_2",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."payment_day_lines" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."payment_day_name" = "l"."k_2" AND "t"."line_num" = "l"."k_3"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_day_name', "l"."k_2", 'line_num', "l"."k_3")
              AND v.map_name = 'payment_day_lines' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'week_day' IS DISTINCT FROM q.image->'week_day')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'week_day' IS DISTINCT FROM q.image->'week_day')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'day_of_month' IS DISTINCT FROM q.image->'day_of_month')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'day_of_month' IS DISTINCT FROM q.image->'day_of_month')))
                      AS "ot_2",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_day_name', "l"."k_2", 'line_num', "l"."k_3") AND q.map_name = 'payment_day_lines'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           CAST(CASE WHEN "s"."weekday" IS NULL THEN NULL WHEN "s"."weekday"::text = 'none' THEN 'None' WHEN "s"."weekday"::text = 'monday' THEN 'Monday' WHEN "s"."weekday"::text = 'tuesday' THEN 'Tuesday' WHEN "s"."weekday"::text = 'wednesday' THEN 'Wednesday' WHEN "s"."weekday"::text = 'thursday' THEN 'Thursday' WHEN "s"."weekday"::text = 'friday' THEN 'Friday' WHEN "s"."weekday"::text = 'saturday' THEN 'Saturday' WHEN "s"."weekday"::text = 'sunday' THEN 'Sunday' ELSE "replicator"."unmapped_value"('payment_day_lines', 'week_day', "s"."weekday"::text) END AS character varying(10)) AS "n_1",
           g."week_day" AS "c_1",
           "s"."dayofmonth" AS "n_2",
           g."day_of_month" AS "c_2",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "paymentdayid" uuid,
       "line_number" integer,
       "weekday" text,
       "dayofmonth" integer)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."payment_day_lines",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           j.x_0 OR j."x_1" OR j."x_2" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'payment_day_name', j."k_2", 'line_num', j."k_3", 'week_day', j."f_1", 'day_of_month', j."f_2") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_day_lines', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'week_day', CASE WHEN j."i_1" IS NULL THEN j.clock->'week_day'
                    ELSE jsonb_build_array(coalesce(j.clock->'week_day'->0, to_jsonb(0)), greatest(coalesce((j.clock->'week_day'->>1)::bigint, 0), "j"."i_1"), j.clock->'week_day'->2, "j"."t_1") END,
               'day_of_month', CASE WHEN j."i_2" IS NULL THEN j.clock->'day_of_month'
                    ELSE jsonb_build_array(coalesce(j.clock->'day_of_month'->0, to_jsonb(0)), greatest(coalesce((j.clock->'day_of_month'->>1)::bigint, 0), "j"."i_2"), j.clock->'day_of_month'->2, "j"."t_2") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'payment_day_lines' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_day_lines', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'week_day', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'day_of_month', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.present AND NOT j.exists_after AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), removed AS (
    SELECT "replicator_write"."payment_day_lines_to_left"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
                                 false) AS written
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding
)
SELECT count(*) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (SELECT written FROM removed),
       jsonb_agg(j.own_key) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.present AND NOT j.exists_after AND NOT j.holding))[1]
  INTO v_wanted, v_written, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_day_lines', 'fno.payment_day_lines'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'paymentdayid', c.image->'paymentdayid', 'line_number', c.image->'line_number') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'weekday' IS DISTINCT FROM c.image->'weekday')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'dayofmonth' IS DISTINCT FROM c.image->'dayofmonth')) AS "w_2",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."paymentdayid", "k"."line_number") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "paymentdayid" uuid,
       "line_number" integer)
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."paymentdayid", "k"."line_number")
     ORDER BY "k"."companyid", "k"."paymentdayid", "k"."line_number", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."payment_day_name" FROM "fno"."payment_days" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_day_name') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_day_name" = CAST((l.refs -> 'payment_day_name') ->> 'name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("l"."lookup_2" AS character varying(30)) AS "k_2",
           CAST("s"."line_number" AS integer) AS "k_3",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'paymentdayid' IS NOT NULL AND "l"."lookup_2" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "paymentdayid" uuid,
       "line_number" integer,
       "weekday" text,
       "dayofmonth" integer)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'payment_day_name', "l"."k_2", 'line_num', "l"."k_3") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'week_day'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'week_day'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'day_of_month'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'day_of_month'->>2)::bigint, q."ot_2") AS "ot_2",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."payment_day_lines" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."payment_day_name" = "l"."k_2" AND "t"."line_num" = "l"."k_3"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_day_name', "l"."k_2", 'line_num', "l"."k_3")
              AND v.map_name = 'payment_day_lines' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'week_day' IS DISTINCT FROM q.image->'week_day')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'week_day' IS DISTINCT FROM q.image->'week_day')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'day_of_month' IS DISTINCT FROM q.image->'day_of_month')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'day_of_month' IS DISTINCT FROM q.image->'day_of_month')))
                      AS "ot_2",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_day_name', "l"."k_2", 'line_num', "l"."k_3") AND q.map_name = 'payment_day_lines'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           CAST(CASE WHEN "s"."weekday" IS NULL THEN NULL WHEN "s"."weekday"::text = 'none' THEN 'None' WHEN "s"."weekday"::text = 'monday' THEN 'Monday' WHEN "s"."weekday"::text = 'tuesday' THEN 'Tuesday' WHEN "s"."weekday"::text = 'wednesday' THEN 'Wednesday' WHEN "s"."weekday"::text = 'thursday' THEN 'Thursday' WHEN "s"."weekday"::text = 'friday' THEN 'Friday' WHEN "s"."weekday"::text = 'saturday' THEN 'Saturday' WHEN "s"."weekday"::text = 'sunday' THEN 'Sunday' ELSE "replicator"."unmapped_value"('payment_day_lines', 'week_day', "s"."weekday"::text) END AS character varying(10)) AS "n_1",
           g."week_day" AS "c_1",
           "s"."dayofmonth" AS "n_2",
           g."day_of_month" AS "c_2",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "paymentdayid" uuid,
       "line_number" integer,
       "weekday" text,
       "dayofmonth" integer)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."payment_day_lines",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           j.x_0 OR j."x_1" OR j."x_2" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'payment_day_name', j."k_2", 'line_num', j."k_3", 'week_day', j."f_1", 'day_of_month', j."f_2") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_day_lines', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'week_day', CASE WHEN j."i_1" IS NULL THEN j.clock->'week_day'
                    ELSE jsonb_build_array(coalesce(j.clock->'week_day'->0, to_jsonb(0)), greatest(coalesce((j.clock->'week_day'->>1)::bigint, 0), "j"."i_1"), j.clock->'week_day'->2, "j"."t_1") END,
               'day_of_month', CASE WHEN j."i_2" IS NULL THEN j.clock->'day_of_month'
                    ELSE jsonb_build_array(coalesce(j.clock->'day_of_month'->0, to_jsonb(0)), greatest(coalesce((j.clock->'day_of_month'->>1)::bigint, 0), "j"."i_2"), j.clock->'day_of_month'->2, "j"."t_2") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'payment_day_lines' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_day_lines', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'week_day', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'day_of_month', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND NOT (j.present AND NOT j.exists_after) AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), held AS (
    -- A change whose parent has not arrived on this side yet is held, with the row's
    -- other changes, not written with a null reference (the applier retries it when
    -- the parent's map applies).
    INSERT INTO "replicator"."held_change" (direction, id, map_name, op, image, refs, before, key, seen, stamp,
                           forced, waiting_for)
    SELECT 'to_left', c.id, 'payment_day_lines', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'paymentdayid' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'payment_days' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('companyid', c.image->'companyid', 'paymentdayid', c.image->'paymentdayid', 'line_number', c.image->'line_number') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."payment_day_lines_to_left"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('dataareaid', j."k_1", 'payment_day_name', j."k_2", 'line_num', j."k_3", 'week_day', j."f_1", 'day_of_month', j."f_2"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('dataareaid', j."k_1", 'payment_day_name', j."k_2", 'line_num', j."k_3", 'week_day', j."f_1", 'day_of_month', j."f_2")) END), '[]'),
               false) AS written
      FROM planned AS j
     WHERE j.exists_after AND NOT j.holding AND (NOT j.present           OR (j."f_1", j."f_2") IS DISTINCT FROM (j."c_1", j."c_2"))
)
SELECT count(*) FILTER (WHERE j.exists_after AND NOT j.holding AND (NOT j.present                             OR (j."f_1", j."f_2") IS DISTINCT FROM (j."c_1", j."c_2"))),
       (SELECT written FROM written),
       jsonb_agg(jsonb_build_object('key', j.own_key, 'known', j.queued_upto))
           FILTER (WHERE j.exists_after AND NOT j.present AND NOT j.holding),
       jsonb_agg(j.own_key) FILTER (WHERE j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.exists_after AND NOT j.holding                                       AND (j."f_1", j."f_2") IS DISTINCT FROM (j."c_1", j."c_2")))[1]
  INTO v_wanted, v_written, v_inserted, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_day_lines', 'fno.payment_day_lines'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'payment_day_lines'
                             AND q.direction || '' = 'to_right' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_day_lines', 'fno.payment_day_lines'
        USING ERRCODE = 'serialization_failure';
END IF;

END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A key that applies settles its open
-- error (it was applied with the batch, see replicator.apply_batch). p_final: the
-- applier's last try at this batch after repeated serialization failures; a key that
-- still fails so is logged like any error, so the rest applies and no retry is endless.
DROP FUNCTION IF EXISTS "replicator"."apply_payment_day_lines_to_left"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_day_lines_to_left"(p_changes jsonb, p_deletes boolean, p_final boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_key_changes jsonb;
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'payment_day_lines' AND direction = 'to_left');
    BEGIN
        PERFORM "replicator"."write_payment_day_lines_to_left"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('payment_day_lines', 'to_left', ARRAY(
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'paymentdayid', c.value->'image'->'paymentdayid', 'line_number', c.value->'image'->'line_number') FROM jsonb_array_elements(p_changes) AS c));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN serialization_failure THEN
            IF NOT p_final THEN
                RAISE;  -- transient: the applier retries the whole batch
            END IF;     -- its last try: find the key(s) that keep failing below
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'paymentdayid', c.value->'image'->'paymentdayid', 'line_number', c.value->'image'->'line_number')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_payment_day_lines_to_left"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('payment_day_lines', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'paymentdayid', v_change->'image'->'paymentdayid', 'line_number', v_change->'image'->'line_number')]);
            END IF;
        EXCEPTION
            WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                IF v_sqlstate = '40001' AND NOT p_final THEN
                    RAISE;  -- serialization_failure: transient until the last try
                END IF;
                PERFORM "replicator"."log_error"('payment_day_lines', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'paymentdayid', v_change->'image'->'paymentdayid', 'line_number', v_change->'image'->'line_number'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change of this batch counts once: deletes in the delete pass, the
                -- rest after; an earlier one applied with it counted when it came.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes
                                           AND c.value->'earlier' IS NULL);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;

-- replicator sync's fast path: of a chunk of an initial sync (forced inserts, in key
-- order), the rows whose key this side holds nowhere (no row, no clock, nothing of it
-- queued here) are written in one set-based insert, decoded once: for them the apply
-- function above could decide nothing else, and judges nothing. Returns the changes it
-- left to the apply function: the rest of the chunk, or all of it when held changes
-- or open errors wait here (the apply function retries or supersedes those), when the
-- map has lookups (each parent resolved there), or when the insert met anything else
-- (a row inserted meanwhile, a value refused): the apply function logs what fails.
CREATE OR REPLACE FUNCTION "replicator"."sync_payment_day_lines_to_left"(p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $sync$
BEGIN
    RETURN p_changes;  -- lookups: the apply function resolves each row's parents
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_left/apply', '64bdcd2b465001efc1cd514f50820133c5fb09224908aa014d6a1b48d81beb35', $sql$-- Removing map 'payment_day_lines' ('to_left') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'payment_day_lines' AND direction = 'to_left';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_day_lines', 'to_left', v_held, 'payment_day_lines', 'payment_day_lines', 'payment_day_lines', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_payment_day_lines_to_left"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_day_lines_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."payment_day_lines_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_payment_day_lines_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."payment_day_lines_to_left_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedules/to_left/apply ====
-- Map 'payment_schedules', 'to_left': the writes to "fno"."payment_schedules", as replicator_left_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_left_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."payment_schedules_to_left"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"fno"."payment_schedules", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "fno"."payment_schedules" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "fno"."payment_schedules" ("dataareaid", "schedule_name", "description", "allocation")
    SELECT (r.n)."dataareaid",
       (r.n)."schedule_name",
       (r.n)."description",
       (r.n)."allocation"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("dataareaid", "schedule_name") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "fno"."payment_schedules" AS t
       SET "description" = (r.n)."description",
       "allocation" = (r.n)."allocation"
      FROM r
     WHERE r."do" = 'U' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_written;
RETURN v_written;
END
$writer$;

-- An initial sync's rows for keys this side does not hold (the sync function below
-- found them so): inserted in one statement, decoded once. p_rows: the rows, by
-- target column. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."payment_schedules_to_left_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "fno"."payment_schedules" ("dataareaid", "schedule_name", "description", "allocation")
SELECT n."dataareaid",
       n."schedule_name",
       n."description",
       n."allocation"
  FROM jsonb_populate_recordset(NULL::"fno"."payment_schedules", p_rows) AS n
    ON CONFLICT ("dataareaid", "schedule_name") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."payment_schedules_to_left"(jsonb, boolean) OWNER TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."payment_schedules_to_left_sync"(jsonb) OWNER TO "replicator_left_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_left_writer";

-- Map 'payment_schedules', 'to_left': write a batch of captured changes into "fno"."payment_schedules".
-- Deletes and upserts run as two passes (p_deletes), so a batch can delete children
-- before parents and insert parents before children.
--
-- Versions (replicator.versions): every change carries what its side had seen of this
-- one (seen: the newest change of the row from here applied there before it). Per
-- field, and for the row itself, a change that had seen this side's newest write of
-- it wins; one that had not is concurrent with it, and the policy decides
-- ('left_wins' for the row). This side's newest write is in the row's clock, or still
-- queued here. Both sides decide on the same writes the same way, so they end equal.
-- Rows are written only as they were judged (same xmin): one changed meanwhile makes
-- the batch retry. plpgsql rather than sql: it keeps the statements' plans.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The rows themselves are
-- written by the writer's function above. The capture triggers here skip what it
-- writes (loop safety): the marker below counts only for a role that may use the
-- writers' schema.
CREATE OR REPLACE FUNCTION "replicator"."write_payment_schedules_to_left"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
DECLARE
    v_wanted integer;
    v_written integer;
    v_inserted jsonb;  -- the keys inserted here, with this side's newest queued change known then
    v_touched jsonb;   -- the keys of the rows written here
    v_outside jsonb;   -- the key of a row the batch would change outside the map's filter here
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_schedules', 'cds.payment_schedule'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.payment_schedules were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'name', c.image->'name') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'allocation' IS DISTINCT FROM c.image->'allocation')) AS "w_2",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."name") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "name" character varying(30))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."name")
     ORDER BY "k"."companyid", "k"."name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."name" AS character varying(30)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60),
       "allocation" text)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'schedule_name', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'allocation'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'allocation'->>2)::bigint, q."ot_2") AS "ot_2",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."payment_schedules" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."schedule_name" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'schedule_name', "l"."k_2")
              AND v.map_name = 'payment_schedules' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'allocation' IS DISTINCT FROM q.image->'allocation')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'allocation' IS DISTINCT FROM q.image->'allocation')))
                      AS "ot_2",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'schedule_name', "l"."k_2") AND q.map_name = 'payment_schedules'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."description" AS "c_1",
           CAST(CASE WHEN "s"."allocation" IS NULL THEN NULL WHEN "s"."allocation"::text = 'percent' THEN 'Percent' WHEN "s"."allocation"::text = 'fixed' THEN 'Fixed' ELSE "replicator"."unmapped_value"('payment_schedules', 'allocation', "s"."allocation"::text) END AS character varying(10)) AS "n_2",
           g."allocation" AS "c_2",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60),
       "allocation" text)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."payment_schedules",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           j.x_0 OR j."x_1" OR j."x_2" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'schedule_name', j."k_2", 'description', j."f_1", 'allocation', j."f_2") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_schedules', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), "j"."i_1"), j.clock->'description'->2, "j"."t_1") END,
               'allocation', CASE WHEN j."i_2" IS NULL THEN j.clock->'allocation'
                    ELSE jsonb_build_array(coalesce(j.clock->'allocation'->0, to_jsonb(0)), greatest(coalesce((j.clock->'allocation'->>1)::bigint, 0), "j"."i_2"), j.clock->'allocation'->2, "j"."t_2") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'payment_schedules' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_schedules', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'allocation', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.present AND NOT j.exists_after AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), removed AS (
    SELECT "replicator_write"."payment_schedules_to_left"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
                                 false) AS written
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding
)
SELECT count(*) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (SELECT written FROM removed),
       jsonb_agg(j.own_key) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.present AND NOT j.exists_after AND NOT j.holding))[1]
  INTO v_wanted, v_written, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_schedules', 'fno.payment_schedules'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'name', c.image->'name') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'allocation' IS DISTINCT FROM c.image->'allocation')) AS "w_2",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."name") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "name" character varying(30))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."name")
     ORDER BY "k"."companyid", "k"."name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."name" AS character varying(30)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60),
       "allocation" text)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'schedule_name', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'allocation'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'allocation'->>2)::bigint, q."ot_2") AS "ot_2",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."payment_schedules" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."schedule_name" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'schedule_name', "l"."k_2")
              AND v.map_name = 'payment_schedules' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'allocation' IS DISTINCT FROM q.image->'allocation')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'allocation' IS DISTINCT FROM q.image->'allocation')))
                      AS "ot_2",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'schedule_name', "l"."k_2") AND q.map_name = 'payment_schedules'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."description" AS "c_1",
           CAST(CASE WHEN "s"."allocation" IS NULL THEN NULL WHEN "s"."allocation"::text = 'percent' THEN 'Percent' WHEN "s"."allocation"::text = 'fixed' THEN 'Fixed' ELSE "replicator"."unmapped_value"('payment_schedules', 'allocation', "s"."allocation"::text) END AS character varying(10)) AS "n_2",
           g."allocation" AS "c_2",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60),
       "allocation" text)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."payment_schedules",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           j.x_0 OR j."x_1" OR j."x_2" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'schedule_name', j."k_2", 'description', j."f_1", 'allocation', j."f_2") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_schedules', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), "j"."i_1"), j.clock->'description'->2, "j"."t_1") END,
               'allocation', CASE WHEN j."i_2" IS NULL THEN j.clock->'allocation'
                    ELSE jsonb_build_array(coalesce(j.clock->'allocation'->0, to_jsonb(0)), greatest(coalesce((j.clock->'allocation'->>1)::bigint, 0), "j"."i_2"), j.clock->'allocation'->2, "j"."t_2") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'payment_schedules' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_schedules', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'allocation', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND NOT (j.present AND NOT j.exists_after) AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), held AS (
    -- A change whose parent has not arrived on this side yet is held, with the row's
    -- other changes, not written with a null reference (the applier retries it when
    -- the parent's map applies).
    INSERT INTO "replicator"."held_change" (direction, id, map_name, op, image, refs, before, key, seen, stamp,
                           forced, waiting_for)
    SELECT 'to_left', c.id, 'payment_schedules', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('companyid', c.image->'companyid', 'name', c.image->'name') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."payment_schedules_to_left"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('dataareaid', j."k_1", 'schedule_name', j."k_2", 'description', j."f_1", 'allocation', j."f_2"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('dataareaid', j."k_1", 'schedule_name', j."k_2", 'description', j."f_1", 'allocation', j."f_2")) END), '[]'),
               false) AS written
      FROM planned AS j
     WHERE j.exists_after AND NOT j.holding AND (NOT j.present           OR (j."f_1", j."f_2") IS DISTINCT FROM (j."c_1", j."c_2"))
)
SELECT count(*) FILTER (WHERE j.exists_after AND NOT j.holding AND (NOT j.present                             OR (j."f_1", j."f_2") IS DISTINCT FROM (j."c_1", j."c_2"))),
       (SELECT written FROM written),
       jsonb_agg(jsonb_build_object('key', j.own_key, 'known', j.queued_upto))
           FILTER (WHERE j.exists_after AND NOT j.present AND NOT j.holding),
       jsonb_agg(j.own_key) FILTER (WHERE j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.exists_after AND NOT j.holding                                       AND (j."f_1", j."f_2") IS DISTINCT FROM (j."c_1", j."c_2")))[1]
  INTO v_wanted, v_written, v_inserted, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_schedules', 'fno.payment_schedules'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'payment_schedules'
                             AND q.direction || '' = 'to_right' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_schedules', 'fno.payment_schedules'
        USING ERRCODE = 'serialization_failure';
END IF;

END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A key that applies settles its open
-- error (it was applied with the batch, see replicator.apply_batch). p_final: the
-- applier's last try at this batch after repeated serialization failures; a key that
-- still fails so is logged like any error, so the rest applies and no retry is endless.
DROP FUNCTION IF EXISTS "replicator"."apply_payment_schedules_to_left"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_schedules_to_left"(p_changes jsonb, p_deletes boolean, p_final boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_key_changes jsonb;
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'payment_schedules' AND direction = 'to_left');
    BEGIN
        PERFORM "replicator"."write_payment_schedules_to_left"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('payment_schedules', 'to_left', ARRAY(
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'name', c.value->'image'->'name') FROM jsonb_array_elements(p_changes) AS c));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN serialization_failure THEN
            IF NOT p_final THEN
                RAISE;  -- transient: the applier retries the whole batch
            END IF;     -- its last try: find the key(s) that keep failing below
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'name', c.value->'image'->'name')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_payment_schedules_to_left"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('payment_schedules', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'name', v_change->'image'->'name')]);
            END IF;
        EXCEPTION
            WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                IF v_sqlstate = '40001' AND NOT p_final THEN
                    RAISE;  -- serialization_failure: transient until the last try
                END IF;
                PERFORM "replicator"."log_error"('payment_schedules', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'name', v_change->'image'->'name'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change of this batch counts once: deletes in the delete pass, the
                -- rest after; an earlier one applied with it counted when it came.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes
                                           AND c.value->'earlier' IS NULL);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;

-- replicator sync's fast path: of a chunk of an initial sync (forced inserts, in key
-- order), the rows whose key this side holds nowhere (no row, no clock, nothing of it
-- queued here) are written in one set-based insert, decoded once: for them the apply
-- function above could decide nothing else, and judges nothing. Returns the changes it
-- left to the apply function: the rest of the chunk, or all of it when held changes
-- or open errors wait here (the apply function retries or supersedes those), when the
-- map has lookups (each parent resolved there), or when the insert met anything else
-- (a row inserted meanwhile, a value refused): the apply function logs what fails.
CREATE OR REPLACE FUNCTION "replicator"."sync_payment_schedules_to_left"(p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $sync$
BEGIN
    RETURN p_changes;  -- lookups: the apply function resolves each row's parents
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_left/apply', '06d98302ef617a02d383a4ff46f817403a42f5228ed769818ddcf5c80f166ae3', $sql$-- Removing map 'payment_schedules' ('to_left') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'payment_schedules' AND direction = 'to_left';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_schedules', 'to_left', v_held, 'payment_schedules', 'payment_schedules', 'payment_schedules', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_payment_schedules_to_left"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_schedules_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."payment_schedules_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_payment_schedules_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."payment_schedules_to_left_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedule_lines/to_left/apply ====
-- Map 'payment_schedule_lines', 'to_left': the writes to "fno"."payment_schedule_lines", as replicator_left_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_left_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."payment_schedule_lines_to_left"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"fno"."payment_schedule_lines", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "fno"."payment_schedule_lines" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "fno"."payment_schedule_lines" ("dataareaid", "schedule_name", "line_num", "percent", "due_months", "due_days")
    SELECT (r.n)."dataareaid",
       (r.n)."schedule_name",
       (r.n)."line_num",
       (r.n)."percent",
       (r.n)."due_months",
       (r.n)."due_days"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("dataareaid", "schedule_name", "line_num") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "fno"."payment_schedule_lines" AS t
       SET "percent" = (r.n)."percent",
       "due_months" = (r.n)."due_months",
       "due_days" = (r.n)."due_days"
      FROM r
     WHERE r."do" = 'U' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_written;
RETURN v_written;
END
$writer$;

-- An initial sync's rows for keys this side does not hold (the sync function below
-- found them so): inserted in one statement, decoded once. p_rows: the rows, by
-- target column. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."payment_schedule_lines_to_left_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "fno"."payment_schedule_lines" ("dataareaid", "schedule_name", "line_num", "percent", "due_months", "due_days")
SELECT n."dataareaid",
       n."schedule_name",
       n."line_num",
       n."percent",
       n."due_months",
       n."due_days"
  FROM jsonb_populate_recordset(NULL::"fno"."payment_schedule_lines", p_rows) AS n
    ON CONFLICT ("dataareaid", "schedule_name", "line_num") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."payment_schedule_lines_to_left"(jsonb, boolean) OWNER TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."payment_schedule_lines_to_left_sync"(jsonb) OWNER TO "replicator_left_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_left_writer";

-- Map 'payment_schedule_lines', 'to_left': write a batch of captured changes into "fno"."payment_schedule_lines".
-- Deletes and upserts run as two passes (p_deletes), so a batch can delete children
-- before parents and insert parents before children.
--
-- Versions (replicator.versions): every change carries what its side had seen of this
-- one (seen: the newest change of the row from here applied there before it). Per
-- field, and for the row itself, a change that had seen this side's newest write of
-- it wins; one that had not is concurrent with it, and the policy decides
-- ('left_wins' for the row). This side's newest write is in the row's clock, or still
-- queued here. Both sides decide on the same writes the same way, so they end equal.
-- Rows are written only as they were judged (same xmin): one changed meanwhile makes
-- the batch retry. plpgsql rather than sql: it keeps the statements' plans.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The rows themselves are
-- written by the writer's function above. The capture triggers here skip what it
-- writes (loop safety): the marker below counts only for a role that may use the
-- writers' schema.
CREATE OR REPLACE FUNCTION "replicator"."write_payment_schedule_lines_to_left"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
DECLARE
    v_wanted integer;
    v_written integer;
    v_inserted jsonb;  -- the keys inserted here, with this side's newest queued change known then
    v_touched jsonb;   -- the keys of the rows written here
    v_outside jsonb;   -- the key of a row the batch would change outside the map's filter here
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_schedule_lines', 'cds.payment_schedule_line'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.payment_schedule_lines were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'paymentscheduleid', c.image->'paymentscheduleid', 'line_number', c.image->'line_number') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'percentage' IS DISTINCT FROM c.image->'percentage')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'months' IS DISTINCT FROM c.image->'months')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'days' IS DISTINCT FROM c.image->'days')) AS "w_3",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."paymentscheduleid", "k"."line_number") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           max(c.id) FILTER (WHERE "w_3") OVER w AS "i_3",
           max(c.seen) FILTER (WHERE "w_3") OVER w AS "s_3",
           max(c.stamp) FILTER (WHERE "w_3") OVER w AS "t_3",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "paymentscheduleid" uuid,
       "line_number" integer)
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."paymentscheduleid", "k"."line_number")
     ORDER BY "k"."companyid", "k"."paymentscheduleid", "k"."line_number", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."schedule_name" FROM "fno"."payment_schedules" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'schedule_name') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."schedule_name" = CAST((l.refs -> 'schedule_name') ->> 'name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("l"."lookup_2" AS character varying(30)) AS "k_2",
           CAST("s"."line_number" AS integer) AS "k_3",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'paymentscheduleid' IS NOT NULL AND "l"."lookup_2" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "paymentscheduleid" uuid,
       "line_number" integer,
       "percentage" numeric(38,10),
       "months" integer,
       "days" integer)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'schedule_name', "l"."k_2", 'line_num', "l"."k_3") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'percent'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'percent'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'due_months'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'due_months'->>2)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'due_days'->>0)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'due_days'->>2)::bigint, q."ot_3") AS "ot_3",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."payment_schedule_lines" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."schedule_name" = "l"."k_2" AND "t"."line_num" = "l"."k_3"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'schedule_name', "l"."k_2", 'line_num', "l"."k_3")
              AND v.map_name = 'payment_schedule_lines' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'percent' IS DISTINCT FROM q.image->'percent')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'percent' IS DISTINCT FROM q.image->'percent')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'due_months' IS DISTINCT FROM q.image->'due_months')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'due_months' IS DISTINCT FROM q.image->'due_months')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'due_days' IS DISTINCT FROM q.image->'due_days')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'due_days' IS DISTINCT FROM q.image->'due_days')))
                      AS "ot_3",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'schedule_name', "l"."k_2", 'line_num', "l"."k_3") AND q.map_name = 'payment_schedule_lines'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           (CAST(ROUND("s"."percentage", 6) AS DECIMAL(32, 6))) AS "n_1",
           g."percent" AS "c_1",
           "s"."months" AS "n_2",
           g."due_months" AS "c_2",
           "s"."days" AS "n_3",
           g."due_days" AS "c_3",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "paymentscheduleid" uuid,
       "line_number" integer,
       "percentage" numeric(38,10),
       "months" integer,
       "days" integer)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."payment_schedule_lines",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR false) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_3"
                WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'schedule_name', j."k_2", 'line_num', j."k_3", 'percent', j."f_1", 'due_months', j."f_2", 'due_days', j."f_3") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_schedule_lines', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'percent', CASE WHEN j."i_1" IS NULL THEN j.clock->'percent'
                    ELSE jsonb_build_array(coalesce(j.clock->'percent'->0, to_jsonb(0)), greatest(coalesce((j.clock->'percent'->>1)::bigint, 0), "j"."i_1"), j.clock->'percent'->2, "j"."t_1") END,
               'due_months', CASE WHEN j."i_2" IS NULL THEN j.clock->'due_months'
                    ELSE jsonb_build_array(coalesce(j.clock->'due_months'->0, to_jsonb(0)), greatest(coalesce((j.clock->'due_months'->>1)::bigint, 0), "j"."i_2"), j.clock->'due_months'->2, "j"."t_2") END,
               'due_days', CASE WHEN j."i_3" IS NULL THEN j.clock->'due_days'
                    ELSE jsonb_build_array(coalesce(j.clock->'due_days'->0, to_jsonb(0)), greatest(coalesce((j.clock->'due_days'->>1)::bigint, 0), "j"."i_3"), j.clock->'due_days'->2, "j"."t_3") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'payment_schedule_lines' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_schedule_lines', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'percent', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'due_months', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'due_days', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_3" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.present AND NOT j.exists_after AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), removed AS (
    SELECT "replicator_write"."payment_schedule_lines_to_left"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
                                 false) AS written
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding
)
SELECT count(*) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (SELECT written FROM removed),
       jsonb_agg(j.own_key) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.present AND NOT j.exists_after AND NOT j.holding))[1]
  INTO v_wanted, v_written, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_schedule_lines', 'fno.payment_schedule_lines'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'paymentscheduleid', c.image->'paymentscheduleid', 'line_number', c.image->'line_number') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'percentage' IS DISTINCT FROM c.image->'percentage')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'months' IS DISTINCT FROM c.image->'months')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'days' IS DISTINCT FROM c.image->'days')) AS "w_3",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."paymentscheduleid", "k"."line_number") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           max(c.id) FILTER (WHERE "w_3") OVER w AS "i_3",
           max(c.seen) FILTER (WHERE "w_3") OVER w AS "s_3",
           max(c.stamp) FILTER (WHERE "w_3") OVER w AS "t_3",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "paymentscheduleid" uuid,
       "line_number" integer)
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."paymentscheduleid", "k"."line_number")
     ORDER BY "k"."companyid", "k"."paymentscheduleid", "k"."line_number", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."schedule_name" FROM "fno"."payment_schedules" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'schedule_name') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."schedule_name" = CAST((l.refs -> 'schedule_name') ->> 'name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("l"."lookup_2" AS character varying(30)) AS "k_2",
           CAST("s"."line_number" AS integer) AS "k_3",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'paymentscheduleid' IS NOT NULL AND "l"."lookup_2" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "paymentscheduleid" uuid,
       "line_number" integer,
       "percentage" numeric(38,10),
       "months" integer,
       "days" integer)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'schedule_name', "l"."k_2", 'line_num', "l"."k_3") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'percent'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'percent'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'due_months'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'due_months'->>2)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'due_days'->>0)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'due_days'->>2)::bigint, q."ot_3") AS "ot_3",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."payment_schedule_lines" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."schedule_name" = "l"."k_2" AND "t"."line_num" = "l"."k_3"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'schedule_name', "l"."k_2", 'line_num', "l"."k_3")
              AND v.map_name = 'payment_schedule_lines' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'percent' IS DISTINCT FROM q.image->'percent')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'percent' IS DISTINCT FROM q.image->'percent')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'due_months' IS DISTINCT FROM q.image->'due_months')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'due_months' IS DISTINCT FROM q.image->'due_months')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'due_days' IS DISTINCT FROM q.image->'due_days')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'due_days' IS DISTINCT FROM q.image->'due_days')))
                      AS "ot_3",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'schedule_name', "l"."k_2", 'line_num', "l"."k_3") AND q.map_name = 'payment_schedule_lines'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           (CAST(ROUND("s"."percentage", 6) AS DECIMAL(32, 6))) AS "n_1",
           g."percent" AS "c_1",
           "s"."months" AS "n_2",
           g."due_months" AS "c_2",
           "s"."days" AS "n_3",
           g."due_days" AS "c_3",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "paymentscheduleid" uuid,
       "line_number" integer,
       "percentage" numeric(38,10),
       "months" integer,
       "days" integer)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."payment_schedule_lines",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR false) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_3"
                WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'schedule_name', j."k_2", 'line_num', j."k_3", 'percent', j."f_1", 'due_months', j."f_2", 'due_days', j."f_3") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_schedule_lines', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'percent', CASE WHEN j."i_1" IS NULL THEN j.clock->'percent'
                    ELSE jsonb_build_array(coalesce(j.clock->'percent'->0, to_jsonb(0)), greatest(coalesce((j.clock->'percent'->>1)::bigint, 0), "j"."i_1"), j.clock->'percent'->2, "j"."t_1") END,
               'due_months', CASE WHEN j."i_2" IS NULL THEN j.clock->'due_months'
                    ELSE jsonb_build_array(coalesce(j.clock->'due_months'->0, to_jsonb(0)), greatest(coalesce((j.clock->'due_months'->>1)::bigint, 0), "j"."i_2"), j.clock->'due_months'->2, "j"."t_2") END,
               'due_days', CASE WHEN j."i_3" IS NULL THEN j.clock->'due_days'
                    ELSE jsonb_build_array(coalesce(j.clock->'due_days'->0, to_jsonb(0)), greatest(coalesce((j.clock->'due_days'->>1)::bigint, 0), "j"."i_3"), j.clock->'due_days'->2, "j"."t_3") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'payment_schedule_lines' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_schedule_lines', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'percent', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'due_months', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'due_days', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_3" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND NOT (j.present AND NOT j.exists_after) AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), held AS (
    -- A change whose parent has not arrived on this side yet is held, with the row's
    -- other changes, not written with a null reference (the applier retries it when
    -- the parent's map applies).
    INSERT INTO "replicator"."held_change" (direction, id, map_name, op, image, refs, before, key, seen, stamp,
                           forced, waiting_for)
    SELECT 'to_left', c.id, 'payment_schedule_lines', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'paymentscheduleid' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'payment_schedules' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('companyid', c.image->'companyid', 'paymentscheduleid', c.image->'paymentscheduleid', 'line_number', c.image->'line_number') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."payment_schedule_lines_to_left"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('dataareaid', j."k_1", 'schedule_name', j."k_2", 'line_num', j."k_3", 'percent', j."f_1", 'due_months', j."f_2", 'due_days', j."f_3"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('dataareaid', j."k_1", 'schedule_name', j."k_2", 'line_num', j."k_3", 'percent', j."f_1", 'due_months', j."f_2", 'due_days', j."f_3")) END), '[]'),
               false) AS written
      FROM planned AS j
     WHERE j.exists_after AND NOT j.holding AND (NOT j.present           OR (j."f_1", j."f_2", j."f_3") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3"))
)
SELECT count(*) FILTER (WHERE j.exists_after AND NOT j.holding AND (NOT j.present                             OR (j."f_1", j."f_2", j."f_3") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3"))),
       (SELECT written FROM written),
       jsonb_agg(jsonb_build_object('key', j.own_key, 'known', j.queued_upto))
           FILTER (WHERE j.exists_after AND NOT j.present AND NOT j.holding),
       jsonb_agg(j.own_key) FILTER (WHERE j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.exists_after AND NOT j.holding                                       AND (j."f_1", j."f_2", j."f_3") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3")))[1]
  INTO v_wanted, v_written, v_inserted, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_schedule_lines', 'fno.payment_schedule_lines'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'payment_schedule_lines'
                             AND q.direction || '' = 'to_right' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_schedule_lines', 'fno.payment_schedule_lines'
        USING ERRCODE = 'serialization_failure';
END IF;

END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A key that applies settles its open
-- error (it was applied with the batch, see replicator.apply_batch). p_final: the
-- applier's last try at this batch after repeated serialization failures; a key that
-- still fails so is logged like any error, so the rest applies and no retry is endless.
DROP FUNCTION IF EXISTS "replicator"."apply_payment_schedule_lines_to_left"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_schedule_lines_to_left"(p_changes jsonb, p_deletes boolean, p_final boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_key_changes jsonb;
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'payment_schedule_lines' AND direction = 'to_left');
    BEGIN
        PERFORM "replicator"."write_payment_schedule_lines_to_left"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('payment_schedule_lines', 'to_left', ARRAY(
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'paymentscheduleid', c.value->'image'->'paymentscheduleid', 'line_number', c.value->'image'->'line_number') FROM jsonb_array_elements(p_changes) AS c));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN serialization_failure THEN
            IF NOT p_final THEN
                RAISE;  -- transient: the applier retries the whole batch
            END IF;     -- its last try: find the key(s) that keep failing below
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'paymentscheduleid', c.value->'image'->'paymentscheduleid', 'line_number', c.value->'image'->'line_number')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_payment_schedule_lines_to_left"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('payment_schedule_lines', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'paymentscheduleid', v_change->'image'->'paymentscheduleid', 'line_number', v_change->'image'->'line_number')]);
            END IF;
        EXCEPTION
            WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                IF v_sqlstate = '40001' AND NOT p_final THEN
                    RAISE;  -- serialization_failure: transient until the last try
                END IF;
                PERFORM "replicator"."log_error"('payment_schedule_lines', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'paymentscheduleid', v_change->'image'->'paymentscheduleid', 'line_number', v_change->'image'->'line_number'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change of this batch counts once: deletes in the delete pass, the
                -- rest after; an earlier one applied with it counted when it came.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes
                                           AND c.value->'earlier' IS NULL);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;

-- replicator sync's fast path: of a chunk of an initial sync (forced inserts, in key
-- order), the rows whose key this side holds nowhere (no row, no clock, nothing of it
-- queued here) are written in one set-based insert, decoded once: for them the apply
-- function above could decide nothing else, and judges nothing. Returns the changes it
-- left to the apply function: the rest of the chunk, or all of it when held changes
-- or open errors wait here (the apply function retries or supersedes those), when the
-- map has lookups (each parent resolved there), or when the insert met anything else
-- (a row inserted meanwhile, a value refused): the apply function logs what fails.
CREATE OR REPLACE FUNCTION "replicator"."sync_payment_schedule_lines_to_left"(p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $sync$
BEGIN
    RETURN p_changes;  -- lookups: the apply function resolves each row's parents
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_left/apply', '2ff4ac79ae375170b495c681bdd1cdb480ceb5be26717afe5935e2be87c825fd', $sql$-- Removing map 'payment_schedule_lines' ('to_left') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'payment_schedule_lines' AND direction = 'to_left';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_schedule_lines', 'to_left', v_held, 'payment_schedule_lines', 'payment_schedule_lines', 'payment_schedule_lines', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_payment_schedule_lines_to_left"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_schedule_lines_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."payment_schedule_lines_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_payment_schedule_lines_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."payment_schedule_lines_to_left_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_terms/to_left/apply ====
-- Map 'payment_terms', 'to_left': the writes to "fno"."payment_terms", as replicator_left_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_left_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."payment_terms_to_left"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"fno"."payment_terms", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "fno"."payment_terms" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "fno"."payment_terms" ("dataareaid", "payment_term_id", "description", "net_days", "payment_schedule", "payment_day")
    SELECT (r.n)."dataareaid",
       (r.n)."payment_term_id",
       (r.n)."description",
       (r.n)."net_days",
       (r.n)."payment_schedule",
       (r.n)."payment_day"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("dataareaid", "payment_term_id") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "fno"."payment_terms" AS t
       SET "description" = (r.n)."description",
       "net_days" = (r.n)."net_days",
       "payment_schedule" = (r.n)."payment_schedule",
       "payment_day" = (r.n)."payment_day"
      FROM r
     WHERE r."do" = 'U' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_written;
RETURN v_written;
END
$writer$;

-- An initial sync's rows for keys this side does not hold (the sync function below
-- found them so): inserted in one statement, decoded once. p_rows: the rows, by
-- target column. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."payment_terms_to_left_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "fno"."payment_terms" ("dataareaid", "payment_term_id", "description", "net_days", "payment_schedule", "payment_day")
SELECT n."dataareaid",
       n."payment_term_id",
       n."description",
       n."net_days",
       n."payment_schedule",
       n."payment_day"
  FROM jsonb_populate_recordset(NULL::"fno"."payment_terms", p_rows) AS n
    ON CONFLICT ("dataareaid", "payment_term_id") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."payment_terms_to_left"(jsonb, boolean) OWNER TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."payment_terms_to_left_sync"(jsonb) OWNER TO "replicator_left_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_left_writer";

-- Map 'payment_terms', 'to_left': write a batch of captured changes into "fno"."payment_terms".
-- Deletes and upserts run as two passes (p_deletes), so a batch can delete children
-- before parents and insert parents before children.
--
-- Versions (replicator.versions): every change carries what its side had seen of this
-- one (seen: the newest change of the row from here applied there before it). Per
-- field, and for the row itself, a change that had seen this side's newest write of
-- it wins; one that had not is concurrent with it, and the policy decides
-- ('left_wins' for the row). This side's newest write is in the row's clock, or still
-- queued here. Both sides decide on the same writes the same way, so they end equal.
-- Rows are written only as they were judged (same xmin): one changed meanwhile makes
-- the batch retry. plpgsql rather than sql: it keeps the statements' plans.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The rows themselves are
-- written by the writer's function above. The capture triggers here skip what it
-- writes (loop safety): the marker below counts only for a role that may use the
-- writers' schema.
CREATE OR REPLACE FUNCTION "replicator"."write_payment_terms_to_left"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
DECLARE
    v_wanted integer;
    v_written integer;
    v_inserted jsonb;  -- the keys inserted here, with this side's newest queued change known then
    v_touched jsonb;   -- the keys of the rows written here
    v_outside jsonb;   -- the key of a row the batch would change outside the map's filter here
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_terms', 'cds.payment_term'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.payment_terms were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'code', c.image->'code') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'due_days' IS DISTINCT FROM c.image->'due_days')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'paymentscheduleid' IS DISTINCT FROM c.image->'paymentscheduleid')) AS "w_3",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'paymentdayid' IS DISTINCT FROM c.image->'paymentdayid')) AS "w_4",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."code") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           max(c.id) FILTER (WHERE "w_3") OVER w AS "i_3",
           max(c.seen) FILTER (WHERE "w_3") OVER w AS "s_3",
           max(c.stamp) FILTER (WHERE "w_3") OVER w AS "t_3",
           max(c.id) FILTER (WHERE "w_4") OVER w AS "i_4",
           max(c.seen) FILTER (WHERE "w_4") OVER w AS "s_4",
           max(c.stamp) FILTER (WHERE "w_4") OVER w AS "t_4",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "code" character varying(10))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."code")
     ORDER BY "k"."companyid", "k"."code", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."schedule_name" FROM "fno"."payment_schedules" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_schedule') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."schedule_name" = CAST((l.refs -> 'payment_schedule') ->> 'name' AS character varying(30))) AS "lookup_2",
           (SELECT "p1"."payment_day_name" FROM "fno"."payment_days" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_day') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_day_name" = CAST((l.refs -> 'payment_day') ->> 'name' AS character varying(30))) AS "lookup_3"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."code" AS character varying(10)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'paymentscheduleid' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'paymentdayid' IS NOT NULL AND "l"."lookup_3" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "due_days" integer,
       "paymentscheduleid" uuid,
       "paymentdayid" uuid)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'payment_term_id', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'net_days'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'net_days'->>2)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'payment_schedule'->>0)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'payment_schedule'->>2)::bigint, q."ot_3") AS "ot_3",
           greatest((v.clock->'payment_day'->>0)::bigint, q."o_4", 0) AS "o_4",
           greatest((v.clock->'payment_day'->>2)::bigint, q."ot_4") AS "ot_4",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."payment_terms" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."payment_term_id" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_term_id', "l"."k_2")
              AND v.map_name = 'payment_terms' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'net_days' IS DISTINCT FROM q.image->'net_days')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'net_days' IS DISTINCT FROM q.image->'net_days')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_schedule' IS DISTINCT FROM q.image->'payment_schedule')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_schedule' IS DISTINCT FROM q.image->'payment_schedule')))
                      AS "ot_3",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_day' IS DISTINCT FROM q.image->'payment_day')))
                      AS "o_4",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_day' IS DISTINCT FROM q.image->'payment_day')))
                      AS "ot_4",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_term_id', "l"."k_2") AND q.map_name = 'payment_terms'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."name" AS "n_1",
           g."description" AS "c_1",
           "s"."due_days" AS "n_2",
           g."net_days" AS "c_2",
           "l"."lookup_2" AS "n_3",
           g."payment_schedule" AS "c_3",
           "l"."lookup_3" AS "n_4",
           g."payment_day" AS "c_4",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "due_days" integer,
       "paymentscheduleid" uuid,
       "paymentdayid" uuid)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."payment_terms",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR false) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           j."i_4" IS NOT NULL
               AND (j.forced OR j."s_4" >= j."o_4" OR false) AS "take_4",
           j."i_4" IS NOT NULL AND NOT j.forced AND j."s_4" < j."o_4"
               AND j."n_4" IS DISTINCT FROM j."c_4" AS "x_4",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_3"
                WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_4"
                WHEN j."take_4" THEN "j"."n_4" ELSE j."c_4" END AS "f_4",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" OR j."x_4" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'payment_term_id', j."k_2", 'description', j."f_1", 'net_days', j."f_2", 'payment_schedule', j."f_3", 'payment_day', j."f_4") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_terms', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), "j"."i_1"), j.clock->'description'->2, "j"."t_1") END,
               'net_days', CASE WHEN j."i_2" IS NULL THEN j.clock->'net_days'
                    ELSE jsonb_build_array(coalesce(j.clock->'net_days'->0, to_jsonb(0)), greatest(coalesce((j.clock->'net_days'->>1)::bigint, 0), "j"."i_2"), j.clock->'net_days'->2, "j"."t_2") END,
               'payment_schedule', CASE WHEN j."i_3" IS NULL THEN j.clock->'payment_schedule'
                    ELSE jsonb_build_array(coalesce(j.clock->'payment_schedule'->0, to_jsonb(0)), greatest(coalesce((j.clock->'payment_schedule'->>1)::bigint, 0), "j"."i_3"), j.clock->'payment_schedule'->2, "j"."t_3") END,
               'payment_day', CASE WHEN j."i_4" IS NULL THEN j.clock->'payment_day'
                    ELSE jsonb_build_array(coalesce(j.clock->'payment_day'->0, to_jsonb(0)), greatest(coalesce((j.clock->'payment_day'->>1)::bigint, 0), "j"."i_4"), j.clock->'payment_day'->2, "j"."t_4") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'payment_terms' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_terms', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'net_days', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'payment_schedule', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_3" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'payment_day', CASE WHEN j."x_4" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_4" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") AND NOT (j."x_4" AND NOT j."take_4") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") AND NOT (j."x_4" AND j."take_4") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.present AND NOT j.exists_after AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), removed AS (
    SELECT "replicator_write"."payment_terms_to_left"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
                                 false) AS written
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding
)
SELECT count(*) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (SELECT written FROM removed),
       jsonb_agg(j.own_key) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.present AND NOT j.exists_after AND NOT j.holding))[1]
  INTO v_wanted, v_written, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_terms', 'fno.payment_terms'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'code', c.image->'code') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'due_days' IS DISTINCT FROM c.image->'due_days')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'paymentscheduleid' IS DISTINCT FROM c.image->'paymentscheduleid')) AS "w_3",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'paymentdayid' IS DISTINCT FROM c.image->'paymentdayid')) AS "w_4",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."code") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           max(c.id) FILTER (WHERE "w_3") OVER w AS "i_3",
           max(c.seen) FILTER (WHERE "w_3") OVER w AS "s_3",
           max(c.stamp) FILTER (WHERE "w_3") OVER w AS "t_3",
           max(c.id) FILTER (WHERE "w_4") OVER w AS "i_4",
           max(c.seen) FILTER (WHERE "w_4") OVER w AS "s_4",
           max(c.stamp) FILTER (WHERE "w_4") OVER w AS "t_4",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "code" character varying(10))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."code")
     ORDER BY "k"."companyid", "k"."code", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."schedule_name" FROM "fno"."payment_schedules" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_schedule') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."schedule_name" = CAST((l.refs -> 'payment_schedule') ->> 'name' AS character varying(30))) AS "lookup_2",
           (SELECT "p1"."payment_day_name" FROM "fno"."payment_days" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_day') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_day_name" = CAST((l.refs -> 'payment_day') ->> 'name' AS character varying(30))) AS "lookup_3"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."code" AS character varying(10)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'paymentscheduleid' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'paymentdayid' IS NOT NULL AND "l"."lookup_3" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "due_days" integer,
       "paymentscheduleid" uuid,
       "paymentdayid" uuid)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'payment_term_id', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'net_days'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'net_days'->>2)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'payment_schedule'->>0)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'payment_schedule'->>2)::bigint, q."ot_3") AS "ot_3",
           greatest((v.clock->'payment_day'->>0)::bigint, q."o_4", 0) AS "o_4",
           greatest((v.clock->'payment_day'->>2)::bigint, q."ot_4") AS "ot_4",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "fno"."payment_terms" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."payment_term_id" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_term_id', "l"."k_2")
              AND v.map_name = 'payment_terms' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'description' IS DISTINCT FROM q.image->'description')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'net_days' IS DISTINCT FROM q.image->'net_days')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'net_days' IS DISTINCT FROM q.image->'net_days')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_schedule' IS DISTINCT FROM q.image->'payment_schedule')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_schedule' IS DISTINCT FROM q.image->'payment_schedule')))
                      AS "ot_3",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_day' IS DISTINCT FROM q.image->'payment_day')))
                      AS "o_4",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_day' IS DISTINCT FROM q.image->'payment_day')))
                      AS "ot_4",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'payment_term_id', "l"."k_2") AND q.map_name = 'payment_terms'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."name" AS "n_1",
           g."description" AS "c_1",
           "s"."due_days" AS "n_2",
           g."net_days" AS "c_2",
           "l"."lookup_2" AS "n_3",
           g."payment_schedule" AS "c_3",
           "l"."lookup_3" AS "n_4",
           g."payment_day" AS "c_4",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "due_days" integer,
       "paymentscheduleid" uuid,
       "paymentdayid" uuid)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."payment_terms",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR false) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           j."i_4" IS NOT NULL
               AND (j.forced OR j."s_4" >= j."o_4" OR false) AS "take_4",
           j."i_4" IS NOT NULL AND NOT j.forced AND j."s_4" < j."o_4"
               AND j."n_4" IS DISTINCT FROM j."c_4" AS "x_4",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_3"
                WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_4"
                WHEN j."take_4" THEN "j"."n_4" ELSE j."c_4" END AS "f_4",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" OR j."x_4" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'payment_term_id', j."k_2", 'description', j."f_1", 'net_days', j."f_2", 'payment_schedule', j."f_3", 'payment_day', j."f_4") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_terms', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), "j"."i_1"), j.clock->'description'->2, "j"."t_1") END,
               'net_days', CASE WHEN j."i_2" IS NULL THEN j.clock->'net_days'
                    ELSE jsonb_build_array(coalesce(j.clock->'net_days'->0, to_jsonb(0)), greatest(coalesce((j.clock->'net_days'->>1)::bigint, 0), "j"."i_2"), j.clock->'net_days'->2, "j"."t_2") END,
               'payment_schedule', CASE WHEN j."i_3" IS NULL THEN j.clock->'payment_schedule'
                    ELSE jsonb_build_array(coalesce(j.clock->'payment_schedule'->0, to_jsonb(0)), greatest(coalesce((j.clock->'payment_schedule'->>1)::bigint, 0), "j"."i_3"), j.clock->'payment_schedule'->2, "j"."t_3") END,
               'payment_day', CASE WHEN j."i_4" IS NULL THEN j.clock->'payment_day'
                    ELSE jsonb_build_array(coalesce(j.clock->'payment_day'->0, to_jsonb(0)), greatest(coalesce((j.clock->'payment_day'->>1)::bigint, 0), "j"."i_4"), j.clock->'payment_day'->2, "j"."t_4") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'payment_terms' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_terms', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'net_days', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'payment_schedule', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_3" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'payment_day', CASE WHEN j."x_4" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_4" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") AND NOT (j."x_4" AND NOT j."take_4") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") AND NOT (j."x_4" AND j."take_4") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND NOT (j.present AND NOT j.exists_after) AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), held AS (
    -- A change whose parent has not arrived on this side yet is held, with the row's
    -- other changes, not written with a null reference (the applier retries it when
    -- the parent's map applies).
    INSERT INTO "replicator"."held_change" (direction, id, map_name, op, image, refs, before, key, seen, stamp,
                           forced, waiting_for)
    SELECT 'to_left', c.id, 'payment_terms', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'paymentscheduleid' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'payment_schedules' END, CASE WHEN (l.image ->> 'paymentdayid' IS NOT NULL AND "l"."lookup_3" IS NULL) THEN 'payment_days' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('companyid', c.image->'companyid', 'code', c.image->'code') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."payment_terms_to_left"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('dataareaid', j."k_1", 'payment_term_id', j."k_2", 'description', j."f_1", 'net_days', j."f_2", 'payment_schedule', j."f_3", 'payment_day', j."f_4"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('dataareaid', j."k_1", 'payment_term_id', j."k_2", 'description', j."f_1", 'net_days', j."f_2", 'payment_schedule', j."f_3", 'payment_day', j."f_4")) END), '[]'),
               false) AS written
      FROM planned AS j
     WHERE j.exists_after AND NOT j.holding AND (NOT j.present           OR (j."f_1", j."f_2", j."f_3", j."f_4") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4"))
)
SELECT count(*) FILTER (WHERE j.exists_after AND NOT j.holding AND (NOT j.present                             OR (j."f_1", j."f_2", j."f_3", j."f_4") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4"))),
       (SELECT written FROM written),
       jsonb_agg(jsonb_build_object('key', j.own_key, 'known', j.queued_upto))
           FILTER (WHERE j.exists_after AND NOT j.present AND NOT j.holding),
       jsonb_agg(j.own_key) FILTER (WHERE j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.exists_after AND NOT j.holding                                       AND (j."f_1", j."f_2", j."f_3", j."f_4") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4")))[1]
  INTO v_wanted, v_written, v_inserted, v_touched, v_outside
  FROM planned AS j;

IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_terms', 'fno.payment_terms'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'payment_terms'
                             AND q.direction || '' = 'to_right' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_terms', 'fno.payment_terms'
        USING ERRCODE = 'serialization_failure';
END IF;

END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A key that applies settles its open
-- error (it was applied with the batch, see replicator.apply_batch). p_final: the
-- applier's last try at this batch after repeated serialization failures; a key that
-- still fails so is logged like any error, so the rest applies and no retry is endless.
DROP FUNCTION IF EXISTS "replicator"."apply_payment_terms_to_left"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_terms_to_left"(p_changes jsonb, p_deletes boolean, p_final boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_key_changes jsonb;
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'payment_terms' AND direction = 'to_left');
    BEGIN
        PERFORM "replicator"."write_payment_terms_to_left"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('payment_terms', 'to_left', ARRAY(
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'code', c.value->'image'->'code') FROM jsonb_array_elements(p_changes) AS c));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN serialization_failure THEN
            IF NOT p_final THEN
                RAISE;  -- transient: the applier retries the whole batch
            END IF;     -- its last try: find the key(s) that keep failing below
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'code', c.value->'image'->'code')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_payment_terms_to_left"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('payment_terms', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'code', v_change->'image'->'code')]);
            END IF;
        EXCEPTION
            WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                IF v_sqlstate = '40001' AND NOT p_final THEN
                    RAISE;  -- serialization_failure: transient until the last try
                END IF;
                PERFORM "replicator"."log_error"('payment_terms', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'code', v_change->'image'->'code'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change of this batch counts once: deletes in the delete pass, the
                -- rest after; an earlier one applied with it counted when it came.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes
                                           AND c.value->'earlier' IS NULL);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;

-- replicator sync's fast path: of a chunk of an initial sync (forced inserts, in key
-- order), the rows whose key this side holds nowhere (no row, no clock, nothing of it
-- queued here) are written in one set-based insert, decoded once: for them the apply
-- function above could decide nothing else, and judges nothing. Returns the changes it
-- left to the apply function: the rest of the chunk, or all of it when held changes
-- or open errors wait here (the apply function retries or supersedes those), when the
-- map has lookups (each parent resolved there), or when the insert met anything else
-- (a row inserted meanwhile, a value refused): the apply function logs what fails.
CREATE OR REPLACE FUNCTION "replicator"."sync_payment_terms_to_left"(p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $sync$
BEGIN
    RETURN p_changes;  -- lookups: the apply function resolves each row's parents
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_left/apply', '9d5c6c576bd2b607600c2c44abd68f73f34de1ddbf1eb19131ea8cce47349eac', $sql$-- Removing map 'payment_terms' ('to_left') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'payment_terms' AND direction = 'to_left';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_terms', 'to_left', v_held, 'payment_terms', 'payment_terms', 'payment_terms', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_payment_terms_to_left"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_terms_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."payment_terms_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_payment_terms_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."payment_terms_to_left_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_organization/to_left/apply ====
-- Map 'customers_organization', 'to_left': the writes to "fno"."customers", as replicator_left_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_left_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."customers_organization_to_left"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"fno"."customers", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "fno"."customers" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "fno"."customers" ("dataareaid", "account_num", "name", "customer_group", "payment_terms", "payment_method", "email", "credit_limit", "blocked", "party_type")
    SELECT (r.n)."dataareaid",
       (r.n)."account_num",
       (r.n)."name",
       (r.n)."customer_group",
       (r.n)."payment_terms",
       (r.n)."payment_method",
       (r.n)."email",
       (r.n)."credit_limit",
       (r.n)."blocked",
       (r.n)."party_type"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("dataareaid", "account_num") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "fno"."customers" AS t
       SET "name" = (r.n)."name",
       "customer_group" = (r.n)."customer_group",
       "payment_terms" = (r.n)."payment_terms",
       "payment_method" = (r.n)."payment_method",
       "email" = (r.n)."email",
       "credit_limit" = (r.n)."credit_limit",
       "blocked" = (r.n)."blocked",
       "party_type" = (r.n)."party_type"
      FROM r
     WHERE r."do" = 'U' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_written;
RETURN v_written;
END
$writer$;

-- An initial sync's rows for keys this side does not hold (the sync function below
-- found them so): inserted in one statement, decoded once. p_rows: the rows, by
-- target column. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."customers_organization_to_left_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "fno"."customers" ("dataareaid", "account_num", "name", "customer_group", "payment_terms", "payment_method", "email", "credit_limit", "blocked", "party_type")
SELECT n."dataareaid",
       n."account_num",
       n."name",
       n."customer_group",
       n."payment_terms",
       n."payment_method",
       n."email",
       n."credit_limit",
       n."blocked",
       n."party_type"
  FROM jsonb_populate_recordset(NULL::"fno"."customers", p_rows) AS n
    ON CONFLICT ("dataareaid", "account_num") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."customers_organization_to_left"(jsonb, boolean) OWNER TO "replicator_left_writer";
ALTER FUNCTION "replicator_write"."customers_organization_to_left_sync"(jsonb) OWNER TO "replicator_left_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_left_writer";

-- Map 'customers_organization', 'to_left': write a batch of captured changes into "fno"."customers".
-- Deletes and upserts run as two passes (p_deletes), so a batch can delete children
-- before parents and insert parents before children.
--
-- Versions (replicator.versions): every change carries what its side had seen of this
-- one (seen: the newest change of the row from here applied there before it). Per
-- field, and for the row itself, a change that had seen this side's newest write of
-- it wins; one that had not is concurrent with it, and the policy decides
-- ('left_wins' for the row). This side's newest write is in the row's clock, or still
-- queued here. Both sides decide on the same writes the same way, so they end equal.
-- Rows are written only as they were judged (same xmin): one changed meanwhile makes
-- the batch retry. plpgsql rather than sql: it keeps the statements' plans.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The rows themselves are
-- written by the writer's function above. The capture triggers here skip what it
-- writes (loop safety): the marker below counts only for a role that may use the
-- writers' schema.
CREATE OR REPLACE FUNCTION "replicator"."write_customers_organization_to_left"(p_changes jsonb, p_deletes boolean)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
DECLARE
    v_wanted integer;
    v_written integer;
    v_inserted jsonb;  -- the keys inserted here, with this side's newest queued change known then
    v_touched jsonb;   -- the keys of the rows written here
    v_outside jsonb;   -- the key of a row the batch would change outside the map's filter here
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customers_organization', 'cds.account'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.customers were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'accountnumber', c.image->'accountnumber') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customergroupid' IS DISTINCT FROM c.image->'customergroupid')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'paymenttermid' IS DISTINCT FROM c.image->'paymenttermid')) AS "w_3",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customerpaymentmethodid' IS DISTINCT FROM c.image->'customerpaymentmethodid')) AS "w_4",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'emailaddress1' IS DISTINCT FROM c.image->'emailaddress1')) AS "w_5",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'creditlimit' IS DISTINCT FROM c.image->'creditlimit')) AS "w_6",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'credit_hold' IS DISTINCT FROM c.image->'credit_hold')) AS "w_7",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)) AS "w_8",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."accountnumber") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           max(c.id) FILTER (WHERE "w_3") OVER w AS "i_3",
           max(c.seen) FILTER (WHERE "w_3") OVER w AS "s_3",
           max(c.stamp) FILTER (WHERE "w_3") OVER w AS "t_3",
           max(c.id) FILTER (WHERE "w_4") OVER w AS "i_4",
           max(c.seen) FILTER (WHERE "w_4") OVER w AS "s_4",
           max(c.stamp) FILTER (WHERE "w_4") OVER w AS "t_4",
           max(c.id) FILTER (WHERE "w_5") OVER w AS "i_5",
           max(c.seen) FILTER (WHERE "w_5") OVER w AS "s_5",
           max(c.stamp) FILTER (WHERE "w_5") OVER w AS "t_5",
           max(c.id) FILTER (WHERE "w_6") OVER w AS "i_6",
           max(c.seen) FILTER (WHERE "w_6") OVER w AS "s_6",
           max(c.stamp) FILTER (WHERE "w_6") OVER w AS "t_6",
           max(c.id) FILTER (WHERE "w_7") OVER w AS "i_7",
           max(c.seen) FILTER (WHERE "w_7") OVER w AS "s_7",
           max(c.stamp) FILTER (WHERE "w_7") OVER w AS "t_7",
           max(c.id) FILTER (WHERE "w_8") OVER w AS "i_8",
           max(c.seen) FILTER (WHERE "w_8") OVER w AS "s_8",
           max(c.stamp) FILTER (WHERE "w_8") OVER w AS "t_8",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "accountnumber" character varying(20))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."accountnumber")
     ORDER BY "k"."companyid", "k"."accountnumber", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."customer_group" FROM "fno"."customer_groups" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'customer_group') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."customer_group" = CAST((l.refs -> 'customer_group') ->> 'group_code' AS character varying(10))) AS "lookup_2",
           (SELECT "p1"."payment_term_id" FROM "fno"."payment_terms" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_terms') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_term_id" = CAST((l.refs -> 'payment_terms') ->> 'code' AS character varying(10))) AS "lookup_3",
           (SELECT "p1"."payment_method" FROM "fno"."customer_payment_methods" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_method') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_method" = CAST((l.refs -> 'payment_method') ->> 'code' AS character varying(10))) AS "lookup_4"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."accountnumber" AS character varying(20)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'customergroupid' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'paymenttermid' IS NOT NULL AND "l"."lookup_3" IS NULL) OR (l.image ->> 'customerpaymentmethodid' IS NOT NULL AND "l"."lookup_4" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "accountnumber" character varying(20),
       "name" character varying(100),
       "customergroupid" uuid,
       "paymenttermid" uuid,
       "customerpaymentmethodid" uuid,
       "emailaddress1" character varying(80),
       "creditlimit" numeric(38,4),
       "credit_hold" text)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'account_num', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'name'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'name'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'customer_group'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'customer_group'->>2)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'payment_terms'->>0)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'payment_terms'->>2)::bigint, q."ot_3") AS "ot_3",
           greatest((v.clock->'payment_method'->>0)::bigint, q."o_4", 0) AS "o_4",
           greatest((v.clock->'payment_method'->>2)::bigint, q."ot_4") AS "ot_4",
           greatest((v.clock->'email'->>0)::bigint, q."o_5", 0) AS "o_5",
           greatest((v.clock->'email'->>2)::bigint, q."ot_5") AS "ot_5",
           greatest((v.clock->'credit_limit'->>0)::bigint, q."o_6", 0) AS "o_6",
           greatest((v.clock->'credit_limit'->>2)::bigint, q."ot_6") AS "ot_6",
           greatest((v.clock->'blocked'->>0)::bigint, q."o_7", 0) AS "o_7",
           greatest((v.clock->'blocked'->>2)::bigint, q."ot_7") AS "ot_7",
           0::bigint AS "o_8", NULL::bigint AS "ot_8",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  -- A row here outside the map's filter on this side is not the map's to change.
                  NOT coalesce(("t"."party_type" = 'Organization'), false) AS outside
             FROM "fno"."customers" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."account_num" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'account_num', "l"."k_2")
              AND v.map_name = 'customers_organization' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customer_group' IS DISTINCT FROM q.image->'customer_group')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customer_group' IS DISTINCT FROM q.image->'customer_group')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_terms' IS DISTINCT FROM q.image->'payment_terms')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_terms' IS DISTINCT FROM q.image->'payment_terms')))
                      AS "ot_3",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_method' IS DISTINCT FROM q.image->'payment_method')))
                      AS "o_4",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_method' IS DISTINCT FROM q.image->'payment_method')))
                      AS "ot_4",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'email' IS DISTINCT FROM q.image->'email')))
                      AS "o_5",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'email' IS DISTINCT FROM q.image->'email')))
                      AS "ot_5",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'credit_limit' IS DISTINCT FROM q.image->'credit_limit')))
                      AS "o_6",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'credit_limit' IS DISTINCT FROM q.image->'credit_limit')))
                      AS "ot_6",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'blocked' IS DISTINCT FROM q.image->'blocked')))
                      AS "o_7",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'blocked' IS DISTINCT FROM q.image->'blocked')))
                      AS "ot_7",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'account_num', "l"."k_2") AND q.map_name = 'customers_organization'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."name" AS "n_1",
           g."name" AS "c_1",
           "l"."lookup_2" AS "n_2",
           g."customer_group" AS "c_2",
           "l"."lookup_3" AS "n_3",
           g."payment_terms" AS "c_3",
           "l"."lookup_4" AS "n_4",
           g."payment_method" AS "c_4",
           "s"."emailaddress1" AS "n_5",
           g."email" AS "c_5",
           COALESCE((CAST("s"."creditlimit" AS DECIMAL(32, 6))), CAST(0 AS numeric(32,6))) AS "n_6",
           g."credit_limit" AS "c_6",
           CAST(CASE WHEN "s"."credit_hold" IS NULL THEN NULL WHEN "s"."credit_hold"::text = 'none' THEN 'No' WHEN "s"."credit_hold"::text = 'invoice_hold' THEN 'Invoice' WHEN "s"."credit_hold"::text = 'full_hold' THEN 'All' ELSE "replicator"."unmapped_value"('customers_organization', 'blocked', "s"."credit_hold"::text) END AS character varying(10)) AS "n_7",
           g."blocked" AS "c_7",
           CAST('Organization' AS "fno"."party_type") AS "n_8",
           g."party_type" AS "c_8",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "accountnumber" character varying(20),
       "name" character varying(100),
       "customergroupid" uuid,
       "paymenttermid" uuid,
       "customerpaymentmethodid" uuid,
       "emailaddress1" character varying(80),
       "creditlimit" numeric(38,4),
       "credit_hold" text)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."customers",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR false) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           j."i_4" IS NOT NULL
               AND (j.forced OR j."s_4" >= j."o_4" OR false) AS "take_4",
           j."i_4" IS NOT NULL AND NOT j.forced AND j."s_4" < j."o_4"
               AND j."n_4" IS DISTINCT FROM j."c_4" AS "x_4",
           j."i_5" IS NOT NULL
               AND (j.forced OR j."s_5" >= j."o_5" OR false) AS "take_5",
           j."i_5" IS NOT NULL AND NOT j.forced AND j."s_5" < j."o_5"
               AND j."n_5" IS DISTINCT FROM j."c_5" AS "x_5",
           j."i_6" IS NOT NULL
               AND (j.forced OR j."s_6" >= j."o_6" OR false) AS "take_6",
           j."i_6" IS NOT NULL AND NOT j.forced AND j."s_6" < j."o_6"
               AND j."n_6" IS DISTINCT FROM j."c_6" AS "x_6",
           j."i_7" IS NOT NULL
               AND (j.forced OR j."s_7" >= j."o_7" OR false) AS "take_7",
           j."i_7" IS NOT NULL AND NOT j.forced AND j."s_7" < j."o_7"
               AND j."n_7" IS DISTINCT FROM j."c_7" AS "x_7",
           j."i_8" IS NOT NULL
               AND (j.forced OR j."s_8" >= j."o_8" OR false) AS "take_8",
           j."i_8" IS NOT NULL AND NOT j.forced AND j."s_8" < j."o_8"
               AND j."n_8" IS DISTINCT FROM j."c_8" AS "x_8",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_3"
                WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_4"
                WHEN j."take_4" THEN "j"."n_4" ELSE j."c_4" END AS "f_4",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_5"
                WHEN j."take_5" THEN "j"."n_5" ELSE j."c_5" END AS "f_5",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_6"
                WHEN j."take_6" THEN "j"."n_6" ELSE j."c_6" END AS "f_6",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_7"
                WHEN j."take_7" THEN "j"."n_7" ELSE j."c_7" END AS "f_7",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_8"
                WHEN j."take_8" THEN "j"."n_8" ELSE j."c_8" END AS "f_8",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" OR j."x_4" OR j."x_5" OR j."x_6" OR j."x_7" OR j."x_8" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'account_num', j."k_2", 'name', j."f_1", 'customer_group', j."f_2", 'payment_terms', j."f_3", 'payment_method', j."f_4", 'email', j."f_5", 'credit_limit', j."f_6", 'blocked', j."f_7", 'party_type', j."f_8") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customers_organization', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'name', CASE WHEN j."i_1" IS NULL THEN j.clock->'name'
                    ELSE jsonb_build_array(coalesce(j.clock->'name'->0, to_jsonb(0)), greatest(coalesce((j.clock->'name'->>1)::bigint, 0), "j"."i_1"), j.clock->'name'->2, "j"."t_1") END,
               'customer_group', CASE WHEN j."i_2" IS NULL THEN j.clock->'customer_group'
                    ELSE jsonb_build_array(coalesce(j.clock->'customer_group'->0, to_jsonb(0)), greatest(coalesce((j.clock->'customer_group'->>1)::bigint, 0), "j"."i_2"), j.clock->'customer_group'->2, "j"."t_2") END,
               'payment_terms', CASE WHEN j."i_3" IS NULL THEN j.clock->'payment_terms'
                    ELSE jsonb_build_array(coalesce(j.clock->'payment_terms'->0, to_jsonb(0)), greatest(coalesce((j.clock->'payment_terms'->>1)::bigint, 0), "j"."i_3"), j.clock->'payment_terms'->2, "j"."t_3") END,
               'payment_method', CASE WHEN j."i_4" IS NULL THEN j.clock->'payment_method'
                    ELSE jsonb_build_array(coalesce(j.clock->'payment_method'->0, to_jsonb(0)), greatest(coalesce((j.clock->'payment_method'->>1)::bigint, 0), "j"."i_4"), j.clock->'payment_method'->2, "j"."t_4") END,
               'email', CASE WHEN j."i_5" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(coalesce(j.clock->'email'->0, to_jsonb(0)), greatest(coalesce((j.clock->'email'->>1)::bigint, 0), "j"."i_5"), j.clock->'email'->2, "j"."t_5") END,
               'credit_limit', CASE WHEN j."i_6" IS NULL THEN j.clock->'credit_limit'
                    ELSE jsonb_build_array(coalesce(j.clock->'credit_limit'->0, to_jsonb(0)), greatest(coalesce((j.clock->'credit_limit'->>1)::bigint, 0), "j"."i_6"), j.clock->'credit_limit'->2, "j"."t_6") END,
               'blocked', CASE WHEN j."i_7" IS NULL THEN j.clock->'blocked'
                    ELSE jsonb_build_array(coalesce(j.clock->'blocked'->0, to_jsonb(0)), greatest(coalesce((j.clock->'blocked'->>1)::bigint, 0), "j"."i_7"), j.clock->'blocked'->2, "j"."t_7") END,
               'party_type', CASE WHEN j."i_8" IS NULL THEN j.clock->'party_type'
                    ELSE jsonb_build_array(coalesce(j.clock->'party_type'->0, to_jsonb(0)), greatest(coalesce((j.clock->'party_type'->>1)::bigint, 0), "j"."i_8"), j.clock->'party_type'->2, "j"."t_8") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'customers_organization' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customers_organization', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'name', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'customer_group', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'payment_terms', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_3" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'payment_method', CASE WHEN j."x_4" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_4" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'email', CASE WHEN j."x_5" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_5" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'credit_limit', CASE WHEN j."x_6" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_6" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'blocked', CASE WHEN j."x_7" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_7" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'party_type', CASE WHEN j."x_8" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_8" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") AND NOT (j."x_4" AND NOT j."take_4") AND NOT (j."x_5" AND NOT j."take_5") AND NOT (j."x_6" AND NOT j."take_6") AND NOT (j."x_7" AND NOT j."take_7") AND NOT (j."x_8" AND NOT j."take_8") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") AND NOT (j."x_4" AND j."take_4") AND NOT (j."x_5" AND j."take_5") AND NOT (j."x_6" AND j."take_6") AND NOT (j."x_7" AND j."take_7") AND NOT (j."x_8" AND j."take_8") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.present AND NOT j.exists_after AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), removed AS (
    SELECT "replicator_write"."customers_organization_to_left"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
                                 false) AS written
      FROM planned AS j
     WHERE j.present AND NOT j.exists_after AND NOT j.holding
)
SELECT count(*) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (SELECT written FROM removed),
       jsonb_agg(j.own_key) FILTER (WHERE j.present AND NOT j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.present AND NOT j.exists_after AND NOT j.holding))[1]
  INTO v_wanted, v_written, v_touched, v_outside
  FROM planned AS j;
IF v_outside IS NOT NULL THEN
    -- Undone with the statement: the row stays as it is, the change goes to the error log.
    RAISE EXCEPTION 'replicator: map %: the row % of % is outside the map''s %, so it is not the map''s to change',
        'customers_organization', v_outside, 'fno.customers', 'left_filter (party_type = ''Organization'')'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Another application or map owns that row. If it should be this map''s, change it there so that it matches the filter, then retry this error.';
END IF;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_organization', 'fno.customers'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('companyid', c.image->'companyid', 'accountnumber', c.image->'accountnumber') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customergroupid' IS DISTINCT FROM c.image->'customergroupid')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'paymenttermid' IS DISTINCT FROM c.image->'paymenttermid')) AS "w_3",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customerpaymentmethodid' IS DISTINCT FROM c.image->'customerpaymentmethodid')) AS "w_4",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'emailaddress1' IS DISTINCT FROM c.image->'emailaddress1')) AS "w_5",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'creditlimit' IS DISTINCT FROM c.image->'creditlimit')) AS "w_6",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'credit_hold' IS DISTINCT FROM c.image->'credit_hold')) AS "w_7",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)) AS "w_8",
           c.id AS change_id
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint, stamp bigint,
                force boolean)
     WHERE c.op <> 'T'
), latest AS (
    -- Per row, its newest change (what it brings: its image), and per field the newest
    -- change that wrote it, with what that change had seen of this side and its stamp.
    -- (A row's changes from one side only see more and stamp later, so max is the
    -- newest's.)
    SELECT DISTINCT ON ("k"."companyid", "k"."accountnumber") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           max(c.id) FILTER (WHERE "w_2") OVER w AS "i_2",
           max(c.seen) FILTER (WHERE "w_2") OVER w AS "s_2",
           max(c.stamp) FILTER (WHERE "w_2") OVER w AS "t_2",
           max(c.id) FILTER (WHERE "w_3") OVER w AS "i_3",
           max(c.seen) FILTER (WHERE "w_3") OVER w AS "s_3",
           max(c.stamp) FILTER (WHERE "w_3") OVER w AS "t_3",
           max(c.id) FILTER (WHERE "w_4") OVER w AS "i_4",
           max(c.seen) FILTER (WHERE "w_4") OVER w AS "s_4",
           max(c.stamp) FILTER (WHERE "w_4") OVER w AS "t_4",
           max(c.id) FILTER (WHERE "w_5") OVER w AS "i_5",
           max(c.seen) FILTER (WHERE "w_5") OVER w AS "s_5",
           max(c.stamp) FILTER (WHERE "w_5") OVER w AS "t_5",
           max(c.id) FILTER (WHERE "w_6") OVER w AS "i_6",
           max(c.seen) FILTER (WHERE "w_6") OVER w AS "s_6",
           max(c.stamp) FILTER (WHERE "w_6") OVER w AS "t_6",
           max(c.id) FILTER (WHERE "w_7") OVER w AS "i_7",
           max(c.seen) FILTER (WHERE "w_7") OVER w AS "s_7",
           max(c.stamp) FILTER (WHERE "w_7") OVER w AS "t_7",
           max(c.id) FILTER (WHERE "w_8") OVER w AS "i_8",
           max(c.seen) FILTER (WHERE "w_8") OVER w AS "s_8",
           max(c.stamp) FILTER (WHERE "w_8") OVER w AS "t_8",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "accountnumber" character varying(20))
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."accountnumber")
     ORDER BY "k"."companyid", "k"."accountnumber", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."customer_group" FROM "fno"."customer_groups" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'customer_group') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."customer_group" = CAST((l.refs -> 'customer_group') ->> 'group_code' AS character varying(10))) AS "lookup_2",
           (SELECT "p1"."payment_term_id" FROM "fno"."payment_terms" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_terms') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_term_id" = CAST((l.refs -> 'payment_terms') ->> 'code' AS character varying(10))) AS "lookup_3",
           (SELECT "p1"."payment_method" FROM "fno"."customer_payment_methods" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_method') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_method" = CAST((l.refs -> 'payment_method') ->> 'code' AS character varying(10))) AS "lookup_4"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS character varying(4)) AS "k_1",
           CAST("s"."accountnumber" AS character varying(20)) AS "k_2",
           (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'customergroupid' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'paymenttermid' IS NOT NULL AND "l"."lookup_3" IS NULL) OR (l.image ->> 'customerpaymentmethodid' IS NOT NULL AND "l"."lookup_4" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "accountnumber" character varying(20),
       "name" character varying(100),
       "customergroupid" uuid,
       "paymenttermid" uuid,
       "customerpaymentmethodid" uuid,
       "emailaddress1" character varying(80),
       "creditlimit" numeric(38,4),
       "credit_hold" text)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('dataareaid', "l"."k_1", 'account_num', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>1)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>1)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>0)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>2)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'name'->>0)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'name'->>2)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'customer_group'->>0)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'customer_group'->>2)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'payment_terms'->>0)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'payment_terms'->>2)::bigint, q."ot_3") AS "ot_3",
           greatest((v.clock->'payment_method'->>0)::bigint, q."o_4", 0) AS "o_4",
           greatest((v.clock->'payment_method'->>2)::bigint, q."ot_4") AS "ot_4",
           greatest((v.clock->'email'->>0)::bigint, q."o_5", 0) AS "o_5",
           greatest((v.clock->'email'->>2)::bigint, q."ot_5") AS "ot_5",
           greatest((v.clock->'credit_limit'->>0)::bigint, q."o_6", 0) AS "o_6",
           greatest((v.clock->'credit_limit'->>2)::bigint, q."ot_6") AS "ot_6",
           greatest((v.clock->'blocked'->>0)::bigint, q."o_7", 0) AS "o_7",
           greatest((v.clock->'blocked'->>2)::bigint, q."ot_7") AS "ot_7",
           0::bigint AS "o_8", NULL::bigint AS "ot_8",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  -- A row here outside the map's filter on this side is not the map's to change.
                  NOT coalesce(("t"."party_type" = 'Organization'), false) AS outside
             FROM "fno"."customers" AS t
            WHERE "t"."dataareaid" = "l"."k_1" AND "t"."account_num" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('dataareaid', "l"."k_1", 'account_num', "l"."k_2")
              AND v.map_name = 'customers_organization' AND v.side = 'left'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customer_group' IS DISTINCT FROM q.image->'customer_group')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customer_group' IS DISTINCT FROM q.image->'customer_group')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_terms' IS DISTINCT FROM q.image->'payment_terms')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_terms' IS DISTINCT FROM q.image->'payment_terms')))
                      AS "ot_3",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_method' IS DISTINCT FROM q.image->'payment_method')))
                      AS "o_4",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_method' IS DISTINCT FROM q.image->'payment_method')))
                      AS "ot_4",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'email' IS DISTINCT FROM q.image->'email')))
                      AS "o_5",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'email' IS DISTINCT FROM q.image->'email')))
                      AS "ot_5",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'credit_limit' IS DISTINCT FROM q.image->'credit_limit')))
                      AS "o_6",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'credit_limit' IS DISTINCT FROM q.image->'credit_limit')))
                      AS "ot_6",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'blocked' IS DISTINCT FROM q.image->'blocked')))
                      AS "o_7",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'blocked' IS DISTINCT FROM q.image->'blocked')))
                      AS "ot_7",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('dataareaid', "l"."k_1", 'account_num', "l"."k_2") AND q.map_name = 'customers_organization'
              AND q.direction || '' = 'to_right') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."name" AS "n_1",
           g."name" AS "c_1",
           "l"."lookup_2" AS "n_2",
           g."customer_group" AS "c_2",
           "l"."lookup_3" AS "n_3",
           g."payment_terms" AS "c_3",
           "l"."lookup_4" AS "n_4",
           g."payment_method" AS "c_4",
           "s"."emailaddress1" AS "n_5",
           g."email" AS "c_5",
           COALESCE((CAST("s"."creditlimit" AS DECIMAL(32, 6))), CAST(0 AS numeric(32,6))) AS "n_6",
           g."credit_limit" AS "c_6",
           CAST(CASE WHEN "s"."credit_hold" IS NULL THEN NULL WHEN "s"."credit_hold"::text = 'none' THEN 'No' WHEN "s"."credit_hold"::text = 'invoice_hold' THEN 'Invoice' WHEN "s"."credit_hold"::text = 'full_hold' THEN 'All' ELSE "replicator"."unmapped_value"('customers_organization', 'blocked', "s"."credit_hold"::text) END AS character varying(10)) AS "n_7",
           g."blocked" AS "c_7",
           CAST('Organization' AS "fno"."party_type") AS "n_8",
           g."party_type" AS "c_8",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "accountnumber" character varying(20),
       "name" character varying(100),
       "customergroupid" uuid,
       "paymenttermid" uuid,
       "customerpaymentmethodid" uuid,
       "emailaddress1" character varying(80),
       "creditlimit" numeric(38,4),
       "credit_hold" text)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"fno"."customers",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR false AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR false) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR false) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR false) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           j."i_4" IS NOT NULL
               AND (j.forced OR j."s_4" >= j."o_4" OR false) AS "take_4",
           j."i_4" IS NOT NULL AND NOT j.forced AND j."s_4" < j."o_4"
               AND j."n_4" IS DISTINCT FROM j."c_4" AS "x_4",
           j."i_5" IS NOT NULL
               AND (j.forced OR j."s_5" >= j."o_5" OR false) AS "take_5",
           j."i_5" IS NOT NULL AND NOT j.forced AND j."s_5" < j."o_5"
               AND j."n_5" IS DISTINCT FROM j."c_5" AS "x_5",
           j."i_6" IS NOT NULL
               AND (j.forced OR j."s_6" >= j."o_6" OR false) AS "take_6",
           j."i_6" IS NOT NULL AND NOT j.forced AND j."s_6" < j."o_6"
               AND j."n_6" IS DISTINCT FROM j."c_6" AS "x_6",
           j."i_7" IS NOT NULL
               AND (j.forced OR j."s_7" >= j."o_7" OR false) AS "take_7",
           j."i_7" IS NOT NULL AND NOT j.forced AND j."s_7" < j."o_7"
               AND j."n_7" IS DISTINCT FROM j."c_7" AS "x_7",
           j."i_8" IS NOT NULL
               AND (j.forced OR j."s_8" >= j."o_8" OR false) AS "take_8",
           j."i_8" IS NOT NULL AND NOT j.forced AND j."s_8" < j."o_8"
               AND j."n_8" IS DISTINCT FROM j."c_8" AS "x_8",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM valued AS j
), settled AS (
    SELECT j.*,
           CASE WHEN j.take_0 THEN j.brings_row ELSE j.present END AS exists_after,
           j.x_0 AND false AS waiting,
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_1"
                WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_2"
                WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_3"
                WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_4"
                WHEN j."take_4" THEN "j"."n_4" ELSE j."c_4" END AS "f_4",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_5"
                WHEN j."take_5" THEN "j"."n_5" ELSE j."c_5" END AS "f_5",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_6"
                WHEN j."take_6" THEN "j"."n_6" ELSE j."c_6" END AS "f_6",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_7"
                WHEN j."take_7" THEN "j"."n_7" ELSE j."c_7" END AS "f_7",
           CASE WHEN NOT (j.present OR j.gone IS NOT NULL) THEN j."n_8"
                WHEN j."take_8" THEN "j"."n_8" ELSE j."c_8" END AS "f_8",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" OR j."x_4" OR j."x_5" OR j."x_6" OR j."x_7" OR j."x_8" AS conflict
      FROM decided AS j
     -- Rows the delete pass of this batch settled already; an initial sync's rows that exist.
     WHERE NOT j.done AND NOT (j.keep_existing AND j.present)
), planned AS (
    SELECT j.*,
           -- Held: a row that is to exist here while a parent it points at has not arrived.
           j.unresolved AND (j.exists_after OR j.brings_row) AS holding,
           -- Deleted here now, or already: the row's fields as they end, for the clock.
           CASE WHEN NOT j.exists_after
                THEN coalesce(CASE WHEN j.present THEN j.local_row ELSE j.gone END, '{}')
                     || jsonb_build_object('dataareaid', j."k_1", 'account_num', j."k_2", 'name', j."f_1", 'customer_group', j."f_2", 'payment_terms', j."f_3", 'payment_method', j."f_4", 'email', j."f_5", 'credit_limit', j."f_6", 'blocked', j."f_7", 'party_type', j."f_8") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customers_organization', 'left', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'name', CASE WHEN j."i_1" IS NULL THEN j.clock->'name'
                    ELSE jsonb_build_array(coalesce(j.clock->'name'->0, to_jsonb(0)), greatest(coalesce((j.clock->'name'->>1)::bigint, 0), "j"."i_1"), j.clock->'name'->2, "j"."t_1") END,
               'customer_group', CASE WHEN j."i_2" IS NULL THEN j.clock->'customer_group'
                    ELSE jsonb_build_array(coalesce(j.clock->'customer_group'->0, to_jsonb(0)), greatest(coalesce((j.clock->'customer_group'->>1)::bigint, 0), "j"."i_2"), j.clock->'customer_group'->2, "j"."t_2") END,
               'payment_terms', CASE WHEN j."i_3" IS NULL THEN j.clock->'payment_terms'
                    ELSE jsonb_build_array(coalesce(j.clock->'payment_terms'->0, to_jsonb(0)), greatest(coalesce((j.clock->'payment_terms'->>1)::bigint, 0), "j"."i_3"), j.clock->'payment_terms'->2, "j"."t_3") END,
               'payment_method', CASE WHEN j."i_4" IS NULL THEN j.clock->'payment_method'
                    ELSE jsonb_build_array(coalesce(j.clock->'payment_method'->0, to_jsonb(0)), greatest(coalesce((j.clock->'payment_method'->>1)::bigint, 0), "j"."i_4"), j.clock->'payment_method'->2, "j"."t_4") END,
               'email', CASE WHEN j."i_5" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(coalesce(j.clock->'email'->0, to_jsonb(0)), greatest(coalesce((j.clock->'email'->>1)::bigint, 0), "j"."i_5"), j.clock->'email'->2, "j"."t_5") END,
               'credit_limit', CASE WHEN j."i_6" IS NULL THEN j.clock->'credit_limit'
                    ELSE jsonb_build_array(coalesce(j.clock->'credit_limit'->0, to_jsonb(0)), greatest(coalesce((j.clock->'credit_limit'->>1)::bigint, 0), "j"."i_6"), j.clock->'credit_limit'->2, "j"."t_6") END,
               'blocked', CASE WHEN j."i_7" IS NULL THEN j.clock->'blocked'
                    ELSE jsonb_build_array(coalesce(j.clock->'blocked'->0, to_jsonb(0)), greatest(coalesce((j.clock->'blocked'->>1)::bigint, 0), "j"."i_7"), j.clock->'blocked'->2, "j"."t_7") END,
               'party_type', CASE WHEN j."i_8" IS NULL THEN j.clock->'party_type'
                    ELSE jsonb_build_array(coalesce(j.clock->'party_type'->0, to_jsonb(0)), greatest(coalesce((j.clock->'party_type'->>1)::bigint, 0), "j"."i_8"), j.clock->'party_type'->2, "j"."t_8") END),
           j.gone_after, now()
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = EXCLUDED.gone, touched_at = now()
), stamped AS (
    -- This side's changes of these rows still queued had not seen the ones applied now.
    UPDATE "replicator"."change_queue" AS q
       SET seen = j.seen_before
      FROM planned AS j
     WHERE NOT (j.present AND NOT j.exists_after) AND NOT j.holding AND NOT j.forced
       AND q.key = j.own_key AND q.map_name = 'customers_organization' AND q.direction || '' = 'to_right'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customers_organization', 'to_left', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'name', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'customer_group', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'payment_terms', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_3" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'payment_method', CASE WHEN j."x_4" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_4" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'email', CASE WHEN j."x_5" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_5" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'credit_limit', CASE WHEN j."x_6" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_6" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'blocked', CASE WHEN j."x_7" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_7" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'party_type', CASE WHEN j."x_8" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_8" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") AND NOT (j."x_4" AND NOT j."take_4") AND NOT (j."x_5" AND NOT j."take_5") AND NOT (j."x_6" AND NOT j."take_6") AND NOT (j."x_7" AND NOT j."take_7") AND NOT (j."x_8" AND NOT j."take_8") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") AND NOT (j."x_4" AND j."take_4") AND NOT (j."x_5" AND j."take_5") AND NOT (j."x_6" AND j."take_6") AND NOT (j."x_7" AND j."take_7") AND NOT (j."x_8" AND j."take_8") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND NOT (j.present AND NOT j.exists_after) AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), held AS (
    -- A change whose parent has not arrived on this side yet is held, with the row's
    -- other changes, not written with a null reference (the applier retries it when
    -- the parent's map applies).
    INSERT INTO "replicator"."held_change" (direction, id, map_name, op, image, refs, before, key, seen, stamp,
                           forced, waiting_for)
    SELECT 'to_left', c.id, 'customers_organization', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'customergroupid' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'customer_groups' END, CASE WHEN (l.image ->> 'paymenttermid' IS NOT NULL AND "l"."lookup_3" IS NULL) THEN 'payment_terms' END, CASE WHEN (l.image ->> 'customerpaymentmethodid' IS NOT NULL AND "l"."lookup_4" IS NULL) THEN 'customer_payment_methods' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('companyid', c.image->'companyid', 'accountnumber', c.image->'accountnumber') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."customers_organization_to_left"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('dataareaid', j."k_1", 'account_num', j."k_2", 'name', j."f_1", 'customer_group', j."f_2", 'payment_terms', j."f_3", 'payment_method', j."f_4", 'email', j."f_5", 'credit_limit', j."f_6", 'blocked', j."f_7", 'party_type', j."f_8"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('dataareaid', j."k_1", 'account_num', j."k_2", 'name', j."f_1", 'customer_group', j."f_2", 'payment_terms', j."f_3", 'payment_method', j."f_4", 'email', j."f_5", 'credit_limit', j."f_6", 'blocked', j."f_7", 'party_type', j."f_8")) END), '[]'),
               false) AS written
      FROM planned AS j
     WHERE j.exists_after AND NOT j.holding AND (NOT j.present           OR (j."f_1", j."f_2", j."f_3", j."f_4", j."f_5", j."f_6", j."f_7", j."f_8") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4", j."c_5", j."c_6", j."c_7", j."c_8"))
)
SELECT count(*) FILTER (WHERE j.exists_after AND NOT j.holding AND (NOT j.present                             OR (j."f_1", j."f_2", j."f_3", j."f_4", j."f_5", j."f_6", j."f_7", j."f_8") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4", j."c_5", j."c_6", j."c_7", j."c_8"))),
       (SELECT written FROM written),
       jsonb_agg(jsonb_build_object('key', j.own_key, 'known', j.queued_upto))
           FILTER (WHERE j.exists_after AND NOT j.present AND NOT j.holding),
       jsonb_agg(j.own_key) FILTER (WHERE j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.exists_after AND NOT j.holding                                       AND (j."f_1", j."f_2", j."f_3", j."f_4", j."f_5", j."f_6", j."f_7", j."f_8") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4", j."c_5", j."c_6", j."c_7", j."c_8")))[1]
  INTO v_wanted, v_written, v_inserted, v_touched, v_outside
  FROM planned AS j;
IF v_outside IS NOT NULL THEN
    -- Undone with the statement: the row stays as it is, the change goes to the error log.
    RAISE EXCEPTION 'replicator: map %: the row % of % is outside the map''s %, so it is not the map''s to change',
        'customers_organization', v_outside, 'fno.customers', 'left_filter (party_type = ''Organization'')'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Another application or map owns that row. If it should be this map''s, change it there so that it matches the filter, then retry this error.';
END IF;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_organization', 'fno.customers'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'customers_organization'
                             AND q.direction || '' = 'to_right' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_organization', 'fno.customers'
        USING ERRCODE = 'serialization_failure';
END IF;

END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A key that applies settles its open
-- error (it was applied with the batch, see replicator.apply_batch). p_final: the
-- applier's last try at this batch after repeated serialization failures; a key that
-- still fails so is logged like any error, so the rest applies and no retry is endless.
DROP FUNCTION IF EXISTS "replicator"."apply_customers_organization_to_left"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_customers_organization_to_left"(p_changes jsonb, p_deletes boolean, p_final boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_key_changes jsonb;
    v_change jsonb;
    v_failed integer := 0;
    v_errors boolean;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    v_errors := EXISTS (SELECT 1 FROM "replicator"."error_log"
                         WHERE state = 'open' AND map_name = 'customers_organization' AND direction = 'to_left');
    BEGIN
        PERFORM "replicator"."write_customers_organization_to_left"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('customers_organization', 'to_left', ARRAY(
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'accountnumber', c.value->'image'->'accountnumber') FROM jsonb_array_elements(p_changes) AS c));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN serialization_failure THEN
            IF NOT p_final THEN
                RAISE;  -- transient: the applier retries the whole batch
            END IF;     -- its last try: find the key(s) that keep failing below
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'accountnumber', c.value->'image'->'accountnumber')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_customers_organization_to_left"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('customers_organization', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'accountnumber', v_change->'image'->'accountnumber')]);
            END IF;
        EXCEPTION
            WHEN deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                IF v_sqlstate = '40001' AND NOT p_final THEN
                    RAISE;  -- serialization_failure: transient until the last try
                END IF;
                PERFORM "replicator"."log_error"('customers_organization', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'accountnumber', v_change->'image'->'accountnumber'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change of this batch counts once: deletes in the delete pass, the
                -- rest after; an earlier one applied with it counted when it came.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes
                                           AND c.value->'earlier' IS NULL);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;

-- replicator sync's fast path: of a chunk of an initial sync (forced inserts, in key
-- order), the rows whose key this side holds nowhere (no row, no clock, nothing of it
-- queued here) are written in one set-based insert, decoded once: for them the apply
-- function above could decide nothing else, and judges nothing. Returns the changes it
-- left to the apply function: the rest of the chunk, or all of it when held changes
-- or open errors wait here (the apply function retries or supersedes those), when the
-- map has lookups (each parent resolved there), or when the insert met anything else
-- (a row inserted meanwhile, a value refused): the apply function logs what fails.
CREATE OR REPLACE FUNCTION "replicator"."sync_customers_organization_to_left"(p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $sync$
BEGIN
    RETURN p_changes;  -- lookups: the apply function resolves each row's parents
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_left/apply', '55ce3c74369c17b9742924f67174c5899123a907f412c393662b622acd6f8017', $sql$-- Removing map 'customers_organization' ('to_left') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'customers_organization' AND direction = 'to_left';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customers_organization', 'to_left', v_held, 'customers_organization', 'customers_organization', 'customers_organization', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_customers_organization_to_left"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customers_organization_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."customers_organization_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_customers_organization_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."customers_organization_to_left_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create dispatch ====
-- Hands each change of a batch to the apply function of its map: deletes and
-- truncates first, children before parents; then inserts and updates, parents before children,
-- each map followed by a retry of its held changes if a parent it waits for applied.
-- p_final: the applier's last try at this batch (see the apply functions).
DROP FUNCTION IF EXISTS "replicator"."apply_batch"(text, jsonb);
CREATE OR REPLACE FUNCTION "replicator"."apply_batch"(p_direction text, p_batch jsonb,
                                                   p_final boolean DEFAULT false)
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
    -- Per map: its changes in order, how many came in this batch, and whether any
    -- deletes; the batch is split once, not read again for every map.
    v_by_map jsonb;
BEGIN
    -- A row's earlier changes that are waiting here (held for a parent, or in the error
    -- log) are applied with its new ones: each may have written fields the new ones
    -- did not, and coming later on their own they would overtake them.
    WITH batch AS (
        SELECT c.value->>'map' AS map_name, c.value AS change
          FROM jsonb_array_elements(p_batch) AS c
    ), batch_keys AS (
        SELECT DISTINCT b.map_name, b.change->'key' AS key FROM batch AS b
    ), held AS (
        DELETE FROM "replicator"."held_change" AS h
         USING batch_keys AS b
         WHERE h.direction = p_direction AND h.map_name = b.map_name AND h.key = b.key
        RETURNING h.map_name, jsonb_build_object('id', h.id, 'map', h.map_name, 'op', h.op,
                  'image', h.image, 'refs', h.refs, 'before', h.before, 'key', h.key,
                  'seen', h.seen, 'stamp', h.stamp, 'force', h.forced, 'earlier', true) AS change
    ), failed AS (
        SELECT e.map_name, jsonb_build_object('id', e.change_id, 'map', e.map_name, 'op', e.op,
               'image', e.image, 'refs', e.refs, 'before', e.before, 'key', e.key,
               'seen', e.seen, 'stamp', e.stamp, 'force', e.forced, 'earlier', true) AS change
          FROM "replicator"."error_log" AS e
          JOIN batch_keys AS b ON e.map_name = b.map_name AND e.key = b.key
         WHERE e.state = 'open' AND e.direction = p_direction AND e.op <> 'T'
    )
    SELECT coalesce(jsonb_object_agg(map_name, jsonb_build_object(
               'changes', changes, 'count', counted, 'deletes', deletes)), '{}')
      INTO v_by_map
      FROM (SELECT e.map_name, jsonb_agg(e.change ORDER BY (e.change->>'id')::bigint) AS changes,
                   count(*) FILTER (WHERE e.change->'earlier' IS NULL) AS counted,
                   bool_or(e.change->>'op' IN ('D', 'T')) AS deletes
              FROM (SELECT * FROM batch UNION ALL SELECT * FROM held UNION ALL SELECT * FROM failed)
                   AS e
             GROUP BY e.map_name) AS per_map;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_left' AND (v_by_map->'customers_organization'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_customers_organization_to_left"(v_by_map->'customers_organization'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('customers_organization', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_left' AND (v_by_map->'payment_terms'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_payment_terms_to_left"(v_by_map->'payment_terms'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('payment_terms', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_left' AND (v_by_map->'payment_schedule_lines'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_payment_schedule_lines_to_left"(v_by_map->'payment_schedule_lines'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('payment_schedule_lines', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_left' AND (v_by_map->'payment_schedules'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_payment_schedules_to_left"(v_by_map->'payment_schedules'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('payment_schedules', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_left' AND (v_by_map->'payment_day_lines'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_payment_day_lines_to_left"(v_by_map->'payment_day_lines'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('payment_day_lines', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_left' AND (v_by_map->'payment_days'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_payment_days_to_left"(v_by_map->'payment_days'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('payment_days', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_left' AND (v_by_map->'name_affixes'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_name_affixes_to_left"(v_by_map->'name_affixes'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('name_affixes', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_left' AND (v_by_map->'loyalty_cards'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_loyalty_cards_to_left"(v_by_map->'loyalty_cards'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('loyalty_cards', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_left' AND (v_by_map->'customers_person'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_customers_person_to_left"(v_by_map->'customers_person'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('customers_person', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_left' AND (v_by_map->'customer_payment_methods'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_customer_payment_methods_to_left"(v_by_map->'customer_payment_methods'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('customer_payment_methods', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_left' AND (v_by_map->'customer_groups'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_customer_groups_to_left"(v_by_map->'customer_groups'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('customer_groups', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_left' AND (v_by_map->'contact_persons'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_contact_persons_to_left"(v_by_map->'contact_persons'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('contact_persons', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_left' AND (v_by_map->'companies'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_companies_to_left"(v_by_map->'companies'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('companies', v_map_failed);
    END IF;
    IF p_direction = 'to_left' THEN
        v_changes := v_by_map->'companies'->'changes';
        v_count := coalesce((v_by_map->'companies'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_companies_to_left"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            v_held := 0;
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'companies')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'companies' AND direction = 'to_left';
            v_applied := array_append(v_applied, 'companies');
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        v_changes := v_by_map->'contact_persons'->'changes';
        v_count := coalesce((v_by_map->'contact_persons'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_contact_persons_to_left"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'contact_persons')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'contact_persons' AND direction = 'to_left';
            v_applied := array_append(v_applied, 'contact_persons');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'contact_persons'
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_contact_persons_to_left"(v_changes, false, p_final);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'contact_persons';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'contact_persons' AND direction = 'to_left';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'contact_persons');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        v_changes := v_by_map->'customer_groups'->'changes';
        v_count := coalesce((v_by_map->'customer_groups'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customer_groups_to_left"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'customer_groups')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'customer_groups' AND direction = 'to_left';
            v_applied := array_append(v_applied, 'customer_groups');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customer_groups'
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customer_groups_to_left"(v_changes, false, p_final);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customer_groups';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'customer_groups' AND direction = 'to_left';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'customer_groups');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        v_changes := v_by_map->'customer_payment_methods'->'changes';
        v_count := coalesce((v_by_map->'customer_payment_methods'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customer_payment_methods_to_left"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'customer_payment_methods')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'customer_payment_methods' AND direction = 'to_left';
            v_applied := array_append(v_applied, 'customer_payment_methods');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customer_payment_methods'
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customer_payment_methods_to_left"(v_changes, false, p_final);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customer_payment_methods';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'customer_payment_methods' AND direction = 'to_left';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'customer_payment_methods');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        v_changes := v_by_map->'customers_person'->'changes';
        v_count := coalesce((v_by_map->'customers_person'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customers_person_to_left"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'customers_person')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'customers_person' AND direction = 'to_left';
            v_applied := array_append(v_applied, 'customers_person');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customers_person'
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customers_person_to_left"(v_changes, false, p_final);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customers_person';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'customers_person' AND direction = 'to_left';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'customers_person');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        v_changes := v_by_map->'loyalty_cards'->'changes';
        v_count := coalesce((v_by_map->'loyalty_cards'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_loyalty_cards_to_left"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            v_held := 0;
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'loyalty_cards')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'loyalty_cards' AND direction = 'to_left';
            v_applied := array_append(v_applied, 'loyalty_cards');
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        v_changes := v_by_map->'name_affixes'->'changes';
        v_count := coalesce((v_by_map->'name_affixes'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_name_affixes_to_left"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            v_held := 0;
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'name_affixes')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'name_affixes' AND direction = 'to_left';
            v_applied := array_append(v_applied, 'name_affixes');
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        v_changes := v_by_map->'payment_days'->'changes';
        v_count := coalesce((v_by_map->'payment_days'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_days_to_left"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'payment_days')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'payment_days' AND direction = 'to_left';
            v_applied := array_append(v_applied, 'payment_days');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_days'
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_days_to_left"(v_changes, false, p_final);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_days';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'payment_days' AND direction = 'to_left';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'payment_days');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        v_changes := v_by_map->'payment_day_lines'->'changes';
        v_count := coalesce((v_by_map->'payment_day_lines'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_day_lines_to_left"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'payment_day_lines')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'payment_day_lines' AND direction = 'to_left';
            v_applied := array_append(v_applied, 'payment_day_lines');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies', 'payment_days']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_day_lines'
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_day_lines_to_left"(v_changes, false, p_final);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_day_lines';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'payment_day_lines' AND direction = 'to_left';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'payment_day_lines');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        v_changes := v_by_map->'payment_schedules'->'changes';
        v_count := coalesce((v_by_map->'payment_schedules'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_schedules_to_left"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'payment_schedules')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'payment_schedules' AND direction = 'to_left';
            v_applied := array_append(v_applied, 'payment_schedules');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_schedules'
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_schedules_to_left"(v_changes, false, p_final);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_schedules';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'payment_schedules' AND direction = 'to_left';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'payment_schedules');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        v_changes := v_by_map->'payment_schedule_lines'->'changes';
        v_count := coalesce((v_by_map->'payment_schedule_lines'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_schedule_lines_to_left"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'payment_schedule_lines')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'payment_schedule_lines' AND direction = 'to_left';
            v_applied := array_append(v_applied, 'payment_schedule_lines');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies', 'payment_schedules']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_schedule_lines'
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_schedule_lines_to_left"(v_changes, false, p_final);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_schedule_lines';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'payment_schedule_lines' AND direction = 'to_left';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'payment_schedule_lines');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        v_changes := v_by_map->'payment_terms'->'changes';
        v_count := coalesce((v_by_map->'payment_terms'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_terms_to_left"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'payment_terms')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'payment_terms' AND direction = 'to_left';
            v_applied := array_append(v_applied, 'payment_terms');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies', 'payment_schedules', 'payment_days']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_terms'
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_terms_to_left"(v_changes, false, p_final);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'payment_terms';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'payment_terms' AND direction = 'to_left';
                IF v_count > v_held THEN
                    v_applied := array_append(v_applied, 'payment_terms');
                END IF;
            END IF;
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        v_changes := v_by_map->'customers_organization'->'changes';
        v_count := coalesce((v_by_map->'customers_organization'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customers_organization_to_left"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
            v_map_failed := v_map_failed + coalesce((v_delete_failed->>'customers_organization')::integer, 0);
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed - v_held,
                   last_applied_at = now()
             WHERE map_name = 'customers_organization' AND direction = 'to_left';
            v_applied := array_append(v_applied, 'customers_organization');
        END IF;
        -- Its held changes, if a map they wait for applied something just now.
        IF v_applied && ARRAY['companies', 'customer_groups', 'payment_terms', 'customer_payment_methods']::text[] THEN
            WITH retried AS (
                DELETE FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customers_organization'
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customers_organization_to_left"(v_changes, false, p_final);
                v_failed := v_failed + v_map_failed;
                SELECT count(*) INTO v_held FROM "replicator"."held_change"
                 WHERE direction = p_direction AND map_name = 'customers_organization';
                UPDATE "replicator"."map_state"
                   SET applied_total = applied_total + v_count - v_map_failed - v_held,
                       last_applied_at = now()
                 WHERE map_name = 'customers_organization' AND direction = 'to_left';
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
     WHERE NOT ((c.value->>'map') || '/' || p_direction = ANY (ARRAY['companies/to_left', 'contact_persons/to_left', 'customer_groups/to_left', 'customer_payment_methods/to_left', 'customers_person/to_left', 'loyalty_cards/to_left', 'name_affixes/to_left', 'payment_days/to_left', 'payment_day_lines/to_left', 'payment_schedules/to_left', 'payment_schedule_lines/to_left', 'payment_terms/to_left', 'customers_organization/to_left']::text[]));
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_failed + v_count;
END
$dispatch$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('dispatch', 'd8e45ef2efafe3704e6304f766a15ba2dd027f21dc76981f8217cffb3aa549c8', $sql$$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/companies/to_right/capture ====
-- Map 'companies', 'to_right': capture changes of "fno"."companies".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_companies_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- Fired by the sync trigger: an initial sync of this map overwrote this row.
    IF TG_NARGS > 0 THEN
        INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
        VALUES ('overwrite', 'companies', 'to_left',
                'initial sync overwrote a differing row of ' || 'fno.companies',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'companies' AND direction = 'to_right'
                  AND state = 'stopped') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('companies', 'to_right', 'T', '{}');
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
    IF NOT (v_image ?& ARRAY['dataareaid']::text[]) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('companies', 'to_right', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."dataareaid") IS NOT DISTINCT FROM ("new"."dataareaid");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('companies', 'to_right', 'D', to_jsonb(OLD), NULL,
                jsonb_build_object('dataareaid', "old"."dataareaid"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('companies', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), NULL,
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('dataareaid', "new"."dataareaid"));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

-- The replicator's own writes are never captured again (loop safety): its apply
-- functions set replicator.applying, which counts only while the writing role
-- owns the replicator's schema. An application session that sets it is captured.
CREATE OR REPLACE TRIGGER "replicator_companies_to_right"
AFTER INSERT OR DELETE ON "fno"."companies"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_companies_to_right_trunc"
AFTER TRUNCATE ON "fno"."companies"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_companies_to_right_upd"
AFTER UPDATE ON "fno"."companies"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."name") IS DISTINCT FROM ("new"."dataareaid", "new"."name")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_companies_to_right_sync"
AFTER UPDATE ON "fno"."companies"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'companies'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_right/capture', 'dc9e7a7ca82d7babbc2dc3f2e8f5aa482528d5a50dea1aeb107ebbe918252a08', $sql$-- Removing map 'companies' ('to_right') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'companies' AND direction = 'to_right';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'companies', 'to_right', v_queued, 'companies', 'companies', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_companies_to_right"() CASCADE;
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/companies/to_right/snapshot ====
-- Map 'companies', 'to_right': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_companies_to_right"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'companies',
               'op', 'I', 'image', to_jsonb("new"), 'refs', NULL,
               'key', jsonb_build_object('dataareaid', "new"."dataareaid"), 'force', true)
             ORDER BY "new"."dataareaid"), '[]')
      FROM (SELECT * FROM "fno"."companies" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid") > (CAST(p_after ->> 'dataareaid' AS character varying(4))))
             ORDER BY "new"."dataareaid"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_companies_to_right"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "fno"."companies";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "fno"."companies" AS "new"
     WHERE ("new"."dataareaid") = (CAST(p_key ->> 'dataareaid' AS character varying(4)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"fno"."companies", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'companies', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), NULL, jsonb_build_object('dataareaid', "new"."dataareaid")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_right/snapshot', '390b964c6a09cd2d6b77a8e07e53f80e2214a348b218bf4cbee3229d043c4eeb', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_companies_to_right"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_companies_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/contact_persons/to_right/capture ====
-- Map 'contact_persons', 'to_right': capture changes of "fno"."contact_persons".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_contact_persons_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- Fired by the sync trigger: an initial sync of this map overwrote this row.
    IF TG_NARGS > 0 THEN
        INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
        VALUES ('overwrite', 'contact_persons', 'to_left',
                'initial sync overwrote a differing row of ' || 'fno.contact_persons',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'contact_persons' AND direction = 'to_right'
                  AND state = 'stopped') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('contact_persons', 'to_right', 'T', '{}');
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
    IF NOT (v_image ?& ARRAY['dataareaid', 'contact_person_id']::text[]) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('contact_persons', 'to_right', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."dataareaid", "old"."contact_person_id") IS NOT DISTINCT FROM ("new"."dataareaid", "new"."contact_person_id");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('contact_persons', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END),
                jsonb_build_object('dataareaid', "old"."dataareaid", 'contact_person_id', "old"."contact_person_id"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('contact_persons', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('dataareaid', "new"."dataareaid", 'contact_person_id', "new"."contact_person_id"));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

-- The replicator's own writes are never captured again (loop safety): its apply
-- functions set replicator.applying, which counts only while the writing role
-- owns the replicator's schema. An application session that sets it is captured.
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_right"
AFTER INSERT OR DELETE ON "fno"."contact_persons"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_right_trunc"
AFTER TRUNCATE ON "fno"."contact_persons"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_right_upd"
AFTER UPDATE ON "fno"."contact_persons"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."contact_person_id", "old"."first_name", "old"."last_name", "old"."email", "old"."customer_account") IS DISTINCT FROM ("new"."dataareaid", "new"."contact_person_id", "new"."first_name", "new"."last_name", "new"."email", "new"."customer_account")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_right_sync"
AFTER UPDATE ON "fno"."contact_persons"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'contact_persons'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_right/capture', 'c26bfb8586d017468fe34ed7c6624563975de6c91e9e89a72073b949f8fccdb3', $sql$-- Removing map 'contact_persons' ('to_right') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'contact_persons' AND direction = 'to_right';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'contact_persons', 'to_right', v_queued, 'contact_persons', 'contact_persons', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_contact_persons_to_right"() CASCADE;
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/contact_persons/to_right/snapshot ====
-- Map 'contact_persons', 'to_right': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_contact_persons_to_right"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'contact_persons',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
               'key', jsonb_build_object('dataareaid', "new"."dataareaid", 'contact_person_id', "new"."contact_person_id"), 'force', true)
             ORDER BY "new"."dataareaid", "new"."contact_person_id"), '[]')
      FROM (SELECT * FROM "fno"."contact_persons" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."contact_person_id") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'contact_person_id' AS character varying(20))))
             ORDER BY "new"."dataareaid", "new"."contact_person_id"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_contact_persons_to_right"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "fno"."contact_persons";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "fno"."contact_persons" AS "new"
     WHERE ("new"."dataareaid", "new"."contact_person_id") = (CAST(p_key ->> 'dataareaid' AS character varying(4)), CAST(p_key ->> 'contact_person_id' AS character varying(20)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"fno"."contact_persons", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'contact_persons', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), jsonb_build_object('dataareaid', "new"."dataareaid", 'contact_person_id', "new"."contact_person_id")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_right/snapshot', '4924892c47c62e343c110fbc1598a647f63184f3d5d9837f8492b5810818d634', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_contact_persons_to_right"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_contact_persons_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_groups/to_right/capture ====
-- Map 'customer_groups', 'to_right': capture changes of "fno"."customer_groups".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_customer_groups_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- Fired by the sync trigger: an initial sync of this map overwrote this row.
    IF TG_NARGS > 0 THEN
        INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
        VALUES ('overwrite', 'customer_groups', 'to_left',
                'initial sync overwrote a differing row of ' || 'fno.customer_groups',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'customer_groups' AND direction = 'to_right'
                  AND state = 'stopped') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('customer_groups', 'to_right', 'T', '{}');
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
    IF NOT (v_image ?& ARRAY['dataareaid', 'customer_group']::text[]) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('customer_groups', 'to_right', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."dataareaid", "old"."customer_group") IS NOT DISTINCT FROM ("new"."dataareaid", "new"."customer_group");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('customer_groups', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END),
                jsonb_build_object('dataareaid', "old"."dataareaid", 'customer_group', "old"."customer_group"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('customer_groups', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('dataareaid', "new"."dataareaid", 'customer_group', "new"."customer_group"));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

-- The replicator's own writes are never captured again (loop safety): its apply
-- functions set replicator.applying, which counts only while the writing role
-- owns the replicator's schema. An application session that sets it is captured.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_right"
AFTER INSERT OR DELETE ON "fno"."customer_groups"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_right_trunc"
AFTER TRUNCATE ON "fno"."customer_groups"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_right_upd"
AFTER UPDATE ON "fno"."customer_groups"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."customer_group", "old"."description") IS DISTINCT FROM ("new"."dataareaid", "new"."customer_group", "new"."description")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_right_sync"
AFTER UPDATE ON "fno"."customer_groups"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customer_groups'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_right/capture', '1e1269470f1fe9b9946ff67089bc466691d0c3b7abb163d75fdea1e8861cccd8', $sql$-- Removing map 'customer_groups' ('to_right') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'customer_groups' AND direction = 'to_right';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customer_groups', 'to_right', v_queued, 'customer_groups', 'customer_groups', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_customer_groups_to_right"() CASCADE;
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_groups/to_right/snapshot ====
-- Map 'customer_groups', 'to_right': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_customer_groups_to_right"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'customer_groups',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
               'key', jsonb_build_object('dataareaid', "new"."dataareaid", 'customer_group', "new"."customer_group"), 'force', true)
             ORDER BY "new"."dataareaid", "new"."customer_group"), '[]')
      FROM (SELECT * FROM "fno"."customer_groups" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."customer_group") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'customer_group' AS character varying(10))))
             ORDER BY "new"."dataareaid", "new"."customer_group"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_customer_groups_to_right"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "fno"."customer_groups";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "fno"."customer_groups" AS "new"
     WHERE ("new"."dataareaid", "new"."customer_group") = (CAST(p_key ->> 'dataareaid' AS character varying(4)), CAST(p_key ->> 'customer_group' AS character varying(10)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"fno"."customer_groups", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'customer_groups', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), jsonb_build_object('dataareaid', "new"."dataareaid", 'customer_group', "new"."customer_group")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_right/snapshot', '7d729287947d9a10d572d75e924a73cfdffea5b75b085a4f96497ee0cb35b3ac', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customer_groups_to_right"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_customer_groups_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_payment_methods/to_right/capture ====
-- Map 'customer_payment_methods', 'to_right': capture changes of "fno"."customer_payment_methods".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_customer_payment_methods_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- Fired by the sync trigger: an initial sync of this map overwrote this row.
    IF TG_NARGS > 0 THEN
        INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
        VALUES ('overwrite', 'customer_payment_methods', 'to_left',
                'initial sync overwrote a differing row of ' || 'fno.customer_payment_methods',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'customer_payment_methods' AND direction = 'to_right'
                  AND state = 'stopped') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('customer_payment_methods', 'to_right', 'T', '{}');
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
    IF NOT (v_image ?& ARRAY['dataareaid', 'payment_method']::text[]) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('customer_payment_methods', 'to_right', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."dataareaid", "old"."payment_method") IS NOT DISTINCT FROM ("new"."dataareaid", "new"."payment_method");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('customer_payment_methods', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END),
                jsonb_build_object('dataareaid', "old"."dataareaid", 'payment_method', "old"."payment_method"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('customer_payment_methods', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('dataareaid', "new"."dataareaid", 'payment_method', "new"."payment_method"));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

-- The replicator's own writes are never captured again (loop safety): its apply
-- functions set replicator.applying, which counts only while the writing role
-- owns the replicator's schema. An application session that sets it is captured.
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_right"
AFTER INSERT OR DELETE ON "fno"."customer_payment_methods"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_right_trunc"
AFTER TRUNCATE ON "fno"."customer_payment_methods"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_right_upd"
AFTER UPDATE ON "fno"."customer_payment_methods"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."payment_method", "old"."description", "old"."payment_type") IS DISTINCT FROM ("new"."dataareaid", "new"."payment_method", "new"."description", "new"."payment_type")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_right_sync"
AFTER UPDATE ON "fno"."customer_payment_methods"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customer_payment_methods'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_right/capture', 'c75b5fbb203381473c3a36d015ee06d84f0d621c55cb3b9cce192744f65f0ed2', $sql$-- Removing map 'customer_payment_methods' ('to_right') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'customer_payment_methods' AND direction = 'to_right';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customer_payment_methods', 'to_right', v_queued, 'customer_payment_methods', 'customer_payment_methods', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_customer_payment_methods_to_right"() CASCADE;
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_payment_methods/to_right/snapshot ====
-- Map 'customer_payment_methods', 'to_right': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_customer_payment_methods_to_right"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'customer_payment_methods',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
               'key', jsonb_build_object('dataareaid', "new"."dataareaid", 'payment_method', "new"."payment_method"), 'force', true)
             ORDER BY "new"."dataareaid", "new"."payment_method"), '[]')
      FROM (SELECT * FROM "fno"."customer_payment_methods" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."payment_method") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'payment_method' AS character varying(10))))
             ORDER BY "new"."dataareaid", "new"."payment_method"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_customer_payment_methods_to_right"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "fno"."customer_payment_methods";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "fno"."customer_payment_methods" AS "new"
     WHERE ("new"."dataareaid", "new"."payment_method") = (CAST(p_key ->> 'dataareaid' AS character varying(4)), CAST(p_key ->> 'payment_method' AS character varying(10)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"fno"."customer_payment_methods", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'customer_payment_methods', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), jsonb_build_object('dataareaid', "new"."dataareaid", 'payment_method', "new"."payment_method")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_right/snapshot', 'd94ad2d281de6ead974124db3e5639eca60231904eae4fbd1a701de47fa82e5f', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customer_payment_methods_to_right"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_customer_payment_methods_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_person/to_right/capture ====
-- Map 'customers_person', 'to_right': capture changes of "fno"."customers".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_customers_person_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- Fired by the sync trigger: an initial sync of this map overwrote this row.
    IF TG_NARGS > 0 THEN
        INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
        VALUES ('overwrite', 'customers_person', 'to_left',
                'initial sync overwrote a differing row of ' || 'fno.customers',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'customers_person' AND direction = 'to_right'
                  AND state = 'stopped') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('customers_person', 'to_right', 'T', '{}');
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
    IF NOT (v_image ?& ARRAY['dataareaid', 'account_num', 'party_type']::text[]) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('customers_person', 'to_right', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(("old"."party_type" = 'Person'), false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(("new"."party_type" = 'Person'), false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."dataareaid", "old"."account_num") IS NOT DISTINCT FROM ("new"."dataareaid", "new"."account_num");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('customers_person', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END),
                jsonb_build_object('dataareaid', "old"."dataareaid", 'account_num', "old"."account_num"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('customers_person', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('dataareaid', "new"."dataareaid", 'account_num', "new"."account_num"));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

-- The replicator's own writes are never captured again (loop safety): its apply
-- functions set replicator.applying, which counts only while the writing role
-- owns the replicator's schema. An application session that sets it is captured.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_right"
AFTER INSERT OR DELETE ON "fno"."customers"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_right_trunc"
AFTER TRUNCATE ON "fno"."customers"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_right_upd"
AFTER UPDATE ON "fno"."customers"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."account_num", "old"."name", "old"."email", "old"."party_type") IS DISTINCT FROM ("new"."dataareaid", "new"."account_num", "new"."name", "new"."email", "new"."party_type")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_right_sync"
AFTER UPDATE ON "fno"."customers"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customers_person'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_right/capture', 'f52d2e0d423fe5074f7a6e752b9eb78c8e36dd6a81915def90f3790e20a8a7d3', $sql$-- Removing map 'customers_person' ('to_right') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'customers_person' AND direction = 'to_right';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customers_person', 'to_right', v_queued, 'customers_person', 'customers_person', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_customers_person_to_right"() CASCADE;
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_person/to_right/snapshot ====
-- Map 'customers_person', 'to_right': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_customers_person_to_right"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'customers_person',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
               'key', jsonb_build_object('dataareaid', "new"."dataareaid", 'account_num', "new"."account_num"), 'force', true)
             ORDER BY "new"."dataareaid", "new"."account_num"), '[]')
      FROM (SELECT * FROM "fno"."customers" AS "new"
             WHERE coalesce(("new"."party_type" = 'Person'), false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."account_num") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'account_num' AS character varying(20))))
             ORDER BY "new"."dataareaid", "new"."account_num"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_customers_person_to_right"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "fno"."customers";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "fno"."customers" AS "new"
     WHERE ("new"."dataareaid", "new"."account_num") = (CAST(p_key ->> 'dataareaid' AS character varying(4)), CAST(p_key ->> 'account_num' AS character varying(20)))
       AND coalesce(("new"."party_type" = 'Person'), false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"fno"."customers", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'customers_person', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), jsonb_build_object('dataareaid', "new"."dataareaid", 'account_num', "new"."account_num")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_right/snapshot', '6a19f4965bc23a80bda701afb938c620554fa8dc4c4b4fe93d28e8dd286e166b', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customers_person_to_right"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_customers_person_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/loyalty_cards/to_right/capture ====
-- Map 'loyalty_cards', 'to_right': capture changes of "fno"."loyalty_cards".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_loyalty_cards_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- Fired by the sync trigger: an initial sync of this map overwrote this row.
    IF TG_NARGS > 0 THEN
        INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
        VALUES ('overwrite', 'loyalty_cards', 'to_left',
                'initial sync overwrote a differing row of ' || 'fno.loyalty_cards',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'loyalty_cards' AND direction = 'to_right'
                  AND state = 'stopped') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('loyalty_cards', 'to_right', 'T', '{}');
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
        VALUES ('loyalty_cards', 'to_right', left(TG_OP, 1), v_image);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('loyalty_cards', 'to_right', 'D', to_jsonb(OLD), NULL,
                jsonb_build_object('card_number', "old"."card_number"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('loyalty_cards', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), NULL,
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('card_number', "new"."card_number"));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

-- The replicator's own writes are never captured again (loop safety): its apply
-- functions set replicator.applying, which counts only while the writing role
-- owns the replicator's schema. An application session that sets it is captured.
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_right"
AFTER INSERT OR DELETE ON "fno"."loyalty_cards"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_right_trunc"
AFTER TRUNCATE ON "fno"."loyalty_cards"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_right_upd"
AFTER UPDATE ON "fno"."loyalty_cards"
FOR EACH ROW
WHEN (("old"."card_number", "old"."tier", "old"."issued_on", "old"."blocked") IS DISTINCT FROM ("new"."card_number", "new"."tier", "new"."issued_on", "new"."blocked")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_right_sync"
AFTER UPDATE ON "fno"."loyalty_cards"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'loyalty_cards'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_right/capture', 'e3b946acf2375dd6ec0f99dd9502db6fec23271d132c0e1919ec44bc8fb107fa', $sql$-- Removing map 'loyalty_cards' ('to_right') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'loyalty_cards' AND direction = 'to_right';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'loyalty_cards', 'to_right', v_queued, 'loyalty_cards', 'loyalty_cards', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_loyalty_cards_to_right"() CASCADE;
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/loyalty_cards/to_right/snapshot ====
-- Map 'loyalty_cards', 'to_right': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_loyalty_cards_to_right"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'loyalty_cards',
               'op', 'I', 'image', to_jsonb("new"), 'refs', NULL,
               'key', jsonb_build_object('card_number', "new"."card_number"), 'force', true)
             ORDER BY "new"."card_number"), '[]')
      FROM (SELECT * FROM "fno"."loyalty_cards" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."card_number") > (CAST(p_after ->> 'card_number' AS character varying(20))))
             ORDER BY "new"."card_number"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_loyalty_cards_to_right"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "fno"."loyalty_cards";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "fno"."loyalty_cards" AS "new"
     WHERE ("new"."card_number") = (CAST(p_key ->> 'card_number' AS character varying(20)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"fno"."loyalty_cards", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'loyalty_cards', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), NULL, jsonb_build_object('card_number', "new"."card_number")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_right/snapshot', 'af36a0d333c8ead714c1c0e0d7088bdd4e015b66339df6fb67e96c06b276a2b4', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_loyalty_cards_to_right"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_loyalty_cards_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/name_affixes/to_right/capture ====
-- Map 'name_affixes', 'to_right': capture changes of "fno"."name_affixes".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_name_affixes_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- Fired by the sync trigger: an initial sync of this map overwrote this row.
    IF TG_NARGS > 0 THEN
        INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
        VALUES ('overwrite', 'name_affixes', 'to_left',
                'initial sync overwrote a differing row of ' || 'fno.name_affixes',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'name_affixes' AND direction = 'to_right'
                  AND state = 'stopped') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('name_affixes', 'to_right', 'T', '{}');
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
        VALUES ('name_affixes', 'to_right', left(TG_OP, 1), v_image);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('name_affixes', 'to_right', 'D', to_jsonb(OLD), NULL,
                jsonb_build_object('affix', "old"."affix", 'affix_type', "old"."affix_type"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('name_affixes', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), NULL,
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('affix', "new"."affix", 'affix_type', "new"."affix_type"));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

-- The replicator's own writes are never captured again (loop safety): its apply
-- functions set replicator.applying, which counts only while the writing role
-- owns the replicator's schema. An application session that sets it is captured.
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_right"
AFTER INSERT OR DELETE ON "fno"."name_affixes"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_right_trunc"
AFTER TRUNCATE ON "fno"."name_affixes"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_right_upd"
AFTER UPDATE ON "fno"."name_affixes"
FOR EACH ROW
WHEN (("old"."affix", "old"."affix_type", "old"."description") IS DISTINCT FROM ("new"."affix", "new"."affix_type", "new"."description")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_right_sync"
AFTER UPDATE ON "fno"."name_affixes"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'name_affixes'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_right/capture', '6f55b44f43833e825e47cbf3b9466d72b1b103ec667a60642c5ec50007b4c469', $sql$-- Removing map 'name_affixes' ('to_right') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'name_affixes' AND direction = 'to_right';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'name_affixes', 'to_right', v_queued, 'name_affixes', 'name_affixes', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_name_affixes_to_right"() CASCADE;
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/name_affixes/to_right/snapshot ====
-- Map 'name_affixes', 'to_right': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_name_affixes_to_right"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'name_affixes',
               'op', 'I', 'image', to_jsonb("new"), 'refs', NULL,
               'key', jsonb_build_object('affix', "new"."affix", 'affix_type', "new"."affix_type"), 'force', true)
             ORDER BY "new"."affix", "new"."affix_type"), '[]')
      FROM (SELECT * FROM "fno"."name_affixes" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."affix", "new"."affix_type") > (CAST(p_after ->> 'affix' AS character varying(20)), CAST(p_after ->> 'affix_type' AS character varying(10))))
             ORDER BY "new"."affix", "new"."affix_type"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_name_affixes_to_right"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "fno"."name_affixes";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "fno"."name_affixes" AS "new"
     WHERE ("new"."affix", "new"."affix_type") = (CAST(p_key ->> 'affix' AS character varying(20)), CAST(p_key ->> 'affix_type' AS character varying(10)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"fno"."name_affixes", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'name_affixes', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), NULL, jsonb_build_object('affix', "new"."affix", 'affix_type', "new"."affix_type")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_right/snapshot', 'a09ec816355a3faeda724a0b679a26a8834994a43b6f425cd2838f5d3fe797be', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_name_affixes_to_right"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_name_affixes_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_days/to_right/capture ====
-- Map 'payment_days', 'to_right': capture changes of "fno"."payment_days".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_days_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- Fired by the sync trigger: an initial sync of this map overwrote this row.
    IF TG_NARGS > 0 THEN
        INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
        VALUES ('overwrite', 'payment_days', 'to_left',
                'initial sync overwrote a differing row of ' || 'fno.payment_days',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'payment_days' AND direction = 'to_right'
                  AND state = 'stopped') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('payment_days', 'to_right', 'T', '{}');
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
    IF NOT (v_image ?& ARRAY['dataareaid', 'payment_day_name']::text[]) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('payment_days', 'to_right', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."dataareaid", "old"."payment_day_name") IS NOT DISTINCT FROM ("new"."dataareaid", "new"."payment_day_name");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('payment_days', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END),
                jsonb_build_object('dataareaid', "old"."dataareaid", 'payment_day_name', "old"."payment_day_name"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('payment_days', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('dataareaid', "new"."dataareaid", 'payment_day_name', "new"."payment_day_name"));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

-- The replicator's own writes are never captured again (loop safety): its apply
-- functions set replicator.applying, which counts only while the writing role
-- owns the replicator's schema. An application session that sets it is captured.
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_right"
AFTER INSERT OR DELETE ON "fno"."payment_days"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_right_trunc"
AFTER TRUNCATE ON "fno"."payment_days"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_right_upd"
AFTER UPDATE ON "fno"."payment_days"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."payment_day_name", "old"."description") IS DISTINCT FROM ("new"."dataareaid", "new"."payment_day_name", "new"."description")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_right_sync"
AFTER UPDATE ON "fno"."payment_days"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_days'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_right/capture', '356f43206e3a1db2859ec8481b1dca8131b2f7cfcb6606955a8c73e662fc36ba', $sql$-- Removing map 'payment_days' ('to_right') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'payment_days' AND direction = 'to_right';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_days', 'to_right', v_queued, 'payment_days', 'payment_days', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_days_to_right"() CASCADE;
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_days/to_right/snapshot ====
-- Map 'payment_days', 'to_right': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_payment_days_to_right"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'payment_days',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
               'key', jsonb_build_object('dataareaid', "new"."dataareaid", 'payment_day_name', "new"."payment_day_name"), 'force', true)
             ORDER BY "new"."dataareaid", "new"."payment_day_name"), '[]')
      FROM (SELECT * FROM "fno"."payment_days" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."payment_day_name") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'payment_day_name' AS character varying(30))))
             ORDER BY "new"."dataareaid", "new"."payment_day_name"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_payment_days_to_right"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "fno"."payment_days";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "fno"."payment_days" AS "new"
     WHERE ("new"."dataareaid", "new"."payment_day_name") = (CAST(p_key ->> 'dataareaid' AS character varying(4)), CAST(p_key ->> 'payment_day_name' AS character varying(30)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"fno"."payment_days", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'payment_days', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), jsonb_build_object('dataareaid', "new"."dataareaid", 'payment_day_name', "new"."payment_day_name")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_right/snapshot', '028e2f4d73da0c80c8a96f563852a605d8e89b9d33ec361532e329777476c173', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_days_to_right"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_payment_days_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_day_lines/to_right/capture ====
-- Map 'payment_day_lines', 'to_right': capture changes of "fno"."payment_day_lines".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_day_lines_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- Fired by the sync trigger: an initial sync of this map overwrote this row.
    IF TG_NARGS > 0 THEN
        INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
        VALUES ('overwrite', 'payment_day_lines', 'to_left',
                'initial sync overwrote a differing row of ' || 'fno.payment_day_lines',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'payment_day_lines' AND direction = 'to_right'
                  AND state = 'stopped') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('payment_day_lines', 'to_right', 'T', '{}');
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
    IF NOT (v_image ?& ARRAY['dataareaid', 'payment_day_name', 'line_num']::text[]) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('payment_day_lines', 'to_right', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."dataareaid", "old"."payment_day_name", "old"."line_num") IS NOT DISTINCT FROM ("new"."dataareaid", "new"."payment_day_name", "new"."line_num");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('payment_day_lines', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END,
       'paymentdayid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."payment_day_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'payment_day_name', "old"."payment_day_name") END),
                jsonb_build_object('dataareaid', "old"."dataareaid", 'payment_day_name', "old"."payment_day_name", 'line_num', "old"."line_num"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('payment_day_lines', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'paymentdayid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_day_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_day_name', "new"."payment_day_name") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('dataareaid', "new"."dataareaid", 'payment_day_name', "new"."payment_day_name", 'line_num', "new"."line_num"));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

-- The replicator's own writes are never captured again (loop safety): its apply
-- functions set replicator.applying, which counts only while the writing role
-- owns the replicator's schema. An application session that sets it is captured.
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_right"
AFTER INSERT OR DELETE ON "fno"."payment_day_lines"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_right_trunc"
AFTER TRUNCATE ON "fno"."payment_day_lines"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_right_upd"
AFTER UPDATE ON "fno"."payment_day_lines"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."payment_day_name", "old"."line_num", "old"."week_day", "old"."day_of_month") IS DISTINCT FROM ("new"."dataareaid", "new"."payment_day_name", "new"."line_num", "new"."week_day", "new"."day_of_month")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_right_sync"
AFTER UPDATE ON "fno"."payment_day_lines"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_day_lines'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_right/capture', '7f2c16c5d1188bcb2d21017ded6990bfdb5d0a23b7e76f052252accb6af0aa11', $sql$-- Removing map 'payment_day_lines' ('to_right') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'payment_day_lines' AND direction = 'to_right';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_day_lines', 'to_right', v_queued, 'payment_day_lines', 'payment_day_lines', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_day_lines_to_right"() CASCADE;
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_day_lines/to_right/snapshot ====
-- Map 'payment_day_lines', 'to_right': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_payment_day_lines_to_right"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'payment_day_lines',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'paymentdayid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_day_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_day_name', "new"."payment_day_name") END),
               'key', jsonb_build_object('dataareaid', "new"."dataareaid", 'payment_day_name', "new"."payment_day_name", 'line_num', "new"."line_num"), 'force', true)
             ORDER BY "new"."dataareaid", "new"."payment_day_name", "new"."line_num"), '[]')
      FROM (SELECT * FROM "fno"."payment_day_lines" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."payment_day_name", "new"."line_num") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'payment_day_name' AS character varying(30)), CAST(p_after ->> 'line_num' AS integer)))
             ORDER BY "new"."dataareaid", "new"."payment_day_name", "new"."line_num"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_payment_day_lines_to_right"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "fno"."payment_day_lines";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "fno"."payment_day_lines" AS "new"
     WHERE ("new"."dataareaid", "new"."payment_day_name", "new"."line_num") = (CAST(p_key ->> 'dataareaid' AS character varying(4)), CAST(p_key ->> 'payment_day_name' AS character varying(30)), CAST(p_key ->> 'line_num' AS integer))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"fno"."payment_day_lines", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'payment_day_lines', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'paymentdayid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_day_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_day_name', "new"."payment_day_name") END), jsonb_build_object('dataareaid', "new"."dataareaid", 'payment_day_name', "new"."payment_day_name", 'line_num', "new"."line_num")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_right/snapshot', '86afc503a2879d628a97335a9f6d1d6254b7005e61b1361ae60b1a829ee12b48', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_day_lines_to_right"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_payment_day_lines_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedules/to_right/capture ====
-- Map 'payment_schedules', 'to_right': capture changes of "fno"."payment_schedules".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_schedules_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- Fired by the sync trigger: an initial sync of this map overwrote this row.
    IF TG_NARGS > 0 THEN
        INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
        VALUES ('overwrite', 'payment_schedules', 'to_left',
                'initial sync overwrote a differing row of ' || 'fno.payment_schedules',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'payment_schedules' AND direction = 'to_right'
                  AND state = 'stopped') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('payment_schedules', 'to_right', 'T', '{}');
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
    IF NOT (v_image ?& ARRAY['dataareaid', 'schedule_name']::text[]) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('payment_schedules', 'to_right', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."dataareaid", "old"."schedule_name") IS NOT DISTINCT FROM ("new"."dataareaid", "new"."schedule_name");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('payment_schedules', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END),
                jsonb_build_object('dataareaid', "old"."dataareaid", 'schedule_name', "old"."schedule_name"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('payment_schedules', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('dataareaid', "new"."dataareaid", 'schedule_name', "new"."schedule_name"));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

-- The replicator's own writes are never captured again (loop safety): its apply
-- functions set replicator.applying, which counts only while the writing role
-- owns the replicator's schema. An application session that sets it is captured.
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_right"
AFTER INSERT OR DELETE ON "fno"."payment_schedules"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_right_trunc"
AFTER TRUNCATE ON "fno"."payment_schedules"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_right_upd"
AFTER UPDATE ON "fno"."payment_schedules"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."schedule_name", "old"."description", "old"."allocation") IS DISTINCT FROM ("new"."dataareaid", "new"."schedule_name", "new"."description", "new"."allocation")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_right_sync"
AFTER UPDATE ON "fno"."payment_schedules"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_schedules'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_right/capture', '09cf1175ea9d0268c17c35021d9864fdc1e2d1286602bacdd2c0b4ef19515ca8', $sql$-- Removing map 'payment_schedules' ('to_right') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'payment_schedules' AND direction = 'to_right';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_schedules', 'to_right', v_queued, 'payment_schedules', 'payment_schedules', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_schedules_to_right"() CASCADE;
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedules/to_right/snapshot ====
-- Map 'payment_schedules', 'to_right': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_payment_schedules_to_right"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'payment_schedules',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
               'key', jsonb_build_object('dataareaid', "new"."dataareaid", 'schedule_name', "new"."schedule_name"), 'force', true)
             ORDER BY "new"."dataareaid", "new"."schedule_name"), '[]')
      FROM (SELECT * FROM "fno"."payment_schedules" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."schedule_name") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'schedule_name' AS character varying(30))))
             ORDER BY "new"."dataareaid", "new"."schedule_name"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_payment_schedules_to_right"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "fno"."payment_schedules";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "fno"."payment_schedules" AS "new"
     WHERE ("new"."dataareaid", "new"."schedule_name") = (CAST(p_key ->> 'dataareaid' AS character varying(4)), CAST(p_key ->> 'schedule_name' AS character varying(30)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"fno"."payment_schedules", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'payment_schedules', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), jsonb_build_object('dataareaid', "new"."dataareaid", 'schedule_name', "new"."schedule_name")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_right/snapshot', 'a4e73a11f45a55ddb474f994cb508a463e15e657dd800641d506dba4cbc603a9', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_schedules_to_right"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_payment_schedules_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedule_lines/to_right/capture ====
-- Map 'payment_schedule_lines', 'to_right': capture changes of "fno"."payment_schedule_lines".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_schedule_lines_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- Fired by the sync trigger: an initial sync of this map overwrote this row.
    IF TG_NARGS > 0 THEN
        INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
        VALUES ('overwrite', 'payment_schedule_lines', 'to_left',
                'initial sync overwrote a differing row of ' || 'fno.payment_schedule_lines',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'payment_schedule_lines' AND direction = 'to_right'
                  AND state = 'stopped') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('payment_schedule_lines', 'to_right', 'T', '{}');
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
    IF NOT (v_image ?& ARRAY['dataareaid', 'schedule_name', 'line_num']::text[]) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('payment_schedule_lines', 'to_right', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."dataareaid", "old"."schedule_name", "old"."line_num") IS NOT DISTINCT FROM ("new"."dataareaid", "new"."schedule_name", "new"."line_num");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('payment_schedule_lines', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."schedule_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'schedule_name', "old"."schedule_name") END),
                jsonb_build_object('dataareaid', "old"."dataareaid", 'schedule_name', "old"."schedule_name", 'line_num', "old"."line_num"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('payment_schedule_lines', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."schedule_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'schedule_name', "new"."schedule_name") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('dataareaid', "new"."dataareaid", 'schedule_name', "new"."schedule_name", 'line_num', "new"."line_num"));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

-- The replicator's own writes are never captured again (loop safety): its apply
-- functions set replicator.applying, which counts only while the writing role
-- owns the replicator's schema. An application session that sets it is captured.
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_right"
AFTER INSERT OR DELETE ON "fno"."payment_schedule_lines"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_right_trunc"
AFTER TRUNCATE ON "fno"."payment_schedule_lines"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_right_upd"
AFTER UPDATE ON "fno"."payment_schedule_lines"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."schedule_name", "old"."line_num", "old"."percent", "old"."due_months", "old"."due_days") IS DISTINCT FROM ("new"."dataareaid", "new"."schedule_name", "new"."line_num", "new"."percent", "new"."due_months", "new"."due_days")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_right_sync"
AFTER UPDATE ON "fno"."payment_schedule_lines"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_schedule_lines'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_right/capture', 'e8ff8fc29a63ac614a47570deb4170caaaac8e93b1f2a2aaca8f096526453a63', $sql$-- Removing map 'payment_schedule_lines' ('to_right') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'payment_schedule_lines' AND direction = 'to_right';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_schedule_lines', 'to_right', v_queued, 'payment_schedule_lines', 'payment_schedule_lines', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_schedule_lines_to_right"() CASCADE;
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedule_lines/to_right/snapshot ====
-- Map 'payment_schedule_lines', 'to_right': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_payment_schedule_lines_to_right"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'payment_schedule_lines',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."schedule_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'schedule_name', "new"."schedule_name") END),
               'key', jsonb_build_object('dataareaid', "new"."dataareaid", 'schedule_name', "new"."schedule_name", 'line_num', "new"."line_num"), 'force', true)
             ORDER BY "new"."dataareaid", "new"."schedule_name", "new"."line_num"), '[]')
      FROM (SELECT * FROM "fno"."payment_schedule_lines" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."schedule_name", "new"."line_num") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'schedule_name' AS character varying(30)), CAST(p_after ->> 'line_num' AS integer)))
             ORDER BY "new"."dataareaid", "new"."schedule_name", "new"."line_num"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_payment_schedule_lines_to_right"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "fno"."payment_schedule_lines";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "fno"."payment_schedule_lines" AS "new"
     WHERE ("new"."dataareaid", "new"."schedule_name", "new"."line_num") = (CAST(p_key ->> 'dataareaid' AS character varying(4)), CAST(p_key ->> 'schedule_name' AS character varying(30)), CAST(p_key ->> 'line_num' AS integer))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"fno"."payment_schedule_lines", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'payment_schedule_lines', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."schedule_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'schedule_name', "new"."schedule_name") END), jsonb_build_object('dataareaid', "new"."dataareaid", 'schedule_name', "new"."schedule_name", 'line_num', "new"."line_num")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_right/snapshot', 'e4557fd8bf9db1a9a512b1ca637cb59688ca321bd68b366ce60944a316741f1f', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_schedule_lines_to_right"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_payment_schedule_lines_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_terms/to_right/capture ====
-- Map 'payment_terms', 'to_right': capture changes of "fno"."payment_terms".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_terms_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- Fired by the sync trigger: an initial sync of this map overwrote this row.
    IF TG_NARGS > 0 THEN
        INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
        VALUES ('overwrite', 'payment_terms', 'to_left',
                'initial sync overwrote a differing row of ' || 'fno.payment_terms',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'payment_terms' AND direction = 'to_right'
                  AND state = 'stopped') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('payment_terms', 'to_right', 'T', '{}');
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
    IF NOT (v_image ?& ARRAY['dataareaid', 'payment_term_id', 'payment_schedule', 'payment_day']::text[]) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('payment_terms', 'to_right', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(true, false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(true, false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."dataareaid", "old"."payment_term_id") IS NOT DISTINCT FROM ("new"."dataareaid", "new"."payment_term_id");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('payment_terms', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."payment_schedule" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'schedule_name', "old"."payment_schedule") END,
       'paymentdayid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."payment_day" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'payment_day_name', "old"."payment_day") END),
                jsonb_build_object('dataareaid', "old"."dataareaid", 'payment_term_id', "old"."payment_term_id"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('payment_terms', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_schedule" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'schedule_name', "new"."payment_schedule") END,
       'paymentdayid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_day" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_day_name', "new"."payment_day") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('dataareaid', "new"."dataareaid", 'payment_term_id', "new"."payment_term_id"));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

-- The replicator's own writes are never captured again (loop safety): its apply
-- functions set replicator.applying, which counts only while the writing role
-- owns the replicator's schema. An application session that sets it is captured.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_right"
AFTER INSERT OR DELETE ON "fno"."payment_terms"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_right_trunc"
AFTER TRUNCATE ON "fno"."payment_terms"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_right_upd"
AFTER UPDATE ON "fno"."payment_terms"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."payment_term_id", "old"."description", "old"."net_days", "old"."payment_schedule", "old"."payment_day") IS DISTINCT FROM ("new"."dataareaid", "new"."payment_term_id", "new"."description", "new"."net_days", "new"."payment_schedule", "new"."payment_day")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_right_sync"
AFTER UPDATE ON "fno"."payment_terms"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_terms'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_right/capture', '905c46c4c98c1ce6e15f94b0350b9530f79c9cebecf5cb36b80dadde2f9d47df', $sql$-- Removing map 'payment_terms' ('to_right') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'payment_terms' AND direction = 'to_right';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_terms', 'to_right', v_queued, 'payment_terms', 'payment_terms', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_terms_to_right"() CASCADE;
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_terms/to_right/snapshot ====
-- Map 'payment_terms', 'to_right': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_payment_terms_to_right"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'payment_terms',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_schedule" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'schedule_name', "new"."payment_schedule") END,
       'paymentdayid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_day" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_day_name', "new"."payment_day") END),
               'key', jsonb_build_object('dataareaid', "new"."dataareaid", 'payment_term_id', "new"."payment_term_id"), 'force', true)
             ORDER BY "new"."dataareaid", "new"."payment_term_id"), '[]')
      FROM (SELECT * FROM "fno"."payment_terms" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."payment_term_id") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'payment_term_id' AS character varying(10))))
             ORDER BY "new"."dataareaid", "new"."payment_term_id"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_payment_terms_to_right"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "fno"."payment_terms";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "fno"."payment_terms" AS "new"
     WHERE ("new"."dataareaid", "new"."payment_term_id") = (CAST(p_key ->> 'dataareaid' AS character varying(4)), CAST(p_key ->> 'payment_term_id' AS character varying(10)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"fno"."payment_terms", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'payment_terms', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_schedule" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'schedule_name', "new"."payment_schedule") END,
       'paymentdayid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_day" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_day_name', "new"."payment_day") END), jsonb_build_object('dataareaid', "new"."dataareaid", 'payment_term_id', "new"."payment_term_id")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_right/snapshot', '7b7835504448e38c6434556a65a2bf5a82a554326ea5d9ff4b05e2bc480ef26f', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_terms_to_right"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_payment_terms_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_organization/to_right/capture ====
-- Map 'customers_organization', 'to_right': capture changes of "fno"."customers".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_customers_organization_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
    v_image jsonb;
BEGIN
    -- Fired by the sync trigger: an initial sync of this map overwrote this row.
    IF TG_NARGS > 0 THEN
        INSERT INTO "replicator"."activity_log" (kind, map_name, direction, message, detail)
        VALUES ('overwrite', 'customers_organization', 'to_left',
                'initial sync overwrote a differing row of ' || 'fno.customers',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'customers_organization' AND direction = 'to_right'
                  AND state = 'stopped') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('customers_organization', 'to_right', 'T', '{}');
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
    IF NOT (v_image ?& ARRAY['dataareaid', 'account_num', 'party_type', 'customer_group', 'payment_terms', 'payment_method']::text[]) THEN
        INSERT INTO "replicator"."uncaptured" (map_name, direction, op, image)
        VALUES ('customers_organization', 'to_right', left(TG_OP, 1), v_image);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_in := coalesce(("old"."party_type" = 'Organization'), false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new_in := coalesce(("new"."party_type" = 'Organization'), false);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        v_same_key := ("old"."dataareaid", "old"."account_num") IS NOT DISTINCT FROM ("new"."dataareaid", "new"."account_num");
    END IF;
    IF v_old_in AND NOT (v_new_in AND v_same_key) THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('customers_organization', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END,
       'customergroupid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."customer_group" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'customer_group', "old"."customer_group") END,
       'paymenttermid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."payment_terms" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'payment_term_id', "old"."payment_terms") END,
       'customerpaymentmethodid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."payment_method" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'payment_method', "old"."payment_method") END),
                jsonb_build_object('dataareaid', "old"."dataareaid", 'account_num', "old"."account_num"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('customers_organization', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'customergroupid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."customer_group" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'customer_group', "new"."customer_group") END,
       'paymenttermid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_terms" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_term_id', "new"."payment_terms") END,
       'customerpaymentmethodid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_method" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_method', "new"."payment_method") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('dataareaid', "new"."dataareaid", 'account_num', "new"."account_num"));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

-- The replicator's own writes are never captured again (loop safety): its apply
-- functions set replicator.applying, which counts only while the writing role
-- owns the replicator's schema. An application session that sets it is captured.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_right"
AFTER INSERT OR DELETE ON "fno"."customers"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_right_trunc"
AFTER TRUNCATE ON "fno"."customers"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_right_upd"
AFTER UPDATE ON "fno"."customers"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."account_num", "old"."name", "old"."customer_group", "old"."payment_terms", "old"."payment_method", "old"."email", "old"."credit_limit", "old"."blocked", "old"."party_type") IS DISTINCT FROM ("new"."dataareaid", "new"."account_num", "new"."name", "new"."customer_group", "new"."payment_terms", "new"."payment_method", "new"."email", "new"."credit_limit", "new"."blocked", "new"."party_type")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_right_sync"
AFTER UPDATE ON "fno"."customers"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customers_organization'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_right/capture', '384d26b0068ea5adabb69d007b5b77397040e175536091f9dc306c8fe56f63d1', $sql$-- Removing map 'customers_organization' ('to_right') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'customers_organization' AND direction = 'to_right';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customers_organization', 'to_right', v_queued, 'customers_organization', 'customers_organization', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_customers_organization_to_right"() CASCADE;
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_organization/to_right/snapshot ====
-- Map 'customers_organization', 'to_right': the rows an initial sync copies, a chunk at a
-- time in key order, as the changes the apply functions take (refs as a capture adds them).
CREATE OR REPLACE FUNCTION "replicator"."snapshot_customers_organization_to_right"(p_after jsonb, p_limit integer)
RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $snapshot$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', nextval('replicator.change_queue_id_seq'::regclass), 'map', 'customers_organization',
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'customergroupid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."customer_group" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'customer_group', "new"."customer_group") END,
       'paymenttermid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_terms" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_term_id', "new"."payment_terms") END,
       'customerpaymentmethodid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_method" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_method', "new"."payment_method") END),
               'key', jsonb_build_object('dataareaid', "new"."dataareaid", 'account_num', "new"."account_num"), 'force', true)
             ORDER BY "new"."dataareaid", "new"."account_num"), '[]')
      FROM (SELECT * FROM "fno"."customers" AS "new"
             WHERE coalesce(("new"."party_type" = 'Organization'), false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."account_num") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'account_num' AS character varying(20))))
             ORDER BY "new"."dataareaid", "new"."account_num"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_customers_organization_to_right"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "fno"."customers";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "fno"."customers" AS "new"
     WHERE ("new"."dataareaid", "new"."account_num") = (CAST(p_key ->> 'dataareaid' AS character varying(4)), CAST(p_key ->> 'account_num' AS character varying(20)))
       AND coalesce(("new"."party_type" = 'Organization'), false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"fno"."customers", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'customers_organization', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'customergroupid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."customer_group" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'customer_group', "new"."customer_group") END,
       'paymenttermid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_terms" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_term_id', "new"."payment_terms") END,
       'customerpaymentmethodid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_method" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_method', "new"."payment_method") END), jsonb_build_object('dataareaid', "new"."dataareaid", 'account_num', "new"."account_num")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_right/snapshot', '5bfe15ed42d38682ecc52a16d4397e3513bf388b72fd7fcf9c445134be75f5de', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customers_organization_to_right"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_customers_organization_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/companies/to_right/absorb ====
-- Map 'companies', 'to_right': changes of "fno"."companies" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_companies_to_right"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'companies', 'left', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'name', CASE WHEN j."i_1" IS NULL THEN j.clock->'name'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'name'->>0)::bigint, 0), j."i_1"), coalesce(j.clock->'name'->1, to_jsonb(0)), j."t_1", j.clock->'name'->3) END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
                       AS "t_1",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'companies' AND v.side = 'left'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_right/absorb', 'c5435dd8c2e828f2ae43db93bcb5a3aa9368fed5f807237ca089fd8cd8885a9e', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_companies_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/contact_persons/to_right/absorb ====
-- Map 'contact_persons', 'to_right': changes of "fno"."contact_persons" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_contact_persons_to_right"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'contact_persons', 'left', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'first_name', CASE WHEN j."i_1" IS NULL THEN j.clock->'first_name'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'first_name'->>0)::bigint, 0), j."i_1"), coalesce(j.clock->'first_name'->1, to_jsonb(0)), j."t_1", j.clock->'first_name'->3) END,
               'last_name', CASE WHEN j."i_2" IS NULL THEN j.clock->'last_name'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'last_name'->>0)::bigint, 0), j."i_2"), coalesce(j.clock->'last_name'->1, to_jsonb(0)), j."t_2", j.clock->'last_name'->3) END,
               'email', CASE WHEN j."i_3" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'email'->>0)::bigint, 0), j."i_3"), coalesce(j.clock->'email'->1, to_jsonb(0)), j."t_3", j.clock->'email'->3) END,
               'customer_account', CASE WHEN j."i_4" IS NULL THEN j.clock->'customer_account'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'customer_account'->>0)::bigint, 0), j."i_4"), coalesce(j.clock->'customer_account'->1, to_jsonb(0)), j."t_4", j.clock->'customer_account'->3) END,
               'is_sellable', CASE WHEN j."i_5" IS NULL THEN j.clock->'is_sellable'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'is_sellable'->>0)::bigint, 0), j."i_5"), coalesce(j.clock->'is_sellable'->1, to_jsonb(0)), j."t_5", j.clock->'is_sellable'->3) END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'first_name' IS DISTINCT FROM c.image->'first_name')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'first_name' IS DISTINCT FROM c.image->'first_name')))
                       AS "t_1",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'last_name' IS DISTINCT FROM c.image->'last_name')))
                       AS "i_2",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'last_name' IS DISTINCT FROM c.image->'last_name')))
                       AS "t_2",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'email' IS DISTINCT FROM c.image->'email')))
                       AS "i_3",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'email' IS DISTINCT FROM c.image->'email')))
                       AS "t_3",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customer_account' IS DISTINCT FROM c.image->'customer_account')))
                       AS "i_4",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customer_account' IS DISTINCT FROM c.image->'customer_account')))
                       AS "t_4",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)))
                       AS "i_5",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)))
                       AS "t_5",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'contact_persons' AND v.side = 'left'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_right/absorb', 'fb67660e5d44084c068593c0d04810216e62d3b896cc6847c2b0b43dc1bf4b54', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_contact_persons_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_groups/to_right/absorb ====
-- Map 'customer_groups', 'to_right': changes of "fno"."customer_groups" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_customer_groups_to_right"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customer_groups', 'left', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), j."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), j."t_1", j.clock->'description'->3) END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')))
                       AS "t_1",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'customer_groups' AND v.side = 'left'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_right/absorb', '55a3d7c6b482793214a11c88c21c06e63762cd6c27ec5119686a9b2c0c9e1947', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_customer_groups_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_payment_methods/to_right/absorb ====
-- Map 'customer_payment_methods', 'to_right': changes of "fno"."customer_payment_methods" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_customer_payment_methods_to_right"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customer_payment_methods', 'left', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), j."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), j."t_1", j.clock->'description'->3) END,
               'payment_type', CASE WHEN j."i_2" IS NULL THEN j.clock->'payment_type'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'payment_type'->>0)::bigint, 0), j."i_2"), coalesce(j.clock->'payment_type'->1, to_jsonb(0)), j."t_2", j.clock->'payment_type'->3) END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')))
                       AS "t_1",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_type' IS DISTINCT FROM c.image->'payment_type')))
                       AS "i_2",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_type' IS DISTINCT FROM c.image->'payment_type')))
                       AS "t_2",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'customer_payment_methods' AND v.side = 'left'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_right/absorb', '72fc93ec897b15998ac4c6afce6e928066975833c7e89cd2d900006b83388273', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_customer_payment_methods_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_person/to_right/absorb ====
-- Map 'customers_person', 'to_right': changes of "fno"."customers" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_customers_person_to_right"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customers_person', 'left', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'firstname', CASE WHEN j."i_1" IS NULL THEN j.clock->'firstname'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'firstname'->>0)::bigint, 0), j."i_1"), coalesce(j.clock->'firstname'->1, to_jsonb(0)), j."t_1", j.clock->'firstname'->3) END,
               'middlename', CASE WHEN j."i_2" IS NULL THEN j.clock->'middlename'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'middlename'->>0)::bigint, 0), j."i_2"), coalesce(j.clock->'middlename'->1, to_jsonb(0)), j."t_2", j.clock->'middlename'->3) END,
               'lastname', CASE WHEN j."i_3" IS NULL THEN j.clock->'lastname'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'lastname'->>0)::bigint, 0), j."i_3"), coalesce(j.clock->'lastname'->1, to_jsonb(0)), j."t_3", j.clock->'lastname'->3) END,
               'email', CASE WHEN j."i_4" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'email'->>0)::bigint, 0), j."i_4"), coalesce(j.clock->'email'->1, to_jsonb(0)), j."t_4", j.clock->'email'->3) END,
               'is_sellable', CASE WHEN j."i_5" IS NULL THEN j.clock->'is_sellable'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'is_sellable'->>0)::bigint, 0), j."i_5"), coalesce(j.clock->'is_sellable'->1, to_jsonb(0)), j."t_5", j.clock->'is_sellable'->3) END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
                       AS "t_1",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
                       AS "i_2",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
                       AS "t_2",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
                       AS "i_3",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
                       AS "t_3",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'email' IS DISTINCT FROM c.image->'email')))
                       AS "i_4",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'email' IS DISTINCT FROM c.image->'email')))
                       AS "t_4",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)))
                       AS "i_5",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)))
                       AS "t_5",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'customers_person' AND v.side = 'left'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_right/absorb', '602ec9253b8887c16dc79d3f90bcfb616784d646370cafa060f494e36903dc43', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_customers_person_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/loyalty_cards/to_right/absorb ====
-- Map 'loyalty_cards', 'to_right': changes of "fno"."loyalty_cards" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_loyalty_cards_to_right"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'loyalty_cards', 'left', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'tier', CASE WHEN j."i_1" IS NULL THEN j.clock->'tier'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'tier'->>0)::bigint, 0), j."i_1"), coalesce(j.clock->'tier'->1, to_jsonb(0)), j."t_1", j.clock->'tier'->3) END,
               'issued_on', CASE WHEN j."i_2" IS NULL THEN j.clock->'issued_on'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'issued_on'->>0)::bigint, 0), j."i_2"), coalesce(j.clock->'issued_on'->1, to_jsonb(0)), j."t_2", j.clock->'issued_on'->3) END,
               'blocked', CASE WHEN j."i_3" IS NULL THEN j.clock->'blocked'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'blocked'->>0)::bigint, 0), j."i_3"), coalesce(j.clock->'blocked'->1, to_jsonb(0)), j."t_3", j.clock->'blocked'->3) END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'tier' IS DISTINCT FROM c.image->'tier')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'tier' IS DISTINCT FROM c.image->'tier')))
                       AS "t_1",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'issued_on' IS DISTINCT FROM c.image->'issued_on')))
                       AS "i_2",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'issued_on' IS DISTINCT FROM c.image->'issued_on')))
                       AS "t_2",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'blocked' IS DISTINCT FROM c.image->'blocked')))
                       AS "i_3",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'blocked' IS DISTINCT FROM c.image->'blocked')))
                       AS "t_3",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'loyalty_cards' AND v.side = 'left'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_right/absorb', '9e6b44c5d8b78f50ed472a5123aafd4f99a0eb195ed3568b522464ef28c3fe6e', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_loyalty_cards_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/name_affixes/to_right/absorb ====
-- Map 'name_affixes', 'to_right': changes of "fno"."name_affixes" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_name_affixes_to_right"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'name_affixes', 'left', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), j."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), j."t_1", j.clock->'description'->3) END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')))
                       AS "t_1",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'name_affixes' AND v.side = 'left'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_right/absorb', '2ba22ba474c896f77a99d532bd0149c08a21a8a8bbe15e005532e01299d0c4b8', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_name_affixes_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_days/to_right/absorb ====
-- Map 'payment_days', 'to_right': changes of "fno"."payment_days" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_payment_days_to_right"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_days', 'left', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), j."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), j."t_1", j.clock->'description'->3) END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')))
                       AS "t_1",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'payment_days' AND v.side = 'left'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_right/absorb', 'e3b454e393352e513ee22e6fcd82fddac63773f2fd82b6a69a1e1d1f7c7e214b', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_payment_days_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_day_lines/to_right/absorb ====
-- Map 'payment_day_lines', 'to_right': changes of "fno"."payment_day_lines" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_payment_day_lines_to_right"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_day_lines', 'left', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'week_day', CASE WHEN j."i_1" IS NULL THEN j.clock->'week_day'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'week_day'->>0)::bigint, 0), j."i_1"), coalesce(j.clock->'week_day'->1, to_jsonb(0)), j."t_1", j.clock->'week_day'->3) END,
               'day_of_month', CASE WHEN j."i_2" IS NULL THEN j.clock->'day_of_month'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'day_of_month'->>0)::bigint, 0), j."i_2"), coalesce(j.clock->'day_of_month'->1, to_jsonb(0)), j."t_2", j.clock->'day_of_month'->3) END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'week_day' IS DISTINCT FROM c.image->'week_day')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'week_day' IS DISTINCT FROM c.image->'week_day')))
                       AS "t_1",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'day_of_month' IS DISTINCT FROM c.image->'day_of_month')))
                       AS "i_2",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'day_of_month' IS DISTINCT FROM c.image->'day_of_month')))
                       AS "t_2",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'payment_day_lines' AND v.side = 'left'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_right/absorb', '686d3e2165e60e3e309ea764f04456d240ab1e0a59ac451730b31986f2034d70', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_payment_day_lines_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedules/to_right/absorb ====
-- Map 'payment_schedules', 'to_right': changes of "fno"."payment_schedules" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_payment_schedules_to_right"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_schedules', 'left', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), j."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), j."t_1", j.clock->'description'->3) END,
               'allocation', CASE WHEN j."i_2" IS NULL THEN j.clock->'allocation'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'allocation'->>0)::bigint, 0), j."i_2"), coalesce(j.clock->'allocation'->1, to_jsonb(0)), j."t_2", j.clock->'allocation'->3) END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')))
                       AS "t_1",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'allocation' IS DISTINCT FROM c.image->'allocation')))
                       AS "i_2",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'allocation' IS DISTINCT FROM c.image->'allocation')))
                       AS "t_2",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'payment_schedules' AND v.side = 'left'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_right/absorb', '185b63ca542c07f32f030ad41ea99edc59fc2734ab61fd946b508b5de975cdff', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_payment_schedules_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedule_lines/to_right/absorb ====
-- Map 'payment_schedule_lines', 'to_right': changes of "fno"."payment_schedule_lines" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_payment_schedule_lines_to_right"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_schedule_lines', 'left', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'percent', CASE WHEN j."i_1" IS NULL THEN j.clock->'percent'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'percent'->>0)::bigint, 0), j."i_1"), coalesce(j.clock->'percent'->1, to_jsonb(0)), j."t_1", j.clock->'percent'->3) END,
               'due_months', CASE WHEN j."i_2" IS NULL THEN j.clock->'due_months'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'due_months'->>0)::bigint, 0), j."i_2"), coalesce(j.clock->'due_months'->1, to_jsonb(0)), j."t_2", j.clock->'due_months'->3) END,
               'due_days', CASE WHEN j."i_3" IS NULL THEN j.clock->'due_days'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'due_days'->>0)::bigint, 0), j."i_3"), coalesce(j.clock->'due_days'->1, to_jsonb(0)), j."t_3", j.clock->'due_days'->3) END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'percent' IS DISTINCT FROM c.image->'percent')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'percent' IS DISTINCT FROM c.image->'percent')))
                       AS "t_1",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'due_months' IS DISTINCT FROM c.image->'due_months')))
                       AS "i_2",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'due_months' IS DISTINCT FROM c.image->'due_months')))
                       AS "t_2",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'due_days' IS DISTINCT FROM c.image->'due_days')))
                       AS "i_3",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'due_days' IS DISTINCT FROM c.image->'due_days')))
                       AS "t_3",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'payment_schedule_lines' AND v.side = 'left'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_right/absorb', '9c47a4c53fe8a9855962f1feab9d5e81ca5cc4b33ce453c3ebe531403ba675bd', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_payment_schedule_lines_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_terms/to_right/absorb ====
-- Map 'payment_terms', 'to_right': changes of "fno"."payment_terms" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_payment_terms_to_right"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_terms', 'left', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), j."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), j."t_1", j.clock->'description'->3) END,
               'net_days', CASE WHEN j."i_2" IS NULL THEN j.clock->'net_days'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'net_days'->>0)::bigint, 0), j."i_2"), coalesce(j.clock->'net_days'->1, to_jsonb(0)), j."t_2", j.clock->'net_days'->3) END,
               'payment_schedule', CASE WHEN j."i_3" IS NULL THEN j.clock->'payment_schedule'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'payment_schedule'->>0)::bigint, 0), j."i_3"), coalesce(j.clock->'payment_schedule'->1, to_jsonb(0)), j."t_3", j.clock->'payment_schedule'->3) END,
               'payment_day', CASE WHEN j."i_4" IS NULL THEN j.clock->'payment_day'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'payment_day'->>0)::bigint, 0), j."i_4"), coalesce(j.clock->'payment_day'->1, to_jsonb(0)), j."t_4", j.clock->'payment_day'->3) END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')))
                       AS "t_1",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'net_days' IS DISTINCT FROM c.image->'net_days')))
                       AS "i_2",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'net_days' IS DISTINCT FROM c.image->'net_days')))
                       AS "t_2",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_schedule' IS DISTINCT FROM c.image->'payment_schedule')))
                       AS "i_3",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_schedule' IS DISTINCT FROM c.image->'payment_schedule')))
                       AS "t_3",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_day' IS DISTINCT FROM c.image->'payment_day')))
                       AS "i_4",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_day' IS DISTINCT FROM c.image->'payment_day')))
                       AS "t_4",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'payment_terms' AND v.side = 'left'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_right/absorb', 'd8a0ce26963017e82d96d21a5b4c06e85a91ad5e608174cd02c428d9b89fd276', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_payment_terms_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_organization/to_right/absorb ====
-- Map 'customers_organization', 'to_right': changes of "fno"."customers" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_customers_organization_to_right"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customers_organization', 'left', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'name', CASE WHEN j."i_1" IS NULL THEN j.clock->'name'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'name'->>0)::bigint, 0), j."i_1"), coalesce(j.clock->'name'->1, to_jsonb(0)), j."t_1", j.clock->'name'->3) END,
               'customer_group', CASE WHEN j."i_2" IS NULL THEN j.clock->'customer_group'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'customer_group'->>0)::bigint, 0), j."i_2"), coalesce(j.clock->'customer_group'->1, to_jsonb(0)), j."t_2", j.clock->'customer_group'->3) END,
               'payment_terms', CASE WHEN j."i_3" IS NULL THEN j.clock->'payment_terms'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'payment_terms'->>0)::bigint, 0), j."i_3"), coalesce(j.clock->'payment_terms'->1, to_jsonb(0)), j."t_3", j.clock->'payment_terms'->3) END,
               'payment_method', CASE WHEN j."i_4" IS NULL THEN j.clock->'payment_method'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'payment_method'->>0)::bigint, 0), j."i_4"), coalesce(j.clock->'payment_method'->1, to_jsonb(0)), j."t_4", j.clock->'payment_method'->3) END,
               'email', CASE WHEN j."i_5" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'email'->>0)::bigint, 0), j."i_5"), coalesce(j.clock->'email'->1, to_jsonb(0)), j."t_5", j.clock->'email'->3) END,
               'credit_limit', CASE WHEN j."i_6" IS NULL THEN j.clock->'credit_limit'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'credit_limit'->>0)::bigint, 0), j."i_6"), coalesce(j.clock->'credit_limit'->1, to_jsonb(0)), j."t_6", j.clock->'credit_limit'->3) END,
               'blocked', CASE WHEN j."i_7" IS NULL THEN j.clock->'blocked'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'blocked'->>0)::bigint, 0), j."i_7"), coalesce(j.clock->'blocked'->1, to_jsonb(0)), j."t_7", j.clock->'blocked'->3) END,
               'relationship_type', CASE WHEN j."i_8" IS NULL THEN j.clock->'relationship_type'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'relationship_type'->>0)::bigint, 0), j."i_8"), coalesce(j.clock->'relationship_type'->1, to_jsonb(0)), j."t_8", j.clock->'relationship_type'->3) END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
                       AS "t_1",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customer_group' IS DISTINCT FROM c.image->'customer_group')))
                       AS "i_2",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customer_group' IS DISTINCT FROM c.image->'customer_group')))
                       AS "t_2",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_terms' IS DISTINCT FROM c.image->'payment_terms')))
                       AS "i_3",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_terms' IS DISTINCT FROM c.image->'payment_terms')))
                       AS "t_3",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_method' IS DISTINCT FROM c.image->'payment_method')))
                       AS "i_4",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_method' IS DISTINCT FROM c.image->'payment_method')))
                       AS "t_4",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'email' IS DISTINCT FROM c.image->'email')))
                       AS "i_5",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'email' IS DISTINCT FROM c.image->'email')))
                       AS "t_5",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'credit_limit' IS DISTINCT FROM c.image->'credit_limit')))
                       AS "i_6",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'credit_limit' IS DISTINCT FROM c.image->'credit_limit')))
                       AS "t_6",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'blocked' IS DISTINCT FROM c.image->'blocked')))
                       AS "i_7",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'blocked' IS DISTINCT FROM c.image->'blocked')))
                       AS "t_7",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)))
                       AS "i_8",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)))
                       AS "t_8",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'customers_organization' AND v.side = 'left'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_right/absorb', '1090d16ada937914fdb3a91d345b5d02bb8656929e80678720423b1449737e31', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_customers_organization_to_right"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create absorb ====
-- Changes captured here that crossed (replicator.apply_queued, replicator.ack_batch):
-- each map records them in its rows' clocks.
CREATE OR REPLACE FUNCTION "replicator"."absorb_batch"(p_direction text, p_batch jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $absorb$
DECLARE
    v_by_map jsonb;  -- per map, its changes: the batch is split once
BEGIN
    SELECT jsonb_object_agg(per_map.map_name, per_map.changes) INTO v_by_map
      FROM (SELECT c.value->>'map' AS map_name, jsonb_agg(c.value) AS changes
              FROM jsonb_array_elements(p_batch) AS c
             GROUP BY 1) AS per_map;
    IF p_direction = 'to_right' AND v_by_map ? 'companies' THEN
        PERFORM "replicator"."absorb_companies_to_right"(v_by_map->'companies');
    END IF;
    IF p_direction = 'to_right' AND v_by_map ? 'contact_persons' THEN
        PERFORM "replicator"."absorb_contact_persons_to_right"(v_by_map->'contact_persons');
    END IF;
    IF p_direction = 'to_right' AND v_by_map ? 'customer_groups' THEN
        PERFORM "replicator"."absorb_customer_groups_to_right"(v_by_map->'customer_groups');
    END IF;
    IF p_direction = 'to_right' AND v_by_map ? 'customer_payment_methods' THEN
        PERFORM "replicator"."absorb_customer_payment_methods_to_right"(v_by_map->'customer_payment_methods');
    END IF;
    IF p_direction = 'to_right' AND v_by_map ? 'customers_person' THEN
        PERFORM "replicator"."absorb_customers_person_to_right"(v_by_map->'customers_person');
    END IF;
    IF p_direction = 'to_right' AND v_by_map ? 'loyalty_cards' THEN
        PERFORM "replicator"."absorb_loyalty_cards_to_right"(v_by_map->'loyalty_cards');
    END IF;
    IF p_direction = 'to_right' AND v_by_map ? 'name_affixes' THEN
        PERFORM "replicator"."absorb_name_affixes_to_right"(v_by_map->'name_affixes');
    END IF;
    IF p_direction = 'to_right' AND v_by_map ? 'payment_days' THEN
        PERFORM "replicator"."absorb_payment_days_to_right"(v_by_map->'payment_days');
    END IF;
    IF p_direction = 'to_right' AND v_by_map ? 'payment_day_lines' THEN
        PERFORM "replicator"."absorb_payment_day_lines_to_right"(v_by_map->'payment_day_lines');
    END IF;
    IF p_direction = 'to_right' AND v_by_map ? 'payment_schedules' THEN
        PERFORM "replicator"."absorb_payment_schedules_to_right"(v_by_map->'payment_schedules');
    END IF;
    IF p_direction = 'to_right' AND v_by_map ? 'payment_schedule_lines' THEN
        PERFORM "replicator"."absorb_payment_schedule_lines_to_right"(v_by_map->'payment_schedule_lines');
    END IF;
    IF p_direction = 'to_right' AND v_by_map ? 'payment_terms' THEN
        PERFORM "replicator"."absorb_payment_terms_to_right"(v_by_map->'payment_terms');
    END IF;
    IF p_direction = 'to_right' AND v_by_map ? 'customers_organization' THEN
        PERFORM "replicator"."absorb_customers_organization_to_right"(v_by_map->'customers_organization');
    END IF;
END
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('absorb', '92eac2ab407c076212c732bb4419f6132b8e9c2154f9edc3e8443e04c478940a', $sql$$sql$)
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
VALUES ('registry', '88f21506d694418358d47f74d68b36bb2c11e2aa03c963d8d64dac81751100b9', $sql$$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create dependencies ====
-- What the maps rely on in this database, resolved to oids and attnums now, so that
-- replicator.drift() can tell when a table or column they use is renamed, dropped or
-- retyped, or a capture trigger is gone.
SELECT replicator.follow_renames();
DELETE FROM "replicator"."map_dependency";
SELECT replicator.record_dependency('companies', 'left', 'fno', 'companies',
       '[{"column": "dataareaid", "uses": "field dataareaid", "capture_reads": true}, {"column": "name", "uses": "field name", "capture_reads": false}]',
       ARRAY['replicator_companies_to_right', 'replicator_companies_to_right_upd', 'replicator_companies_to_right_trunc', 'replicator_companies_to_right_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('contact_persons', 'left', 'fno', 'contact_persons',
       '[{"column": "dataareaid", "uses": "field dataareaid", "capture_reads": true}, {"column": "contact_person_id", "uses": "field contact_person_id", "capture_reads": true}, {"column": "first_name", "uses": "field first_name", "capture_reads": false}, {"column": "last_name", "uses": "field last_name", "capture_reads": false}, {"column": "email", "uses": "field email", "capture_reads": false}, {"column": "customer_account", "uses": "field customer_account", "capture_reads": false}]',
       ARRAY['replicator_contact_persons_to_right', 'replicator_contact_persons_to_right_upd', 'replicator_contact_persons_to_right_trunc', 'replicator_contact_persons_to_right_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('contact_persons', 'left', 'fno', 'companies',
       '[{"column": "dataareaid", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', false);
SELECT replicator.record_dependency('customer_groups', 'left', 'fno', 'customer_groups',
       '[{"column": "dataareaid", "uses": "field dataareaid", "capture_reads": true}, {"column": "customer_group", "uses": "field customer_group", "capture_reads": true}, {"column": "description", "uses": "field description", "capture_reads": false}]',
       ARRAY['replicator_customer_groups_to_right', 'replicator_customer_groups_to_right_upd', 'replicator_customer_groups_to_right_trunc', 'replicator_customer_groups_to_right_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('customer_groups', 'left', 'fno', 'companies',
       '[{"column": "dataareaid", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', false);
SELECT replicator.record_dependency('customer_payment_methods', 'left', 'fno', 'customer_payment_methods',
       '[{"column": "dataareaid", "uses": "field dataareaid", "capture_reads": true}, {"column": "payment_method", "uses": "field payment_method", "capture_reads": true}, {"column": "description", "uses": "field description", "capture_reads": false}, {"column": "payment_type", "uses": "field payment_type", "capture_reads": false}]',
       ARRAY['replicator_customer_payment_methods_to_right', 'replicator_customer_payment_methods_to_right_upd', 'replicator_customer_payment_methods_to_right_trunc', 'replicator_customer_payment_methods_to_right_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('customer_payment_methods', 'left', 'fno', 'companies',
       '[{"column": "dataareaid", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', false);
SELECT replicator.record_dependency('customers_person', 'left', 'fno', 'customers',
       '[{"column": "dataareaid", "uses": "field dataareaid", "capture_reads": true}, {"column": "account_num", "uses": "field account_num", "capture_reads": true}, {"column": "name", "uses": "field name, field firstname, field middlename, field lastname", "capture_reads": false}, {"column": "email", "uses": "field email", "capture_reads": false}, {"column": "party_type", "uses": "field party_type, left_filter", "capture_reads": true}]',
       ARRAY['replicator_customers_person_to_right', 'replicator_customers_person_to_right_upd', 'replicator_customers_person_to_right_trunc', 'replicator_customers_person_to_right_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('customers_person', 'left', 'fno', 'companies',
       '[{"column": "dataareaid", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', false);
SELECT replicator.record_dependency('loyalty_cards', 'left', 'fno', 'loyalty_cards',
       '[{"column": "card_number", "uses": "field card_number", "capture_reads": true}, {"column": "tier", "uses": "field tier", "capture_reads": false}, {"column": "issued_on", "uses": "field issued_on", "capture_reads": false}, {"column": "blocked", "uses": "field blocked", "capture_reads": false}]',
       ARRAY['replicator_loyalty_cards_to_right', 'replicator_loyalty_cards_to_right_upd', 'replicator_loyalty_cards_to_right_trunc', 'replicator_loyalty_cards_to_right_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('name_affixes', 'left', 'fno', 'name_affixes',
       '[{"column": "affix", "uses": "field affix", "capture_reads": true}, {"column": "affix_type", "uses": "field affix_type", "capture_reads": true}, {"column": "description", "uses": "field description", "capture_reads": false}]',
       ARRAY['replicator_name_affixes_to_right', 'replicator_name_affixes_to_right_upd', 'replicator_name_affixes_to_right_trunc', 'replicator_name_affixes_to_right_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_days', 'left', 'fno', 'payment_days',
       '[{"column": "dataareaid", "uses": "field dataareaid", "capture_reads": true}, {"column": "payment_day_name", "uses": "field payment_day_name", "capture_reads": true}, {"column": "description", "uses": "field description", "capture_reads": false}]',
       ARRAY['replicator_payment_days_to_right', 'replicator_payment_days_to_right_upd', 'replicator_payment_days_to_right_trunc', 'replicator_payment_days_to_right_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_days', 'left', 'fno', 'companies',
       '[{"column": "dataareaid", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', false);
SELECT replicator.record_dependency('payment_day_lines', 'left', 'fno', 'payment_day_lines',
       '[{"column": "dataareaid", "uses": "field dataareaid", "capture_reads": true}, {"column": "payment_day_name", "uses": "field payment_day_name", "capture_reads": true}, {"column": "line_num", "uses": "field line_num", "capture_reads": true}, {"column": "week_day", "uses": "field week_day", "capture_reads": false}, {"column": "day_of_month", "uses": "field day_of_month", "capture_reads": false}]',
       ARRAY['replicator_payment_day_lines_to_right', 'replicator_payment_day_lines_to_right_upd', 'replicator_payment_day_lines_to_right_trunc', 'replicator_payment_day_lines_to_right_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_day_lines', 'left', 'fno', 'companies',
       '[{"column": "dataareaid", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', false);
SELECT replicator.record_dependency('payment_day_lines', 'left', 'fno', 'payment_days',
       '[{"column": "payment_day_name", "uses": "lookup payment_days", "capture_reads": false}, {"column": "dataareaid", "uses": "lookup payment_days", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'payment_days', false);
SELECT replicator.record_dependency('payment_schedules', 'left', 'fno', 'payment_schedules',
       '[{"column": "dataareaid", "uses": "field dataareaid", "capture_reads": true}, {"column": "schedule_name", "uses": "field schedule_name", "capture_reads": true}, {"column": "description", "uses": "field description", "capture_reads": false}, {"column": "allocation", "uses": "field allocation", "capture_reads": false}]',
       ARRAY['replicator_payment_schedules_to_right', 'replicator_payment_schedules_to_right_upd', 'replicator_payment_schedules_to_right_trunc', 'replicator_payment_schedules_to_right_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_schedules', 'left', 'fno', 'companies',
       '[{"column": "dataareaid", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', false);
SELECT replicator.record_dependency('payment_schedule_lines', 'left', 'fno', 'payment_schedule_lines',
       '[{"column": "dataareaid", "uses": "field dataareaid", "capture_reads": true}, {"column": "schedule_name", "uses": "field schedule_name", "capture_reads": true}, {"column": "line_num", "uses": "field line_num", "capture_reads": true}, {"column": "percent", "uses": "field percent", "capture_reads": false}, {"column": "due_months", "uses": "field due_months", "capture_reads": false}, {"column": "due_days", "uses": "field due_days", "capture_reads": false}]',
       ARRAY['replicator_payment_schedule_lines_to_right', 'replicator_payment_schedule_lines_to_right_upd', 'replicator_payment_schedule_lines_to_right_trunc', 'replicator_payment_schedule_lines_to_right_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_schedule_lines', 'left', 'fno', 'companies',
       '[{"column": "dataareaid", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', false);
SELECT replicator.record_dependency('payment_schedule_lines', 'left', 'fno', 'payment_schedules',
       '[{"column": "schedule_name", "uses": "lookup payment_schedules", "capture_reads": false}, {"column": "dataareaid", "uses": "lookup payment_schedules", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'payment_schedules', false);
SELECT replicator.record_dependency('payment_terms', 'left', 'fno', 'payment_terms',
       '[{"column": "dataareaid", "uses": "field dataareaid", "capture_reads": true}, {"column": "payment_term_id", "uses": "field payment_term_id", "capture_reads": true}, {"column": "description", "uses": "field description", "capture_reads": false}, {"column": "net_days", "uses": "field net_days", "capture_reads": false}, {"column": "payment_schedule", "uses": "field payment_schedule", "capture_reads": true}, {"column": "payment_day", "uses": "field payment_day", "capture_reads": true}]',
       ARRAY['replicator_payment_terms_to_right', 'replicator_payment_terms_to_right_upd', 'replicator_payment_terms_to_right_trunc', 'replicator_payment_terms_to_right_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_terms', 'left', 'fno', 'companies',
       '[{"column": "dataareaid", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', false);
SELECT replicator.record_dependency('payment_terms', 'left', 'fno', 'payment_schedules',
       '[{"column": "schedule_name", "uses": "lookup payment_schedules", "capture_reads": false}, {"column": "dataareaid", "uses": "lookup payment_schedules", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'payment_schedules', false);
SELECT replicator.record_dependency('payment_terms', 'left', 'fno', 'payment_days',
       '[{"column": "payment_day_name", "uses": "lookup payment_days", "capture_reads": false}, {"column": "dataareaid", "uses": "lookup payment_days", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'payment_days', false);
SELECT replicator.record_dependency('customers_organization', 'left', 'fno', 'customers',
       '[{"column": "dataareaid", "uses": "field dataareaid", "capture_reads": true}, {"column": "account_num", "uses": "field account_num", "capture_reads": true}, {"column": "name", "uses": "field name", "capture_reads": false}, {"column": "customer_group", "uses": "field customer_group", "capture_reads": true}, {"column": "payment_terms", "uses": "field payment_terms", "capture_reads": true}, {"column": "payment_method", "uses": "field payment_method", "capture_reads": true}, {"column": "email", "uses": "field email", "capture_reads": false}, {"column": "credit_limit", "uses": "field credit_limit", "capture_reads": false}, {"column": "blocked", "uses": "field blocked", "capture_reads": false}, {"column": "party_type", "uses": "field party_type, left_filter", "capture_reads": true}]',
       ARRAY['replicator_customers_organization_to_right', 'replicator_customers_organization_to_right_upd', 'replicator_customers_organization_to_right_trunc', 'replicator_customers_organization_to_right_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('customers_organization', 'left', 'fno', 'companies',
       '[{"column": "dataareaid", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', false);
SELECT replicator.record_dependency('customers_organization', 'left', 'fno', 'customer_groups',
       '[{"column": "customer_group", "uses": "lookup customer_groups", "capture_reads": false}, {"column": "dataareaid", "uses": "lookup customer_groups", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'customer_groups', false);
SELECT replicator.record_dependency('customers_organization', 'left', 'fno', 'payment_terms',
       '[{"column": "payment_term_id", "uses": "lookup payment_terms", "capture_reads": false}, {"column": "dataareaid", "uses": "lookup payment_terms", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'payment_terms', false);
SELECT replicator.record_dependency('customers_organization', 'left', 'fno', 'customer_payment_methods',
       '[{"column": "payment_method", "uses": "lookup customer_payment_methods", "capture_reads": false}, {"column": "dataareaid", "uses": "lookup customer_payment_methods", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'customer_payment_methods', false);
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('dependencies', 'e4bf1610fb3f48eced24c8e443640e80b79327da1e1ae54e95cb71dfd0a5da3c', $sql$$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- Functions are callable by their owner only (the writers' by the owner, a member) ...
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA replicator, replicator_write FROM PUBLIC;
-- ... and by the applier's runtime role, which also keeps the control tables. It holds
-- nothing on the applications' tables: the apply functions write them as the writers.
GRANT USAGE ON SCHEMA replicator TO "replicator_runtime";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA replicator TO "replicator_runtime";
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA replicator TO "replicator_runtime";

INSERT INTO replicator.deployment (bundle_sha256) VALUES ('ccb9ab5a10ffcc078d42617a8ffd772b1c53fb2a76edbd750f5c16082e7bca6e');
INSERT INTO replicator.activity_log (kind, message, detail)
VALUES ('deploy', 'deployed bundle ccb9ab5a10ff: control schema to version 1, 57 to create, 0 to replace, 0 to drop', jsonb_build_object('bundle', 'ccb9ab5a10ffcc078d42617a8ffd772b1c53fb2a76edbd750f5c16082e7bca6e'));
