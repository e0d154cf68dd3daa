-- replicator plan for database cds (reached through the right side's connection)
-- bundle ccb9ab5a10ffcc078d42617a8ffd772b1c53fb2a76edbd750f5c16082e7bca6e: control schema to version 1, 57 to create, 0 to replace, 0 to drop
--   migrate control/0001_baseline
--   create  drift
--   create  map/companies/to_right/apply
--   create  map/contact_persons/to_right/apply
--   create  map/customer_groups/to_right/apply
--   create  map/customer_payment_methods/to_right/apply
--   create  map/customers_person/to_right/apply
--   create  map/loyalty_cards/to_right/apply
--   create  map/name_affixes/to_right/apply
--   create  map/payment_days/to_right/apply
--   create  map/payment_day_lines/to_right/apply
--   create  map/payment_schedules/to_right/apply
--   create  map/payment_schedule_lines/to_right/apply
--   create  map/payment_terms/to_right/apply
--   create  map/customers_organization/to_right/apply
--   create  dispatch
--   create  map/companies/to_left/capture
--   create  map/companies/to_left/snapshot
--   create  map/contact_persons/to_left/capture
--   create  map/contact_persons/to_left/snapshot
--   create  map/customer_groups/to_left/capture
--   create  map/customer_groups/to_left/snapshot
--   create  map/customer_payment_methods/to_left/capture
--   create  map/customer_payment_methods/to_left/snapshot
--   create  map/customers_person/to_left/capture
--   create  map/customers_person/to_left/snapshot
--   create  map/loyalty_cards/to_left/capture
--   create  map/loyalty_cards/to_left/snapshot
--   create  map/name_affixes/to_left/capture
--   create  map/name_affixes/to_left/snapshot
--   create  map/payment_days/to_left/capture
--   create  map/payment_days/to_left/snapshot
--   create  map/payment_day_lines/to_left/capture
--   create  map/payment_day_lines/to_left/snapshot
--   create  map/payment_schedules/to_left/capture
--   create  map/payment_schedules/to_left/snapshot
--   create  map/payment_schedule_lines/to_left/capture
--   create  map/payment_schedule_lines/to_left/snapshot
--   create  map/payment_terms/to_left/capture
--   create  map/payment_terms/to_left/snapshot
--   create  map/customers_organization/to_left/capture
--   create  map/customers_organization/to_left/snapshot
--   create  map/companies/to_left/absorb
--   create  map/contact_persons/to_left/absorb
--   create  map/customer_groups/to_left/absorb
--   create  map/customer_payment_methods/to_left/absorb
--   create  map/customers_person/to_left/absorb
--   create  map/loyalty_cards/to_left/absorb
--   create  map/name_affixes/to_left/absorb
--   create  map/payment_days/to_left/absorb
--   create  map/payment_day_lines/to_left/absorb
--   create  map/payment_schedules/to_left/absorb
--   create  map/payment_schedule_lines/to_left/absorb
--   create  map/payment_terms/to_left/absorb
--   create  map/customers_organization/to_left/absorb
--   create  absorb
--   create  registry
--   create  dependencies
-- Apply in one transaction (replicator deploy does; by hand, connected to this database:
-- psql -v ON_ERROR_STOP=1 -1 -f this-file).
-- Names below are qualified; built-in functions are found before anything else.
SET LOCAL search_path = pg_catalog, pg_temp;
-- For the cds database only: on any other (a file applied to the wrong database)
-- it stops here, and psql -v ON_ERROR_STOP=1 -1 rolls everything back.
DO $database$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'cds') THEN
        RAISE EXCEPTION 'replicator: this file is for the % database (schema %), but psql is connected to database %, which lacks it',
            'cds', 'cds', current_database()
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

-- ==== create map/companies/to_right/apply ====
-- Map 'companies', 'to_right': the writes to "cds"."company", as replicator_right_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_right_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."companies_to_right"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"cds"."company", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "cds"."company" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "cds"."company" ("company_code", "name")
    SELECT (r.n)."company_code",
       (r.n)."name"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("company_code") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "cds"."company" AS t
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
CREATE OR REPLACE FUNCTION "replicator_write"."companies_to_right_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "cds"."company" ("company_code", "name")
SELECT n."company_code",
       n."name"
  FROM jsonb_populate_recordset(NULL::"cds"."company", p_rows) AS n
    ON CONFLICT ("company_code") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."companies_to_right"(jsonb, boolean) OWNER TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."companies_to_right_sync"(jsonb) OWNER TO "replicator_right_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_right_writer";

-- Map 'companies', 'to_right': write a batch of captured changes into "cds"."company".
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
CREATE OR REPLACE FUNCTION "replicator"."write_companies_to_right"(p_changes jsonb, p_deletes boolean)
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
        'companies', 'fno.companies'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.company were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
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
    SELECT DISTINCT ON ("k"."dataareaid") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4))
    WINDOW w AS (PARTITION BY "k"."dataareaid")
     ORDER BY "k"."dataareaid", c.id DESC
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("s"."dataareaid" AS character varying(4)) AS "k_1",
           false AS unresolved
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "name" character varying(60))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('company_code', "l"."k_1") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'name'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'name'->>3)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."company" AS t
            WHERE "t"."company_code" = "l"."k_1"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('company_code', "l"."k_1")
              AND v.map_name = 'companies' AND v.side = 'right'
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
            WHERE q.key = jsonb_build_object('company_code', "l"."k_1") AND q.map_name = 'companies'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."name" AS "n_1",
           g."name" AS "c_1",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "name" character varying(60))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."company",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
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
                     || jsonb_build_object('company_code', j."k_1", 'name', j."f_1") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'companies', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'name', CASE WHEN j."i_1" IS NULL THEN j.clock->'name'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'name'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'name'->1, to_jsonb(0)), "j"."t_1", j.clock->'name'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'companies' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'companies', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT "replicator_write"."companies_to_right"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
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
        'companies', 'cds.company'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
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
    SELECT DISTINCT ON ("k"."dataareaid") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4))
    WINDOW w AS (PARTITION BY "k"."dataareaid")
     ORDER BY "k"."dataareaid", c.id DESC
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("s"."dataareaid" AS character varying(4)) AS "k_1",
           false AS unresolved
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "name" character varying(60))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('company_code', "l"."k_1") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'name'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'name'->>3)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."company" AS t
            WHERE "t"."company_code" = "l"."k_1"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('company_code', "l"."k_1")
              AND v.map_name = 'companies' AND v.side = 'right'
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
            WHERE q.key = jsonb_build_object('company_code', "l"."k_1") AND q.map_name = 'companies'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."name" AS "n_1",
           g."name" AS "c_1",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "name" character varying(60))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."company",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
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
                     || jsonb_build_object('company_code', j."k_1", 'name', j."f_1") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'companies', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'name', CASE WHEN j."i_1" IS NULL THEN j.clock->'name'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'name'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'name'->1, to_jsonb(0)), "j"."t_1", j.clock->'name'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'companies' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'companies', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT "replicator_write"."companies_to_right"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('company_code', j."k_1", 'name', j."f_1"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('company_code', j."k_1", 'name', j."f_1")) END), '[]'),
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
        'companies', 'cds.company'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'companies'
                             AND q.direction || '' = 'to_left' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'companies', 'cds.company'
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
DROP FUNCTION IF EXISTS "replicator"."apply_companies_to_right"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_companies_to_right"(p_changes jsonb, p_deletes boolean, p_final boolean)
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
                         WHERE state = 'open' AND map_name = 'companies' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_companies_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('companies', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid') FROM jsonb_array_elements(p_changes) AS c));
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_companies_to_right"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('companies', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid')]);
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
                PERFORM "replicator"."log_error"('companies', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid'),
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
CREATE OR REPLACE FUNCTION "replicator"."sync_companies_to_right"(p_changes jsonb)
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
    IF EXISTS (SELECT FROM "replicator"."held_change" WHERE direction = 'to_right')
       OR EXISTS (SELECT FROM "replicator"."error_log"
                   WHERE state = 'open' AND map_name = 'companies' AND direction = 'to_right') THEN
        RETURN p_changes;
    END IF;
    BEGIN
        WITH incoming AS MATERIALIZED (
            SELECT c.change, c.ordinal,
                   CAST("s"."dataareaid" AS character varying(4)) AS "k_1",
                   "s"."name" AS "f_1",
                   c.change->>'op' = 'I' AND coalesce((c.change->>'force')::boolean, false) AS insert_only
              FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS c(change, ordinal)
             CROSS JOIN LATERAL jsonb_to_record(c.change->'image') AS s(
               "dataareaid" character varying(4),
       "name" character varying(60))
        ), judged AS (
            SELECT l.*, jsonb_build_object('company_code', "l"."k_1") AS own_key,
                   l.insert_only
                   AND NOT EXISTS (SELECT FROM "cds"."company" AS t WHERE "t"."company_code" = "l"."k_1")
                   AND NOT EXISTS (SELECT FROM "replicator"."versions" AS v
                                    WHERE v.key = jsonb_build_object('company_code', "l"."k_1")
                                      AND v.map_name = 'companies' AND v.side = 'right')
                   AND NOT EXISTS (SELECT FROM "replicator"."change_queue" AS q
                                    WHERE q.key = jsonb_build_object('company_code', "l"."k_1") AND q.map_name = 'companies'
                                      AND q.direction || '' = 'to_left')
                   AS fresh
              FROM incoming AS l
        ), written AS (
            SELECT "replicator_write"."companies_to_right_sync"(coalesce(jsonb_agg(jsonb_build_object('company_code', j."k_1", 'name', j."f_1")), '[]')) AS written
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
                'companies', 'cds.company'
                USING ERRCODE = 'serialization_failure';
        END IF;
        -- A row inserted and deleted here, and both queued, after it was judged: likewise.
        IF EXISTS (SELECT FROM "replicator"."change_queue" AS q
                    WHERE q.key = ANY (ARRAY(SELECT x.value FROM jsonb_array_elements(coalesce(v_inserted, '[]')) AS x))
                      AND q.map_name = 'companies' AND q.direction || '' = 'to_left') THEN
            RAISE EXCEPTION 'replicator: map %: a row of % changed while a chunk was synced to it',
                'companies', 'cds.company'
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
         WHERE map_name = 'companies' AND direction = 'to_right';
    END IF;
    RETURN coalesce(v_rest, '[]');
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_right/apply', '90b3332aa056cee8b10ec30847d5d68017a837fc13f2c9156bfad796da163220', $sql$DROP FUNCTION IF EXISTS "replicator"."apply_companies_to_right"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_companies_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."companies_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_companies_to_right"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."companies_to_right_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/contact_persons/to_right/apply ====
-- Map 'contact_persons', 'to_right': the writes to "cds"."contact", as replicator_right_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_right_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."contact_persons_to_right"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"cds"."contact", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "cds"."contact" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "cds"."contact" ("companyid", "contactpersonid", "firstname", "lastname", "emailaddress1", "parent_account_number", "is_sellable")
    SELECT (r.n)."companyid",
       (r.n)."contactpersonid",
       (r.n)."firstname",
       (r.n)."lastname",
       (r.n)."emailaddress1",
       (r.n)."parent_account_number",
       (r.n)."is_sellable"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("companyid", "contactpersonid") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "cds"."contact" AS t
       SET "firstname" = (r.n)."firstname",
       "lastname" = (r.n)."lastname",
       "emailaddress1" = (r.n)."emailaddress1",
       "parent_account_number" = (r.n)."parent_account_number",
       "is_sellable" = (r.n)."is_sellable"
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
CREATE OR REPLACE FUNCTION "replicator_write"."contact_persons_to_right_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "cds"."contact" ("companyid", "contactpersonid", "firstname", "lastname", "emailaddress1", "parent_account_number", "is_sellable")
SELECT n."companyid",
       n."contactpersonid",
       n."firstname",
       n."lastname",
       n."emailaddress1",
       n."parent_account_number",
       n."is_sellable"
  FROM jsonb_populate_recordset(NULL::"cds"."contact", p_rows) AS n
    ON CONFLICT ("companyid", "contactpersonid") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."contact_persons_to_right"(jsonb, boolean) OWNER TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."contact_persons_to_right_sync"(jsonb) OWNER TO "replicator_right_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_right_writer";

-- Map 'contact_persons', 'to_right': write a batch of captured changes into "cds"."contact".
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
CREATE OR REPLACE FUNCTION "replicator"."write_contact_persons_to_right"(p_changes jsonb, p_deletes boolean)
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
        'contact_persons', 'fno.contact_persons'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.contact were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'contact_person_id', c.image->'contact_person_id') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'first_name' IS DISTINCT FROM c.image->'first_name')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'last_name' IS DISTINCT FROM c.image->'last_name')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'email' IS DISTINCT FROM c.image->'email')) AS "w_3",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customer_account' IS DISTINCT FROM c.image->'customer_account')) AS "w_4",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)) AS "w_5",
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."contact_person_id") c.id, c.op, c.image, c.refs, c.key, c.force,
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
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."contact_person_id")
     ORDER BY "k"."dataareaid", "k"."contact_person_id", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."contact_person_id" AS character varying(20)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20),
       "first_name" character varying(50),
       "last_name" character varying(50),
       "email" character varying(80),
       "customer_account" character varying(20))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'contactpersonid', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'first_name'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'first_name'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'last_name'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'last_name'->>3)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'email'->>1)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'email'->>3)::bigint, q."ot_3") AS "ot_3",
           greatest((v.clock->'customer_account'->>1)::bigint, q."o_4", 0) AS "o_4",
           greatest((v.clock->'customer_account'->>3)::bigint, q."ot_4") AS "ot_4",
           0::bigint AS "o_5", NULL::bigint AS "ot_5",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  -- A row here outside the map's filter on this side is not the map's to change.
                  NOT coalesce(("t"."contactpersonid" IS NOT NULL), false) AS outside
             FROM "cds"."contact" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."contactpersonid" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'contactpersonid', "l"."k_2")
              AND v.map_name = 'contact_persons' AND v.side = 'right'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'firstname' IS DISTINCT FROM q.image->'firstname')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'firstname' IS DISTINCT FROM q.image->'firstname')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'lastname' IS DISTINCT FROM q.image->'lastname')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'lastname' IS DISTINCT FROM q.image->'lastname')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'emailaddress1' IS DISTINCT FROM q.image->'emailaddress1')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'emailaddress1' IS DISTINCT FROM q.image->'emailaddress1')))
                      AS "ot_3",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'parent_account_number' IS DISTINCT FROM q.image->'parent_account_number')))
                      AS "o_4",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'parent_account_number' IS DISTINCT FROM q.image->'parent_account_number')))
                      AS "ot_4",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'contactpersonid', "l"."k_2") AND q.map_name = 'contact_persons'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."first_name" AS "n_1",
           g."firstname" AS "c_1",
           "s"."last_name" AS "n_2",
           g."lastname" AS "c_2",
           "s"."email" AS "n_3",
           g."emailaddress1" AS "c_3",
           "s"."customer_account" AS "n_4",
           g."parent_account_number" AS "c_4",
           CAST(false AS boolean) AS "n_5",
           g."is_sellable" AS "c_5",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20),
       "first_name" character varying(50),
       "last_name" character varying(50),
       "email" character varying(80),
       "customer_account" character varying(20))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."contact",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR true) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           j."i_4" IS NOT NULL
               AND (j.forced OR j."s_4" >= j."o_4" OR true) AS "take_4",
           j."i_4" IS NOT NULL AND NOT j.forced AND j."s_4" < j."o_4"
               AND j."n_4" IS DISTINCT FROM j."c_4" AS "x_4",
           j."i_5" IS NOT NULL
               AND (j.forced OR j."s_5" >= j."o_5" OR true) AS "take_5",
           j."i_5" IS NOT NULL AND NOT j.forced AND j."s_5" < j."o_5"
               AND j."n_5" IS DISTINCT FROM j."c_5" AS "x_5",
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
                WHEN j."take_5" THEN ("j"."c_5" OR "j"."n_5") ELSE j."c_5" END AS "f_5",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" OR j."x_4" OR j."x_5" AS conflict
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
                     || jsonb_build_object('companyid', j."k_1", 'contactpersonid', j."k_2", 'firstname', j."f_1", 'lastname', j."f_2", 'emailaddress1', j."f_3", 'parent_account_number', j."f_4", 'is_sellable', j."f_5") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'contact_persons', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'first_name', CASE WHEN j."i_1" IS NULL THEN j.clock->'first_name'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'first_name'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'first_name'->1, to_jsonb(0)), "j"."t_1", j.clock->'first_name'->3) END,
               'last_name', CASE WHEN j."i_2" IS NULL THEN j.clock->'last_name'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'last_name'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'last_name'->1, to_jsonb(0)), "j"."t_2", j.clock->'last_name'->3) END,
               'email', CASE WHEN j."i_3" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'email'->>0)::bigint, 0), "j"."i_3"), coalesce(j.clock->'email'->1, to_jsonb(0)), "j"."t_3", j.clock->'email'->3) END,
               'customer_account', CASE WHEN j."i_4" IS NULL THEN j.clock->'customer_account'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'customer_account'->>0)::bigint, 0), "j"."i_4"), coalesce(j.clock->'customer_account'->1, to_jsonb(0)), "j"."t_4", j.clock->'customer_account'->3) END,
               'is_sellable', CASE WHEN j."i_5" IS NULL THEN j.clock->'is_sellable'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'is_sellable'->>0)::bigint, 0), "j"."i_5"), coalesce(j.clock->'is_sellable'->1, to_jsonb(0)), "j"."t_5", j.clock->'is_sellable'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'contact_persons' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'contact_persons', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
                            CASE WHEN j."take_4" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'is_sellable', CASE WHEN j."x_5" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_5" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") AND NOT (j."x_4" AND NOT j."take_4") AND NOT (j."x_5" AND NOT j."take_5") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") AND NOT (j."x_4" AND j."take_4") AND NOT (j."x_5" AND j."take_5") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.present AND NOT j.exists_after AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), removed AS (
    SELECT "replicator_write"."contact_persons_to_right"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
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
        'contact_persons', v_outside, 'cds.contact', 'right_filter (contactpersonid IS NOT NULL)'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Another application or map owns that row. If it should be this map''s, change it there so that it matches the filter, then retry this error.';
END IF;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'contact_persons', 'cds.contact'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'contact_person_id', c.image->'contact_person_id') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'first_name' IS DISTINCT FROM c.image->'first_name')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'last_name' IS DISTINCT FROM c.image->'last_name')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'email' IS DISTINCT FROM c.image->'email')) AS "w_3",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customer_account' IS DISTINCT FROM c.image->'customer_account')) AS "w_4",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)) AS "w_5",
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."contact_person_id") c.id, c.op, c.image, c.refs, c.key, c.force,
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
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."contact_person_id")
     ORDER BY "k"."dataareaid", "k"."contact_person_id", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."contact_person_id" AS character varying(20)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20),
       "first_name" character varying(50),
       "last_name" character varying(50),
       "email" character varying(80),
       "customer_account" character varying(20))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'contactpersonid', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'first_name'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'first_name'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'last_name'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'last_name'->>3)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'email'->>1)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'email'->>3)::bigint, q."ot_3") AS "ot_3",
           greatest((v.clock->'customer_account'->>1)::bigint, q."o_4", 0) AS "o_4",
           greatest((v.clock->'customer_account'->>3)::bigint, q."ot_4") AS "ot_4",
           0::bigint AS "o_5", NULL::bigint AS "ot_5",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  -- A row here outside the map's filter on this side is not the map's to change.
                  NOT coalesce(("t"."contactpersonid" IS NOT NULL), false) AS outside
             FROM "cds"."contact" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."contactpersonid" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'contactpersonid', "l"."k_2")
              AND v.map_name = 'contact_persons' AND v.side = 'right'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'firstname' IS DISTINCT FROM q.image->'firstname')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'firstname' IS DISTINCT FROM q.image->'firstname')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'lastname' IS DISTINCT FROM q.image->'lastname')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'lastname' IS DISTINCT FROM q.image->'lastname')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'emailaddress1' IS DISTINCT FROM q.image->'emailaddress1')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'emailaddress1' IS DISTINCT FROM q.image->'emailaddress1')))
                      AS "ot_3",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'parent_account_number' IS DISTINCT FROM q.image->'parent_account_number')))
                      AS "o_4",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'parent_account_number' IS DISTINCT FROM q.image->'parent_account_number')))
                      AS "ot_4",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'contactpersonid', "l"."k_2") AND q.map_name = 'contact_persons'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."first_name" AS "n_1",
           g."firstname" AS "c_1",
           "s"."last_name" AS "n_2",
           g."lastname" AS "c_2",
           "s"."email" AS "n_3",
           g."emailaddress1" AS "c_3",
           "s"."customer_account" AS "n_4",
           g."parent_account_number" AS "c_4",
           CAST(false AS boolean) AS "n_5",
           g."is_sellable" AS "c_5",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20),
       "first_name" character varying(50),
       "last_name" character varying(50),
       "email" character varying(80),
       "customer_account" character varying(20))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."contact",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR true) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           j."i_4" IS NOT NULL
               AND (j.forced OR j."s_4" >= j."o_4" OR true) AS "take_4",
           j."i_4" IS NOT NULL AND NOT j.forced AND j."s_4" < j."o_4"
               AND j."n_4" IS DISTINCT FROM j."c_4" AS "x_4",
           j."i_5" IS NOT NULL
               AND (j.forced OR j."s_5" >= j."o_5" OR true) AS "take_5",
           j."i_5" IS NOT NULL AND NOT j.forced AND j."s_5" < j."o_5"
               AND j."n_5" IS DISTINCT FROM j."c_5" AS "x_5",
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
                WHEN j."take_5" THEN ("j"."c_5" OR "j"."n_5") ELSE j."c_5" END AS "f_5",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" OR j."x_4" OR j."x_5" AS conflict
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
                     || jsonb_build_object('companyid', j."k_1", 'contactpersonid', j."k_2", 'firstname', j."f_1", 'lastname', j."f_2", 'emailaddress1', j."f_3", 'parent_account_number', j."f_4", 'is_sellable', j."f_5") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'contact_persons', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'first_name', CASE WHEN j."i_1" IS NULL THEN j.clock->'first_name'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'first_name'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'first_name'->1, to_jsonb(0)), "j"."t_1", j.clock->'first_name'->3) END,
               'last_name', CASE WHEN j."i_2" IS NULL THEN j.clock->'last_name'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'last_name'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'last_name'->1, to_jsonb(0)), "j"."t_2", j.clock->'last_name'->3) END,
               'email', CASE WHEN j."i_3" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'email'->>0)::bigint, 0), "j"."i_3"), coalesce(j.clock->'email'->1, to_jsonb(0)), "j"."t_3", j.clock->'email'->3) END,
               'customer_account', CASE WHEN j."i_4" IS NULL THEN j.clock->'customer_account'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'customer_account'->>0)::bigint, 0), "j"."i_4"), coalesce(j.clock->'customer_account'->1, to_jsonb(0)), "j"."t_4", j.clock->'customer_account'->3) END,
               'is_sellable', CASE WHEN j."i_5" IS NULL THEN j.clock->'is_sellable'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'is_sellable'->>0)::bigint, 0), "j"."i_5"), coalesce(j.clock->'is_sellable'->1, to_jsonb(0)), "j"."t_5", j.clock->'is_sellable'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'contact_persons' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'contact_persons', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
                            CASE WHEN j."take_4" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'is_sellable', CASE WHEN j."x_5" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_5" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") AND NOT (j."x_4" AND NOT j."take_4") AND NOT (j."x_5" AND NOT j."take_5") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") AND NOT (j."x_4" AND j."take_4") AND NOT (j."x_5" AND j."take_5") THEN 'kept_local'
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
    SELECT 'to_right', c.id, 'contact_persons', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('dataareaid', c.image->'dataareaid', 'contact_person_id', c.image->'contact_person_id') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."contact_persons_to_right"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('companyid', j."k_1", 'contactpersonid', j."k_2", 'firstname', j."f_1", 'lastname', j."f_2", 'emailaddress1', j."f_3", 'parent_account_number', j."f_4", 'is_sellable', j."f_5"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('companyid', j."k_1", 'contactpersonid', j."k_2", 'firstname', j."f_1", 'lastname', j."f_2", 'emailaddress1', j."f_3", 'parent_account_number', j."f_4", 'is_sellable', j."f_5")) END), '[]'),
               false) AS written
      FROM planned AS j
     WHERE j.exists_after AND NOT j.holding AND (NOT j.present           OR (j."f_1", j."f_2", j."f_3", j."f_4", j."f_5") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4", j."c_5"))
)
SELECT count(*) FILTER (WHERE j.exists_after AND NOT j.holding AND (NOT j.present                             OR (j."f_1", j."f_2", j."f_3", j."f_4", j."f_5") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4", j."c_5"))),
       (SELECT written FROM written),
       jsonb_agg(jsonb_build_object('key', j.own_key, 'known', j.queued_upto))
           FILTER (WHERE j.exists_after AND NOT j.present AND NOT j.holding),
       jsonb_agg(j.own_key) FILTER (WHERE j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.exists_after AND NOT j.holding                                       AND (j."f_1", j."f_2", j."f_3", j."f_4", j."f_5") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4", j."c_5")))[1]
  INTO v_wanted, v_written, v_inserted, v_touched, v_outside
  FROM planned AS j;
IF v_outside IS NOT NULL THEN
    -- Undone with the statement: the row stays as it is, the change goes to the error log.
    RAISE EXCEPTION 'replicator: map %: the row % of % is outside the map''s %, so it is not the map''s to change',
        'contact_persons', v_outside, 'cds.contact', 'right_filter (contactpersonid IS NOT NULL)'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Another application or map owns that row. If it should be this map''s, change it there so that it matches the filter, then retry this error.';
END IF;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'contact_persons', 'cds.contact'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'contact_persons'
                             AND q.direction || '' = 'to_left' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'contact_persons', 'cds.contact'
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
DROP FUNCTION IF EXISTS "replicator"."apply_contact_persons_to_right"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_contact_persons_to_right"(p_changes jsonb, p_deletes boolean, p_final boolean)
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
                         WHERE state = 'open' AND map_name = 'contact_persons' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_contact_persons_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('contact_persons', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'contact_person_id', c.value->'image'->'contact_person_id') FROM jsonb_array_elements(p_changes) AS c));
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'contact_person_id', c.value->'image'->'contact_person_id')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_contact_persons_to_right"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('contact_persons', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'contact_person_id', v_change->'image'->'contact_person_id')]);
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
                PERFORM "replicator"."log_error"('contact_persons', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'contact_person_id', v_change->'image'->'contact_person_id'),
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
CREATE OR REPLACE FUNCTION "replicator"."sync_contact_persons_to_right"(p_changes jsonb)
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
VALUES ('map/contact_persons/to_right/apply', 'a94e67c012ed41b61971de1f43ac34620be374ea00adc9c846873047e431254c', $sql$-- Removing map 'contact_persons' ('to_right') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'contact_persons' AND direction = 'to_right';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'contact_persons', 'to_right', v_held, 'contact_persons', 'contact_persons', 'contact_persons', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_contact_persons_to_right"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_contact_persons_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."contact_persons_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_contact_persons_to_right"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."contact_persons_to_right_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_groups/to_right/apply ====
-- Map 'customer_groups', 'to_right': the writes to "cds"."customer_group", as replicator_right_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_right_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."customer_groups_to_right"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"cds"."customer_group", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "cds"."customer_group" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "cds"."customer_group" ("companyid", "group_code", "name")
    SELECT (r.n)."companyid",
       (r.n)."group_code",
       (r.n)."name"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("companyid", "group_code") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "cds"."customer_group" AS t
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
CREATE OR REPLACE FUNCTION "replicator_write"."customer_groups_to_right_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "cds"."customer_group" ("companyid", "group_code", "name")
SELECT n."companyid",
       n."group_code",
       n."name"
  FROM jsonb_populate_recordset(NULL::"cds"."customer_group", p_rows) AS n
    ON CONFLICT ("companyid", "group_code") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."customer_groups_to_right"(jsonb, boolean) OWNER TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."customer_groups_to_right_sync"(jsonb) OWNER TO "replicator_right_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_right_writer";

-- Map 'customer_groups', 'to_right': write a batch of captured changes into "cds"."customer_group".
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
CREATE OR REPLACE FUNCTION "replicator"."write_customer_groups_to_right"(p_changes jsonb, p_deletes boolean)
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
        'customer_groups', 'fno.customer_groups'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.customer_group were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'customer_group', c.image->'customer_group') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."customer_group") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "customer_group" character varying(10))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."customer_group")
     ORDER BY "k"."dataareaid", "k"."customer_group", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."customer_group" AS character varying(10)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "customer_group" character varying(10),
       "description" character varying(60))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'group_code', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>3)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."customer_group" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."group_code" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'group_code', "l"."k_2")
              AND v.map_name = 'customer_groups' AND v.side = 'right'
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
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'group_code', "l"."k_2") AND q.map_name = 'customer_groups'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."name" AS "c_1",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "customer_group" character varying(10),
       "description" character varying(60))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."customer_group",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
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
                     || jsonb_build_object('companyid', j."k_1", 'group_code', j."k_2", 'name', j."f_1") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customer_groups', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), "j"."t_1", j.clock->'description'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'customer_groups' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customer_groups', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT "replicator_write"."customer_groups_to_right"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
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
        'customer_groups', 'cds.customer_group'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'customer_group', c.image->'customer_group') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."customer_group") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "customer_group" character varying(10))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."customer_group")
     ORDER BY "k"."dataareaid", "k"."customer_group", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."customer_group" AS character varying(10)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "customer_group" character varying(10),
       "description" character varying(60))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'group_code', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>3)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."customer_group" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."group_code" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'group_code', "l"."k_2")
              AND v.map_name = 'customer_groups' AND v.side = 'right'
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
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'group_code', "l"."k_2") AND q.map_name = 'customer_groups'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."name" AS "c_1",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "customer_group" character varying(10),
       "description" character varying(60))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."customer_group",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
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
                     || jsonb_build_object('companyid', j."k_1", 'group_code', j."k_2", 'name', j."f_1") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customer_groups', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), "j"."t_1", j.clock->'description'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'customer_groups' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customer_groups', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT 'to_right', c.id, 'customer_groups', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('dataareaid', c.image->'dataareaid', 'customer_group', c.image->'customer_group') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."customer_groups_to_right"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('companyid', j."k_1", 'group_code', j."k_2", 'name', j."f_1"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('companyid', j."k_1", 'group_code', j."k_2", 'name', j."f_1")) END), '[]'),
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
        'customer_groups', 'cds.customer_group'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'customer_groups'
                             AND q.direction || '' = 'to_left' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customer_groups', 'cds.customer_group'
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
DROP FUNCTION IF EXISTS "replicator"."apply_customer_groups_to_right"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_customer_groups_to_right"(p_changes jsonb, p_deletes boolean, p_final boolean)
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
                         WHERE state = 'open' AND map_name = 'customer_groups' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_customer_groups_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('customer_groups', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'customer_group', c.value->'image'->'customer_group') FROM jsonb_array_elements(p_changes) AS c));
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'customer_group', c.value->'image'->'customer_group')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_customer_groups_to_right"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('customer_groups', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'customer_group', v_change->'image'->'customer_group')]);
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
                PERFORM "replicator"."log_error"('customer_groups', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'customer_group', v_change->'image'->'customer_group'),
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
CREATE OR REPLACE FUNCTION "replicator"."sync_customer_groups_to_right"(p_changes jsonb)
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
VALUES ('map/customer_groups/to_right/apply', '0747d8c441118bfa03db59393deee937d9edfdba876d83a59fdec46f3f38008f', $sql$-- Removing map 'customer_groups' ('to_right') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'customer_groups' AND direction = 'to_right';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customer_groups', 'to_right', v_held, 'customer_groups', 'customer_groups', 'customer_groups', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_customer_groups_to_right"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customer_groups_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."customer_groups_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_customer_groups_to_right"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."customer_groups_to_right_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_payment_methods/to_right/apply ====
-- Map 'customer_payment_methods', 'to_right': the writes to "cds"."customer_payment_method", as replicator_right_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_right_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."customer_payment_methods_to_right"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"cds"."customer_payment_method", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "cds"."customer_payment_method" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "cds"."customer_payment_method" ("companyid", "code", "name", "payment_type")
    SELECT (r.n)."companyid",
       (r.n)."code",
       (r.n)."name",
       (r.n)."payment_type"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("companyid", "code") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "cds"."customer_payment_method" AS t
       SET "name" = (r.n)."name",
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
CREATE OR REPLACE FUNCTION "replicator_write"."customer_payment_methods_to_right_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "cds"."customer_payment_method" ("companyid", "code", "name", "payment_type")
SELECT n."companyid",
       n."code",
       n."name",
       n."payment_type"
  FROM jsonb_populate_recordset(NULL::"cds"."customer_payment_method", p_rows) AS n
    ON CONFLICT ("companyid", "code") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."customer_payment_methods_to_right"(jsonb, boolean) OWNER TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."customer_payment_methods_to_right_sync"(jsonb) OWNER TO "replicator_right_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_right_writer";

-- Map 'customer_payment_methods', 'to_right': write a batch of captured changes into "cds"."customer_payment_method".
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
CREATE OR REPLACE FUNCTION "replicator"."write_customer_payment_methods_to_right"(p_changes jsonb, p_deletes boolean)
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
        'customer_payment_methods', 'fno.customer_payment_methods'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.customer_payment_method were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'payment_method', c.image->'payment_method') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')) AS "w_1",
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_method") c.id, c.op, c.image, c.refs, c.key, c.force,
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
       "dataareaid" character varying(4),
       "payment_method" character varying(10))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_method")
     ORDER BY "k"."dataareaid", "k"."payment_method", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."payment_method" AS character varying(10)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_method" character varying(10),
       "description" character varying(60),
       "payment_type" character varying(12))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'code', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'payment_type'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'payment_type'->>3)::bigint, q."ot_2") AS "ot_2",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."customer_payment_method" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."code" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'code', "l"."k_2")
              AND v.map_name = 'customer_payment_methods' AND v.side = 'right'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_type' IS DISTINCT FROM q.image->'payment_type')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_type' IS DISTINCT FROM q.image->'payment_type')))
                      AS "ot_2",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'code', "l"."k_2") AND q.map_name = 'customer_payment_methods'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."name" AS "c_1",
           CAST(CASE WHEN "s"."payment_type" IS NULL THEN NULL WHEN "s"."payment_type"::text = 'Check' THEN 'check' WHEN "s"."payment_type"::text = 'Electronic' THEN 'electronic' WHEN "s"."payment_type"::text = 'Cash' THEN 'cash' ELSE "replicator"."unmapped_value"('customer_payment_methods', 'payment_type', "s"."payment_type"::text) END AS "cds"."payment_type") AS "n_2",
           g."payment_type" AS "c_2",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_method" character varying(10),
       "description" character varying(60),
       "payment_type" character varying(12))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."customer_payment_method",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
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
                     || jsonb_build_object('companyid', j."k_1", 'code', j."k_2", 'name', j."f_1", 'payment_type', j."f_2") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customer_payment_methods', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), "j"."t_1", j.clock->'description'->3) END,
               'payment_type', CASE WHEN j."i_2" IS NULL THEN j.clock->'payment_type'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'payment_type'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'payment_type'->1, to_jsonb(0)), "j"."t_2", j.clock->'payment_type'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'customer_payment_methods' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customer_payment_methods', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT "replicator_write"."customer_payment_methods_to_right"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
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
        'customer_payment_methods', 'cds.customer_payment_method'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'payment_method', c.image->'payment_method') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')) AS "w_1",
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_method") c.id, c.op, c.image, c.refs, c.key, c.force,
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
       "dataareaid" character varying(4),
       "payment_method" character varying(10))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_method")
     ORDER BY "k"."dataareaid", "k"."payment_method", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."payment_method" AS character varying(10)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_method" character varying(10),
       "description" character varying(60),
       "payment_type" character varying(12))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'code', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'payment_type'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'payment_type'->>3)::bigint, q."ot_2") AS "ot_2",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."customer_payment_method" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."code" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'code', "l"."k_2")
              AND v.map_name = 'customer_payment_methods' AND v.side = 'right'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_type' IS DISTINCT FROM q.image->'payment_type')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'payment_type' IS DISTINCT FROM q.image->'payment_type')))
                      AS "ot_2",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'code', "l"."k_2") AND q.map_name = 'customer_payment_methods'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."name" AS "c_1",
           CAST(CASE WHEN "s"."payment_type" IS NULL THEN NULL WHEN "s"."payment_type"::text = 'Check' THEN 'check' WHEN "s"."payment_type"::text = 'Electronic' THEN 'electronic' WHEN "s"."payment_type"::text = 'Cash' THEN 'cash' ELSE "replicator"."unmapped_value"('customer_payment_methods', 'payment_type', "s"."payment_type"::text) END AS "cds"."payment_type") AS "n_2",
           g."payment_type" AS "c_2",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_method" character varying(10),
       "description" character varying(60),
       "payment_type" character varying(12))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."customer_payment_method",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
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
                     || jsonb_build_object('companyid', j."k_1", 'code', j."k_2", 'name', j."f_1", 'payment_type', j."f_2") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customer_payment_methods', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), "j"."t_1", j.clock->'description'->3) END,
               'payment_type', CASE WHEN j."i_2" IS NULL THEN j.clock->'payment_type'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'payment_type'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'payment_type'->1, to_jsonb(0)), "j"."t_2", j.clock->'payment_type'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'customer_payment_methods' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customer_payment_methods', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT 'to_right', c.id, 'customer_payment_methods', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('dataareaid', c.image->'dataareaid', 'payment_method', c.image->'payment_method') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."customer_payment_methods_to_right"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('companyid', j."k_1", 'code', j."k_2", 'name', j."f_1", 'payment_type', j."f_2"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('companyid', j."k_1", 'code', j."k_2", 'name', j."f_1", 'payment_type', j."f_2")) END), '[]'),
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
        'customer_payment_methods', 'cds.customer_payment_method'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'customer_payment_methods'
                             AND q.direction || '' = 'to_left' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customer_payment_methods', 'cds.customer_payment_method'
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
DROP FUNCTION IF EXISTS "replicator"."apply_customer_payment_methods_to_right"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_customer_payment_methods_to_right"(p_changes jsonb, p_deletes boolean, p_final boolean)
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
                         WHERE state = 'open' AND map_name = 'customer_payment_methods' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_customer_payment_methods_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('customer_payment_methods', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_method', c.value->'image'->'payment_method') FROM jsonb_array_elements(p_changes) AS c));
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_method', c.value->'image'->'payment_method')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_customer_payment_methods_to_right"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('customer_payment_methods', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_method', v_change->'image'->'payment_method')]);
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
                PERFORM "replicator"."log_error"('customer_payment_methods', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_method', v_change->'image'->'payment_method'),
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
CREATE OR REPLACE FUNCTION "replicator"."sync_customer_payment_methods_to_right"(p_changes jsonb)
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
VALUES ('map/customer_payment_methods/to_right/apply', '8be4a7f1c10b6b1b3299f82ada006945267b8383f3eff27c0a156f299bdd4c9c', $sql$-- Removing map 'customer_payment_methods' ('to_right') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'customer_payment_methods' AND direction = 'to_right';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customer_payment_methods', 'to_right', v_held, 'customer_payment_methods', 'customer_payment_methods', 'customer_payment_methods', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_customer_payment_methods_to_right"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customer_payment_methods_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."customer_payment_methods_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_customer_payment_methods_to_right"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."customer_payment_methods_to_right_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_person/to_right/apply ====
-- Map 'customers_person', 'to_right': the writes to "cds"."contact", as replicator_right_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_right_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."customers_person_to_right"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"cds"."contact", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "cds"."contact" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "cds"."contact" ("companyid", "customer_number", "firstname", "middlename", "lastname", "emailaddress1", "is_sellable")
    SELECT (r.n)."companyid",
       (r.n)."customer_number",
       (r.n)."firstname",
       (r.n)."middlename",
       (r.n)."lastname",
       (r.n)."emailaddress1",
       (r.n)."is_sellable"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("companyid", "customer_number") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "cds"."contact" AS t
       SET "firstname" = (r.n)."firstname",
       "middlename" = (r.n)."middlename",
       "lastname" = (r.n)."lastname",
       "emailaddress1" = (r.n)."emailaddress1",
       "is_sellable" = (r.n)."is_sellable"
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
CREATE OR REPLACE FUNCTION "replicator_write"."customers_person_to_right_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "cds"."contact" ("companyid", "customer_number", "firstname", "middlename", "lastname", "emailaddress1", "is_sellable")
SELECT n."companyid",
       n."customer_number",
       n."firstname",
       n."middlename",
       n."lastname",
       n."emailaddress1",
       n."is_sellable"
  FROM jsonb_populate_recordset(NULL::"cds"."contact", p_rows) AS n
    ON CONFLICT ("companyid", "customer_number") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."customers_person_to_right"(jsonb, boolean) OWNER TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."customers_person_to_right_sync"(jsonb) OWNER TO "replicator_right_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_right_writer";

-- Map 'customers_person', 'to_right': write a batch of captured changes into "cds"."contact".
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
CREATE OR REPLACE FUNCTION "replicator"."write_customers_person_to_right"(p_changes jsonb, p_deletes boolean)
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
        'customers_person', 'fno.customers'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.contact were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'account_num', c.image->'account_num') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_3",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'email' IS DISTINCT FROM c.image->'email')) AS "w_4",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)) AS "w_5",
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."account_num") c.id, c.op, c.image, c.refs, c.key, c.force,
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
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "account_num" character varying(20))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."account_num")
     ORDER BY "k"."dataareaid", "k"."account_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."account_num" AS character varying(20)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "account_num" character varying(20),
       "name" character varying(100),
       "email" character varying(80))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'customer_number', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           0::bigint AS "o_1", NULL::bigint AS "ot_1",
           0::bigint AS "o_2", NULL::bigint AS "ot_2",
           0::bigint AS "o_3", NULL::bigint AS "ot_3",
           greatest((v.clock->'email'->>1)::bigint, q."o_4", 0) AS "o_4",
           greatest((v.clock->'email'->>3)::bigint, q."ot_4") AS "ot_4",
           0::bigint AS "o_5", NULL::bigint AS "ot_5",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  -- A row here outside the map's filter on this side is not the map's to change.
                  NOT coalesce(("t"."is_sellable" AND "t"."customer_number" IS NOT NULL), false) AS outside
             FROM "cds"."contact" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."customer_number" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'customer_number', "l"."k_2")
              AND v.map_name = 'customers_person' AND v.side = 'right'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'emailaddress1' IS DISTINCT FROM q.image->'emailaddress1')))
                      AS "o_4",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'emailaddress1' IS DISTINCT FROM q.image->'emailaddress1')))
                      AS "ot_4",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'customer_number', "l"."k_2") AND q.map_name = 'customers_person'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           (CAST(SPLIT_PART("s"."name", ' ', 1) AS VARCHAR(50))) AS "n_1",
           g."firstname" AS "c_1",
           (CAST(NULLIF(REGEXP_REPLACE(REGEXP_REPLACE("s"."name", '^[^ ]* ?', ''), ' ?[^ ]*$', ''), '') AS VARCHAR(50))) AS "n_2",
           g."middlename" AS "c_2",
           (CAST(CASE WHEN POSITION(' ' IN "s"."name") > 0 THEN REGEXP_REPLACE("s"."name", '^.* ', '') END AS VARCHAR(50))) AS "n_3",
           g."lastname" AS "c_3",
           "s"."email" AS "n_4",
           g."emailaddress1" AS "c_4",
           CAST(true AS boolean) AS "n_5",
           g."is_sellable" AS "c_5",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "account_num" character varying(20),
       "name" character varying(100),
       "email" character varying(80))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."contact",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR true) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           j."i_4" IS NOT NULL
               AND (j.forced OR j."s_4" >= j."o_4" OR true) AS "take_4",
           j."i_4" IS NOT NULL AND NOT j.forced AND j."s_4" < j."o_4"
               AND j."n_4" IS DISTINCT FROM j."c_4" AS "x_4",
           j."i_5" IS NOT NULL
               AND (j.forced OR j."s_5" >= j."o_5" OR true) AS "take_5",
           j."i_5" IS NOT NULL AND NOT j.forced AND j."s_5" < j."o_5"
               AND j."n_5" IS DISTINCT FROM j."c_5" AS "x_5",
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
                WHEN j."take_5" THEN ("j"."c_5" OR "j"."n_5") ELSE j."c_5" END AS "f_5",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" OR j."x_4" OR j."x_5" AS conflict
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
                     || jsonb_build_object('companyid', j."k_1", 'customer_number', j."k_2", 'firstname', j."f_1", 'middlename', j."f_2", 'lastname', j."f_3", 'emailaddress1', j."f_4", 'is_sellable', j."f_5") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customers_person', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'firstname', CASE WHEN j."i_1" IS NULL THEN j.clock->'firstname'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'firstname'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'firstname'->1, to_jsonb(0)), "j"."t_1", j.clock->'firstname'->3) END,
               'middlename', CASE WHEN j."i_2" IS NULL THEN j.clock->'middlename'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'middlename'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'middlename'->1, to_jsonb(0)), "j"."t_2", j.clock->'middlename'->3) END,
               'lastname', CASE WHEN j."i_3" IS NULL THEN j.clock->'lastname'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'lastname'->>0)::bigint, 0), "j"."i_3"), coalesce(j.clock->'lastname'->1, to_jsonb(0)), "j"."t_3", j.clock->'lastname'->3) END,
               'email', CASE WHEN j."i_4" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'email'->>0)::bigint, 0), "j"."i_4"), coalesce(j.clock->'email'->1, to_jsonb(0)), "j"."t_4", j.clock->'email'->3) END,
               'is_sellable', CASE WHEN j."i_5" IS NULL THEN j.clock->'is_sellable'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'is_sellable'->>0)::bigint, 0), "j"."i_5"), coalesce(j.clock->'is_sellable'->1, to_jsonb(0)), "j"."t_5", j.clock->'is_sellable'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'customers_person' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customers_person', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'firstname', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'middlename', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'lastname', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_3" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'email', CASE WHEN j."x_4" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_4" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'is_sellable', CASE WHEN j."x_5" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_5" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") AND NOT (j."x_4" AND NOT j."take_4") AND NOT (j."x_5" AND NOT j."take_5") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") AND NOT (j."x_4" AND j."take_4") AND NOT (j."x_5" AND j."take_5") THEN 'kept_local'
                ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.present AND NOT j.exists_after AND NOT j.holding
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), removed AS (
    SELECT "replicator_write"."customers_person_to_right"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
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
        'customers_person', v_outside, 'cds.contact', 'right_filter (is_sellable AND customer_number IS NOT NULL)'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Another application or map owns that row. If it should be this map''s, change it there so that it matches the filter, then retry this error.';
END IF;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_person', 'cds.contact'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'account_num', c.image->'account_num') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_3",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'email' IS DISTINCT FROM c.image->'email')) AS "w_4",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)) AS "w_5",
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."account_num") c.id, c.op, c.image, c.refs, c.key, c.force,
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
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "account_num" character varying(20))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."account_num")
     ORDER BY "k"."dataareaid", "k"."account_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."account_num" AS character varying(20)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "account_num" character varying(20),
       "name" character varying(100),
       "email" character varying(80))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'customer_number', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           0::bigint AS "o_1", NULL::bigint AS "ot_1",
           0::bigint AS "o_2", NULL::bigint AS "ot_2",
           0::bigint AS "o_3", NULL::bigint AS "ot_3",
           greatest((v.clock->'email'->>1)::bigint, q."o_4", 0) AS "o_4",
           greatest((v.clock->'email'->>3)::bigint, q."ot_4") AS "ot_4",
           0::bigint AS "o_5", NULL::bigint AS "ot_5",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  -- A row here outside the map's filter on this side is not the map's to change.
                  NOT coalesce(("t"."is_sellable" AND "t"."customer_number" IS NOT NULL), false) AS outside
             FROM "cds"."contact" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."customer_number" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'customer_number', "l"."k_2")
              AND v.map_name = 'customers_person' AND v.side = 'right'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'emailaddress1' IS DISTINCT FROM q.image->'emailaddress1')))
                      AS "o_4",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'emailaddress1' IS DISTINCT FROM q.image->'emailaddress1')))
                      AS "ot_4",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'customer_number', "l"."k_2") AND q.map_name = 'customers_person'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           (CAST(SPLIT_PART("s"."name", ' ', 1) AS VARCHAR(50))) AS "n_1",
           g."firstname" AS "c_1",
           (CAST(NULLIF(REGEXP_REPLACE(REGEXP_REPLACE("s"."name", '^[^ ]* ?', ''), ' ?[^ ]*$', ''), '') AS VARCHAR(50))) AS "n_2",
           g."middlename" AS "c_2",
           (CAST(CASE WHEN POSITION(' ' IN "s"."name") > 0 THEN REGEXP_REPLACE("s"."name", '^.* ', '') END AS VARCHAR(50))) AS "n_3",
           g."lastname" AS "c_3",
           "s"."email" AS "n_4",
           g."emailaddress1" AS "c_4",
           CAST(true AS boolean) AS "n_5",
           g."is_sellable" AS "c_5",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "account_num" character varying(20),
       "name" character varying(100),
       "email" character varying(80))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."contact",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR true) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           j."i_4" IS NOT NULL
               AND (j.forced OR j."s_4" >= j."o_4" OR true) AS "take_4",
           j."i_4" IS NOT NULL AND NOT j.forced AND j."s_4" < j."o_4"
               AND j."n_4" IS DISTINCT FROM j."c_4" AS "x_4",
           j."i_5" IS NOT NULL
               AND (j.forced OR j."s_5" >= j."o_5" OR true) AS "take_5",
           j."i_5" IS NOT NULL AND NOT j.forced AND j."s_5" < j."o_5"
               AND j."n_5" IS DISTINCT FROM j."c_5" AS "x_5",
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
                WHEN j."take_5" THEN ("j"."c_5" OR "j"."n_5") ELSE j."c_5" END AS "f_5",
           j.x_0 OR j."x_1" OR j."x_2" OR j."x_3" OR j."x_4" OR j."x_5" AS conflict
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
                     || jsonb_build_object('companyid', j."k_1", 'customer_number', j."k_2", 'firstname', j."f_1", 'middlename', j."f_2", 'lastname', j."f_3", 'emailaddress1', j."f_4", 'is_sellable', j."f_5") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customers_person', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'firstname', CASE WHEN j."i_1" IS NULL THEN j.clock->'firstname'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'firstname'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'firstname'->1, to_jsonb(0)), "j"."t_1", j.clock->'firstname'->3) END,
               'middlename', CASE WHEN j."i_2" IS NULL THEN j.clock->'middlename'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'middlename'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'middlename'->1, to_jsonb(0)), "j"."t_2", j.clock->'middlename'->3) END,
               'lastname', CASE WHEN j."i_3" IS NULL THEN j.clock->'lastname'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'lastname'->>0)::bigint, 0), "j"."i_3"), coalesce(j.clock->'lastname'->1, to_jsonb(0)), "j"."t_3", j.clock->'lastname'->3) END,
               'email', CASE WHEN j."i_4" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'email'->>0)::bigint, 0), "j"."i_4"), coalesce(j.clock->'email'->1, to_jsonb(0)), "j"."t_4", j.clock->'email'->3) END,
               'is_sellable', CASE WHEN j."i_5" IS NULL THEN j.clock->'is_sellable'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'is_sellable'->>0)::bigint, 0), "j"."i_5"), coalesce(j.clock->'is_sellable'->1, to_jsonb(0)), "j"."t_5", j.clock->'is_sellable'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'customers_person' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customers_person', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
           CASE WHEN j.present THEN j.local_row ELSE j.gone END,
           to_timestamp(j.t_0 / 1000000.0), to_timestamp(j.ot_0 / 1000000.0),
           jsonb_strip_nulls(jsonb_build_object(
               '(row)', CASE WHEN j.x_0 THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j.take_0 THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'firstname', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_1" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'middlename', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_2" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'lastname', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_3" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'email', CASE WHEN j."x_4" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_4" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END,
               'is_sellable', CASE WHEN j."x_5" THEN jsonb_build_object('policy', 'left_wins', 'took',
                            CASE WHEN j."take_5" THEN 'incoming' WHEN false THEN 'waiting' ELSE 'local' END) END)),
           'left_wins',
           CASE WHEN j.waiting THEN 'waiting'
                WHEN NOT (j.x_0 AND NOT j.take_0) AND NOT (j."x_1" AND NOT j."take_1") AND NOT (j."x_2" AND NOT j."take_2") AND NOT (j."x_3" AND NOT j."take_3") AND NOT (j."x_4" AND NOT j."take_4") AND NOT (j."x_5" AND NOT j."take_5") THEN 'took_incoming'
                WHEN NOT (j.x_0 AND j.take_0) AND NOT (j."x_1" AND j."take_1") AND NOT (j."x_2" AND j."take_2") AND NOT (j."x_3" AND j."take_3") AND NOT (j."x_4" AND j."take_4") AND NOT (j."x_5" AND j."take_5") THEN 'kept_local'
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
    SELECT 'to_right', c.id, 'customers_person', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('dataareaid', c.image->'dataareaid', 'account_num', c.image->'account_num') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."customers_person_to_right"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('companyid', j."k_1", 'customer_number', j."k_2", 'firstname', j."f_1", 'middlename', j."f_2", 'lastname', j."f_3", 'emailaddress1', j."f_4", 'is_sellable', j."f_5"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('companyid', j."k_1", 'customer_number', j."k_2", 'firstname', j."f_1", 'middlename', j."f_2", 'lastname', j."f_3", 'emailaddress1', j."f_4", 'is_sellable', j."f_5")) END), '[]'),
               false) AS written
      FROM planned AS j
     WHERE j.exists_after AND NOT j.holding AND (NOT j.present           OR (j."f_1", j."f_2", j."f_3", j."f_4", j."f_5") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4", j."c_5"))
)
SELECT count(*) FILTER (WHERE j.exists_after AND NOT j.holding AND (NOT j.present                             OR (j."f_1", j."f_2", j."f_3", j."f_4", j."f_5") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4", j."c_5"))),
       (SELECT written FROM written),
       jsonb_agg(jsonb_build_object('key', j.own_key, 'known', j.queued_upto))
           FILTER (WHERE j.exists_after AND NOT j.present AND NOT j.holding),
       jsonb_agg(j.own_key) FILTER (WHERE j.exists_after AND NOT j.holding),
       (array_agg(j.own_key) FILTER (WHERE j.outside AND j.exists_after AND NOT j.holding                                       AND (j."f_1", j."f_2", j."f_3", j."f_4", j."f_5") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4", j."c_5")))[1]
  INTO v_wanted, v_written, v_inserted, v_touched, v_outside
  FROM planned AS j;
IF v_outside IS NOT NULL THEN
    -- Undone with the statement: the row stays as it is, the change goes to the error log.
    RAISE EXCEPTION 'replicator: map %: the row % of % is outside the map''s %, so it is not the map''s to change',
        'customers_person', v_outside, 'cds.contact', 'right_filter (is_sellable AND customer_number IS NOT NULL)'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Another application or map owns that row. If it should be this map''s, change it there so that it matches the filter, then retry this error.';
END IF;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_person', 'cds.contact'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'customers_person'
                             AND q.direction || '' = 'to_left' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_person', 'cds.contact'
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
DROP FUNCTION IF EXISTS "replicator"."apply_customers_person_to_right"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_customers_person_to_right"(p_changes jsonb, p_deletes boolean, p_final boolean)
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
                         WHERE state = 'open' AND map_name = 'customers_person' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_customers_person_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('customers_person', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'account_num', c.value->'image'->'account_num') FROM jsonb_array_elements(p_changes) AS c));
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'account_num', c.value->'image'->'account_num')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_customers_person_to_right"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('customers_person', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'account_num', v_change->'image'->'account_num')]);
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
                PERFORM "replicator"."log_error"('customers_person', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'account_num', v_change->'image'->'account_num'),
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
CREATE OR REPLACE FUNCTION "replicator"."sync_customers_person_to_right"(p_changes jsonb)
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
VALUES ('map/customers_person/to_right/apply', '4e5f584b540a6871e702c81bed68037c092fa88976477b147f777ac0438f44ad', $sql$-- Removing map 'customers_person' ('to_right') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'customers_person' AND direction = 'to_right';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customers_person', 'to_right', v_held, 'customers_person', 'customers_person', 'customers_person', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_customers_person_to_right"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customers_person_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."customers_person_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_customers_person_to_right"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."customers_person_to_right_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/loyalty_cards/to_right/apply ====
-- Map 'loyalty_cards', 'to_right': the writes to "cds"."loyalty_card", as replicator_right_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_right_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."loyalty_cards_to_right"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"cds"."loyalty_card", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "cds"."loyalty_card" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "cds"."loyalty_card" ("card_number", "tier", "issued_on", "is_blocked")
    SELECT (r.n)."card_number",
       (r.n)."tier",
       (r.n)."issued_on",
       (r.n)."is_blocked"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("card_number") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "cds"."loyalty_card" AS t
       SET "tier" = (r.n)."tier",
       "issued_on" = (r.n)."issued_on",
       "is_blocked" = (r.n)."is_blocked"
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
CREATE OR REPLACE FUNCTION "replicator_write"."loyalty_cards_to_right_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "cds"."loyalty_card" ("card_number", "tier", "issued_on", "is_blocked")
SELECT n."card_number",
       n."tier",
       n."issued_on",
       n."is_blocked"
  FROM jsonb_populate_recordset(NULL::"cds"."loyalty_card", p_rows) AS n
    ON CONFLICT ("card_number") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."loyalty_cards_to_right"(jsonb, boolean) OWNER TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."loyalty_cards_to_right_sync"(jsonb) OWNER TO "replicator_right_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_right_writer";

-- Map 'loyalty_cards', 'to_right': write a batch of captured changes into "cds"."loyalty_card".
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
CREATE OR REPLACE FUNCTION "replicator"."write_loyalty_cards_to_right"(p_changes jsonb, p_deletes boolean)
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
        'loyalty_cards', 'fno.loyalty_cards'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.loyalty_card were left as they are: delete them there if they should go, then close this error with replicator skip.';
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
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'blocked' IS DISTINCT FROM c.image->'blocked')) AS "w_3",
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
       "blocked" boolean)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('card_number', "l"."k_1") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'tier'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'tier'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'issued_on'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'issued_on'->>3)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'blocked'->>1)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'blocked'->>3)::bigint, q."ot_3") AS "ot_3",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."loyalty_card" AS t
            WHERE "t"."card_number" = "l"."k_1"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('card_number', "l"."k_1")
              AND v.map_name = 'loyalty_cards' AND v.side = 'right'
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
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'is_blocked' IS DISTINCT FROM q.image->'is_blocked')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'is_blocked' IS DISTINCT FROM q.image->'is_blocked')))
                      AS "ot_3",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('card_number', "l"."k_1") AND q.map_name = 'loyalty_cards'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."tier" AS "n_1",
           g."tier" AS "c_1",
           "s"."issued_on" AS "n_2",
           g."issued_on" AS "c_2",
           "s"."blocked" AS "n_3",
           g."is_blocked" AS "c_3",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "blocked" boolean)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."loyalty_card",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR true) AS "take_3",
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
                     || jsonb_build_object('card_number', j."k_1", 'tier', j."f_1", 'issued_on', j."f_2", 'is_blocked', j."f_3") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'loyalty_cards', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'tier', CASE WHEN j."i_1" IS NULL THEN j.clock->'tier'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'tier'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'tier'->1, to_jsonb(0)), "j"."t_1", j.clock->'tier'->3) END,
               'issued_on', CASE WHEN j."i_2" IS NULL THEN j.clock->'issued_on'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'issued_on'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'issued_on'->1, to_jsonb(0)), "j"."t_2", j.clock->'issued_on'->3) END,
               'blocked', CASE WHEN j."i_3" IS NULL THEN j.clock->'blocked'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'blocked'->>0)::bigint, 0), "j"."i_3"), coalesce(j.clock->'blocked'->1, to_jsonb(0)), "j"."t_3", j.clock->'blocked'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'loyalty_cards' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'loyalty_cards', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT "replicator_write"."loyalty_cards_to_right"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
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
        'loyalty_cards', 'cds.loyalty_card'
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
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'blocked' IS DISTINCT FROM c.image->'blocked')) AS "w_3",
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
       "blocked" boolean)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('card_number', "l"."k_1") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'tier'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'tier'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'issued_on'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'issued_on'->>3)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'blocked'->>1)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'blocked'->>3)::bigint, q."ot_3") AS "ot_3",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."loyalty_card" AS t
            WHERE "t"."card_number" = "l"."k_1"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('card_number', "l"."k_1")
              AND v.map_name = 'loyalty_cards' AND v.side = 'right'
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
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'is_blocked' IS DISTINCT FROM q.image->'is_blocked')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'is_blocked' IS DISTINCT FROM q.image->'is_blocked')))
                      AS "ot_3",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('card_number', "l"."k_1") AND q.map_name = 'loyalty_cards'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."tier" AS "n_1",
           g."tier" AS "c_1",
           "s"."issued_on" AS "n_2",
           g."issued_on" AS "c_2",
           "s"."blocked" AS "n_3",
           g."is_blocked" AS "c_3",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "blocked" boolean)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."loyalty_card",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR true) AS "take_3",
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
                     || jsonb_build_object('card_number', j."k_1", 'tier', j."f_1", 'issued_on', j."f_2", 'is_blocked', j."f_3") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'loyalty_cards', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'tier', CASE WHEN j."i_1" IS NULL THEN j.clock->'tier'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'tier'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'tier'->1, to_jsonb(0)), "j"."t_1", j.clock->'tier'->3) END,
               'issued_on', CASE WHEN j."i_2" IS NULL THEN j.clock->'issued_on'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'issued_on'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'issued_on'->1, to_jsonb(0)), "j"."t_2", j.clock->'issued_on'->3) END,
               'blocked', CASE WHEN j."i_3" IS NULL THEN j.clock->'blocked'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'blocked'->>0)::bigint, 0), "j"."i_3"), coalesce(j.clock->'blocked'->1, to_jsonb(0)), "j"."t_3", j.clock->'blocked'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'loyalty_cards' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'loyalty_cards', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT "replicator_write"."loyalty_cards_to_right"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('card_number', j."k_1", 'tier', j."f_1", 'issued_on', j."f_2", 'is_blocked', j."f_3"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('card_number', j."k_1", 'tier', j."f_1", 'issued_on', j."f_2", 'is_blocked', j."f_3")) END), '[]'),
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
        'loyalty_cards', 'cds.loyalty_card'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'loyalty_cards'
                             AND q.direction || '' = 'to_left' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'loyalty_cards', 'cds.loyalty_card'
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
DROP FUNCTION IF EXISTS "replicator"."apply_loyalty_cards_to_right"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_loyalty_cards_to_right"(p_changes jsonb, p_deletes boolean, p_final boolean)
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
                         WHERE state = 'open' AND map_name = 'loyalty_cards' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_loyalty_cards_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('loyalty_cards', 'to_right', ARRAY(
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
            PERFORM "replicator"."write_loyalty_cards_to_right"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('loyalty_cards', 'to_right', ARRAY[jsonb_build_object('card_number', v_change->'image'->'card_number')]);
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
                PERFORM "replicator"."log_error"('loyalty_cards', 'to_right', v_change, jsonb_build_object('card_number', v_change->'image'->'card_number'),
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
CREATE OR REPLACE FUNCTION "replicator"."sync_loyalty_cards_to_right"(p_changes jsonb)
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
    IF EXISTS (SELECT FROM "replicator"."held_change" WHERE direction = 'to_right')
       OR EXISTS (SELECT FROM "replicator"."error_log"
                   WHERE state = 'open' AND map_name = 'loyalty_cards' AND direction = 'to_right') THEN
        RETURN p_changes;
    END IF;
    BEGIN
        WITH incoming AS MATERIALIZED (
            SELECT c.change, c.ordinal,
                   CAST("s"."card_number" AS character varying(20)) AS "k_1",
                   "s"."tier" AS "f_1",
                   "s"."issued_on" AS "f_2",
                   "s"."blocked" AS "f_3",
                   c.change->>'op' = 'I' AND coalesce((c.change->>'force')::boolean, false) AS insert_only
              FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS c(change, ordinal)
             CROSS JOIN LATERAL jsonb_to_record(c.change->'image') AS s(
               "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "blocked" boolean)
        ), judged AS (
            SELECT l.*, jsonb_build_object('card_number', "l"."k_1") AS own_key,
                   l.insert_only
                   AND NOT EXISTS (SELECT FROM "cds"."loyalty_card" AS t WHERE "t"."card_number" = "l"."k_1")
                   AND NOT EXISTS (SELECT FROM "replicator"."versions" AS v
                                    WHERE v.key = jsonb_build_object('card_number', "l"."k_1")
                                      AND v.map_name = 'loyalty_cards' AND v.side = 'right')
                   AND NOT EXISTS (SELECT FROM "replicator"."change_queue" AS q
                                    WHERE q.key = jsonb_build_object('card_number', "l"."k_1") AND q.map_name = 'loyalty_cards'
                                      AND q.direction || '' = 'to_left')
                   AS fresh
              FROM incoming AS l
        ), written AS (
            SELECT "replicator_write"."loyalty_cards_to_right_sync"(coalesce(jsonb_agg(jsonb_build_object('card_number', j."k_1", 'tier', j."f_1", 'issued_on', j."f_2", 'is_blocked', j."f_3")), '[]')) AS written
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
                'loyalty_cards', 'cds.loyalty_card'
                USING ERRCODE = 'serialization_failure';
        END IF;
        -- A row inserted and deleted here, and both queued, after it was judged: likewise.
        IF EXISTS (SELECT FROM "replicator"."change_queue" AS q
                    WHERE q.key = ANY (ARRAY(SELECT x.value FROM jsonb_array_elements(coalesce(v_inserted, '[]')) AS x))
                      AND q.map_name = 'loyalty_cards' AND q.direction || '' = 'to_left') THEN
            RAISE EXCEPTION 'replicator: map %: a row of % changed while a chunk was synced to it',
                'loyalty_cards', 'cds.loyalty_card'
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
         WHERE map_name = 'loyalty_cards' AND direction = 'to_right';
    END IF;
    RETURN coalesce(v_rest, '[]');
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_right/apply', '03efba8c62d9a15718bd382499b43fe61eec9d9b051efe80fef900ff746f5ee4', $sql$DROP FUNCTION IF EXISTS "replicator"."apply_loyalty_cards_to_right"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_loyalty_cards_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."loyalty_cards_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_loyalty_cards_to_right"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."loyalty_cards_to_right_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/name_affixes/to_right/apply ====
-- Map 'name_affixes', 'to_right': the writes to "cds"."name_affix", as replicator_right_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_right_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."name_affixes_to_right"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"cds"."name_affix", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "cds"."name_affix" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "cds"."name_affix" ("affix", "affix_type", "description")
    SELECT (r.n)."affix",
       (r.n)."affix_type",
       (r.n)."description"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("affix", "affix_type") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "cds"."name_affix" AS t
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
CREATE OR REPLACE FUNCTION "replicator_write"."name_affixes_to_right_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "cds"."name_affix" ("affix", "affix_type", "description")
SELECT n."affix",
       n."affix_type",
       n."description"
  FROM jsonb_populate_recordset(NULL::"cds"."name_affix", p_rows) AS n
    ON CONFLICT ("affix", "affix_type") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."name_affixes_to_right"(jsonb, boolean) OWNER TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."name_affixes_to_right_sync"(jsonb) OWNER TO "replicator_right_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_right_writer";

-- Map 'name_affixes', 'to_right': write a batch of captured changes into "cds"."name_affix".
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
CREATE OR REPLACE FUNCTION "replicator"."write_name_affixes_to_right"(p_changes jsonb, p_deletes boolean)
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
        'name_affixes', 'fno.name_affixes'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.name_affix were left as they are: delete them there if they should go, then close this error with replicator skip.';
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
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>3)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."name_affix" AS t
            WHERE "t"."affix" = "l"."k_1" AND "t"."affix_type" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('affix', "l"."k_1", 'affix_type', "l"."k_2")
              AND v.map_name = 'name_affixes' AND v.side = 'right'
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
              AND q.direction || '' = 'to_left') AS q ON true
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
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."name_affix",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
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
    SELECT 'name_affixes', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), "j"."t_1", j.clock->'description'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'name_affixes' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'name_affixes', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT "replicator_write"."name_affixes_to_right"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
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
        'name_affixes', 'cds.name_affix'
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
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>3)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."name_affix" AS t
            WHERE "t"."affix" = "l"."k_1" AND "t"."affix_type" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('affix', "l"."k_1", 'affix_type', "l"."k_2")
              AND v.map_name = 'name_affixes' AND v.side = 'right'
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
              AND q.direction || '' = 'to_left') AS q ON true
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
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."name_affix",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
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
    SELECT 'name_affixes', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), "j"."t_1", j.clock->'description'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'name_affixes' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'name_affixes', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT "replicator_write"."name_affixes_to_right"(coalesce(jsonb_agg(
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
        'name_affixes', 'cds.name_affix'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'name_affixes'
                             AND q.direction || '' = 'to_left' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'name_affixes', 'cds.name_affix'
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
DROP FUNCTION IF EXISTS "replicator"."apply_name_affixes_to_right"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_name_affixes_to_right"(p_changes jsonb, p_deletes boolean, p_final boolean)
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
                         WHERE state = 'open' AND map_name = 'name_affixes' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_name_affixes_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('name_affixes', 'to_right', ARRAY(
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
            PERFORM "replicator"."write_name_affixes_to_right"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('name_affixes', 'to_right', ARRAY[jsonb_build_object('affix', v_change->'image'->'affix', 'affix_type', v_change->'image'->'affix_type')]);
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
                PERFORM "replicator"."log_error"('name_affixes', 'to_right', v_change, jsonb_build_object('affix', v_change->'image'->'affix', 'affix_type', v_change->'image'->'affix_type'),
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
CREATE OR REPLACE FUNCTION "replicator"."sync_name_affixes_to_right"(p_changes jsonb)
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
    IF EXISTS (SELECT FROM "replicator"."held_change" WHERE direction = 'to_right')
       OR EXISTS (SELECT FROM "replicator"."error_log"
                   WHERE state = 'open' AND map_name = 'name_affixes' AND direction = 'to_right') THEN
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
                   AND NOT EXISTS (SELECT FROM "cds"."name_affix" AS t WHERE "t"."affix" = "l"."k_1" AND "t"."affix_type" = "l"."k_2")
                   AND NOT EXISTS (SELECT FROM "replicator"."versions" AS v
                                    WHERE v.key = jsonb_build_object('affix', "l"."k_1", 'affix_type', "l"."k_2")
                                      AND v.map_name = 'name_affixes' AND v.side = 'right')
                   AND NOT EXISTS (SELECT FROM "replicator"."change_queue" AS q
                                    WHERE q.key = jsonb_build_object('affix', "l"."k_1", 'affix_type', "l"."k_2") AND q.map_name = 'name_affixes'
                                      AND q.direction || '' = 'to_left')
                   AS fresh
              FROM incoming AS l
        ), written AS (
            SELECT "replicator_write"."name_affixes_to_right_sync"(coalesce(jsonb_agg(jsonb_build_object('affix', j."k_1", 'affix_type', j."k_2", 'description', j."f_1")), '[]')) AS written
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
                'name_affixes', 'cds.name_affix'
                USING ERRCODE = 'serialization_failure';
        END IF;
        -- A row inserted and deleted here, and both queued, after it was judged: likewise.
        IF EXISTS (SELECT FROM "replicator"."change_queue" AS q
                    WHERE q.key = ANY (ARRAY(SELECT x.value FROM jsonb_array_elements(coalesce(v_inserted, '[]')) AS x))
                      AND q.map_name = 'name_affixes' AND q.direction || '' = 'to_left') THEN
            RAISE EXCEPTION 'replicator: map %: a row of % changed while a chunk was synced to it',
                'name_affixes', 'cds.name_affix'
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
         WHERE map_name = 'name_affixes' AND direction = 'to_right';
    END IF;
    RETURN coalesce(v_rest, '[]');
END
$sync$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_right/apply', 'f592327346474a59d28bc6ec72da89181660fb332222002a24a3d0a43ad4f44d', $sql$DROP FUNCTION IF EXISTS "replicator"."apply_name_affixes_to_right"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_name_affixes_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."name_affixes_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_name_affixes_to_right"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."name_affixes_to_right_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_days/to_right/apply ====
-- Map 'payment_days', 'to_right': the writes to "cds"."payment_day", as replicator_right_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_right_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."payment_days_to_right"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"cds"."payment_day", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "cds"."payment_day" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "cds"."payment_day" ("companyid", "name", "description")
    SELECT (r.n)."companyid",
       (r.n)."name",
       (r.n)."description"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("companyid", "name") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "cds"."payment_day" AS t
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
CREATE OR REPLACE FUNCTION "replicator_write"."payment_days_to_right_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "cds"."payment_day" ("companyid", "name", "description")
SELECT n."companyid",
       n."name",
       n."description"
  FROM jsonb_populate_recordset(NULL::"cds"."payment_day", p_rows) AS n
    ON CONFLICT ("companyid", "name") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."payment_days_to_right"(jsonb, boolean) OWNER TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."payment_days_to_right_sync"(jsonb) OWNER TO "replicator_right_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_right_writer";

-- Map 'payment_days', 'to_right': write a batch of captured changes into "cds"."payment_day".
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
CREATE OR REPLACE FUNCTION "replicator"."write_payment_days_to_right"(p_changes jsonb, p_deletes boolean)
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
        'payment_days', 'fno.payment_days'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.payment_day were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'payment_day_name', c.image->'payment_day_name') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_day_name") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_day_name")
     ORDER BY "k"."dataareaid", "k"."payment_day_name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."payment_day_name" AS character varying(30)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "description" character varying(60))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'name', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>3)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."payment_day" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."name" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'name', "l"."k_2")
              AND v.map_name = 'payment_days' AND v.side = 'right'
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
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'name', "l"."k_2") AND q.map_name = 'payment_days'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."description" AS "c_1",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "description" character varying(60))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."payment_day",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
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
                     || jsonb_build_object('companyid', j."k_1", 'name', j."k_2", 'description', j."f_1") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_days', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), "j"."t_1", j.clock->'description'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'payment_days' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_days', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT "replicator_write"."payment_days_to_right"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
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
        'payment_days', 'cds.payment_day'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'payment_day_name', c.image->'payment_day_name') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_day_name") c.id, c.op, c.image, c.refs, c.key, c.force,
           max(c.seen) OVER w AS s_0, max(c.stamp) OVER w AS t_0,
           max(c.id) FILTER (WHERE "w_1") OVER w AS "i_1",
           max(c.seen) FILTER (WHERE "w_1") OVER w AS "s_1",
           max(c.stamp) FILTER (WHERE "w_1") OVER w AS "t_1",
           bool_or(c.force) OVER w AS forced
      FROM incoming AS c
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_day_name")
     ORDER BY "k"."dataareaid", "k"."payment_day_name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."payment_day_name" AS character varying(30)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "description" character varying(60))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'name', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>3)::bigint, q."ot_1") AS "ot_1",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."payment_day" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."name" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'name', "l"."k_2")
              AND v.map_name = 'payment_days' AND v.side = 'right'
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
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'name', "l"."k_2") AND q.map_name = 'payment_days'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."description" AS "c_1",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "description" character varying(60))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."payment_day",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
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
                     || jsonb_build_object('companyid', j."k_1", 'name', j."k_2", 'description', j."f_1") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_days', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), "j"."t_1", j.clock->'description'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'payment_days' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_days', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT 'to_right', c.id, 'payment_days', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('dataareaid', c.image->'dataareaid', 'payment_day_name', c.image->'payment_day_name') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."payment_days_to_right"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('companyid', j."k_1", 'name', j."k_2", 'description', j."f_1"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('companyid', j."k_1", 'name', j."k_2", 'description', j."f_1")) END), '[]'),
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
        'payment_days', 'cds.payment_day'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'payment_days'
                             AND q.direction || '' = 'to_left' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_days', 'cds.payment_day'
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
DROP FUNCTION IF EXISTS "replicator"."apply_payment_days_to_right"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_days_to_right"(p_changes jsonb, p_deletes boolean, p_final boolean)
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
                         WHERE state = 'open' AND map_name = 'payment_days' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_payment_days_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('payment_days', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_day_name', c.value->'image'->'payment_day_name') FROM jsonb_array_elements(p_changes) AS c));
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_day_name', c.value->'image'->'payment_day_name')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_payment_days_to_right"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('payment_days', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_day_name', v_change->'image'->'payment_day_name')]);
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
                PERFORM "replicator"."log_error"('payment_days', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_day_name', v_change->'image'->'payment_day_name'),
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
CREATE OR REPLACE FUNCTION "replicator"."sync_payment_days_to_right"(p_changes jsonb)
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
VALUES ('map/payment_days/to_right/apply', 'ae07bfe964e5df643648fbb6cf30416a528ced8d3eefdaca897e835a65a460e9', $sql$-- Removing map 'payment_days' ('to_right') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'payment_days' AND direction = 'to_right';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_days', 'to_right', v_held, 'payment_days', 'payment_days', 'payment_days', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_payment_days_to_right"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_days_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."payment_days_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_payment_days_to_right"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."payment_days_to_right_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_day_lines/to_right/apply ====
-- Map 'payment_day_lines', 'to_right': the writes to "cds"."payment_day_line", as replicator_right_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_right_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."payment_day_lines_to_right"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"cds"."payment_day_line", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "cds"."payment_day_line" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "cds"."payment_day_line" ("companyid", "paymentdayid", "line_number", "weekday", "dayofmonth")
    SELECT (r.n)."companyid",
       (r.n)."paymentdayid",
       (r.n)."line_number",
       (r.n)."weekday",
       (r.n)."dayofmonth"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("companyid", "paymentdayid", "line_number") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "cds"."payment_day_line" AS t
       SET "weekday" = (r.n)."weekday",
       "dayofmonth" = (r.n)."dayofmonth"
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
CREATE OR REPLACE FUNCTION "replicator_write"."payment_day_lines_to_right_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "cds"."payment_day_line" ("companyid", "paymentdayid", "line_number", "weekday", "dayofmonth")
SELECT n."companyid",
       n."paymentdayid",
       n."line_number",
       n."weekday",
       n."dayofmonth"
  FROM jsonb_populate_recordset(NULL::"cds"."payment_day_line", p_rows) AS n
    ON CONFLICT ("companyid", "paymentdayid", "line_number") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."payment_day_lines_to_right"(jsonb, boolean) OWNER TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."payment_day_lines_to_right_sync"(jsonb) OWNER TO "replicator_right_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_right_writer";

-- Map 'payment_day_lines', 'to_right': write a batch of captured changes into "cds"."payment_day_line".
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
CREATE OR REPLACE FUNCTION "replicator"."write_payment_day_lines_to_right"(p_changes jsonb, p_deletes boolean)
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
        'payment_day_lines', 'fno.payment_day_lines'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.payment_day_line were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'payment_day_name', c.image->'payment_day_name', 'line_num', c.image->'line_num') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'week_day' IS DISTINCT FROM c.image->'week_day')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'day_of_month' IS DISTINCT FROM c.image->'day_of_month')) AS "w_2",
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_day_name", "k"."line_num") c.id, c.op, c.image, c.refs, c.key, c.force,
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
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer)
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_day_name", "k"."line_num")
     ORDER BY "k"."dataareaid", "k"."payment_day_name", "k"."line_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentdayid" FROM "cds"."payment_day" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentdayid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentdayid') ->> 'payment_day_name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("l"."lookup_2" AS uuid) AS "k_2",
           CAST("s"."line_num" AS integer) AS "k_3",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'payment_day_name' IS NOT NULL AND "l"."lookup_2" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer,
       "week_day" character varying(10),
       "day_of_month" integer)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'paymentdayid', "l"."k_2", 'line_number', "l"."k_3") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'week_day'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'week_day'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'day_of_month'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'day_of_month'->>3)::bigint, q."ot_2") AS "ot_2",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."payment_day_line" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."paymentdayid" = "l"."k_2" AND "t"."line_number" = "l"."k_3"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'paymentdayid', "l"."k_2", 'line_number', "l"."k_3")
              AND v.map_name = 'payment_day_lines' AND v.side = 'right'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'weekday' IS DISTINCT FROM q.image->'weekday')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'weekday' IS DISTINCT FROM q.image->'weekday')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'dayofmonth' IS DISTINCT FROM q.image->'dayofmonth')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'dayofmonth' IS DISTINCT FROM q.image->'dayofmonth')))
                      AS "ot_2",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'paymentdayid', "l"."k_2", 'line_number', "l"."k_3") AND q.map_name = 'payment_day_lines'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           CAST(CASE WHEN "s"."week_day" IS NULL THEN NULL WHEN "s"."week_day"::text = 'None' THEN 'none' WHEN "s"."week_day"::text = 'Monday' THEN 'monday' WHEN "s"."week_day"::text = 'Tuesday' THEN 'tuesday' WHEN "s"."week_day"::text = 'Wednesday' THEN 'wednesday' WHEN "s"."week_day"::text = 'Thursday' THEN 'thursday' WHEN "s"."week_day"::text = 'Friday' THEN 'friday' WHEN "s"."week_day"::text = 'Saturday' THEN 'saturday' WHEN "s"."week_day"::text = 'Sunday' THEN 'sunday' ELSE "replicator"."unmapped_value"('payment_day_lines', 'week_day', "s"."week_day"::text) END AS "cds"."weekday") AS "n_1",
           g."weekday" AS "c_1",
           "s"."day_of_month" AS "n_2",
           g."dayofmonth" AS "c_2",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer,
       "week_day" character varying(10),
       "day_of_month" integer)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."payment_day_line",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
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
                     || jsonb_build_object('companyid', j."k_1", 'paymentdayid', j."k_2", 'line_number', j."k_3", 'weekday', j."f_1", 'dayofmonth', j."f_2") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_day_lines', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'week_day', CASE WHEN j."i_1" IS NULL THEN j.clock->'week_day'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'week_day'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'week_day'->1, to_jsonb(0)), "j"."t_1", j.clock->'week_day'->3) END,
               'day_of_month', CASE WHEN j."i_2" IS NULL THEN j.clock->'day_of_month'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'day_of_month'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'day_of_month'->1, to_jsonb(0)), "j"."t_2", j.clock->'day_of_month'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'payment_day_lines' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_day_lines', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT "replicator_write"."payment_day_lines_to_right"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
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
        'payment_day_lines', 'cds.payment_day_line'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'payment_day_name', c.image->'payment_day_name', 'line_num', c.image->'line_num') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'week_day' IS DISTINCT FROM c.image->'week_day')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'day_of_month' IS DISTINCT FROM c.image->'day_of_month')) AS "w_2",
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_day_name", "k"."line_num") c.id, c.op, c.image, c.refs, c.key, c.force,
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
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer)
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_day_name", "k"."line_num")
     ORDER BY "k"."dataareaid", "k"."payment_day_name", "k"."line_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentdayid" FROM "cds"."payment_day" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentdayid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentdayid') ->> 'payment_day_name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("l"."lookup_2" AS uuid) AS "k_2",
           CAST("s"."line_num" AS integer) AS "k_3",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'payment_day_name' IS NOT NULL AND "l"."lookup_2" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer,
       "week_day" character varying(10),
       "day_of_month" integer)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'paymentdayid', "l"."k_2", 'line_number', "l"."k_3") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'week_day'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'week_day'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'day_of_month'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'day_of_month'->>3)::bigint, q."ot_2") AS "ot_2",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."payment_day_line" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."paymentdayid" = "l"."k_2" AND "t"."line_number" = "l"."k_3"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'paymentdayid', "l"."k_2", 'line_number', "l"."k_3")
              AND v.map_name = 'payment_day_lines' AND v.side = 'right'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'weekday' IS DISTINCT FROM q.image->'weekday')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'weekday' IS DISTINCT FROM q.image->'weekday')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'dayofmonth' IS DISTINCT FROM q.image->'dayofmonth')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'dayofmonth' IS DISTINCT FROM q.image->'dayofmonth')))
                      AS "ot_2",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'paymentdayid', "l"."k_2", 'line_number', "l"."k_3") AND q.map_name = 'payment_day_lines'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           CAST(CASE WHEN "s"."week_day" IS NULL THEN NULL WHEN "s"."week_day"::text = 'None' THEN 'none' WHEN "s"."week_day"::text = 'Monday' THEN 'monday' WHEN "s"."week_day"::text = 'Tuesday' THEN 'tuesday' WHEN "s"."week_day"::text = 'Wednesday' THEN 'wednesday' WHEN "s"."week_day"::text = 'Thursday' THEN 'thursday' WHEN "s"."week_day"::text = 'Friday' THEN 'friday' WHEN "s"."week_day"::text = 'Saturday' THEN 'saturday' WHEN "s"."week_day"::text = 'Sunday' THEN 'sunday' ELSE "replicator"."unmapped_value"('payment_day_lines', 'week_day', "s"."week_day"::text) END AS "cds"."weekday") AS "n_1",
           g."weekday" AS "c_1",
           "s"."day_of_month" AS "n_2",
           g."dayofmonth" AS "c_2",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer,
       "week_day" character varying(10),
       "day_of_month" integer)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."payment_day_line",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
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
                     || jsonb_build_object('companyid', j."k_1", 'paymentdayid', j."k_2", 'line_number', j."k_3", 'weekday', j."f_1", 'dayofmonth', j."f_2") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_day_lines', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'week_day', CASE WHEN j."i_1" IS NULL THEN j.clock->'week_day'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'week_day'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'week_day'->1, to_jsonb(0)), "j"."t_1", j.clock->'week_day'->3) END,
               'day_of_month', CASE WHEN j."i_2" IS NULL THEN j.clock->'day_of_month'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'day_of_month'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'day_of_month'->1, to_jsonb(0)), "j"."t_2", j.clock->'day_of_month'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'payment_day_lines' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_day_lines', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT 'to_right', c.id, 'payment_day_lines', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'payment_day_name' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'payment_days' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('dataareaid', c.image->'dataareaid', 'payment_day_name', c.image->'payment_day_name', 'line_num', c.image->'line_num') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."payment_day_lines_to_right"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('companyid', j."k_1", 'paymentdayid', j."k_2", 'line_number', j."k_3", 'weekday', j."f_1", 'dayofmonth', j."f_2"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('companyid', j."k_1", 'paymentdayid', j."k_2", 'line_number', j."k_3", 'weekday', j."f_1", 'dayofmonth', j."f_2")) END), '[]'),
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
        'payment_day_lines', 'cds.payment_day_line'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'payment_day_lines'
                             AND q.direction || '' = 'to_left' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_day_lines', 'cds.payment_day_line'
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
DROP FUNCTION IF EXISTS "replicator"."apply_payment_day_lines_to_right"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_day_lines_to_right"(p_changes jsonb, p_deletes boolean, p_final boolean)
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
                         WHERE state = 'open' AND map_name = 'payment_day_lines' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_payment_day_lines_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('payment_day_lines', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_day_name', c.value->'image'->'payment_day_name', 'line_num', c.value->'image'->'line_num') FROM jsonb_array_elements(p_changes) AS c));
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_day_name', c.value->'image'->'payment_day_name', 'line_num', c.value->'image'->'line_num')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_payment_day_lines_to_right"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('payment_day_lines', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_day_name', v_change->'image'->'payment_day_name', 'line_num', v_change->'image'->'line_num')]);
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
                PERFORM "replicator"."log_error"('payment_day_lines', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_day_name', v_change->'image'->'payment_day_name', 'line_num', v_change->'image'->'line_num'),
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
CREATE OR REPLACE FUNCTION "replicator"."sync_payment_day_lines_to_right"(p_changes jsonb)
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
VALUES ('map/payment_day_lines/to_right/apply', '92569c295465f6318e2da28065448d69cf94f2b7f833ad8e93693e2e9f6bb100', $sql$-- Removing map 'payment_day_lines' ('to_right') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'payment_day_lines' AND direction = 'to_right';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_day_lines', 'to_right', v_held, 'payment_day_lines', 'payment_day_lines', 'payment_day_lines', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_payment_day_lines_to_right"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_day_lines_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."payment_day_lines_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_payment_day_lines_to_right"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."payment_day_lines_to_right_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedules/to_right/apply ====
-- Map 'payment_schedules', 'to_right': the writes to "cds"."payment_schedule", as replicator_right_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_right_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."payment_schedules_to_right"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"cds"."payment_schedule", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "cds"."payment_schedule" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "cds"."payment_schedule" ("companyid", "name", "description", "allocation")
    SELECT (r.n)."companyid",
       (r.n)."name",
       (r.n)."description",
       (r.n)."allocation"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("companyid", "name") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "cds"."payment_schedule" AS t
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
CREATE OR REPLACE FUNCTION "replicator_write"."payment_schedules_to_right_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "cds"."payment_schedule" ("companyid", "name", "description", "allocation")
SELECT n."companyid",
       n."name",
       n."description",
       n."allocation"
  FROM jsonb_populate_recordset(NULL::"cds"."payment_schedule", p_rows) AS n
    ON CONFLICT ("companyid", "name") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."payment_schedules_to_right"(jsonb, boolean) OWNER TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."payment_schedules_to_right_sync"(jsonb) OWNER TO "replicator_right_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_right_writer";

-- Map 'payment_schedules', 'to_right': write a batch of captured changes into "cds"."payment_schedule".
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
CREATE OR REPLACE FUNCTION "replicator"."write_payment_schedules_to_right"(p_changes jsonb, p_deletes boolean)
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
        'payment_schedules', 'fno.payment_schedules'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.payment_schedule were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'schedule_name', c.image->'schedule_name') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."schedule_name") c.id, c.op, c.image, c.refs, c.key, c.force,
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
       "dataareaid" character varying(4),
       "schedule_name" character varying(30))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."schedule_name")
     ORDER BY "k"."dataareaid", "k"."schedule_name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."schedule_name" AS character varying(30)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "description" character varying(60),
       "allocation" character varying(10))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'name', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'allocation'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'allocation'->>3)::bigint, q."ot_2") AS "ot_2",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."payment_schedule" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."name" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'name', "l"."k_2")
              AND v.map_name = 'payment_schedules' AND v.side = 'right'
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
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'name', "l"."k_2") AND q.map_name = 'payment_schedules'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."description" AS "c_1",
           CAST(CASE WHEN "s"."allocation" IS NULL THEN NULL WHEN "s"."allocation"::text = 'Percent' THEN 'percent' WHEN "s"."allocation"::text = 'Fixed' THEN 'fixed' ELSE "replicator"."unmapped_value"('payment_schedules', 'allocation', "s"."allocation"::text) END AS "cds"."allocation_type") AS "n_2",
           g."allocation" AS "c_2",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "description" character varying(60),
       "allocation" character varying(10))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."payment_schedule",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
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
                     || jsonb_build_object('companyid', j."k_1", 'name', j."k_2", 'description', j."f_1", 'allocation', j."f_2") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_schedules', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), "j"."t_1", j.clock->'description'->3) END,
               'allocation', CASE WHEN j."i_2" IS NULL THEN j.clock->'allocation'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'allocation'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'allocation'->1, to_jsonb(0)), "j"."t_2", j.clock->'allocation'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'payment_schedules' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_schedules', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT "replicator_write"."payment_schedules_to_right"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
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
        'payment_schedules', 'cds.payment_schedule'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'schedule_name', c.image->'schedule_name') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."schedule_name") c.id, c.op, c.image, c.refs, c.key, c.force,
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
       "dataareaid" character varying(4),
       "schedule_name" character varying(30))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."schedule_name")
     ORDER BY "k"."dataareaid", "k"."schedule_name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."schedule_name" AS character varying(30)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "description" character varying(60),
       "allocation" character varying(10))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'name', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'allocation'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'allocation'->>3)::bigint, q."ot_2") AS "ot_2",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."payment_schedule" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."name" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'name', "l"."k_2")
              AND v.map_name = 'payment_schedules' AND v.side = 'right'
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
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'name', "l"."k_2") AND q.map_name = 'payment_schedules'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."description" AS "c_1",
           CAST(CASE WHEN "s"."allocation" IS NULL THEN NULL WHEN "s"."allocation"::text = 'Percent' THEN 'percent' WHEN "s"."allocation"::text = 'Fixed' THEN 'fixed' ELSE "replicator"."unmapped_value"('payment_schedules', 'allocation', "s"."allocation"::text) END AS "cds"."allocation_type") AS "n_2",
           g."allocation" AS "c_2",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "description" character varying(60),
       "allocation" character varying(10))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."payment_schedule",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
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
                     || jsonb_build_object('companyid', j."k_1", 'name', j."k_2", 'description', j."f_1", 'allocation', j."f_2") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_schedules', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), "j"."t_1", j.clock->'description'->3) END,
               'allocation', CASE WHEN j."i_2" IS NULL THEN j.clock->'allocation'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'allocation'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'allocation'->1, to_jsonb(0)), "j"."t_2", j.clock->'allocation'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'payment_schedules' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_schedules', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT 'to_right', c.id, 'payment_schedules', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('dataareaid', c.image->'dataareaid', 'schedule_name', c.image->'schedule_name') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."payment_schedules_to_right"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('companyid', j."k_1", 'name', j."k_2", 'description', j."f_1", 'allocation', j."f_2"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('companyid', j."k_1", 'name', j."k_2", 'description', j."f_1", 'allocation', j."f_2")) END), '[]'),
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
        'payment_schedules', 'cds.payment_schedule'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'payment_schedules'
                             AND q.direction || '' = 'to_left' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_schedules', 'cds.payment_schedule'
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
DROP FUNCTION IF EXISTS "replicator"."apply_payment_schedules_to_right"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_schedules_to_right"(p_changes jsonb, p_deletes boolean, p_final boolean)
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
                         WHERE state = 'open' AND map_name = 'payment_schedules' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_payment_schedules_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('payment_schedules', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'schedule_name', c.value->'image'->'schedule_name') FROM jsonb_array_elements(p_changes) AS c));
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'schedule_name', c.value->'image'->'schedule_name')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_payment_schedules_to_right"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('payment_schedules', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'schedule_name', v_change->'image'->'schedule_name')]);
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
                PERFORM "replicator"."log_error"('payment_schedules', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'schedule_name', v_change->'image'->'schedule_name'),
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
CREATE OR REPLACE FUNCTION "replicator"."sync_payment_schedules_to_right"(p_changes jsonb)
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
VALUES ('map/payment_schedules/to_right/apply', 'fb6eb7fcf9c3a47ad739d8b430b4a71db90abdaba536691e6ce3e474a430d9a3', $sql$-- Removing map 'payment_schedules' ('to_right') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'payment_schedules' AND direction = 'to_right';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_schedules', 'to_right', v_held, 'payment_schedules', 'payment_schedules', 'payment_schedules', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_payment_schedules_to_right"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_schedules_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."payment_schedules_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_payment_schedules_to_right"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."payment_schedules_to_right_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedule_lines/to_right/apply ====
-- Map 'payment_schedule_lines', 'to_right': the writes to "cds"."payment_schedule_line", as replicator_right_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_right_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."payment_schedule_lines_to_right"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"cds"."payment_schedule_line", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "cds"."payment_schedule_line" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "cds"."payment_schedule_line" ("companyid", "paymentscheduleid", "line_number", "percentage", "months", "days")
    SELECT (r.n)."companyid",
       (r.n)."paymentscheduleid",
       (r.n)."line_number",
       (r.n)."percentage",
       (r.n)."months",
       (r.n)."days"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("companyid", "paymentscheduleid", "line_number") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "cds"."payment_schedule_line" AS t
       SET "percentage" = (r.n)."percentage",
       "months" = (r.n)."months",
       "days" = (r.n)."days"
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
CREATE OR REPLACE FUNCTION "replicator_write"."payment_schedule_lines_to_right_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "cds"."payment_schedule_line" ("companyid", "paymentscheduleid", "line_number", "percentage", "months", "days")
SELECT n."companyid",
       n."paymentscheduleid",
       n."line_number",
       n."percentage",
       n."months",
       n."days"
  FROM jsonb_populate_recordset(NULL::"cds"."payment_schedule_line", p_rows) AS n
    ON CONFLICT ("companyid", "paymentscheduleid", "line_number") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."payment_schedule_lines_to_right"(jsonb, boolean) OWNER TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."payment_schedule_lines_to_right_sync"(jsonb) OWNER TO "replicator_right_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_right_writer";

-- Map 'payment_schedule_lines', 'to_right': write a batch of captured changes into "cds"."payment_schedule_line".
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
CREATE OR REPLACE FUNCTION "replicator"."write_payment_schedule_lines_to_right"(p_changes jsonb, p_deletes boolean)
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
        'payment_schedule_lines', 'fno.payment_schedule_lines'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.payment_schedule_line were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'schedule_name', c.image->'schedule_name', 'line_num', c.image->'line_num') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'percent' IS DISTINCT FROM c.image->'percent')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'due_months' IS DISTINCT FROM c.image->'due_months')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'due_days' IS DISTINCT FROM c.image->'due_days')) AS "w_3",
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."schedule_name", "k"."line_num") c.id, c.op, c.image, c.refs, c.key, c.force,
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
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer)
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."schedule_name", "k"."line_num")
     ORDER BY "k"."dataareaid", "k"."schedule_name", "k"."line_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentscheduleid" FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentscheduleid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentscheduleid') ->> 'schedule_name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("l"."lookup_2" AS uuid) AS "k_2",
           CAST("s"."line_num" AS integer) AS "k_3",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'schedule_name' IS NOT NULL AND "l"."lookup_2" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer,
       "percent" numeric(32,6),
       "due_months" integer,
       "due_days" integer)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'paymentscheduleid', "l"."k_2", 'line_number', "l"."k_3") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'percent'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'percent'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'due_months'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'due_months'->>3)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'due_days'->>1)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'due_days'->>3)::bigint, q."ot_3") AS "ot_3",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."payment_schedule_line" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."paymentscheduleid" = "l"."k_2" AND "t"."line_number" = "l"."k_3"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'paymentscheduleid', "l"."k_2", 'line_number', "l"."k_3")
              AND v.map_name = 'payment_schedule_lines' AND v.side = 'right'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'percentage' IS DISTINCT FROM q.image->'percentage')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'percentage' IS DISTINCT FROM q.image->'percentage')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'months' IS DISTINCT FROM q.image->'months')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'months' IS DISTINCT FROM q.image->'months')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'days' IS DISTINCT FROM q.image->'days')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'days' IS DISTINCT FROM q.image->'days')))
                      AS "ot_3",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'paymentscheduleid', "l"."k_2", 'line_number', "l"."k_3") AND q.map_name = 'payment_schedule_lines'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."percent" AS "n_1",
           g."percentage" AS "c_1",
           "s"."due_months" AS "n_2",
           g."months" AS "c_2",
           "s"."due_days" AS "n_3",
           g."days" AS "c_3",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer,
       "percent" numeric(32,6),
       "due_months" integer,
       "due_days" integer)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."payment_schedule_line",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR true) AS "take_3",
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
                     || jsonb_build_object('companyid', j."k_1", 'paymentscheduleid', j."k_2", 'line_number', j."k_3", 'percentage', j."f_1", 'months', j."f_2", 'days', j."f_3") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_schedule_lines', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'percent', CASE WHEN j."i_1" IS NULL THEN j.clock->'percent'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'percent'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'percent'->1, to_jsonb(0)), "j"."t_1", j.clock->'percent'->3) END,
               'due_months', CASE WHEN j."i_2" IS NULL THEN j.clock->'due_months'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'due_months'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'due_months'->1, to_jsonb(0)), "j"."t_2", j.clock->'due_months'->3) END,
               'due_days', CASE WHEN j."i_3" IS NULL THEN j.clock->'due_days'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'due_days'->>0)::bigint, 0), "j"."i_3"), coalesce(j.clock->'due_days'->1, to_jsonb(0)), "j"."t_3", j.clock->'due_days'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'payment_schedule_lines' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_schedule_lines', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT "replicator_write"."payment_schedule_lines_to_right"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
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
        'payment_schedule_lines', 'cds.payment_schedule_line'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'schedule_name', c.image->'schedule_name', 'line_num', c.image->'line_num') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'percent' IS DISTINCT FROM c.image->'percent')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'due_months' IS DISTINCT FROM c.image->'due_months')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'due_days' IS DISTINCT FROM c.image->'due_days')) AS "w_3",
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."schedule_name", "k"."line_num") c.id, c.op, c.image, c.refs, c.key, c.force,
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
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer)
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."schedule_name", "k"."line_num")
     ORDER BY "k"."dataareaid", "k"."schedule_name", "k"."line_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentscheduleid" FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentscheduleid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentscheduleid') ->> 'schedule_name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("l"."lookup_2" AS uuid) AS "k_2",
           CAST("s"."line_num" AS integer) AS "k_3",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'schedule_name' IS NOT NULL AND "l"."lookup_2" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer,
       "percent" numeric(32,6),
       "due_months" integer,
       "due_days" integer)
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'paymentscheduleid', "l"."k_2", 'line_number', "l"."k_3") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'percent'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'percent'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'due_months'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'due_months'->>3)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'due_days'->>1)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'due_days'->>3)::bigint, q."ot_3") AS "ot_3",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."payment_schedule_line" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."paymentscheduleid" = "l"."k_2" AND "t"."line_number" = "l"."k_3"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'paymentscheduleid', "l"."k_2", 'line_number', "l"."k_3")
              AND v.map_name = 'payment_schedule_lines' AND v.side = 'right'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'percentage' IS DISTINCT FROM q.image->'percentage')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'percentage' IS DISTINCT FROM q.image->'percentage')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'months' IS DISTINCT FROM q.image->'months')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'months' IS DISTINCT FROM q.image->'months')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'days' IS DISTINCT FROM q.image->'days')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'days' IS DISTINCT FROM q.image->'days')))
                      AS "ot_3",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'paymentscheduleid', "l"."k_2", 'line_number', "l"."k_3") AND q.map_name = 'payment_schedule_lines'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."percent" AS "n_1",
           g."percentage" AS "c_1",
           "s"."due_months" AS "n_2",
           g."months" AS "c_2",
           "s"."due_days" AS "n_3",
           g."days" AS "c_3",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer,
       "percent" numeric(32,6),
       "due_months" integer,
       "due_days" integer)
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."payment_schedule_line",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR true) AS "take_3",
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
                     || jsonb_build_object('companyid', j."k_1", 'paymentscheduleid', j."k_2", 'line_number', j."k_3", 'percentage', j."f_1", 'months', j."f_2", 'days', j."f_3") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_schedule_lines', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'percent', CASE WHEN j."i_1" IS NULL THEN j.clock->'percent'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'percent'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'percent'->1, to_jsonb(0)), "j"."t_1", j.clock->'percent'->3) END,
               'due_months', CASE WHEN j."i_2" IS NULL THEN j.clock->'due_months'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'due_months'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'due_months'->1, to_jsonb(0)), "j"."t_2", j.clock->'due_months'->3) END,
               'due_days', CASE WHEN j."i_3" IS NULL THEN j.clock->'due_days'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'due_days'->>0)::bigint, 0), "j"."i_3"), coalesce(j.clock->'due_days'->1, to_jsonb(0)), "j"."t_3", j.clock->'due_days'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'payment_schedule_lines' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_schedule_lines', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT 'to_right', c.id, 'payment_schedule_lines', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'schedule_name' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'payment_schedules' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('dataareaid', c.image->'dataareaid', 'schedule_name', c.image->'schedule_name', 'line_num', c.image->'line_num') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."payment_schedule_lines_to_right"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('companyid', j."k_1", 'paymentscheduleid', j."k_2", 'line_number', j."k_3", 'percentage', j."f_1", 'months', j."f_2", 'days', j."f_3"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('companyid', j."k_1", 'paymentscheduleid', j."k_2", 'line_number', j."k_3", 'percentage', j."f_1", 'months', j."f_2", 'days', j."f_3")) END), '[]'),
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
        'payment_schedule_lines', 'cds.payment_schedule_line'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'payment_schedule_lines'
                             AND q.direction || '' = 'to_left' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_schedule_lines', 'cds.payment_schedule_line'
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
DROP FUNCTION IF EXISTS "replicator"."apply_payment_schedule_lines_to_right"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_schedule_lines_to_right"(p_changes jsonb, p_deletes boolean, p_final boolean)
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
                         WHERE state = 'open' AND map_name = 'payment_schedule_lines' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_payment_schedule_lines_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('payment_schedule_lines', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'schedule_name', c.value->'image'->'schedule_name', 'line_num', c.value->'image'->'line_num') FROM jsonb_array_elements(p_changes) AS c));
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'schedule_name', c.value->'image'->'schedule_name', 'line_num', c.value->'image'->'line_num')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_payment_schedule_lines_to_right"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('payment_schedule_lines', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'schedule_name', v_change->'image'->'schedule_name', 'line_num', v_change->'image'->'line_num')]);
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
                PERFORM "replicator"."log_error"('payment_schedule_lines', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'schedule_name', v_change->'image'->'schedule_name', 'line_num', v_change->'image'->'line_num'),
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
CREATE OR REPLACE FUNCTION "replicator"."sync_payment_schedule_lines_to_right"(p_changes jsonb)
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
VALUES ('map/payment_schedule_lines/to_right/apply', '9e273dc36f78766a845b71d1678a415fbb6344081a5c1dd9bff3d9cf5da4cf15', $sql$-- Removing map 'payment_schedule_lines' ('to_right') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'payment_schedule_lines' AND direction = 'to_right';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_schedule_lines', 'to_right', v_held, 'payment_schedule_lines', 'payment_schedule_lines', 'payment_schedule_lines', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_payment_schedule_lines_to_right"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_schedule_lines_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."payment_schedule_lines_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_payment_schedule_lines_to_right"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."payment_schedule_lines_to_right_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_terms/to_right/apply ====
-- Map 'payment_terms', 'to_right': the writes to "cds"."payment_term", as replicator_right_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_right_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."payment_terms_to_right"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"cds"."payment_term", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "cds"."payment_term" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "cds"."payment_term" ("companyid", "code", "name", "due_days", "paymentscheduleid", "paymentdayid")
    SELECT (r.n)."companyid",
       (r.n)."code",
       (r.n)."name",
       (r.n)."due_days",
       (r.n)."paymentscheduleid",
       (r.n)."paymentdayid"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("companyid", "code") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "cds"."payment_term" AS t
       SET "name" = (r.n)."name",
       "due_days" = (r.n)."due_days",
       "paymentscheduleid" = (r.n)."paymentscheduleid",
       "paymentdayid" = (r.n)."paymentdayid"
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
CREATE OR REPLACE FUNCTION "replicator_write"."payment_terms_to_right_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "cds"."payment_term" ("companyid", "code", "name", "due_days", "paymentscheduleid", "paymentdayid")
SELECT n."companyid",
       n."code",
       n."name",
       n."due_days",
       n."paymentscheduleid",
       n."paymentdayid"
  FROM jsonb_populate_recordset(NULL::"cds"."payment_term", p_rows) AS n
    ON CONFLICT ("companyid", "code") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."payment_terms_to_right"(jsonb, boolean) OWNER TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."payment_terms_to_right_sync"(jsonb) OWNER TO "replicator_right_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_right_writer";

-- Map 'payment_terms', 'to_right': write a batch of captured changes into "cds"."payment_term".
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
CREATE OR REPLACE FUNCTION "replicator"."write_payment_terms_to_right"(p_changes jsonb, p_deletes boolean)
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
        'payment_terms', 'fno.payment_terms'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.payment_term were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'payment_term_id', c.image->'payment_term_id') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'net_days' IS DISTINCT FROM c.image->'net_days')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_schedule' IS DISTINCT FROM c.image->'payment_schedule')) AS "w_3",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_day' IS DISTINCT FROM c.image->'payment_day')) AS "w_4",
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_term_id") c.id, c.op, c.image, c.refs, c.key, c.force,
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
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_term_id")
     ORDER BY "k"."dataareaid", "k"."payment_term_id", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentscheduleid" FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentscheduleid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentscheduleid') ->> 'schedule_name' AS character varying(30))) AS "lookup_2",
           (SELECT "p1"."paymentdayid" FROM "cds"."payment_day" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentdayid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentdayid') ->> 'payment_day_name' AS character varying(30))) AS "lookup_3"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."payment_term_id" AS character varying(10)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'payment_schedule' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'payment_day' IS NOT NULL AND "l"."lookup_3" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10),
       "description" character varying(60),
       "net_days" integer,
       "payment_schedule" character varying(30),
       "payment_day" character varying(30))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'code', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'net_days'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'net_days'->>3)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'payment_schedule'->>1)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'payment_schedule'->>3)::bigint, q."ot_3") AS "ot_3",
           greatest((v.clock->'payment_day'->>1)::bigint, q."o_4", 0) AS "o_4",
           greatest((v.clock->'payment_day'->>3)::bigint, q."ot_4") AS "ot_4",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."payment_term" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."code" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'code', "l"."k_2")
              AND v.map_name = 'payment_terms' AND v.side = 'right'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'due_days' IS DISTINCT FROM q.image->'due_days')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'due_days' IS DISTINCT FROM q.image->'due_days')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'paymentscheduleid' IS DISTINCT FROM q.image->'paymentscheduleid')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'paymentscheduleid' IS DISTINCT FROM q.image->'paymentscheduleid')))
                      AS "ot_3",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'paymentdayid' IS DISTINCT FROM q.image->'paymentdayid')))
                      AS "o_4",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'paymentdayid' IS DISTINCT FROM q.image->'paymentdayid')))
                      AS "ot_4",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'code', "l"."k_2") AND q.map_name = 'payment_terms'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."name" AS "c_1",
           "s"."net_days" AS "n_2",
           g."due_days" AS "c_2",
           "l"."lookup_2" AS "n_3",
           g."paymentscheduleid" AS "c_3",
           "l"."lookup_3" AS "n_4",
           g."paymentdayid" AS "c_4",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10),
       "description" character varying(60),
       "net_days" integer,
       "payment_schedule" character varying(30),
       "payment_day" character varying(30))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."payment_term",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR true) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           j."i_4" IS NOT NULL
               AND (j.forced OR j."s_4" >= j."o_4" OR true) AS "take_4",
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
                     || jsonb_build_object('companyid', j."k_1", 'code', j."k_2", 'name', j."f_1", 'due_days', j."f_2", 'paymentscheduleid', j."f_3", 'paymentdayid', j."f_4") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_terms', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), "j"."t_1", j.clock->'description'->3) END,
               'net_days', CASE WHEN j."i_2" IS NULL THEN j.clock->'net_days'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'net_days'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'net_days'->1, to_jsonb(0)), "j"."t_2", j.clock->'net_days'->3) END,
               'payment_schedule', CASE WHEN j."i_3" IS NULL THEN j.clock->'payment_schedule'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'payment_schedule'->>0)::bigint, 0), "j"."i_3"), coalesce(j.clock->'payment_schedule'->1, to_jsonb(0)), "j"."t_3", j.clock->'payment_schedule'->3) END,
               'payment_day', CASE WHEN j."i_4" IS NULL THEN j.clock->'payment_day'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'payment_day'->>0)::bigint, 0), "j"."i_4"), coalesce(j.clock->'payment_day'->1, to_jsonb(0)), "j"."t_4", j.clock->'payment_day'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'payment_terms' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_terms', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT "replicator_write"."payment_terms_to_right"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
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
        'payment_terms', 'cds.payment_term'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'payment_term_id', c.image->'payment_term_id') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'description' IS DISTINCT FROM c.image->'description')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'net_days' IS DISTINCT FROM c.image->'net_days')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_schedule' IS DISTINCT FROM c.image->'payment_schedule')) AS "w_3",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_day' IS DISTINCT FROM c.image->'payment_day')) AS "w_4",
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_term_id") c.id, c.op, c.image, c.refs, c.key, c.force,
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
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_term_id")
     ORDER BY "k"."dataareaid", "k"."payment_term_id", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentscheduleid" FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentscheduleid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentscheduleid') ->> 'schedule_name' AS character varying(30))) AS "lookup_2",
           (SELECT "p1"."paymentdayid" FROM "cds"."payment_day" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentdayid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentdayid') ->> 'payment_day_name' AS character varying(30))) AS "lookup_3"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."payment_term_id" AS character varying(10)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'payment_schedule' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'payment_day' IS NOT NULL AND "l"."lookup_3" IS NULL) AS unresolved
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10),
       "description" character varying(60),
       "net_days" integer,
       "payment_schedule" character varying(30),
       "payment_day" character varying(30))
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'code', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'description'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'description'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'net_days'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'net_days'->>3)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'payment_schedule'->>1)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'payment_schedule'->>3)::bigint, q."ot_3") AS "ot_3",
           greatest((v.clock->'payment_day'->>1)::bigint, q."o_4", 0) AS "o_4",
           greatest((v.clock->'payment_day'->>3)::bigint, q."ot_4") AS "ot_4",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  false AS outside
             FROM "cds"."payment_term" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."code" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'code', "l"."k_2")
              AND v.map_name = 'payment_terms' AND v.side = 'right'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'due_days' IS DISTINCT FROM q.image->'due_days')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'due_days' IS DISTINCT FROM q.image->'due_days')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'paymentscheduleid' IS DISTINCT FROM q.image->'paymentscheduleid')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'paymentscheduleid' IS DISTINCT FROM q.image->'paymentscheduleid')))
                      AS "ot_3",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'paymentdayid' IS DISTINCT FROM q.image->'paymentdayid')))
                      AS "o_4",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'paymentdayid' IS DISTINCT FROM q.image->'paymentdayid')))
                      AS "ot_4",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'code', "l"."k_2") AND q.map_name = 'payment_terms'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."description" AS "n_1",
           g."name" AS "c_1",
           "s"."net_days" AS "n_2",
           g."due_days" AS "c_2",
           "l"."lookup_2" AS "n_3",
           g."paymentscheduleid" AS "c_3",
           "l"."lookup_3" AS "n_4",
           g."paymentdayid" AS "c_4",
           l.op <> 'D' AS brings_row
      FROM here AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10),
       "description" character varying(60),
       "net_days" integer,
       "payment_schedule" character varying(30),
       "payment_day" character varying(30))
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."payment_term",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR true) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           j."i_4" IS NOT NULL
               AND (j.forced OR j."s_4" >= j."o_4" OR true) AS "take_4",
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
                     || jsonb_build_object('companyid', j."k_1", 'code', j."k_2", 'name', j."f_1", 'due_days', j."f_2", 'paymentscheduleid', j."f_3", 'paymentdayid', j."f_4") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_terms', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'description'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'description'->1, to_jsonb(0)), "j"."t_1", j.clock->'description'->3) END,
               'net_days', CASE WHEN j."i_2" IS NULL THEN j.clock->'net_days'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'net_days'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'net_days'->1, to_jsonb(0)), "j"."t_2", j.clock->'net_days'->3) END,
               'payment_schedule', CASE WHEN j."i_3" IS NULL THEN j.clock->'payment_schedule'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'payment_schedule'->>0)::bigint, 0), "j"."i_3"), coalesce(j.clock->'payment_schedule'->1, to_jsonb(0)), "j"."t_3", j.clock->'payment_schedule'->3) END,
               'payment_day', CASE WHEN j."i_4" IS NULL THEN j.clock->'payment_day'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'payment_day'->>0)::bigint, 0), "j"."i_4"), coalesce(j.clock->'payment_day'->1, to_jsonb(0)), "j"."t_4", j.clock->'payment_day'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'payment_terms' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_terms', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
    SELECT 'to_right', c.id, 'payment_terms', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'payment_schedule' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'payment_schedules' END, CASE WHEN (l.image ->> 'payment_day' IS NOT NULL AND "l"."lookup_3" IS NULL) THEN 'payment_days' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('dataareaid', c.image->'dataareaid', 'payment_term_id', c.image->'payment_term_id') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."payment_terms_to_right"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('companyid', j."k_1", 'code', j."k_2", 'name', j."f_1", 'due_days', j."f_2", 'paymentscheduleid', j."f_3", 'paymentdayid', j."f_4"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('companyid', j."k_1", 'code', j."k_2", 'name', j."f_1", 'due_days', j."f_2", 'paymentscheduleid', j."f_3", 'paymentdayid', j."f_4")) END), '[]'),
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
        'payment_terms', 'cds.payment_term'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'payment_terms'
                             AND q.direction || '' = 'to_left' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_terms', 'cds.payment_term'
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
DROP FUNCTION IF EXISTS "replicator"."apply_payment_terms_to_right"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_terms_to_right"(p_changes jsonb, p_deletes boolean, p_final boolean)
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
                         WHERE state = 'open' AND map_name = 'payment_terms' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_payment_terms_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('payment_terms', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_term_id', c.value->'image'->'payment_term_id') FROM jsonb_array_elements(p_changes) AS c));
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_term_id', c.value->'image'->'payment_term_id')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_payment_terms_to_right"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('payment_terms', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_term_id', v_change->'image'->'payment_term_id')]);
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
                PERFORM "replicator"."log_error"('payment_terms', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'payment_term_id', v_change->'image'->'payment_term_id'),
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
CREATE OR REPLACE FUNCTION "replicator"."sync_payment_terms_to_right"(p_changes jsonb)
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
VALUES ('map/payment_terms/to_right/apply', '39c63aafd0a037eb1c45afe6e32bbf2cbe9943c56bb3fc83e7d51c2b22205ce0', $sql$-- Removing map 'payment_terms' ('to_right') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'payment_terms' AND direction = 'to_right';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_terms', 'to_right', v_held, 'payment_terms', 'payment_terms', 'payment_terms', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_payment_terms_to_right"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_terms_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."payment_terms_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_payment_terms_to_right"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."payment_terms_to_right_sync"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_organization/to_right/apply ====
-- Map 'customers_organization', 'to_right': the writes to "cds"."account", as replicator_right_writer.
-- The apply function below judges the batch as the owner and hands this function
-- the rows to write; the writes themselves run as replicator_right_writer, which holds
-- this side's mapped tables and nothing else. So an application's trigger on the
-- table fires with those rights, never with the owner's (the queue, the logs, the
-- other side). p_rows: [{"do": D (delete) | M (mark) | I (insert) | U (update),
-- "tid", "txmin" (the row as judged: one changed since is not written), "row"}];
-- p_truncate: every row the map covers here goes. Returns the rows written.
CREATE OR REPLACE FUNCTION "replicator_write"."customers_organization_to_right"(p_rows jsonb, p_truncate boolean)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
WITH r AS MATERIALIZED (
    SELECT x."do", x.tid, x.txmin, jsonb_populate_record(NULL::"cds"."account", x."row") AS n
      FROM jsonb_to_recordset(p_rows) AS x("do" text, tid tid, txmin xid, "row" jsonb)
), removed AS (
    DELETE FROM "cds"."account" AS t
     USING r
     WHERE r."do" = 'D' AND t.ctid = r.tid AND t.xmin = r.txmin
    RETURNING 1
), inserted AS (
    INSERT INTO "cds"."account" ("companyid", "accountnumber", "name", "customergroupid", "paymenttermid", "customerpaymentmethodid", "emailaddress1", "creditlimit", "credit_hold", "relationship_type")
    SELECT (r.n)."companyid",
       (r.n)."accountnumber",
       (r.n)."name",
       (r.n)."customergroupid",
       (r.n)."paymenttermid",
       (r.n)."customerpaymentmethodid",
       (r.n)."emailaddress1",
       (r.n)."creditlimit",
       (r.n)."credit_hold",
       (r.n)."relationship_type"
      FROM r
     WHERE r."do" = 'I'
        ON CONFLICT ("companyid", "accountnumber") DO NOTHING
    RETURNING 1
), updated AS (
    UPDATE "cds"."account" AS t
       SET "name" = (r.n)."name",
       "customergroupid" = (r.n)."customergroupid",
       "paymenttermid" = (r.n)."paymenttermid",
       "customerpaymentmethodid" = (r.n)."customerpaymentmethodid",
       "emailaddress1" = (r.n)."emailaddress1",
       "creditlimit" = (r.n)."creditlimit",
       "credit_hold" = (r.n)."credit_hold",
       "relationship_type" = (r.n)."relationship_type"
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
CREATE OR REPLACE FUNCTION "replicator_write"."customers_organization_to_right_sync"(p_rows jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $writer$
DECLARE
    v_written bigint;
BEGIN
INSERT INTO "cds"."account" ("companyid", "accountnumber", "name", "customergroupid", "paymenttermid", "customerpaymentmethodid", "emailaddress1", "creditlimit", "credit_hold", "relationship_type")
SELECT n."companyid",
       n."accountnumber",
       n."name",
       n."customergroupid",
       n."paymenttermid",
       n."customerpaymentmethodid",
       n."emailaddress1",
       n."creditlimit",
       n."credit_hold",
       n."relationship_type"
  FROM jsonb_populate_recordset(NULL::"cds"."account", p_rows) AS n
    ON CONFLICT ("companyid", "accountnumber") DO NOTHING;
GET DIAGNOSTICS v_written = ROW_COUNT;
RETURN v_written;
END
$writer$;
-- PostgreSQL asks the new owner for CREATE on the schema; the writer holds it only here.
GRANT CREATE ON SCHEMA "replicator_write" TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."customers_organization_to_right"(jsonb, boolean) OWNER TO "replicator_right_writer";
ALTER FUNCTION "replicator_write"."customers_organization_to_right_sync"(jsonb) OWNER TO "replicator_right_writer";
REVOKE CREATE ON SCHEMA "replicator_write" FROM "replicator_right_writer";

-- Map 'customers_organization', 'to_right': write a batch of captured changes into "cds"."account".
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
CREATE OR REPLACE FUNCTION "replicator"."write_customers_organization_to_right"(p_changes jsonb, p_deletes boolean)
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
        'customers_organization', 'fno.customers'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.account were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- Rows that are not to exist here: removed (propagate), or, gone already, their clock.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'account_num', c.image->'account_num') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customer_group' IS DISTINCT FROM c.image->'customer_group')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_terms' IS DISTINCT FROM c.image->'payment_terms')) AS "w_3",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_method' IS DISTINCT FROM c.image->'payment_method')) AS "w_4",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'email' IS DISTINCT FROM c.image->'email')) AS "w_5",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'credit_limit' IS DISTINCT FROM c.image->'credit_limit')) AS "w_6",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'blocked' IS DISTINCT FROM c.image->'blocked')) AS "w_7",
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."account_num") c.id, c.op, c.image, c.refs, c.key, c.force,
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
       "dataareaid" character varying(4),
       "account_num" character varying(20))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."account_num")
     ORDER BY "k"."dataareaid", "k"."account_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."customergroupid" FROM "cds"."customer_group" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'customergroupid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."group_code" = CAST((l.refs -> 'customergroupid') ->> 'customer_group' AS character varying(10))) AS "lookup_2",
           (SELECT "p1"."paymenttermid" FROM "cds"."payment_term" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymenttermid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.refs -> 'paymenttermid') ->> 'payment_term_id' AS character varying(10))) AS "lookup_3",
           (SELECT "p1"."customerpaymentmethodid" FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'customerpaymentmethodid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.refs -> 'customerpaymentmethodid') ->> 'payment_method' AS character varying(10))) AS "lookup_4"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."account_num" AS character varying(20)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'customer_group' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'payment_terms' IS NOT NULL AND "l"."lookup_3" IS NULL) OR (l.image ->> 'payment_method' IS NOT NULL AND "l"."lookup_4" IS NULL) AS unresolved
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
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'accountnumber', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'name'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'name'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'customer_group'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'customer_group'->>3)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'payment_terms'->>1)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'payment_terms'->>3)::bigint, q."ot_3") AS "ot_3",
           greatest((v.clock->'payment_method'->>1)::bigint, q."o_4", 0) AS "o_4",
           greatest((v.clock->'payment_method'->>3)::bigint, q."ot_4") AS "ot_4",
           greatest((v.clock->'email'->>1)::bigint, q."o_5", 0) AS "o_5",
           greatest((v.clock->'email'->>3)::bigint, q."ot_5") AS "ot_5",
           greatest((v.clock->'credit_limit'->>1)::bigint, q."o_6", 0) AS "o_6",
           greatest((v.clock->'credit_limit'->>3)::bigint, q."ot_6") AS "ot_6",
           greatest((v.clock->'blocked'->>1)::bigint, q."o_7", 0) AS "o_7",
           greatest((v.clock->'blocked'->>3)::bigint, q."ot_7") AS "ot_7",
           0::bigint AS "o_8", NULL::bigint AS "ot_8",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  -- A row here outside the map's filter on this side is not the map's to change.
                  NOT coalesce(("t"."relationship_type" = 'customer'), false) AS outside
             FROM "cds"."account" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."accountnumber" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'accountnumber', "l"."k_2")
              AND v.map_name = 'customers_organization' AND v.side = 'right'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customergroupid' IS DISTINCT FROM q.image->'customergroupid')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customergroupid' IS DISTINCT FROM q.image->'customergroupid')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'paymenttermid' IS DISTINCT FROM q.image->'paymenttermid')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'paymenttermid' IS DISTINCT FROM q.image->'paymenttermid')))
                      AS "ot_3",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customerpaymentmethodid' IS DISTINCT FROM q.image->'customerpaymentmethodid')))
                      AS "o_4",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customerpaymentmethodid' IS DISTINCT FROM q.image->'customerpaymentmethodid')))
                      AS "ot_4",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'emailaddress1' IS DISTINCT FROM q.image->'emailaddress1')))
                      AS "o_5",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'emailaddress1' IS DISTINCT FROM q.image->'emailaddress1')))
                      AS "ot_5",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'creditlimit' IS DISTINCT FROM q.image->'creditlimit')))
                      AS "o_6",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'creditlimit' IS DISTINCT FROM q.image->'creditlimit')))
                      AS "ot_6",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'credit_hold' IS DISTINCT FROM q.image->'credit_hold')))
                      AS "o_7",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'credit_hold' IS DISTINCT FROM q.image->'credit_hold')))
                      AS "ot_7",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'accountnumber', "l"."k_2") AND q.map_name = 'customers_organization'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."name" AS "n_1",
           g."name" AS "c_1",
           "l"."lookup_2" AS "n_2",
           g."customergroupid" AS "c_2",
           "l"."lookup_3" AS "n_3",
           g."paymenttermid" AS "c_3",
           "l"."lookup_4" AS "n_4",
           g."customerpaymentmethodid" AS "c_4",
           "s"."email" AS "n_5",
           g."emailaddress1" AS "c_5",
           (CAST(ROUND("s"."credit_limit", 4) AS DECIMAL(38, 4))) AS "n_6",
           g."creditlimit" AS "c_6",
           CAST(CASE WHEN "s"."blocked" IS NULL THEN NULL WHEN "s"."blocked"::text = 'No' THEN 'none' WHEN "s"."blocked"::text = 'Invoice' THEN 'invoice_hold' WHEN "s"."blocked"::text = 'All' THEN 'full_hold' ELSE "replicator"."unmapped_value"('customers_organization', 'blocked', "s"."blocked"::text) END AS "cds"."hold_status") AS "n_7",
           g."credit_hold" AS "c_7",
           CAST('customer' AS character varying(20)) AS "n_8",
           g."relationship_type" AS "c_8",
           l.op <> 'D' AS brings_row
      FROM here AS l
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
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."account",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR true) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           j."i_4" IS NOT NULL
               AND (j.forced OR j."s_4" >= j."o_4" OR true) AS "take_4",
           j."i_4" IS NOT NULL AND NOT j.forced AND j."s_4" < j."o_4"
               AND j."n_4" IS DISTINCT FROM j."c_4" AS "x_4",
           j."i_5" IS NOT NULL
               AND (j.forced OR j."s_5" >= j."o_5" OR true) AS "take_5",
           j."i_5" IS NOT NULL AND NOT j.forced AND j."s_5" < j."o_5"
               AND j."n_5" IS DISTINCT FROM j."c_5" AS "x_5",
           j."i_6" IS NOT NULL
               AND (j.forced OR j."s_6" >= j."o_6" OR true) AS "take_6",
           j."i_6" IS NOT NULL AND NOT j.forced AND j."s_6" < j."o_6"
               AND j."n_6" IS DISTINCT FROM j."c_6" AS "x_6",
           j."i_7" IS NOT NULL
               AND (j.forced OR j."s_7" >= j."o_7" OR true) AS "take_7",
           j."i_7" IS NOT NULL AND NOT j.forced AND j."s_7" < j."o_7"
               AND j."n_7" IS DISTINCT FROM j."c_7" AS "x_7",
           j."i_8" IS NOT NULL
               AND (j.forced OR j."s_8" >= j."o_8" OR true) AS "take_8",
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
                WHEN j."take_5" THEN COALESCE("j"."n_5", "j"."c_5") ELSE j."c_5" END AS "f_5",
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
                     || jsonb_build_object('companyid', j."k_1", 'accountnumber', j."k_2", 'name', j."f_1", 'customergroupid', j."f_2", 'paymenttermid', j."f_3", 'customerpaymentmethodid', j."f_4", 'emailaddress1', j."f_5", 'creditlimit', j."f_6", 'credit_hold', j."f_7", 'relationship_type', j."f_8") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customers_organization', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'name', CASE WHEN j."i_1" IS NULL THEN j.clock->'name'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'name'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'name'->1, to_jsonb(0)), "j"."t_1", j.clock->'name'->3) END,
               'customer_group', CASE WHEN j."i_2" IS NULL THEN j.clock->'customer_group'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'customer_group'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'customer_group'->1, to_jsonb(0)), "j"."t_2", j.clock->'customer_group'->3) END,
               'payment_terms', CASE WHEN j."i_3" IS NULL THEN j.clock->'payment_terms'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'payment_terms'->>0)::bigint, 0), "j"."i_3"), coalesce(j.clock->'payment_terms'->1, to_jsonb(0)), "j"."t_3", j.clock->'payment_terms'->3) END,
               'payment_method', CASE WHEN j."i_4" IS NULL THEN j.clock->'payment_method'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'payment_method'->>0)::bigint, 0), "j"."i_4"), coalesce(j.clock->'payment_method'->1, to_jsonb(0)), "j"."t_4", j.clock->'payment_method'->3) END,
               'email', CASE WHEN j."i_5" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'email'->>0)::bigint, 0), "j"."i_5"), coalesce(j.clock->'email'->1, to_jsonb(0)), "j"."t_5", j.clock->'email'->3) END,
               'credit_limit', CASE WHEN j."i_6" IS NULL THEN j.clock->'credit_limit'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'credit_limit'->>0)::bigint, 0), "j"."i_6"), coalesce(j.clock->'credit_limit'->1, to_jsonb(0)), "j"."t_6", j.clock->'credit_limit'->3) END,
               'blocked', CASE WHEN j."i_7" IS NULL THEN j.clock->'blocked'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'blocked'->>0)::bigint, 0), "j"."i_7"), coalesce(j.clock->'blocked'->1, to_jsonb(0)), "j"."t_7", j.clock->'blocked'->3) END,
               'relationship_type', CASE WHEN j."i_8" IS NULL THEN j.clock->'relationship_type'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'relationship_type'->>0)::bigint, 0), "j"."i_8"), coalesce(j.clock->'relationship_type'->1, to_jsonb(0)), "j"."t_8", j.clock->'relationship_type'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'customers_organization' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customers_organization', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
               'relationship_type', CASE WHEN j."x_8" THEN jsonb_build_object('policy', 'left_wins', 'took',
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
    SELECT "replicator_write"."customers_organization_to_right"(coalesce(jsonb_agg(jsonb_build_object('do', 'D', 'tid', j.tid, 'txmin', j.txmin)), '[]'),
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
        'customers_organization', v_outside, 'cds.account', 'right_filter (relationship_type = ''customer'')'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Another application or map owns that row. If it should be this map''s, change it there so that it matches the filter, then retry this error.';
END IF;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_organization', 'cds.account'
        USING ERRCODE = 'serialization_failure';
END IF;

    RETURN;
END IF;
-- Rows that are to exist here: inserted or updated, or held for a parent.
WITH incoming AS (
    -- The batch's changes, and per field whether the change wrote it: an insert writes
    -- every field, an update those whose source columns it changed (all of them when
    -- its row before is not known), a delete none (it writes only the row itself).
    SELECT c.id, c.op, c.image, c.refs, jsonb_build_object('dataareaid', c.image->'dataareaid', 'account_num', c.image->'account_num') AS key, coalesce(c.seen, 0) AS seen, c.stamp,
           coalesce(c.force, false) AS force,
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')) AS "w_1",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customer_group' IS DISTINCT FROM c.image->'customer_group')) AS "w_2",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_terms' IS DISTINCT FROM c.image->'payment_terms')) AS "w_3",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'payment_method' IS DISTINCT FROM c.image->'payment_method')) AS "w_4",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'email' IS DISTINCT FROM c.image->'email')) AS "w_5",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'credit_limit' IS DISTINCT FROM c.image->'credit_limit')) AS "w_6",
           c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'blocked' IS DISTINCT FROM c.image->'blocked')) AS "w_7",
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."account_num") c.id, c.op, c.image, c.refs, c.key, c.force,
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
       "dataareaid" character varying(4),
       "account_num" character varying(20))
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."account_num")
     ORDER BY "k"."dataareaid", "k"."account_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."customergroupid" FROM "cds"."customer_group" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'customergroupid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."group_code" = CAST((l.refs -> 'customergroupid') ->> 'customer_group' AS character varying(10))) AS "lookup_2",
           (SELECT "p1"."paymenttermid" FROM "cds"."payment_term" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymenttermid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.refs -> 'paymenttermid') ->> 'payment_term_id' AS character varying(10))) AS "lookup_3",
           (SELECT "p1"."customerpaymentmethodid" FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'customerpaymentmethodid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.refs -> 'customerpaymentmethodid') ->> 'payment_method' AS character varying(10))) AS "lookup_4"
      FROM latest AS l
), keyed AS (
    -- The row's key on this side, and its key as the clocks name it.
    SELECT l.*,
           CAST("l"."lookup_1" AS uuid) AS "k_1",
           CAST("s"."account_num" AS character varying(20)) AS "k_2",
           (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'customer_group' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'payment_terms' IS NOT NULL AND "l"."lookup_3" IS NULL) OR (l.image ->> 'payment_method' IS NOT NULL AND "l"."lookup_4" IS NULL) AS unresolved
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
), here AS (
    -- Each row beside what this side holds: the row (or, deleted here, its fields as
    -- they were), its clock, and its changes captured here and not sent yet.
    SELECT l.*, jsonb_build_object('companyid', "l"."k_1", 'accountnumber', "l"."k_2") AS own_key,
           t.tid, t.txmin, t.local_row, t.tid IS NOT NULL AS present,
           coalesce(t.outside, false) AS outside,
           coalesce(v.clock, '{}') AS clock,
           coalesce((v.clock->''->>0)::bigint, 0) AS seen_before,
           coalesce((v.clock->''->>0)::bigint, 0) >= l.id AS done,
           CASE WHEN t.tid IS NULL THEN coalesce(q.deleted, v.gone) END AS gone,
           greatest((v.clock->''->>1)::bigint, q.o_0, 0) AS o_0,
           greatest((v.clock->''->>3)::bigint, q.ot_0) AS ot_0,
           greatest((v.clock->'name'->>1)::bigint, q."o_1", 0) AS "o_1",
           greatest((v.clock->'name'->>3)::bigint, q."ot_1") AS "ot_1",
           greatest((v.clock->'customer_group'->>1)::bigint, q."o_2", 0) AS "o_2",
           greatest((v.clock->'customer_group'->>3)::bigint, q."ot_2") AS "ot_2",
           greatest((v.clock->'payment_terms'->>1)::bigint, q."o_3", 0) AS "o_3",
           greatest((v.clock->'payment_terms'->>3)::bigint, q."ot_3") AS "ot_3",
           greatest((v.clock->'payment_method'->>1)::bigint, q."o_4", 0) AS "o_4",
           greatest((v.clock->'payment_method'->>3)::bigint, q."ot_4") AS "ot_4",
           greatest((v.clock->'email'->>1)::bigint, q."o_5", 0) AS "o_5",
           greatest((v.clock->'email'->>3)::bigint, q."ot_5") AS "ot_5",
           greatest((v.clock->'credit_limit'->>1)::bigint, q."o_6", 0) AS "o_6",
           greatest((v.clock->'credit_limit'->>3)::bigint, q."ot_6") AS "ot_6",
           greatest((v.clock->'blocked'->>1)::bigint, q."o_7", 0) AS "o_7",
           greatest((v.clock->'blocked'->>3)::bigint, q."ot_7") AS "ot_7",
           0::bigint AS "o_8", NULL::bigint AS "ot_8",
           coalesce(q.o_0, 0) AS queued_upto
      FROM keyed AS l
      -- The row here, by its key (LIMIT: one index probe per row, whatever the planner
      -- made of the batch's size).
      LEFT JOIN LATERAL (
           SELECT t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
                  -- A row here outside the map's filter on this side is not the map's to change.
                  NOT coalesce(("t"."relationship_type" = 'customer'), false) AS outside
             FROM "cds"."account" AS t
            WHERE "t"."companyid" = "l"."k_1" AND "t"."accountnumber" = "l"."k_2"
            LIMIT 1) AS t ON true
      -- The row's clock, by primary key (LIMIT: a plan made while the table looked small
      -- would otherwise read every clock of the map for each row).
      LEFT JOIN LATERAL (
           SELECT v.clock, v.gone FROM "replicator"."versions" AS v
            WHERE v.key = jsonb_build_object('companyid', "l"."k_1", 'accountnumber', "l"."k_2")
              AND v.map_name = 'customers_organization' AND v.side = 'right'
            LIMIT 1) AS v ON true
      LEFT JOIN LATERAL (
           -- This side's own changes of the row still queued to cross: its newest
           -- writes, not yet in its clock.
           SELECT max(q.id) AS o_0, max("replicator"."commit_stamp"(q.xid)) AS ot_0,
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "o_1",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'name' IS DISTINCT FROM q.image->'name')))
                      AS "ot_1",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customergroupid' IS DISTINCT FROM q.image->'customergroupid')))
                      AS "o_2",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customergroupid' IS DISTINCT FROM q.image->'customergroupid')))
                      AS "ot_2",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'paymenttermid' IS DISTINCT FROM q.image->'paymenttermid')))
                      AS "o_3",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'paymenttermid' IS DISTINCT FROM q.image->'paymenttermid')))
                      AS "ot_3",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customerpaymentmethodid' IS DISTINCT FROM q.image->'customerpaymentmethodid')))
                      AS "o_4",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'customerpaymentmethodid' IS DISTINCT FROM q.image->'customerpaymentmethodid')))
                      AS "ot_4",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'emailaddress1' IS DISTINCT FROM q.image->'emailaddress1')))
                      AS "o_5",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'emailaddress1' IS DISTINCT FROM q.image->'emailaddress1')))
                      AS "ot_5",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'creditlimit' IS DISTINCT FROM q.image->'creditlimit')))
                      AS "o_6",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'creditlimit' IS DISTINCT FROM q.image->'creditlimit')))
                      AS "ot_6",
                  max(q.id) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'credit_hold' IS DISTINCT FROM q.image->'credit_hold')))
                      AS "o_7",
                  max("replicator"."commit_stamp"(q.xid)) FILTER (WHERE q.op = 'I' OR (q.op = 'U' AND (q.before IS NULL OR q.before->'credit_hold' IS DISTINCT FROM q.image->'credit_hold')))
                      AS "ot_7",
                  (array_agg(CASE WHEN q.op = 'D' THEN q.image END ORDER BY q.id DESC))[1] AS deleted
             FROM "replicator"."change_queue" AS q
            -- By the row's key: direction || '' keeps the planner off the index by map and
            -- direction, which reads every queued change of the map for each row.
            WHERE q.key = jsonb_build_object('companyid', "l"."k_1", 'accountnumber', "l"."k_2") AND q.map_name = 'customers_organization'
              AND q.direction || '' = 'to_left') AS q ON true
), valued AS (
    -- What the change brings (n_) and what this side holds (c_), per field.
    SELECT l.*,
           "s"."name" AS "n_1",
           g."name" AS "c_1",
           "l"."lookup_2" AS "n_2",
           g."customergroupid" AS "c_2",
           "l"."lookup_3" AS "n_3",
           g."paymenttermid" AS "c_3",
           "l"."lookup_4" AS "n_4",
           g."customerpaymentmethodid" AS "c_4",
           "s"."email" AS "n_5",
           g."emailaddress1" AS "c_5",
           (CAST(ROUND("s"."credit_limit", 4) AS DECIMAL(38, 4))) AS "n_6",
           g."creditlimit" AS "c_6",
           CAST(CASE WHEN "s"."blocked" IS NULL THEN NULL WHEN "s"."blocked"::text = 'No' THEN 'none' WHEN "s"."blocked"::text = 'Invoice' THEN 'invoice_hold' WHEN "s"."blocked"::text = 'All' THEN 'full_hold' ELSE "replicator"."unmapped_value"('customers_organization', 'blocked', "s"."blocked"::text) END AS "cds"."hold_status") AS "n_7",
           g."credit_hold" AS "c_7",
           CAST('customer' AS character varying(20)) AS "n_8",
           g."relationship_type" AS "c_8",
           l.op <> 'D' AS brings_row
      FROM here AS l
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
     CROSS JOIN LATERAL jsonb_populate_record(NULL::"cds"."account",
                                              CASE WHEN l.present THEN l.local_row ELSE l.gone END) AS g
), decided AS (
    -- Per field, and for the row itself: the change wins if it had seen this side's
    -- newest write (ordered), or if the two are concurrent and the policy says so.
    SELECT j.*,
           j.forced OR j.s_0 >= j.o_0 OR true AS take_0,
           NOT j.forced AND j.s_0 < j.o_0 AND j.brings_row IS DISTINCT FROM j.present AS x_0,
           j."i_1" IS NOT NULL
               AND (j.forced OR j."s_1" >= j."o_1" OR true) AS "take_1",
           j."i_1" IS NOT NULL AND NOT j.forced AND j."s_1" < j."o_1"
               AND j."n_1" IS DISTINCT FROM j."c_1" AS "x_1",
           j."i_2" IS NOT NULL
               AND (j.forced OR j."s_2" >= j."o_2" OR true) AS "take_2",
           j."i_2" IS NOT NULL AND NOT j.forced AND j."s_2" < j."o_2"
               AND j."n_2" IS DISTINCT FROM j."c_2" AS "x_2",
           j."i_3" IS NOT NULL
               AND (j.forced OR j."s_3" >= j."o_3" OR true) AS "take_3",
           j."i_3" IS NOT NULL AND NOT j.forced AND j."s_3" < j."o_3"
               AND j."n_3" IS DISTINCT FROM j."c_3" AS "x_3",
           j."i_4" IS NOT NULL
               AND (j.forced OR j."s_4" >= j."o_4" OR true) AS "take_4",
           j."i_4" IS NOT NULL AND NOT j.forced AND j."s_4" < j."o_4"
               AND j."n_4" IS DISTINCT FROM j."c_4" AS "x_4",
           j."i_5" IS NOT NULL
               AND (j.forced OR j."s_5" >= j."o_5" OR true) AS "take_5",
           j."i_5" IS NOT NULL AND NOT j.forced AND j."s_5" < j."o_5"
               AND j."n_5" IS DISTINCT FROM j."c_5" AS "x_5",
           j."i_6" IS NOT NULL
               AND (j.forced OR j."s_6" >= j."o_6" OR true) AS "take_6",
           j."i_6" IS NOT NULL AND NOT j.forced AND j."s_6" < j."o_6"
               AND j."n_6" IS DISTINCT FROM j."c_6" AS "x_6",
           j."i_7" IS NOT NULL
               AND (j.forced OR j."s_7" >= j."o_7" OR true) AS "take_7",
           j."i_7" IS NOT NULL AND NOT j.forced AND j."s_7" < j."o_7"
               AND j."n_7" IS DISTINCT FROM j."c_7" AS "x_7",
           j."i_8" IS NOT NULL
               AND (j.forced OR j."s_8" >= j."o_8" OR true) AS "take_8",
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
                WHEN j."take_5" THEN COALESCE("j"."n_5", "j"."c_5") ELSE j."c_5" END AS "f_5",
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
                     || jsonb_build_object('companyid', j."k_1", 'accountnumber', j."k_2", 'name', j."f_1", 'customergroupid', j."f_2", 'paymenttermid', j."f_3", 'customerpaymentmethodid', j."f_4", 'emailaddress1', j."f_5", 'creditlimit', j."f_6", 'credit_hold', j."f_7", 'relationship_type', j."f_8") END AS gone_after
      FROM settled AS j
), clocked AS (
    -- The row's clock takes the changes' writes (their side's entries); a forced change
    -- (an initial sync, a repair) leaves it as it was.
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customers_organization', 'right', j.own_key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(greatest(coalesce((j.clock->''->>0)::bigint, 0), j.id), coalesce(j.clock->''->1, to_jsonb(0)), j.t_0, j.clock->''->3),
               'name', CASE WHEN j."i_1" IS NULL THEN j.clock->'name'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'name'->>0)::bigint, 0), "j"."i_1"), coalesce(j.clock->'name'->1, to_jsonb(0)), "j"."t_1", j.clock->'name'->3) END,
               'customer_group', CASE WHEN j."i_2" IS NULL THEN j.clock->'customer_group'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'customer_group'->>0)::bigint, 0), "j"."i_2"), coalesce(j.clock->'customer_group'->1, to_jsonb(0)), "j"."t_2", j.clock->'customer_group'->3) END,
               'payment_terms', CASE WHEN j."i_3" IS NULL THEN j.clock->'payment_terms'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'payment_terms'->>0)::bigint, 0), "j"."i_3"), coalesce(j.clock->'payment_terms'->1, to_jsonb(0)), "j"."t_3", j.clock->'payment_terms'->3) END,
               'payment_method', CASE WHEN j."i_4" IS NULL THEN j.clock->'payment_method'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'payment_method'->>0)::bigint, 0), "j"."i_4"), coalesce(j.clock->'payment_method'->1, to_jsonb(0)), "j"."t_4", j.clock->'payment_method'->3) END,
               'email', CASE WHEN j."i_5" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'email'->>0)::bigint, 0), "j"."i_5"), coalesce(j.clock->'email'->1, to_jsonb(0)), "j"."t_5", j.clock->'email'->3) END,
               'credit_limit', CASE WHEN j."i_6" IS NULL THEN j.clock->'credit_limit'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'credit_limit'->>0)::bigint, 0), "j"."i_6"), coalesce(j.clock->'credit_limit'->1, to_jsonb(0)), "j"."t_6", j.clock->'credit_limit'->3) END,
               'blocked', CASE WHEN j."i_7" IS NULL THEN j.clock->'blocked'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'blocked'->>0)::bigint, 0), "j"."i_7"), coalesce(j.clock->'blocked'->1, to_jsonb(0)), "j"."t_7", j.clock->'blocked'->3) END,
               'relationship_type', CASE WHEN j."i_8" IS NULL THEN j.clock->'relationship_type'
                    ELSE jsonb_build_array(greatest(coalesce((j.clock->'relationship_type'->>0)::bigint, 0), "j"."i_8"), coalesce(j.clock->'relationship_type'->1, to_jsonb(0)), "j"."t_8", j.clock->'relationship_type'->3) END),
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
       AND q.key = j.own_key AND q.map_name = 'customers_organization' AND q.direction || '' = 'to_left'
       AND q.seen IS NULL
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customers_organization', 'to_right', j.id, j.op, j.key, j.own_key, j.image,
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
               'relationship_type', CASE WHEN j."x_8" THEN jsonb_build_object('policy', 'left_wins', 'took',
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
    SELECT 'to_right', c.id, 'customers_organization', c.op, c.image, c.refs, c.before, c.key, c.seen,
           c.stamp, coalesce(c.force, false), concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'customer_group' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'customer_groups' END, CASE WHEN (l.image ->> 'payment_terms' IS NOT NULL AND "l"."lookup_3" IS NULL) THEN 'payment_terms' END, CASE WHEN (l.image ->> 'payment_method' IS NOT NULL AND "l"."lookup_4" IS NULL) THEN 'customer_payment_methods' END)
      FROM planned AS l
      JOIN (SELECT c.*, jsonb_build_object('dataareaid', c.image->'dataareaid', 'account_num', c.image->'account_num') AS key
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, seen bigint,
                        stamp bigint, force boolean)
             WHERE c.op <> 'T') AS c
        ON c.key = l.key
     WHERE l.holding
        ON CONFLICT (direction, id) DO NOTHING
), written AS (
    -- Inserted, or updated where a value changes (as the writer: see its function).
    SELECT "replicator_write"."customers_organization_to_right"(coalesce(jsonb_agg(
               CASE WHEN j.present THEN jsonb_build_object('do', 'U', 'tid', j.tid, 'txmin', j.txmin, 'row', jsonb_build_object('companyid', j."k_1", 'accountnumber', j."k_2", 'name', j."f_1", 'customergroupid', j."f_2", 'paymenttermid', j."f_3", 'customerpaymentmethodid', j."f_4", 'emailaddress1', j."f_5", 'creditlimit', j."f_6", 'credit_hold', j."f_7", 'relationship_type', j."f_8"))
                    ELSE jsonb_build_object('do', 'I', 'row', jsonb_build_object('companyid', j."k_1", 'accountnumber', j."k_2", 'name', j."f_1", 'customergroupid', j."f_2", 'paymenttermid', j."f_3", 'customerpaymentmethodid', j."f_4", 'emailaddress1', j."f_5", 'creditlimit', j."f_6", 'credit_hold', j."f_7", 'relationship_type', j."f_8")) END), '[]'),
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
        'customers_organization', v_outside, 'cds.account', 'right_filter (relationship_type = ''customer'')'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Another application or map owns that row. If it should be this map''s, change it there so that it matches the filter, then retry this error.';
END IF;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_organization', 'cds.account'
        USING ERRCODE = 'serialization_failure';
END IF;
-- A row this batch inserted may have been inserted and deleted here, and both queued,
-- after it was judged: judge again, knowing them.
IF EXISTS (SELECT FROM jsonb_to_recordset(v_inserted) AS i(key jsonb, known bigint)
            WHERE EXISTS (SELECT FROM "replicator"."change_queue" AS q
                           WHERE q.key = i.key AND q.map_name = 'customers_organization'
                             AND q.direction || '' = 'to_left' AND q.id > i.known)) THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_organization', 'cds.account'
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
DROP FUNCTION IF EXISTS "replicator"."apply_customers_organization_to_right"(jsonb, boolean);
CREATE OR REPLACE FUNCTION "replicator"."apply_customers_organization_to_right"(p_changes jsonb, p_deletes boolean, p_final boolean)
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
                         WHERE state = 'open' AND map_name = 'customers_organization' AND direction = 'to_right');
    BEGIN
        PERFORM "replicator"."write_customers_organization_to_right"(p_changes, p_deletes);
        IF v_errors THEN
            PERFORM "replicator"."supersede_errors"('customers_organization', 'to_right', ARRAY(
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'account_num', c.value->'image'->'account_num') FROM jsonb_array_elements(p_changes) AS c));
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'account_num', c.value->'image'->'account_num')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        -- The key's newest change stands for it in the log; for several, every field
        -- counts as written (its image is the row after all of them).
        v_change := v_key_changes->-1;
        IF jsonb_array_length(v_key_changes) > 1 THEN
            v_change := v_change || '{"before": null}';
        END IF;
        BEGIN
            PERFORM "replicator"."write_customers_organization_to_right"(v_key_changes, p_deletes);
            IF v_errors THEN
                PERFORM "replicator"."supersede_errors"('customers_organization', 'to_right', ARRAY[jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'account_num', v_change->'image'->'account_num')]);
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
                PERFORM "replicator"."log_error"('customers_organization', 'to_right', v_change, jsonb_build_object('dataareaid', v_change->'image'->'dataareaid', 'account_num', v_change->'image'->'account_num'),
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
CREATE OR REPLACE FUNCTION "replicator"."sync_customers_organization_to_right"(p_changes jsonb)
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
VALUES ('map/customers_organization/to_right/apply', '064cac449615eb58f4f6a58bbc498fabc4be80987c7e74afac88c8c117f1490b', $sql$-- Removing map 'customers_organization' ('to_right') must not throw away changes held for it.
DO $guard$
DECLARE
    v_held bigint;
BEGIN
    SELECT count(*) INTO v_held FROM "replicator"."held_change"
     WHERE map_name = 'customers_organization' AND direction = 'to_right';
    IF v_held > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % held changes waiting for a parent (replicator held list %): retry them once the parent is there (replicator held retry --map %) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customers_organization', 'to_right', v_held, 'customers_organization', 'customers_organization', 'customers_organization', 'to_right'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."apply_customers_organization_to_right"(jsonb, boolean, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customers_organization_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator_write"."customers_organization_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."sync_customers_organization_to_right"(jsonb);
DROP FUNCTION IF EXISTS "replicator_write"."customers_organization_to_right_sync"(jsonb);
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
    IF p_direction = 'to_right' AND (v_by_map->'customers_organization'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_customers_organization_to_right"(v_by_map->'customers_organization'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('customers_organization', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_right' AND (v_by_map->'payment_terms'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_payment_terms_to_right"(v_by_map->'payment_terms'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('payment_terms', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_right' AND (v_by_map->'payment_schedule_lines'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_payment_schedule_lines_to_right"(v_by_map->'payment_schedule_lines'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('payment_schedule_lines', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_right' AND (v_by_map->'payment_schedules'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_payment_schedules_to_right"(v_by_map->'payment_schedules'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('payment_schedules', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_right' AND (v_by_map->'payment_day_lines'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_payment_day_lines_to_right"(v_by_map->'payment_day_lines'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('payment_day_lines', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_right' AND (v_by_map->'payment_days'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_payment_days_to_right"(v_by_map->'payment_days'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('payment_days', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_right' AND (v_by_map->'name_affixes'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_name_affixes_to_right"(v_by_map->'name_affixes'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('name_affixes', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_right' AND (v_by_map->'loyalty_cards'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_loyalty_cards_to_right"(v_by_map->'loyalty_cards'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('loyalty_cards', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_right' AND (v_by_map->'customers_person'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_customers_person_to_right"(v_by_map->'customers_person'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('customers_person', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_right' AND (v_by_map->'customer_payment_methods'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_customer_payment_methods_to_right"(v_by_map->'customer_payment_methods'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('customer_payment_methods', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_right' AND (v_by_map->'customer_groups'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_customer_groups_to_right"(v_by_map->'customer_groups'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('customer_groups', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_right' AND (v_by_map->'contact_persons'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_contact_persons_to_right"(v_by_map->'contact_persons'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('contact_persons', v_map_failed);
    END IF;
    -- All of the map's changes, if any deletes: each row's outcome is decided from all
    -- of its changes.
    IF p_direction = 'to_right' AND (v_by_map->'companies'->>'deletes')::boolean THEN
        v_map_failed := "replicator"."apply_companies_to_right"(v_by_map->'companies'->'changes', true, p_final);
        v_failed := v_failed + v_map_failed;
        v_delete_failed := v_delete_failed || jsonb_build_object('companies', v_map_failed);
    END IF;
    IF p_direction = 'to_right' THEN
        v_changes := v_by_map->'companies'->'changes';
        v_count := coalesce((v_by_map->'companies'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_companies_to_right"(v_changes, false, p_final);
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
        v_changes := v_by_map->'contact_persons'->'changes';
        v_count := coalesce((v_by_map->'contact_persons'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_contact_persons_to_right"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
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
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_contact_persons_to_right"(v_changes, false, p_final);
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
        v_changes := v_by_map->'customer_groups'->'changes';
        v_count := coalesce((v_by_map->'customer_groups'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customer_groups_to_right"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
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
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customer_groups_to_right"(v_changes, false, p_final);
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
        v_changes := v_by_map->'customer_payment_methods'->'changes';
        v_count := coalesce((v_by_map->'customer_payment_methods'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customer_payment_methods_to_right"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
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
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customer_payment_methods_to_right"(v_changes, false, p_final);
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
        v_changes := v_by_map->'customers_person'->'changes';
        v_count := coalesce((v_by_map->'customers_person'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customers_person_to_right"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
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
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customers_person_to_right"(v_changes, false, p_final);
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
        v_changes := v_by_map->'loyalty_cards'->'changes';
        v_count := coalesce((v_by_map->'loyalty_cards'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_loyalty_cards_to_right"(v_changes, false, p_final);
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
        v_changes := v_by_map->'name_affixes'->'changes';
        v_count := coalesce((v_by_map->'name_affixes'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_name_affixes_to_right"(v_changes, false, p_final);
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
        v_changes := v_by_map->'payment_days'->'changes';
        v_count := coalesce((v_by_map->'payment_days'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_days_to_right"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
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
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_days_to_right"(v_changes, false, p_final);
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
        v_changes := v_by_map->'payment_day_lines'->'changes';
        v_count := coalesce((v_by_map->'payment_day_lines'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_day_lines_to_right"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
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
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_day_lines_to_right"(v_changes, false, p_final);
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
        v_changes := v_by_map->'payment_schedules'->'changes';
        v_count := coalesce((v_by_map->'payment_schedules'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_schedules_to_right"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
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
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_schedules_to_right"(v_changes, false, p_final);
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
        v_changes := v_by_map->'payment_schedule_lines'->'changes';
        v_count := coalesce((v_by_map->'payment_schedule_lines'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_schedule_lines_to_right"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
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
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_schedule_lines_to_right"(v_changes, false, p_final);
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
        v_changes := v_by_map->'payment_terms'->'changes';
        v_count := coalesce((v_by_map->'payment_terms'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_terms_to_right"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
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
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_terms_to_right"(v_changes, false, p_final);
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
        v_changes := v_by_map->'customers_organization'->'changes';
        v_count := coalesce((v_by_map->'customers_organization'->>'count')::integer, 0);
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customers_organization_to_right"(v_changes, false, p_final);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c
                                    WHERE c.value->'earlier' IS NULL));
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
                RETURNING id, op, image, refs, before, key, seen, stamp, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'key', key, 'seen', seen,
                                                'stamp', stamp, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customers_organization_to_right"(v_changes, false, p_final);
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
VALUES ('dispatch', 'b5b915feae28b4083e3eb778b128723e3aa7f6773f40838fb20cf7889f884173', $sql$$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/companies/to_left/capture ====
-- Map 'companies', 'to_left': capture changes of "cds"."company".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_companies_to_left"()
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
        VALUES ('overwrite', 'companies', 'to_right',
                'initial sync overwrote a differing row of ' || 'cds.company',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'companies' AND direction = 'to_left'
                  AND state = 'stopped') THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('companies', 'to_left', 'D', to_jsonb(OLD), NULL,
                jsonb_build_object('company_code', "old"."company_code"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('companies', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), NULL,
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('company_code', "new"."company_code"));
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
CREATE OR REPLACE TRIGGER "replicator_companies_to_left"
AFTER INSERT OR DELETE ON "cds"."company"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_companies_to_left_trunc"
AFTER TRUNCATE ON "cds"."company"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_companies_to_left_upd"
AFTER UPDATE ON "cds"."company"
FOR EACH ROW
WHEN (("old"."company_code", "old"."name") IS DISTINCT FROM ("new"."company_code", "new"."name")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_companies_to_left_sync"
AFTER UPDATE ON "cds"."company"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'companies'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_left/capture', '108003c79f549e1ec44c19393cad5a94978f072781fad23f984a9066a0d36245', $sql$-- Removing map 'companies' ('to_left') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'companies' AND direction = 'to_left';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'companies', 'to_left', v_queued, 'companies', 'companies', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_companies_to_left"() CASCADE;
$sql$)
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', NULL,
               'key', jsonb_build_object('company_code', "new"."company_code"), 'force', true)
             ORDER BY "new"."company_code"), '[]')
      FROM (SELECT * FROM "cds"."company" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."company_code") > (CAST(p_after ->> 'company_code' AS character varying(4))))
             ORDER BY "new"."company_code"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_companies_to_left"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "cds"."company";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "cds"."company" AS "new"
     WHERE ("new"."company_code") = (CAST(p_key ->> 'company_code' AS character varying(4)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"cds"."company", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'companies', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), NULL, jsonb_build_object('company_code', "new"."company_code")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_left/snapshot', '09450fefcc32470c1f1f21bbcd098d6160adf0972d644156db373213108d6e32', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_companies_to_left"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_companies_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/contact_persons/to_left/capture ====
-- Map 'contact_persons', 'to_left': capture changes of "cds"."contact".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_contact_persons_to_left"()
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
        VALUES ('overwrite', 'contact_persons', 'to_right',
                'initial sync overwrote a differing row of ' || 'cds.contact',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'contact_persons' AND direction = 'to_left'
                  AND state = 'stopped') THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('contact_persons', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")),
                jsonb_build_object('companyid', "old"."companyid", 'contactpersonid', "old"."contactpersonid"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('contact_persons', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('companyid', "new"."companyid", 'contactpersonid', "new"."contactpersonid"));
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
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_left"
AFTER INSERT OR DELETE ON "cds"."contact"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_left_trunc"
AFTER TRUNCATE ON "cds"."contact"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_left_upd"
AFTER UPDATE ON "cds"."contact"
FOR EACH ROW
WHEN (("old"."companyid", "old"."contactpersonid", "old"."firstname", "old"."lastname", "old"."emailaddress1", "old"."parent_account_number") IS DISTINCT FROM ("new"."companyid", "new"."contactpersonid", "new"."firstname", "new"."lastname", "new"."emailaddress1", "new"."parent_account_number")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_left_sync"
AFTER UPDATE ON "cds"."contact"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'contact_persons'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_left/capture', '7f470f804079c08c64c4fe819fb49fbe65ced882490c5a0bb83f46ec3255f54b', $sql$-- Removing map 'contact_persons' ('to_left') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'contact_persons' AND direction = 'to_left';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'contact_persons', 'to_left', v_queued, 'contact_persons', 'contact_persons', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_contact_persons_to_left"() CASCADE;
$sql$)
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
               'key', jsonb_build_object('companyid', "new"."companyid", 'contactpersonid', "new"."contactpersonid"), 'force', true)
             ORDER BY "new"."companyid", "new"."contactpersonid"), '[]')
      FROM (SELECT * FROM "cds"."contact" AS "new"
             WHERE coalesce(("new"."contactpersonid" IS NOT NULL), false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."contactpersonid") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'contactpersonid' AS character varying(20))))
             ORDER BY "new"."companyid", "new"."contactpersonid"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_contact_persons_to_left"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "cds"."contact";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "cds"."contact" AS "new"
     WHERE ("new"."companyid", "new"."contactpersonid") = (CAST(p_key ->> 'companyid' AS uuid), CAST(p_key ->> 'contactpersonid' AS character varying(20)))
       AND coalesce(("new"."contactpersonid" IS NOT NULL), false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"cds"."contact", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'contact_persons', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), jsonb_build_object('companyid', "new"."companyid", 'contactpersonid', "new"."contactpersonid")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_left/snapshot', '957c057ff398fbefc7a16c189dbab681c00e75b0e9916a1a4bba392d349f8d73', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_contact_persons_to_left"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_contact_persons_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_groups/to_left/capture ====
-- Map 'customer_groups', 'to_left': capture changes of "cds"."customer_group".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_customer_groups_to_left"()
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
        VALUES ('overwrite', 'customer_groups', 'to_right',
                'initial sync overwrote a differing row of ' || 'cds.customer_group',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'customer_groups' AND direction = 'to_left'
                  AND state = 'stopped') THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('customer_groups', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")),
                jsonb_build_object('companyid', "old"."companyid", 'group_code', "old"."group_code"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('customer_groups', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('companyid', "new"."companyid", 'group_code', "new"."group_code"));
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
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_left"
AFTER INSERT OR DELETE ON "cds"."customer_group"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_left_trunc"
AFTER TRUNCATE ON "cds"."customer_group"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_left_upd"
AFTER UPDATE ON "cds"."customer_group"
FOR EACH ROW
WHEN (("old"."companyid", "old"."group_code", "old"."name") IS DISTINCT FROM ("new"."companyid", "new"."group_code", "new"."name")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_left_sync"
AFTER UPDATE ON "cds"."customer_group"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customer_groups'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_left/capture', 'c2cb6974ff5131941b2739963ce9d934b7ab618890bb8657cac4c642c53aac58', $sql$-- Removing map 'customer_groups' ('to_left') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'customer_groups' AND direction = 'to_left';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customer_groups', 'to_left', v_queued, 'customer_groups', 'customer_groups', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_customer_groups_to_left"() CASCADE;
$sql$)
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
               'key', jsonb_build_object('companyid', "new"."companyid", 'group_code', "new"."group_code"), 'force', true)
             ORDER BY "new"."companyid", "new"."group_code"), '[]')
      FROM (SELECT * FROM "cds"."customer_group" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."group_code") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'group_code' AS character varying(10))))
             ORDER BY "new"."companyid", "new"."group_code"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_customer_groups_to_left"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "cds"."customer_group";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "cds"."customer_group" AS "new"
     WHERE ("new"."companyid", "new"."group_code") = (CAST(p_key ->> 'companyid' AS uuid), CAST(p_key ->> 'group_code' AS character varying(10)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"cds"."customer_group", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'customer_groups', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), jsonb_build_object('companyid', "new"."companyid", 'group_code', "new"."group_code")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_left/snapshot', '5a45f22e27acca0e661ef245f1589b4b6685b3d3955956c6be295195516d1ebc', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customer_groups_to_left"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_customer_groups_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_payment_methods/to_left/capture ====
-- Map 'customer_payment_methods', 'to_left': capture changes of "cds"."customer_payment_method".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_customer_payment_methods_to_left"()
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
        VALUES ('overwrite', 'customer_payment_methods', 'to_right',
                'initial sync overwrote a differing row of ' || 'cds.customer_payment_method',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'customer_payment_methods' AND direction = 'to_left'
                  AND state = 'stopped') THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('customer_payment_methods', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")),
                jsonb_build_object('companyid', "old"."companyid", 'code', "old"."code"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('customer_payment_methods', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('companyid', "new"."companyid", 'code', "new"."code"));
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
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_left"
AFTER INSERT OR DELETE ON "cds"."customer_payment_method"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_left_trunc"
AFTER TRUNCATE ON "cds"."customer_payment_method"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_left_upd"
AFTER UPDATE ON "cds"."customer_payment_method"
FOR EACH ROW
WHEN (("old"."companyid", "old"."code", "old"."name", "old"."payment_type") IS DISTINCT FROM ("new"."companyid", "new"."code", "new"."name", "new"."payment_type")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_left_sync"
AFTER UPDATE ON "cds"."customer_payment_method"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customer_payment_methods'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_left/capture', '37cdf7f10959be81ed607bb3277c098fcb3ed5b1ce00622242bc315fc2752507', $sql$-- Removing map 'customer_payment_methods' ('to_left') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'customer_payment_methods' AND direction = 'to_left';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customer_payment_methods', 'to_left', v_queued, 'customer_payment_methods', 'customer_payment_methods', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_customer_payment_methods_to_left"() CASCADE;
$sql$)
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
               'key', jsonb_build_object('companyid', "new"."companyid", 'code', "new"."code"), 'force', true)
             ORDER BY "new"."companyid", "new"."code"), '[]')
      FROM (SELECT * FROM "cds"."customer_payment_method" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."code") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'code' AS character varying(10))))
             ORDER BY "new"."companyid", "new"."code"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_customer_payment_methods_to_left"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "cds"."customer_payment_method";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "cds"."customer_payment_method" AS "new"
     WHERE ("new"."companyid", "new"."code") = (CAST(p_key ->> 'companyid' AS uuid), CAST(p_key ->> 'code' AS character varying(10)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"cds"."customer_payment_method", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'customer_payment_methods', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), jsonb_build_object('companyid', "new"."companyid", 'code', "new"."code")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_left/snapshot', 'a4c02ed4f4dd5aa6f61e831871bd6381fe522c8864f8608920267e671d008ed6', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customer_payment_methods_to_left"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_customer_payment_methods_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_person/to_left/capture ====
-- Map 'customers_person', 'to_left': capture changes of "cds"."contact".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_customers_person_to_left"()
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
        VALUES ('overwrite', 'customers_person', 'to_right',
                'initial sync overwrote a differing row of ' || 'cds.contact',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'customers_person' AND direction = 'to_left'
                  AND state = 'stopped') THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('customers_person', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")),
                jsonb_build_object('companyid', "old"."companyid", 'customer_number', "old"."customer_number"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('customers_person', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('companyid', "new"."companyid", 'customer_number', "new"."customer_number"));
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
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_left"
AFTER INSERT OR DELETE ON "cds"."contact"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_left_trunc"
AFTER TRUNCATE ON "cds"."contact"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_left_upd"
AFTER UPDATE ON "cds"."contact"
FOR EACH ROW
WHEN (("old"."companyid", "old"."customer_number", "old"."firstname", "old"."middlename", "old"."lastname", "old"."emailaddress1", "old"."is_sellable") IS DISTINCT FROM ("new"."companyid", "new"."customer_number", "new"."firstname", "new"."middlename", "new"."lastname", "new"."emailaddress1", "new"."is_sellable")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_left_sync"
AFTER UPDATE ON "cds"."contact"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customers_person'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_left/capture', 'a2164e634ad50e256cec38f2fe0e725825c646dc6ee4f4c3bb66e7872bf2c7c9', $sql$-- Removing map 'customers_person' ('to_left') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'customers_person' AND direction = 'to_left';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customers_person', 'to_left', v_queued, 'customers_person', 'customers_person', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_customers_person_to_left"() CASCADE;
$sql$)
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
               'key', jsonb_build_object('companyid', "new"."companyid", 'customer_number', "new"."customer_number"), 'force', true)
             ORDER BY "new"."companyid", "new"."customer_number"), '[]')
      FROM (SELECT * FROM "cds"."contact" AS "new"
             WHERE coalesce(("new"."is_sellable" AND "new"."customer_number" IS NOT NULL), false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."customer_number") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'customer_number' AS character varying(20))))
             ORDER BY "new"."companyid", "new"."customer_number"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_customers_person_to_left"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "cds"."contact";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "cds"."contact" AS "new"
     WHERE ("new"."companyid", "new"."customer_number") = (CAST(p_key ->> 'companyid' AS uuid), CAST(p_key ->> 'customer_number' AS character varying(20)))
       AND coalesce(("new"."is_sellable" AND "new"."customer_number" IS NOT NULL), false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"cds"."contact", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'customers_person', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), jsonb_build_object('companyid', "new"."companyid", 'customer_number', "new"."customer_number")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_left/snapshot', '742faed9f3aea5c5d68c1652d565fb085fccc2d4540fac2cf42083ea212af32a', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customers_person_to_left"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_customers_person_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/loyalty_cards/to_left/capture ====
-- Map 'loyalty_cards', 'to_left': capture changes of "cds"."loyalty_card".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_loyalty_cards_to_left"()
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
        VALUES ('overwrite', 'loyalty_cards', 'to_right',
                'initial sync overwrote a differing row of ' || 'cds.loyalty_card',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'loyalty_cards' AND direction = 'to_left'
                  AND state = 'stopped') THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('loyalty_cards', 'to_left', 'D', to_jsonb(OLD), NULL,
                jsonb_build_object('card_number', "old"."card_number"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('loyalty_cards', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
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
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_left"
AFTER INSERT OR DELETE ON "cds"."loyalty_card"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_left_trunc"
AFTER TRUNCATE ON "cds"."loyalty_card"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_left_upd"
AFTER UPDATE ON "cds"."loyalty_card"
FOR EACH ROW
WHEN (("old"."card_number", "old"."tier", "old"."issued_on", "old"."is_blocked") IS DISTINCT FROM ("new"."card_number", "new"."tier", "new"."issued_on", "new"."is_blocked")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_left_sync"
AFTER UPDATE ON "cds"."loyalty_card"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'loyalty_cards'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_left/capture', '8940ba20e590a3d52aa2a85a5793487f1021cb27370b7515a29af13ae5ac711d', $sql$-- Removing map 'loyalty_cards' ('to_left') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'loyalty_cards' AND direction = 'to_left';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'loyalty_cards', 'to_left', v_queued, 'loyalty_cards', 'loyalty_cards', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_loyalty_cards_to_left"() CASCADE;
$sql$)
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', NULL,
               'key', jsonb_build_object('card_number', "new"."card_number"), 'force', true)
             ORDER BY "new"."card_number"), '[]')
      FROM (SELECT * FROM "cds"."loyalty_card" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."card_number") > (CAST(p_after ->> 'card_number' AS character varying(20))))
             ORDER BY "new"."card_number"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_loyalty_cards_to_left"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "cds"."loyalty_card";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "cds"."loyalty_card" AS "new"
     WHERE ("new"."card_number") = (CAST(p_key ->> 'card_number' AS character varying(20)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"cds"."loyalty_card", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'loyalty_cards', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), NULL, jsonb_build_object('card_number', "new"."card_number")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_left/snapshot', '2015738974caab9357b20a08031c48c6e2711d44a7caff1e7a6690acf20f300c', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_loyalty_cards_to_left"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_loyalty_cards_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/name_affixes/to_left/capture ====
-- Map 'name_affixes', 'to_left': capture changes of "cds"."name_affix".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_name_affixes_to_left"()
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
        VALUES ('overwrite', 'name_affixes', 'to_right',
                'initial sync overwrote a differing row of ' || 'cds.name_affix',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'name_affixes' AND direction = 'to_left'
                  AND state = 'stopped') THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('name_affixes', 'to_left', 'D', to_jsonb(OLD), NULL,
                jsonb_build_object('affix', "old"."affix", 'affix_type', "old"."affix_type"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('name_affixes', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
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
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_left"
AFTER INSERT OR DELETE ON "cds"."name_affix"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_left_trunc"
AFTER TRUNCATE ON "cds"."name_affix"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_left_upd"
AFTER UPDATE ON "cds"."name_affix"
FOR EACH ROW
WHEN (("old"."affix", "old"."affix_type", "old"."description") IS DISTINCT FROM ("new"."affix", "new"."affix_type", "new"."description")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_left_sync"
AFTER UPDATE ON "cds"."name_affix"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'name_affixes'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_left/capture', '6954500de2c838ff84dc52993bb198df1b53a16fc0d3705fc806c605b1192df3', $sql$-- Removing map 'name_affixes' ('to_left') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'name_affixes' AND direction = 'to_left';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'name_affixes', 'to_left', v_queued, 'name_affixes', 'name_affixes', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_name_affixes_to_left"() CASCADE;
$sql$)
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', NULL,
               'key', jsonb_build_object('affix', "new"."affix", 'affix_type', "new"."affix_type"), 'force', true)
             ORDER BY "new"."affix", "new"."affix_type"), '[]')
      FROM (SELECT * FROM "cds"."name_affix" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."affix", "new"."affix_type") > (CAST(p_after ->> 'affix' AS character varying(20)), CAST(p_after ->> 'affix_type' AS character varying(10))))
             ORDER BY "new"."affix", "new"."affix_type"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_name_affixes_to_left"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "cds"."name_affix";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "cds"."name_affix" AS "new"
     WHERE ("new"."affix", "new"."affix_type") = (CAST(p_key ->> 'affix' AS character varying(20)), CAST(p_key ->> 'affix_type' AS character varying(10)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"cds"."name_affix", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'name_affixes', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), NULL, jsonb_build_object('affix', "new"."affix", 'affix_type', "new"."affix_type")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_left/snapshot', '40267a97f410218c6c8f9b3dc527cbe496858ad04642e726aa2b5811dc8906f3', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_name_affixes_to_left"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_name_affixes_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_days/to_left/capture ====
-- Map 'payment_days', 'to_left': capture changes of "cds"."payment_day".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_days_to_left"()
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
        VALUES ('overwrite', 'payment_days', 'to_right',
                'initial sync overwrote a differing row of ' || 'cds.payment_day',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'payment_days' AND direction = 'to_left'
                  AND state = 'stopped') THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('payment_days', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")),
                jsonb_build_object('companyid', "old"."companyid", 'name', "old"."name"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('payment_days', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('companyid', "new"."companyid", 'name', "new"."name"));
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
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_left"
AFTER INSERT OR DELETE ON "cds"."payment_day"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_left_trunc"
AFTER TRUNCATE ON "cds"."payment_day"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_left_upd"
AFTER UPDATE ON "cds"."payment_day"
FOR EACH ROW
WHEN (("old"."companyid", "old"."name", "old"."description") IS DISTINCT FROM ("new"."companyid", "new"."name", "new"."description")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_left_sync"
AFTER UPDATE ON "cds"."payment_day"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_days'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_left/capture', 'caafacd5b4390c7cfc63f2e6216ccc72f583c4c8e39f2b50f1e1c103350ef9be', $sql$-- Removing map 'payment_days' ('to_left') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'payment_days' AND direction = 'to_left';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_days', 'to_left', v_queued, 'payment_days', 'payment_days', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_days_to_left"() CASCADE;
$sql$)
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
               'key', jsonb_build_object('companyid', "new"."companyid", 'name', "new"."name"), 'force', true)
             ORDER BY "new"."companyid", "new"."name"), '[]')
      FROM (SELECT * FROM "cds"."payment_day" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."name") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'name' AS character varying(30))))
             ORDER BY "new"."companyid", "new"."name"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_payment_days_to_left"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "cds"."payment_day";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "cds"."payment_day" AS "new"
     WHERE ("new"."companyid", "new"."name") = (CAST(p_key ->> 'companyid' AS uuid), CAST(p_key ->> 'name' AS character varying(30)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"cds"."payment_day", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'payment_days', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), jsonb_build_object('companyid', "new"."companyid", 'name', "new"."name")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_left/snapshot', 'ec60cd935d6cc14cdb3a19d9e2f2d44d425eafc0c5f2957284ae20a515680fb5', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_days_to_left"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_payment_days_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_day_lines/to_left/capture ====
-- Map 'payment_day_lines', 'to_left': capture changes of "cds"."payment_day_line".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_day_lines_to_left"()
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
        VALUES ('overwrite', 'payment_day_lines', 'to_right',
                'initial sync overwrote a differing row of ' || 'cds.payment_day_line',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'payment_day_lines' AND direction = 'to_left'
                  AND state = 'stopped') THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('payment_day_lines', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'payment_day_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "old"."paymentdayid" AND "p1"."companyid" = "old"."companyid")),
                jsonb_build_object('companyid', "old"."companyid", 'paymentdayid', "old"."paymentdayid", 'line_number', "old"."line_number"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('payment_day_lines', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'payment_day_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('companyid', "new"."companyid", 'paymentdayid', "new"."paymentdayid", 'line_number', "new"."line_number"));
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
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_left"
AFTER INSERT OR DELETE ON "cds"."payment_day_line"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_left_trunc"
AFTER TRUNCATE ON "cds"."payment_day_line"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_left_upd"
AFTER UPDATE ON "cds"."payment_day_line"
FOR EACH ROW
WHEN (("old"."companyid", "old"."paymentdayid", "old"."line_number", "old"."weekday", "old"."dayofmonth") IS DISTINCT FROM ("new"."companyid", "new"."paymentdayid", "new"."line_number", "new"."weekday", "new"."dayofmonth")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_left_sync"
AFTER UPDATE ON "cds"."payment_day_line"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_day_lines'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_left/capture', 'c844b152d7083a66622b9b2550d21caecf8f50af942da7c89b38fa37765f9143', $sql$-- Removing map 'payment_day_lines' ('to_left') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'payment_day_lines' AND direction = 'to_left';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_day_lines', 'to_left', v_queued, 'payment_day_lines', 'payment_day_lines', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_day_lines_to_left"() CASCADE;
$sql$)
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
       'payment_day_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")),
               'key', jsonb_build_object('companyid', "new"."companyid", 'paymentdayid', "new"."paymentdayid", 'line_number', "new"."line_number"), 'force', true)
             ORDER BY "new"."companyid", "new"."paymentdayid", "new"."line_number"), '[]')
      FROM (SELECT * FROM "cds"."payment_day_line" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."paymentdayid", "new"."line_number") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'paymentdayid' AS uuid), CAST(p_after ->> 'line_number' AS integer)))
             ORDER BY "new"."companyid", "new"."paymentdayid", "new"."line_number"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_payment_day_lines_to_left"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "cds"."payment_day_line";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "cds"."payment_day_line" AS "new"
     WHERE ("new"."companyid", "new"."paymentdayid", "new"."line_number") = (CAST(p_key ->> 'companyid' AS uuid), CAST(p_key ->> 'paymentdayid' AS uuid), CAST(p_key ->> 'line_number' AS integer))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"cds"."payment_day_line", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'payment_day_lines', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'payment_day_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")), jsonb_build_object('companyid', "new"."companyid", 'paymentdayid', "new"."paymentdayid", 'line_number', "new"."line_number")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_left/snapshot', '167a13abb3451ed6c46e6136be444707da870ca170c97a1ef33b43b00c0f00c9', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_day_lines_to_left"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_payment_day_lines_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedules/to_left/capture ====
-- Map 'payment_schedules', 'to_left': capture changes of "cds"."payment_schedule".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_schedules_to_left"()
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
        VALUES ('overwrite', 'payment_schedules', 'to_right',
                'initial sync overwrote a differing row of ' || 'cds.payment_schedule',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'payment_schedules' AND direction = 'to_left'
                  AND state = 'stopped') THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('payment_schedules', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")),
                jsonb_build_object('companyid', "old"."companyid", 'name', "old"."name"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('payment_schedules', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('companyid', "new"."companyid", 'name', "new"."name"));
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
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_left"
AFTER INSERT OR DELETE ON "cds"."payment_schedule"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_left_trunc"
AFTER TRUNCATE ON "cds"."payment_schedule"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_left_upd"
AFTER UPDATE ON "cds"."payment_schedule"
FOR EACH ROW
WHEN (("old"."companyid", "old"."name", "old"."description", "old"."allocation") IS DISTINCT FROM ("new"."companyid", "new"."name", "new"."description", "new"."allocation")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_left_sync"
AFTER UPDATE ON "cds"."payment_schedule"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_schedules'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_left/capture', '0c1922cefa2476c3f44200ba6a31203a1888d67e751d1b6a104d554e58fd95d9', $sql$-- Removing map 'payment_schedules' ('to_left') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'payment_schedules' AND direction = 'to_left';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_schedules', 'to_left', v_queued, 'payment_schedules', 'payment_schedules', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_schedules_to_left"() CASCADE;
$sql$)
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
               'key', jsonb_build_object('companyid', "new"."companyid", 'name', "new"."name"), 'force', true)
             ORDER BY "new"."companyid", "new"."name"), '[]')
      FROM (SELECT * FROM "cds"."payment_schedule" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."name") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'name' AS character varying(30))))
             ORDER BY "new"."companyid", "new"."name"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_payment_schedules_to_left"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "cds"."payment_schedule";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "cds"."payment_schedule" AS "new"
     WHERE ("new"."companyid", "new"."name") = (CAST(p_key ->> 'companyid' AS uuid), CAST(p_key ->> 'name' AS character varying(30)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"cds"."payment_schedule", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'payment_schedules', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), jsonb_build_object('companyid', "new"."companyid", 'name', "new"."name")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_left/snapshot', '008685c4c1353b7084e6a634ddee372a54422e54ac6f5e45ceccc9728409a7b6', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_schedules_to_left"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_payment_schedules_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedule_lines/to_left/capture ====
-- Map 'payment_schedule_lines', 'to_left': capture changes of "cds"."payment_schedule_line".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_schedule_lines_to_left"()
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
        VALUES ('overwrite', 'payment_schedule_lines', 'to_right',
                'initial sync overwrote a differing row of ' || 'cds.payment_schedule_line',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'payment_schedule_lines' AND direction = 'to_left'
                  AND state = 'stopped') THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('payment_schedule_lines', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'schedule_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "old"."paymentscheduleid" AND "p1"."companyid" = "old"."companyid")),
                jsonb_build_object('companyid', "old"."companyid", 'paymentscheduleid', "old"."paymentscheduleid", 'line_number', "old"."line_number"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('payment_schedule_lines', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'schedule_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "new"."paymentscheduleid" AND "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('companyid', "new"."companyid", 'paymentscheduleid', "new"."paymentscheduleid", 'line_number', "new"."line_number"));
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
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_left"
AFTER INSERT OR DELETE ON "cds"."payment_schedule_line"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_left_trunc"
AFTER TRUNCATE ON "cds"."payment_schedule_line"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_left_upd"
AFTER UPDATE ON "cds"."payment_schedule_line"
FOR EACH ROW
WHEN (("old"."companyid", "old"."paymentscheduleid", "old"."line_number", "old"."percentage", "old"."months", "old"."days") IS DISTINCT FROM ("new"."companyid", "new"."paymentscheduleid", "new"."line_number", "new"."percentage", "new"."months", "new"."days")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_left_sync"
AFTER UPDATE ON "cds"."payment_schedule_line"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_schedule_lines'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_left/capture', '258a6ae298018baaa7491f43ccf4260ccd4e8fa8eacba2aaa6e155928fac1b41', $sql$-- Removing map 'payment_schedule_lines' ('to_left') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'payment_schedule_lines' AND direction = 'to_left';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_schedule_lines', 'to_left', v_queued, 'payment_schedule_lines', 'payment_schedule_lines', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_schedule_lines_to_left"() CASCADE;
$sql$)
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
       'schedule_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "new"."paymentscheduleid" AND "p1"."companyid" = "new"."companyid")),
               'key', jsonb_build_object('companyid', "new"."companyid", 'paymentscheduleid', "new"."paymentscheduleid", 'line_number', "new"."line_number"), 'force', true)
             ORDER BY "new"."companyid", "new"."paymentscheduleid", "new"."line_number"), '[]')
      FROM (SELECT * FROM "cds"."payment_schedule_line" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."paymentscheduleid", "new"."line_number") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'paymentscheduleid' AS uuid), CAST(p_after ->> 'line_number' AS integer)))
             ORDER BY "new"."companyid", "new"."paymentscheduleid", "new"."line_number"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_payment_schedule_lines_to_left"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "cds"."payment_schedule_line";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "cds"."payment_schedule_line" AS "new"
     WHERE ("new"."companyid", "new"."paymentscheduleid", "new"."line_number") = (CAST(p_key ->> 'companyid' AS uuid), CAST(p_key ->> 'paymentscheduleid' AS uuid), CAST(p_key ->> 'line_number' AS integer))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"cds"."payment_schedule_line", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'payment_schedule_lines', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'schedule_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "new"."paymentscheduleid" AND "p1"."companyid" = "new"."companyid")), jsonb_build_object('companyid', "new"."companyid", 'paymentscheduleid', "new"."paymentscheduleid", 'line_number', "new"."line_number")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_left/snapshot', '70f5226dd0f458868f856c1ea71e3f128a3a11f9415a565d73810d7510974ee2', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_schedule_lines_to_left"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_payment_schedule_lines_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_terms/to_left/capture ====
-- Map 'payment_terms', 'to_left': capture changes of "cds"."payment_term".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_terms_to_left"()
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
        VALUES ('overwrite', 'payment_terms', 'to_right',
                'initial sync overwrote a differing row of ' || 'cds.payment_term',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'payment_terms' AND direction = 'to_left'
                  AND state = 'stopped') THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('payment_terms', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'payment_schedule', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "old"."paymentscheduleid" AND "p1"."companyid" = "old"."companyid"),
       'payment_day', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "old"."paymentdayid" AND "p1"."companyid" = "old"."companyid")),
                jsonb_build_object('companyid', "old"."companyid", 'code', "old"."code"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('payment_terms', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'payment_schedule', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "new"."paymentscheduleid" AND "p1"."companyid" = "new"."companyid"),
       'payment_day', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('companyid', "new"."companyid", 'code', "new"."code"));
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
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_left"
AFTER INSERT OR DELETE ON "cds"."payment_term"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_left_trunc"
AFTER TRUNCATE ON "cds"."payment_term"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_left_upd"
AFTER UPDATE ON "cds"."payment_term"
FOR EACH ROW
WHEN (("old"."companyid", "old"."code", "old"."name", "old"."due_days", "old"."paymentscheduleid", "old"."paymentdayid") IS DISTINCT FROM ("new"."companyid", "new"."code", "new"."name", "new"."due_days", "new"."paymentscheduleid", "new"."paymentdayid")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_left_sync"
AFTER UPDATE ON "cds"."payment_term"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_terms'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_left/capture', 'fb087ea6e876cb357bdfd16b1b635de65b35b102befbcdfd3dabe1bca303a875', $sql$-- Removing map 'payment_terms' ('to_left') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'payment_terms' AND direction = 'to_left';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'payment_terms', 'to_left', v_queued, 'payment_terms', 'payment_terms', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_terms_to_left"() CASCADE;
$sql$)
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
       'payment_day', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")),
               'key', jsonb_build_object('companyid', "new"."companyid", 'code', "new"."code"), 'force', true)
             ORDER BY "new"."companyid", "new"."code"), '[]')
      FROM (SELECT * FROM "cds"."payment_term" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."code") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'code' AS character varying(10))))
             ORDER BY "new"."companyid", "new"."code"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_payment_terms_to_left"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "cds"."payment_term";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "cds"."payment_term" AS "new"
     WHERE ("new"."companyid", "new"."code") = (CAST(p_key ->> 'companyid' AS uuid), CAST(p_key ->> 'code' AS character varying(10)))
       AND coalesce(true, false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"cds"."payment_term", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'payment_terms', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'payment_schedule', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "new"."paymentscheduleid" AND "p1"."companyid" = "new"."companyid"),
       'payment_day', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")), jsonb_build_object('companyid', "new"."companyid", 'code', "new"."code")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_left/snapshot', '3d1e43e63f1a66df26ebca8cbaee7c2b2a08f4271eb1a9c5d4c90f338492c9f5', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_terms_to_left"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_payment_terms_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_organization/to_left/capture ====
-- Map 'customers_organization', 'to_left': capture changes of "cds"."account".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
-- Runs as its owner (SECURITY DEFINER): the application's roles fire it, but may not
-- read or write the queue themselves.
CREATE OR REPLACE FUNCTION "replicator"."capture_customers_organization_to_left"()
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
        VALUES ('overwrite', 'customers_organization', 'to_right',
                'initial sync overwrote a differing row of ' || 'cds.account',
                jsonb_build_object('before', to_jsonb(OLD), 'after', to_jsonb(NEW)));
        RETURN NULL;
    END IF;
    -- replicator stop: what is written while the map direction is stopped is not
    -- captured (a flag, read here, rather than disabled triggers: only the table's
    -- owner may disable them, and that locks the table against its writers).
    IF EXISTS (SELECT FROM "replicator"."map_state"
                WHERE map_name = 'customers_organization' AND direction = 'to_left'
                  AND state = 'stopped') THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
        VALUES ('customers_organization', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'customer_group', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'group_code', "p1"."group_code") FROM "cds"."customer_group" AS "p1" WHERE "p1"."customergroupid" = "old"."customergroupid" AND "p1"."companyid" = "old"."companyid"),
       'payment_terms', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."payment_term" AS "p1" WHERE "p1"."paymenttermid" = "old"."paymenttermid" AND "p1"."companyid" = "old"."companyid"),
       'payment_method', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."customerpaymentmethodid" = "old"."customerpaymentmethodid" AND "p1"."companyid" = "old"."companyid")),
                jsonb_build_object('companyid', "old"."companyid", 'accountnumber', "old"."accountnumber"));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: it says which fields the update wrote.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, key)
        VALUES ('customers_organization', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'customer_group', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'group_code', "p1"."group_code") FROM "cds"."customer_group" AS "p1" WHERE "p1"."customergroupid" = "new"."customergroupid" AND "p1"."companyid" = "new"."companyid"),
       'payment_terms', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."payment_term" AS "p1" WHERE "p1"."paymenttermid" = "new"."paymenttermid" AND "p1"."companyid" = "new"."companyid"),
       'payment_method', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."customerpaymentmethodid" = "new"."customerpaymentmethodid" AND "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                jsonb_build_object('companyid', "new"."companyid", 'accountnumber', "new"."accountnumber"));
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
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_left"
AFTER INSERT OR DELETE ON "cds"."account"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_left_trunc"
AFTER TRUNCATE ON "cds"."account"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_left_upd"
AFTER UPDATE ON "cds"."account"
FOR EACH ROW
WHEN (("old"."companyid", "old"."accountnumber", "old"."name", "old"."customergroupid", "old"."paymenttermid", "old"."customerpaymentmethodid", "old"."emailaddress1", "old"."creditlimit", "old"."credit_hold", "old"."relationship_type") IS DISTINCT FROM ("new"."companyid", "new"."accountnumber", "new"."name", "new"."customergroupid", "new"."paymenttermid", "new"."customerpaymentmethodid", "new"."emailaddress1", "new"."creditlimit", "new"."credit_hold", "new"."relationship_type")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_left_sync"
AFTER UPDATE ON "cds"."account"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customers_organization'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator_write', 'USAGE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_left/capture', '60b7471b452df50fdd6fcf445cd5610f97d7df43a680e94c0da0d40ebc97f54f', $sql$-- Removing map 'customers_organization' ('to_left') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = 'customers_organization' AND direction = 'to_left';
    IF v_queued > 0 THEN
        RAISE EXCEPTION 'replicator: map % (%) is removed but still has % queued changes: apply them (replicator resume %, if paused, and run the applier) or throw them away (replicator discard % --direction % --reason TEXT), then deploy again',
            'customers_organization', 'to_left', v_queued, 'customers_organization', 'customers_organization', 'to_left'
            USING ERRCODE = 'object_in_use';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_customers_organization_to_left"() CASCADE;
$sql$)
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
       'payment_method', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."customerpaymentmethodid" = "new"."customerpaymentmethodid" AND "p1"."companyid" = "new"."companyid")),
               'key', jsonb_build_object('companyid', "new"."companyid", 'accountnumber', "new"."accountnumber"), 'force', true)
             ORDER BY "new"."companyid", "new"."accountnumber"), '[]')
      FROM (SELECT * FROM "cds"."account" AS "new"
             WHERE coalesce(("new"."relationship_type" = 'customer'), false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."accountnumber") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'accountnumber' AS character varying(20))))
             ORDER BY "new"."companyid", "new"."accountnumber"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is gone
-- or filtered out), as a write of every field made here: it has seen what the other
-- side wrote to the row, so it wins there.
CREATE OR REPLACE FUNCTION "replicator"."resend_customers_organization_to_left"(p_key jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $resend$
DECLARE
    v_row "cds"."account";
    v_found boolean;
BEGIN
    SELECT * INTO v_row FROM "cds"."account" AS "new"
     WHERE ("new"."companyid", "new"."accountnumber") = (CAST(p_key ->> 'companyid' AS uuid), CAST(p_key ->> 'accountnumber' AS character varying(20)))
       AND coalesce(("new"."relationship_type" = 'customer'), false);
    v_found := FOUND;
    IF NOT v_found THEN
        v_row := jsonb_populate_record(NULL::"cds"."account", p_key);
    END IF;
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, key)
    SELECT 'customers_organization', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'customer_group', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'group_code', "p1"."group_code") FROM "cds"."customer_group" AS "p1" WHERE "p1"."customergroupid" = "new"."customergroupid" AND "p1"."companyid" = "new"."companyid"),
       'payment_terms', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."payment_term" AS "p1" WHERE "p1"."paymenttermid" = "new"."paymenttermid" AND "p1"."companyid" = "new"."companyid"),
       'payment_method', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."customerpaymentmethodid" = "new"."customerpaymentmethodid" AND "p1"."companyid" = "new"."companyid")), jsonb_build_object('companyid', "new"."companyid", 'accountnumber', "new"."accountnumber")
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_left/snapshot', 'b2143d8f93975a8454baf06af53c402e9d12c044b25d420d25f8fd81f401d27c', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customers_organization_to_left"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_customers_organization_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/companies/to_left/absorb ====
-- Map 'companies', 'to_left': changes of "cds"."company" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_companies_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'companies', 'right', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'name', CASE WHEN j."i_1" IS NULL THEN j.clock->'name'
                    ELSE jsonb_build_array(coalesce(j.clock->'name'->0, to_jsonb(0)), greatest(coalesce((j.clock->'name'->>1)::bigint, 0), j."i_1"), j.clock->'name'->2, j."t_1") END),
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
                    WHERE v.key = c.key AND v.map_name = 'companies' AND v.side = 'right'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_left/absorb', '92691d03441d40b438fe7314f2c492536940b6838b9dd5d845fc4d5e21bc421b', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_companies_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/contact_persons/to_left/absorb ====
-- Map 'contact_persons', 'to_left': changes of "cds"."contact" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_contact_persons_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'contact_persons', 'right', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'first_name', CASE WHEN j."i_1" IS NULL THEN j.clock->'first_name'
                    ELSE jsonb_build_array(coalesce(j.clock->'first_name'->0, to_jsonb(0)), greatest(coalesce((j.clock->'first_name'->>1)::bigint, 0), j."i_1"), j.clock->'first_name'->2, j."t_1") END,
               'last_name', CASE WHEN j."i_2" IS NULL THEN j.clock->'last_name'
                    ELSE jsonb_build_array(coalesce(j.clock->'last_name'->0, to_jsonb(0)), greatest(coalesce((j.clock->'last_name'->>1)::bigint, 0), j."i_2"), j.clock->'last_name'->2, j."t_2") END,
               'email', CASE WHEN j."i_3" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(coalesce(j.clock->'email'->0, to_jsonb(0)), greatest(coalesce((j.clock->'email'->>1)::bigint, 0), j."i_3"), j.clock->'email'->2, j."t_3") END,
               'customer_account', CASE WHEN j."i_4" IS NULL THEN j.clock->'customer_account'
                    ELSE jsonb_build_array(coalesce(j.clock->'customer_account'->0, to_jsonb(0)), greatest(coalesce((j.clock->'customer_account'->>1)::bigint, 0), j."i_4"), j.clock->'customer_account'->2, j."t_4") END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'firstname' IS DISTINCT FROM c.image->'firstname')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'firstname' IS DISTINCT FROM c.image->'firstname')))
                       AS "t_1",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'lastname' IS DISTINCT FROM c.image->'lastname')))
                       AS "i_2",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'lastname' IS DISTINCT FROM c.image->'lastname')))
                       AS "t_2",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'emailaddress1' IS DISTINCT FROM c.image->'emailaddress1')))
                       AS "i_3",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'emailaddress1' IS DISTINCT FROM c.image->'emailaddress1')))
                       AS "t_3",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'parent_account_number' IS DISTINCT FROM c.image->'parent_account_number')))
                       AS "i_4",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'parent_account_number' IS DISTINCT FROM c.image->'parent_account_number')))
                       AS "t_4",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'contact_persons' AND v.side = 'right'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_left/absorb', 'd09f7fe976b12beb1fd78cccd618c1e975aa6b22d9b8e4d46ec8334b9548c47a', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_contact_persons_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_groups/to_left/absorb ====
-- Map 'customer_groups', 'to_left': changes of "cds"."customer_group" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_customer_groups_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customer_groups', 'right', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), j."i_1"), j.clock->'description'->2, j."t_1") END),
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
                    WHERE v.key = c.key AND v.map_name = 'customer_groups' AND v.side = 'right'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_left/absorb', '55b753e244f942f786d0cb4221623212243d1e03ca2f5611af2ce86a1d8d6b76', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_customer_groups_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_payment_methods/to_left/absorb ====
-- Map 'customer_payment_methods', 'to_left': changes of "cds"."customer_payment_method" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_customer_payment_methods_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customer_payment_methods', 'right', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), j."i_1"), j.clock->'description'->2, j."t_1") END,
               'payment_type', CASE WHEN j."i_2" IS NULL THEN j.clock->'payment_type'
                    ELSE jsonb_build_array(coalesce(j.clock->'payment_type'->0, to_jsonb(0)), greatest(coalesce((j.clock->'payment_type'->>1)::bigint, 0), j."i_2"), j.clock->'payment_type'->2, j."t_2") END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
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
                    WHERE v.key = c.key AND v.map_name = 'customer_payment_methods' AND v.side = 'right'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_left/absorb', 'c02bf61a23ef5998ad31d0be22697f6f3c0ad56e5fccd49b35f4297c59e2a1b8', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_customer_payment_methods_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_person/to_left/absorb ====
-- Map 'customers_person', 'to_left': changes of "cds"."contact" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_customers_person_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customers_person', 'right', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'name', CASE WHEN j."i_1" IS NULL THEN j.clock->'name'
                    ELSE jsonb_build_array(coalesce(j.clock->'name'->0, to_jsonb(0)), greatest(coalesce((j.clock->'name'->>1)::bigint, 0), j."i_1"), j.clock->'name'->2, j."t_1") END,
               'email', CASE WHEN j."i_2" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(coalesce(j.clock->'email'->0, to_jsonb(0)), greatest(coalesce((j.clock->'email'->>1)::bigint, 0), j."i_2"), j.clock->'email'->2, j."t_2") END,
               'party_type', CASE WHEN j."i_3" IS NULL THEN j.clock->'party_type'
                    ELSE jsonb_build_array(coalesce(j.clock->'party_type'->0, to_jsonb(0)), greatest(coalesce((j.clock->'party_type'->>1)::bigint, 0), j."i_3"), j.clock->'party_type'->2, j."t_3") END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'firstname' IS DISTINCT FROM c.image->'firstname' OR c.before->'middlename' IS DISTINCT FROM c.image->'middlename' OR c.before->'lastname' IS DISTINCT FROM c.image->'lastname')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'firstname' IS DISTINCT FROM c.image->'firstname' OR c.before->'middlename' IS DISTINCT FROM c.image->'middlename' OR c.before->'lastname' IS DISTINCT FROM c.image->'lastname')))
                       AS "t_1",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'emailaddress1' IS DISTINCT FROM c.image->'emailaddress1')))
                       AS "i_2",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'emailaddress1' IS DISTINCT FROM c.image->'emailaddress1')))
                       AS "t_2",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)))
                       AS "i_3",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR false)))
                       AS "t_3",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'customers_person' AND v.side = 'right'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_left/absorb', '1281686828167ea0f9589991cffbc759d6ff3da14a70ad2300d626466bcf8bc0', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_customers_person_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/loyalty_cards/to_left/absorb ====
-- Map 'loyalty_cards', 'to_left': changes of "cds"."loyalty_card" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_loyalty_cards_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'loyalty_cards', 'right', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'tier', CASE WHEN j."i_1" IS NULL THEN j.clock->'tier'
                    ELSE jsonb_build_array(coalesce(j.clock->'tier'->0, to_jsonb(0)), greatest(coalesce((j.clock->'tier'->>1)::bigint, 0), j."i_1"), j.clock->'tier'->2, j."t_1") END,
               'issued_on', CASE WHEN j."i_2" IS NULL THEN j.clock->'issued_on'
                    ELSE jsonb_build_array(coalesce(j.clock->'issued_on'->0, to_jsonb(0)), greatest(coalesce((j.clock->'issued_on'->>1)::bigint, 0), j."i_2"), j.clock->'issued_on'->2, j."t_2") END,
               'blocked', CASE WHEN j."i_3" IS NULL THEN j.clock->'blocked'
                    ELSE jsonb_build_array(coalesce(j.clock->'blocked'->0, to_jsonb(0)), greatest(coalesce((j.clock->'blocked'->>1)::bigint, 0), j."i_3"), j.clock->'blocked'->2, j."t_3") END),
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
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'is_blocked' IS DISTINCT FROM c.image->'is_blocked')))
                       AS "i_3",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'is_blocked' IS DISTINCT FROM c.image->'is_blocked')))
                       AS "t_3",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'loyalty_cards' AND v.side = 'right'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_left/absorb', '73b54dd1ac01a22eb1b81fad1c6ab8f496889f0b731de1b9b7f6cab3c68f3312', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_loyalty_cards_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/name_affixes/to_left/absorb ====
-- Map 'name_affixes', 'to_left': changes of "cds"."name_affix" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_name_affixes_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'name_affixes', 'right', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), j."i_1"), j.clock->'description'->2, j."t_1") END),
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
                    WHERE v.key = c.key AND v.map_name = 'name_affixes' AND v.side = 'right'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_left/absorb', '1e8fa2c6dfad941c4878da1811076caf570f1d00d08d91f889c02513c62491e9', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_name_affixes_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_days/to_left/absorb ====
-- Map 'payment_days', 'to_left': changes of "cds"."payment_day" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_payment_days_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_days', 'right', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), j."i_1"), j.clock->'description'->2, j."t_1") END),
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
                    WHERE v.key = c.key AND v.map_name = 'payment_days' AND v.side = 'right'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_left/absorb', '9eae64e59069ab6470c2116a4db0e87df965ee62f61926b23fbfbd0db0495937', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_payment_days_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_day_lines/to_left/absorb ====
-- Map 'payment_day_lines', 'to_left': changes of "cds"."payment_day_line" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_payment_day_lines_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_day_lines', 'right', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'week_day', CASE WHEN j."i_1" IS NULL THEN j.clock->'week_day'
                    ELSE jsonb_build_array(coalesce(j.clock->'week_day'->0, to_jsonb(0)), greatest(coalesce((j.clock->'week_day'->>1)::bigint, 0), j."i_1"), j.clock->'week_day'->2, j."t_1") END,
               'day_of_month', CASE WHEN j."i_2" IS NULL THEN j.clock->'day_of_month'
                    ELSE jsonb_build_array(coalesce(j.clock->'day_of_month'->0, to_jsonb(0)), greatest(coalesce((j.clock->'day_of_month'->>1)::bigint, 0), j."i_2"), j.clock->'day_of_month'->2, j."t_2") END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'weekday' IS DISTINCT FROM c.image->'weekday')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'weekday' IS DISTINCT FROM c.image->'weekday')))
                       AS "t_1",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'dayofmonth' IS DISTINCT FROM c.image->'dayofmonth')))
                       AS "i_2",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'dayofmonth' IS DISTINCT FROM c.image->'dayofmonth')))
                       AS "t_2",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'payment_day_lines' AND v.side = 'right'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_left/absorb', 'ea95530e426260f0dd25e6b49e31915d28fe96240440203e2af8299a57a6d357', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_payment_day_lines_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedules/to_left/absorb ====
-- Map 'payment_schedules', 'to_left': changes of "cds"."payment_schedule" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_payment_schedules_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_schedules', 'right', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), j."i_1"), j.clock->'description'->2, j."t_1") END,
               'allocation', CASE WHEN j."i_2" IS NULL THEN j.clock->'allocation'
                    ELSE jsonb_build_array(coalesce(j.clock->'allocation'->0, to_jsonb(0)), greatest(coalesce((j.clock->'allocation'->>1)::bigint, 0), j."i_2"), j.clock->'allocation'->2, j."t_2") END),
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
                    WHERE v.key = c.key AND v.map_name = 'payment_schedules' AND v.side = 'right'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_left/absorb', '233a0a73fff452378870ee323a798810fb54da6d63bf9453767929ad26b90299', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_payment_schedules_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedule_lines/to_left/absorb ====
-- Map 'payment_schedule_lines', 'to_left': changes of "cds"."payment_schedule_line" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_payment_schedule_lines_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_schedule_lines', 'right', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'percent', CASE WHEN j."i_1" IS NULL THEN j.clock->'percent'
                    ELSE jsonb_build_array(coalesce(j.clock->'percent'->0, to_jsonb(0)), greatest(coalesce((j.clock->'percent'->>1)::bigint, 0), j."i_1"), j.clock->'percent'->2, j."t_1") END,
               'due_months', CASE WHEN j."i_2" IS NULL THEN j.clock->'due_months'
                    ELSE jsonb_build_array(coalesce(j.clock->'due_months'->0, to_jsonb(0)), greatest(coalesce((j.clock->'due_months'->>1)::bigint, 0), j."i_2"), j.clock->'due_months'->2, j."t_2") END,
               'due_days', CASE WHEN j."i_3" IS NULL THEN j.clock->'due_days'
                    ELSE jsonb_build_array(coalesce(j.clock->'due_days'->0, to_jsonb(0)), greatest(coalesce((j.clock->'due_days'->>1)::bigint, 0), j."i_3"), j.clock->'due_days'->2, j."t_3") END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'percentage' IS DISTINCT FROM c.image->'percentage')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'percentage' IS DISTINCT FROM c.image->'percentage')))
                       AS "t_1",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'months' IS DISTINCT FROM c.image->'months')))
                       AS "i_2",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'months' IS DISTINCT FROM c.image->'months')))
                       AS "t_2",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'days' IS DISTINCT FROM c.image->'days')))
                       AS "i_3",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'days' IS DISTINCT FROM c.image->'days')))
                       AS "t_3",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'payment_schedule_lines' AND v.side = 'right'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_left/absorb', 'f7e0471382b979071a3716f8652ad9e73e361659a7f153c26fee4b3af99bb281', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_payment_schedule_lines_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_terms/to_left/absorb ====
-- Map 'payment_terms', 'to_left': changes of "cds"."payment_term" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_payment_terms_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'payment_terms', 'right', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'description', CASE WHEN j."i_1" IS NULL THEN j.clock->'description'
                    ELSE jsonb_build_array(coalesce(j.clock->'description'->0, to_jsonb(0)), greatest(coalesce((j.clock->'description'->>1)::bigint, 0), j."i_1"), j.clock->'description'->2, j."t_1") END,
               'net_days', CASE WHEN j."i_2" IS NULL THEN j.clock->'net_days'
                    ELSE jsonb_build_array(coalesce(j.clock->'net_days'->0, to_jsonb(0)), greatest(coalesce((j.clock->'net_days'->>1)::bigint, 0), j."i_2"), j.clock->'net_days'->2, j."t_2") END,
               'payment_schedule', CASE WHEN j."i_3" IS NULL THEN j.clock->'payment_schedule'
                    ELSE jsonb_build_array(coalesce(j.clock->'payment_schedule'->0, to_jsonb(0)), greatest(coalesce((j.clock->'payment_schedule'->>1)::bigint, 0), j."i_3"), j.clock->'payment_schedule'->2, j."t_3") END,
               'payment_day', CASE WHEN j."i_4" IS NULL THEN j.clock->'payment_day'
                    ELSE jsonb_build_array(coalesce(j.clock->'payment_day'->0, to_jsonb(0)), greatest(coalesce((j.clock->'payment_day'->>1)::bigint, 0), j."i_4"), j.clock->'payment_day'->2, j."t_4") END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
                       AS "t_1",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'due_days' IS DISTINCT FROM c.image->'due_days')))
                       AS "i_2",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'due_days' IS DISTINCT FROM c.image->'due_days')))
                       AS "t_2",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'paymentscheduleid' IS DISTINCT FROM c.image->'paymentscheduleid')))
                       AS "i_3",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'paymentscheduleid' IS DISTINCT FROM c.image->'paymentscheduleid')))
                       AS "t_3",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'paymentdayid' IS DISTINCT FROM c.image->'paymentdayid')))
                       AS "i_4",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'paymentdayid' IS DISTINCT FROM c.image->'paymentdayid')))
                       AS "t_4",
                   (array_agg(c.op ORDER BY c.id DESC))[1] AS newest_op,
                   (array_agg(c.image ORDER BY c.id DESC))[1] AS newest_image
              FROM jsonb_to_recordset(p_changes)
                   AS c(id bigint, op text, image jsonb, before jsonb, key jsonb, stamp bigint)
              -- One lookup by primary key per change (LIMIT: a plan made while the table
              -- looked small would otherwise read every clock of the map for each one).
              LEFT JOIN LATERAL (
                   SELECT v.clock FROM "replicator"."versions" AS v
                    WHERE v.key = c.key AND v.map_name = 'payment_terms' AND v.side = 'right'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_left/absorb', '252c594de9213d840b35142de6e784453f774d81d3d9266ff3cdb6a4f353ce60', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_payment_terms_to_left"(jsonb);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_organization/to_left/absorb ====
-- Map 'customers_organization', 'to_left': changes of "cds"."account" that crossed, recorded in their rows'
-- clocks here: per field and for the row itself, this side's newest change of it, and
-- the row as it was deleted, if its newest change deleted it. (A newer insert or update
-- leaves the deleted row there: the replicator may have deleted the row since, and a row
-- that exists is never judged by it.)
CREATE OR REPLACE FUNCTION "replicator"."absorb_customers_organization_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $absorb$
    INSERT INTO "replicator"."versions" AS v (map_name, side, key, clock, gone, touched_at)
    SELECT 'customers_organization', 'right', j.key,
           j.clock || jsonb_build_object(
               '', jsonb_build_array(coalesce(j.clock->''->0, to_jsonb(0)), greatest(coalesce((j.clock->''->>1)::bigint, 0), j.id), j.clock->''->2, j.t_0),
               'name', CASE WHEN j."i_1" IS NULL THEN j.clock->'name'
                    ELSE jsonb_build_array(coalesce(j.clock->'name'->0, to_jsonb(0)), greatest(coalesce((j.clock->'name'->>1)::bigint, 0), j."i_1"), j.clock->'name'->2, j."t_1") END,
               'customer_group', CASE WHEN j."i_2" IS NULL THEN j.clock->'customer_group'
                    ELSE jsonb_build_array(coalesce(j.clock->'customer_group'->0, to_jsonb(0)), greatest(coalesce((j.clock->'customer_group'->>1)::bigint, 0), j."i_2"), j.clock->'customer_group'->2, j."t_2") END,
               'payment_terms', CASE WHEN j."i_3" IS NULL THEN j.clock->'payment_terms'
                    ELSE jsonb_build_array(coalesce(j.clock->'payment_terms'->0, to_jsonb(0)), greatest(coalesce((j.clock->'payment_terms'->>1)::bigint, 0), j."i_3"), j.clock->'payment_terms'->2, j."t_3") END,
               'payment_method', CASE WHEN j."i_4" IS NULL THEN j.clock->'payment_method'
                    ELSE jsonb_build_array(coalesce(j.clock->'payment_method'->0, to_jsonb(0)), greatest(coalesce((j.clock->'payment_method'->>1)::bigint, 0), j."i_4"), j.clock->'payment_method'->2, j."t_4") END,
               'email', CASE WHEN j."i_5" IS NULL THEN j.clock->'email'
                    ELSE jsonb_build_array(coalesce(j.clock->'email'->0, to_jsonb(0)), greatest(coalesce((j.clock->'email'->>1)::bigint, 0), j."i_5"), j.clock->'email'->2, j."t_5") END,
               'credit_limit', CASE WHEN j."i_6" IS NULL THEN j.clock->'credit_limit'
                    ELSE jsonb_build_array(coalesce(j.clock->'credit_limit'->0, to_jsonb(0)), greatest(coalesce((j.clock->'credit_limit'->>1)::bigint, 0), j."i_6"), j.clock->'credit_limit'->2, j."t_6") END,
               'blocked', CASE WHEN j."i_7" IS NULL THEN j.clock->'blocked'
                    ELSE jsonb_build_array(coalesce(j.clock->'blocked'->0, to_jsonb(0)), greatest(coalesce((j.clock->'blocked'->>1)::bigint, 0), j."i_7"), j.clock->'blocked'->2, j."t_7") END,
               'party_type', CASE WHEN j."i_8" IS NULL THEN j.clock->'party_type'
                    ELSE jsonb_build_array(coalesce(j.clock->'party_type'->0, to_jsonb(0)), greatest(coalesce((j.clock->'party_type'->>1)::bigint, 0), j."i_8"), j.clock->'party_type'->2, j."t_8") END),
           CASE WHEN j.newest_op = 'D' THEN j.newest_image END, now()
      FROM (SELECT c.key, coalesce(v.clock, '{}') AS clock,
                   max(c.id) AS id, max(c.stamp) AS t_0,
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
                       AS "i_1",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'name' IS DISTINCT FROM c.image->'name')))
                       AS "t_1",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customergroupid' IS DISTINCT FROM c.image->'customergroupid')))
                       AS "i_2",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customergroupid' IS DISTINCT FROM c.image->'customergroupid')))
                       AS "t_2",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'paymenttermid' IS DISTINCT FROM c.image->'paymenttermid')))
                       AS "i_3",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'paymenttermid' IS DISTINCT FROM c.image->'paymenttermid')))
                       AS "t_3",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customerpaymentmethodid' IS DISTINCT FROM c.image->'customerpaymentmethodid')))
                       AS "i_4",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'customerpaymentmethodid' IS DISTINCT FROM c.image->'customerpaymentmethodid')))
                       AS "t_4",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'emailaddress1' IS DISTINCT FROM c.image->'emailaddress1')))
                       AS "i_5",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'emailaddress1' IS DISTINCT FROM c.image->'emailaddress1')))
                       AS "t_5",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'creditlimit' IS DISTINCT FROM c.image->'creditlimit')))
                       AS "i_6",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'creditlimit' IS DISTINCT FROM c.image->'creditlimit')))
                       AS "t_6",
                   max(c.id) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'credit_hold' IS DISTINCT FROM c.image->'credit_hold')))
                       AS "i_7",
                   max(c.stamp) FILTER (WHERE c.op = 'I' OR (c.op = 'U' AND (c.before IS NULL OR c.before->'credit_hold' IS DISTINCT FROM c.image->'credit_hold')))
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
                    WHERE v.key = c.key AND v.map_name = 'customers_organization' AND v.side = 'right'
                    LIMIT 1) AS v ON true
             WHERE c.op <> 'T' AND c.key IS NOT NULL
             GROUP BY c.key, v.clock) AS j
        ON CONFLICT (map_name, side, key)
        DO UPDATE SET clock = EXCLUDED.clock, gone = coalesce(EXCLUDED.gone, v.gone), touched_at = now()
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_left/absorb', '5ec3b64344377f101bfbcab70eb9b00a1a8e8c1a9d58d9e0437356c6b0bb8a3d', $sql$DROP FUNCTION IF EXISTS "replicator"."absorb_customers_organization_to_left"(jsonb);
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
    IF p_direction = 'to_left' AND v_by_map ? 'companies' THEN
        PERFORM "replicator"."absorb_companies_to_left"(v_by_map->'companies');
    END IF;
    IF p_direction = 'to_left' AND v_by_map ? 'contact_persons' THEN
        PERFORM "replicator"."absorb_contact_persons_to_left"(v_by_map->'contact_persons');
    END IF;
    IF p_direction = 'to_left' AND v_by_map ? 'customer_groups' THEN
        PERFORM "replicator"."absorb_customer_groups_to_left"(v_by_map->'customer_groups');
    END IF;
    IF p_direction = 'to_left' AND v_by_map ? 'customer_payment_methods' THEN
        PERFORM "replicator"."absorb_customer_payment_methods_to_left"(v_by_map->'customer_payment_methods');
    END IF;
    IF p_direction = 'to_left' AND v_by_map ? 'customers_person' THEN
        PERFORM "replicator"."absorb_customers_person_to_left"(v_by_map->'customers_person');
    END IF;
    IF p_direction = 'to_left' AND v_by_map ? 'loyalty_cards' THEN
        PERFORM "replicator"."absorb_loyalty_cards_to_left"(v_by_map->'loyalty_cards');
    END IF;
    IF p_direction = 'to_left' AND v_by_map ? 'name_affixes' THEN
        PERFORM "replicator"."absorb_name_affixes_to_left"(v_by_map->'name_affixes');
    END IF;
    IF p_direction = 'to_left' AND v_by_map ? 'payment_days' THEN
        PERFORM "replicator"."absorb_payment_days_to_left"(v_by_map->'payment_days');
    END IF;
    IF p_direction = 'to_left' AND v_by_map ? 'payment_day_lines' THEN
        PERFORM "replicator"."absorb_payment_day_lines_to_left"(v_by_map->'payment_day_lines');
    END IF;
    IF p_direction = 'to_left' AND v_by_map ? 'payment_schedules' THEN
        PERFORM "replicator"."absorb_payment_schedules_to_left"(v_by_map->'payment_schedules');
    END IF;
    IF p_direction = 'to_left' AND v_by_map ? 'payment_schedule_lines' THEN
        PERFORM "replicator"."absorb_payment_schedule_lines_to_left"(v_by_map->'payment_schedule_lines');
    END IF;
    IF p_direction = 'to_left' AND v_by_map ? 'payment_terms' THEN
        PERFORM "replicator"."absorb_payment_terms_to_left"(v_by_map->'payment_terms');
    END IF;
    IF p_direction = 'to_left' AND v_by_map ? 'customers_organization' THEN
        PERFORM "replicator"."absorb_customers_organization_to_left"(v_by_map->'customers_organization');
    END IF;
END
$absorb$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('absorb', '941170fd55eacd152f333b42458d3279e7d575b5d3afe48c0df0ca22b0fa834b', $sql$$sql$)
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
SELECT replicator.record_dependency('companies', 'right', 'cds', 'company',
       '[{"column": "company_code", "uses": "field dataareaid", "capture_reads": true}, {"column": "name", "uses": "field name", "capture_reads": false}]',
       ARRAY['replicator_companies_to_left', 'replicator_companies_to_left_upd', 'replicator_companies_to_left_trunc', 'replicator_companies_to_left_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('contact_persons', 'right', 'cds', 'contact',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "contactpersonid", "uses": "field contact_person_id, right_filter", "capture_reads": true}, {"column": "firstname", "uses": "field first_name", "capture_reads": false}, {"column": "lastname", "uses": "field last_name", "capture_reads": false}, {"column": "emailaddress1", "uses": "field email", "capture_reads": false}, {"column": "parent_account_number", "uses": "field customer_account", "capture_reads": false}, {"column": "is_sellable", "uses": "field is_sellable", "capture_reads": false}]',
       ARRAY['replicator_contact_persons_to_left', 'replicator_contact_persons_to_left_upd', 'replicator_contact_persons_to_left_trunc', 'replicator_contact_persons_to_left_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('contact_persons', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('customer_groups', 'right', 'cds', 'customer_group',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "group_code", "uses": "field customer_group", "capture_reads": true}, {"column": "name", "uses": "field description", "capture_reads": false}]',
       ARRAY['replicator_customer_groups_to_left', 'replicator_customer_groups_to_left_upd', 'replicator_customer_groups_to_left_trunc', 'replicator_customer_groups_to_left_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('customer_groups', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('customer_payment_methods', 'right', 'cds', 'customer_payment_method',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "code", "uses": "field payment_method", "capture_reads": true}, {"column": "name", "uses": "field description", "capture_reads": false}, {"column": "payment_type", "uses": "field payment_type", "capture_reads": false}]',
       ARRAY['replicator_customer_payment_methods_to_left', 'replicator_customer_payment_methods_to_left_upd', 'replicator_customer_payment_methods_to_left_trunc', 'replicator_customer_payment_methods_to_left_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('customer_payment_methods', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('customers_person', 'right', 'cds', 'contact',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "customer_number", "uses": "field account_num, right_filter", "capture_reads": true}, {"column": "firstname", "uses": "field firstname, field name", "capture_reads": false}, {"column": "middlename", "uses": "field middlename, field name", "capture_reads": false}, {"column": "lastname", "uses": "field lastname, field name", "capture_reads": false}, {"column": "emailaddress1", "uses": "field email", "capture_reads": false}, {"column": "is_sellable", "uses": "field is_sellable, right_filter", "capture_reads": true}]',
       ARRAY['replicator_customers_person_to_left', 'replicator_customers_person_to_left_upd', 'replicator_customers_person_to_left_trunc', 'replicator_customers_person_to_left_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('customers_person', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('loyalty_cards', 'right', 'cds', 'loyalty_card',
       '[{"column": "card_number", "uses": "field card_number", "capture_reads": true}, {"column": "tier", "uses": "field tier", "capture_reads": false}, {"column": "issued_on", "uses": "field issued_on", "capture_reads": false}, {"column": "is_blocked", "uses": "field blocked", "capture_reads": false}]',
       ARRAY['replicator_loyalty_cards_to_left', 'replicator_loyalty_cards_to_left_upd', 'replicator_loyalty_cards_to_left_trunc', 'replicator_loyalty_cards_to_left_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('name_affixes', 'right', 'cds', 'name_affix',
       '[{"column": "affix", "uses": "field affix", "capture_reads": true}, {"column": "affix_type", "uses": "field affix_type", "capture_reads": true}, {"column": "description", "uses": "field description", "capture_reads": false}]',
       ARRAY['replicator_name_affixes_to_left', 'replicator_name_affixes_to_left_upd', 'replicator_name_affixes_to_left_trunc', 'replicator_name_affixes_to_left_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_days', 'right', 'cds', 'payment_day',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "name", "uses": "field payment_day_name", "capture_reads": true}, {"column": "description", "uses": "field description", "capture_reads": false}]',
       ARRAY['replicator_payment_days_to_left', 'replicator_payment_days_to_left_upd', 'replicator_payment_days_to_left_trunc', 'replicator_payment_days_to_left_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_days', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('payment_day_lines', 'right', 'cds', 'payment_day_line',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "paymentdayid", "uses": "field payment_day_name", "capture_reads": true}, {"column": "line_number", "uses": "field line_num", "capture_reads": true}, {"column": "weekday", "uses": "field week_day", "capture_reads": false}, {"column": "dayofmonth", "uses": "field day_of_month", "capture_reads": false}]',
       ARRAY['replicator_payment_day_lines_to_left', 'replicator_payment_day_lines_to_left_upd', 'replicator_payment_day_lines_to_left_trunc', 'replicator_payment_day_lines_to_left_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_day_lines', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('payment_day_lines', 'right', 'cds', 'payment_day',
       '[{"column": "paymentdayid", "uses": "lookup payment_days", "capture_reads": false}, {"column": "companyid", "uses": "lookup payment_days", "capture_reads": false}, {"column": "name", "uses": "lookup payment_days", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'payment_days', true);
SELECT replicator.record_dependency('payment_schedules', 'right', 'cds', 'payment_schedule',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "name", "uses": "field schedule_name", "capture_reads": true}, {"column": "description", "uses": "field description", "capture_reads": false}, {"column": "allocation", "uses": "field allocation", "capture_reads": false}]',
       ARRAY['replicator_payment_schedules_to_left', 'replicator_payment_schedules_to_left_upd', 'replicator_payment_schedules_to_left_trunc', 'replicator_payment_schedules_to_left_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_schedules', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('payment_schedule_lines', 'right', 'cds', 'payment_schedule_line',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "paymentscheduleid", "uses": "field schedule_name", "capture_reads": true}, {"column": "line_number", "uses": "field line_num", "capture_reads": true}, {"column": "percentage", "uses": "field percent", "capture_reads": false}, {"column": "months", "uses": "field due_months", "capture_reads": false}, {"column": "days", "uses": "field due_days", "capture_reads": false}]',
       ARRAY['replicator_payment_schedule_lines_to_left', 'replicator_payment_schedule_lines_to_left_upd', 'replicator_payment_schedule_lines_to_left_trunc', 'replicator_payment_schedule_lines_to_left_sync']::text[], 'trigger', NULL, false);
SELECT replicator.record_dependency('payment_schedule_lines', 'right', 'cds', 'company',
       '[{"column": "companyid", "uses": "lookup companies", "capture_reads": false}, {"column": "company_code", "uses": "lookup companies", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'companies', true);
SELECT replicator.record_dependency('payment_schedule_lines', 'right', 'cds', 'payment_schedule',
       '[{"column": "paymentscheduleid", "uses": "lookup payment_schedules", "capture_reads": false}, {"column": "companyid", "uses": "lookup payment_schedules", "capture_reads": false}, {"column": "name", "uses": "lookup payment_schedules", "capture_reads": false}]',
       ARRAY[]::text[], NULL, 'payment_schedules', true);
SELECT replicator.record_dependency('payment_terms', 'right', 'cds', 'payment_term',
       '[{"column": "companyid", "uses": "field dataareaid", "capture_reads": true}, {"column": "code", "uses": "field payment_term_id", "capture_reads": true}, {"column": "name", "uses": "field description", "capture_reads": false}, {"column": "due_days", "uses": "field net_days", "capture_reads": false}, {"column": "paymentscheduleid", "uses": "field payment_schedule", "capture_reads": true}, {"column": "paymentdayid", "uses": "field payment_day", "capture_reads": true}]',
       ARRAY['replicator_payment_terms_to_left', 'replicator_payment_terms_to_left_upd', 'replicator_payment_terms_to_left_trunc', 'replicator_payment_terms_to_left_sync']::text[], 'trigger', NULL, false);
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
       ARRAY['replicator_customers_organization_to_left', 'replicator_customers_organization_to_left_upd', 'replicator_customers_organization_to_left_trunc', 'replicator_customers_organization_to_left_sync']::text[], 'trigger', NULL, false);
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
VALUES ('dependencies', 'a0a8e12c3dfc05e4df3a2161b9969a2674bdd5db49d96741aaf8cb4a76464e8c', $sql$$sql$)
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
