-- replicator plan for database fno (reached through the left side's connection)
-- bundle 4ed9aa22c0085fbfc7bc8c7e6429fd60752f4b682fc5baeac7e6df6dfeb95ecb: 44 to create, 0 to replace, 0 to drop
--   create  control
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
-- Everything created here belongs to the owner role, whoever connects.
SET LOCAL ROLE "replicator_owner";
SELECT pg_advisory_xact_lock(7501166, 0);

-- ==== create control ====
-- The replicator's control schema: change queue, map registry and state,
-- deployment record, error log, and the small functions the applier calls.
-- Safe to run again: it only creates what is missing and replaces functions.
-- Created by the first deploy, or beforehand for the owner role by replicator plan
-- --roles (the owner then needs no CREATE on the database, which IF NOT EXISTS asks).
DO $schema$
BEGIN
    IF to_regnamespace('replicator') IS NULL THEN
        CREATE SCHEMA replicator;
    END IF;
END
$schema$;
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
-- Conflict detection: an update's row before it (null: not known, e.g. WAL capture
-- without REPLICA IDENTITY FULL); forced changes (replicator resolve) are written
-- whatever the other side holds.
ALTER TABLE replicator.change_queue
    ADD COLUMN IF NOT EXISTS before      jsonb,
    ADD COLUMN IF NOT EXISTS before_refs jsonb,  -- the refs of the row before
    ADD COLUMN IF NOT EXISTS forced      boolean NOT NULL DEFAULT false;

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
    ADD COLUMN IF NOT EXISTS before      jsonb,
    ADD COLUMN IF NOT EXISTS before_refs jsonb,
    ADD COLUMN IF NOT EXISTS at          timestamptz,
    ADD COLUMN IF NOT EXISTS forced      boolean NOT NULL DEFAULT false;

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
           'image', v_error.image, 'refs', v_error.refs, 'force', true))) > 0 THEN
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

-- Rows an application deleted here, kept after their delete is queued: a change
-- from the other side that meets such a key missing here is judged against the
-- delete if it was made before the delete crossed over (crossed_at, the other
-- side's clock), instead of bringing the row back unseen. replicator purge
-- removes crossed ones.
CREATE TABLE IF NOT EXISTS replicator.tombstone (
    direction  text        NOT NULL,  -- the delete's direction
    change_id  bigint      NOT NULL,
    map_name   text        NOT NULL,
    image      jsonb       NOT NULL,  -- the deleted row
    deleted_by xid         NOT NULL,  -- the deleting transaction (its commit time counts)
    crossed_at timestamptz,
    -- A row changed here that a delete from there removed: that delete's time.
    deleted_at timestamptz,
    PRIMARY KEY (direction, change_id)
);
CREATE INDEX IF NOT EXISTS tombstone_row ON replicator.tombstone USING gin (image jsonb_path_ops);

CREATE OR REPLACE FUNCTION replicator.keep_tombstone()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO replicator.tombstone (direction, change_id, map_name, image, deleted_by)
    VALUES (NEW.direction, NEW.id, NEW.map_name, NEW.image, pg_current_xact_id()::xid);
    RETURN NULL;
END
$$;

-- Both captures queue through here; replicator resolve's forced deletes are no tombstones.
CREATE OR REPLACE TRIGGER change_queue_tombstone
AFTER INSERT ON replicator.change_queue
FOR EACH ROW WHEN (NEW.op = 'D' AND NOT NEW.forced)
EXECUTE FUNCTION replicator.keep_tombstone();

-- When a change committed, for newest_wins: its transaction's commit timestamp
-- (a WAL listener's queueing transaction carries the source's, through its
-- replication origin). Null unless track_commit_timestamp is on.
CREATE OR REPLACE FUNCTION replicator.committed_at(p_xid xid)
RETURNS timestamptz
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN current_setting('track_commit_timestamp')::boolean
                THEN pg_xact_commit_timestamp(p_xid) END
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
        RETURNING q.id, q.map_name, q.op, q.image, q.refs, q.before, q.before_refs, q.forced,
                  replicator.committed_at(q.xmin) AS at
    )
    SELECT jsonb_agg(jsonb_build_object('id', id, 'map', map_name, 'op', op, 'image', image,
                                        'refs', refs, 'before', before,
                                        'before_refs', before_refs, 'at', at, 'force', forced)
                     ORDER BY id),
           count(*)
      INTO v_batch, taken
      FROM batch;
    failed := 0;
    IF taken > 0 THEN
        UPDATE replicator.tombstone AS d SET crossed_at = now()
          FROM jsonb_array_elements(v_batch) AS c
         WHERE d.direction = p_direction AND d.change_id = (c.value->>'id')::bigint;
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
                                                 'refs', refs, 'before', before,
                                                 'before_refs', before_refs, 'at', at,
                                                 'force', forced)
                              ORDER BY id), '[]')
      FROM (SELECT id, map_name, op, image, refs, before, before_refs, forced,
                   replicator.committed_at(xmin) AS at
              FROM replicator.change_queue
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT unnest(replicator.runnable_ids(p_direction, p_limit))))) AS oldest
$$;

-- Two servers, source side: forget changes the target has durably applied.
-- p_crossed_at: when the target applied them (its clock), for the tombstones.
DROP FUNCTION IF EXISTS replicator.ack_batch(text, bigint[]);
CREATE OR REPLACE FUNCTION replicator.ack_batch(p_direction text, p_ids bigint[],
                                                p_crossed_at timestamptz)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_gone integer;
BEGIN
    DELETE FROM replicator.change_queue WHERE direction = p_direction AND id = ANY (p_ids);
    GET DIAGNOSTICS v_gone = ROW_COUNT;
    UPDATE replicator.tombstone SET crossed_at = p_crossed_at
     WHERE direction = p_direction AND change_id = ANY (p_ids);
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

-- newest_wins: a row the replicator wrote here counts as changed when the changes it
-- merged were made, not when it was written. Valid while the row's xmin is written_xid.
CREATE TABLE IF NOT EXISTS replicator.row_clock (
    map_name    text        NOT NULL,
    direction   text        NOT NULL,
    key         jsonb       NOT NULL,
    written_xid xid         NOT NULL,
    at          timestamptz,
    PRIMARY KEY (map_name, direction, key)
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
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('control', 'cc66b556cc78459e36637dc58eecfa5c603237499c5b8eb2b8db27464299ae32', $sql$$sql$)
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
VALUES ('drift', '1b32028587a712021646fcec982ab7fef89c4af37c5467db17e6f71031c10664', $sql$$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/companies/to_left/apply ====
-- Map 'companies', 'to_left': write a batch of captured changes into "fno"."companies".
-- Per key, the batch's newest change is applied. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
--
-- Conflicts: a change meets a row the application here changed since the last
-- value that crossed over (the row differs from the change's base). Per field,
-- an edit made on one side only survives; a field both sides changed goes to
-- the side its policy names; the conflict is logged. Rows are written only as
-- they were judged (same xmin): one changed meanwhile makes the batch retry.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The capture
-- triggers here skip what it writes (loop safety): the marker below counts only
-- for a role that owns the replicator's schema.
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'companies', 'cds.company'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.companies were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."company_code") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['name']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['name']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "company_code" character varying(4))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."company_code" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."company_code", c.id DESC
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "s"."company_code" AS "k_1",
           l.base_known AND NOT l.forced AND t."name" IS DISTINCT FROM "b"."name" AS "tc_1",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "company_code" character varying(4),
       "name" character varying(60))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "company_code" character varying(4),
       "name" character varying(60)) ON true
      JOIN "fno"."companies" AS t ON "t"."dataareaid" = "s"."company_code"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR false AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'companies', 'to_left', j.id, j.op, jsonb_build_object('company_code', j.image->'company_code'), jsonb_build_object('dataareaid', j."k_1"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('name', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'took_incoming' ELSE 'kept_local' END
      FROM planned AS j
     WHERE j.conflict
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), buried AS (
    -- A row changed here that a delete from there removes: its fields live on for
    -- changes made there before this row's own changes crossed (a tombstone that
    -- crosses when this side's newest change of the row is applied there).
    INSERT INTO "replicator"."tombstone" (direction, change_id, map_name, image, deleted_by, crossed_at,
                                 deleted_at)
    SELECT 'to_right', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'companies',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_right' AND c.map_name = 'companies'
                            AND c.image @> jsonb_build_object('dataareaid', j."k_1")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "fno"."companies" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'companies', 'fno.companies'
        USING ERRCODE = 'serialization_failure';
END IF;
    RETURN;
END IF;
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."company_code") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['name']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['name']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "company_code" character varying(4))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."company_code" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."company_code", c.id DESC
), judged AS (
    -- Each change beside the row it meets here: what it brings (n_), what the row
    -- held when it last crossed (b_), what the row holds now (c_), or held when it
    -- was deleted here (gone).
    SELECT l.id, l.op, l.image, l.at, l.forced,
           t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           t.ctid IS NOT NULL AS present,
           t.ctid IS NULL AND del.image IS NOT NULL AS gone,
           del.deleted_at,
           l.base_known AND NOT l.forced AS judge,
           l.base IS NULL AS fresh,
           NULL::timestamptz AS local_at,
           "s"."company_code" AS "k_1",
           "s"."name" AS "n_1",
           "b"."name" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."name" ELSE t."name" END AS "c_1",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "company_code" character varying(4),
       "name" character varying(60))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "company_code" character varying(4),
       "name" character varying(60)) ON true
      LEFT JOIN "fno"."companies" AS t ON "t"."dataareaid" = "s"."company_code"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_right' AND d.map_name = 'companies'
              AND d.image @> jsonb_build_object('dataareaid', "s"."company_code")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"fno"."companies", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
), compared AS (
    -- tc_: the row here changed the field since it last crossed; sc_: the source did.
    SELECT j.*,
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_1" IS DISTINCT FROM j."n_1"
                                           ELSE j."c_1" IS DISTINCT FROM j."b_1" END
               AS "tc_1",
           j.fresh OR j."n_1" IS DISTINCT FROM j."b_1" AS "sc_1",
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND false) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM judged AS j
), decided AS (
    -- x_: both changed the field, to different values: its policy decides (take_).
    SELECT j.*,
           j."tc_1" AND j."sc_1" AND j."c_1" IS DISTINCT FROM j."n_1"
               AS "x_1",
           j.gone OR (j."tc_1") AS conflict
      FROM compared AS j
), settled AS (
    SELECT j.*,
           NOT j."tc_1" OR (j."x_1" AND false) AS "take_1",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR false) AS inserting
      FROM settled AS j
), planned AS (
    SELECT j.*,
           j.present AND NOT j.waiting AND NOT j.keep_existing
               AND (j."f_1") IS DISTINCT FROM (j."c_1") AS updating
      FROM final AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'companies', 'to_left', j.id, j.op, jsonb_build_object('company_code', j.image->'company_code'), jsonb_build_object('dataareaid', j."k_1"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('name', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "fno"."companies" ("dataareaid", "name")
    SELECT j."k_1",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("dataareaid") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "fno"."companies" AS t
       SET "name" = j."f_1"
      FROM planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.updating
    RETURNING j.id, t.xmin AS written_xid
)
SELECT count(*) FILTER (WHERE j.inserting OR j.updating),
       (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'companies', 'fno.companies'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_companies_to_left"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('company_code', c.value->'image'->'company_code')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('company_code', c.value->'image'->'company_code')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_companies_to_left"(v_key_changes, p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('companies', 'to_left', ARRAY[jsonb_build_object('company_code', v_change->'image'->'company_code')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('companies', 'to_left', v_change, jsonb_build_object('company_code', v_change->'image'->'company_code'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_left/apply', 'f6f24d62d78271471eb8fcd54014dfd530957163f37145c5fc9381caa8313546', $sql$DROP FUNCTION IF EXISTS "replicator"."apply_companies_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_companies_to_left"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/contact_persons/to_left/apply ====
-- Map 'contact_persons', 'to_left': write a batch of captured changes into "fno"."contact_persons".
-- Per key, the batch's newest change is applied. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
--
-- Conflicts: a change meets a row the application here changed since the last
-- value that crossed over (the row differs from the change's base). Per field,
-- an edit made on one side only survives; a field both sides changed goes to
-- the side its policy names; the conflict is logged. Rows are written only as
-- they were judged (same xmin): one changed meanwhile makes the batch retry.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The capture
-- triggers here skip what it writes (loop safety): the marker below counts only
-- for a role that owns the replicator's schema.
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'contact_persons', 'cds.contact'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.contact_persons were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."contactpersonid") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['firstname', 'lastname', 'emailaddress1', 'parent_account_number']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['firstname', 'lastname', 'emailaddress1', 'parent_account_number']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "contactpersonid" character varying(20))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."contactpersonid" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."contactpersonid", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."contactpersonid" AS "k_2",
           l.base_known AND NOT l.forced AND t."first_name" IS DISTINCT FROM "b"."firstname" AS "tc_1",
           l.base_known AND NOT l.forced AND t."last_name" IS DISTINCT FROM COALESCE("b"."lastname", CAST('-' AS character varying(50))) AS "tc_2",
           l.base_known AND NOT l.forced AND t."email" IS DISTINCT FROM "b"."emailaddress1" AS "tc_3",
           l.base_known AND NOT l.forced AND t."customer_account" IS DISTINCT FROM "b"."parent_account_number" AS "tc_4",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "contactpersonid" character varying(20),
       "firstname" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80),
       "parent_account_number" character varying(20))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "contactpersonid" character varying(20),
       "firstname" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80),
       "parent_account_number" character varying(20)) ON true
      JOIN "fno"."contact_persons" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."contact_person_id" = "s"."contactpersonid"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2" OR j."tc_3" OR j."tc_4") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR false AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'contact_persons', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'contactpersonid', j.image->'contactpersonid'), jsonb_build_object('dataareaid', j."k_1", 'contact_person_id', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('first_name', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'last_name', CASE WHEN j."tc_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'email', CASE WHEN j."tc_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'customer_account', CASE WHEN j."tc_4" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'took_incoming' ELSE 'kept_local' END
      FROM planned AS j
     WHERE j.conflict
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), buried AS (
    -- A row changed here that a delete from there removes: its fields live on for
    -- changes made there before this row's own changes crossed (a tombstone that
    -- crosses when this side's newest change of the row is applied there).
    INSERT INTO "replicator"."tombstone" (direction, change_id, map_name, image, deleted_by, crossed_at,
                                 deleted_at)
    SELECT 'to_right', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'contact_persons',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_right' AND c.map_name = 'contact_persons'
                            AND c.image @> jsonb_build_object('dataareaid', j."k_1", 'contact_person_id', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "fno"."contact_persons" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'contact_persons', 'fno.contact_persons'
        USING ERRCODE = 'serialization_failure';
END IF;
    RETURN;
END IF;
-- A held change that a newer change of its key overtakes is no longer wanted; a
-- change whose parent has not arrived on this side yet is held, not written with
-- a null reference (the applier retries it when the parent's map applies).
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."contactpersonid") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['firstname', 'lastname', 'emailaddress1', 'parent_account_number']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['firstname', 'lastname', 'emailaddress1', 'parent_account_number']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "contactpersonid" character varying(20))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."contactpersonid" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."contactpersonid", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_left'
       AND h.map_name = 'contact_persons'
       AND h.id < l.id
       AND h.image -> 'companyid' = l.image -> 'companyid' AND h.image -> 'contactpersonid' = l.image -> 'contactpersonid'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_left', l.id, 'contact_persons',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
), judged AS (
    -- Each change beside the row it meets here: what it brings (n_), what the row
    -- held when it last crossed (b_), what the row holds now (c_), or held when it
    -- was deleted here (gone).
    SELECT l.id, l.op, l.image, l.at, l.forced,
           t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           t.ctid IS NOT NULL AS present,
           t.ctid IS NULL AND del.image IS NOT NULL AS gone,
           del.deleted_at,
           l.base_known AND NOT l.forced AS judge,
           l.base IS NULL AS fresh,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."contactpersonid" AS "k_2",
           "s"."firstname" AS "n_1",
           "b"."firstname" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."first_name" ELSE t."first_name" END AS "c_1",
           COALESCE("s"."lastname", CAST('-' AS character varying(50))) AS "n_2",
           COALESCE("b"."lastname", CAST('-' AS character varying(50))) AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."last_name" ELSE t."last_name" END AS "c_2",
           "s"."emailaddress1" AS "n_3",
           "b"."emailaddress1" AS "b_3",
           CASE WHEN t.ctid IS NULL THEN gone."email" ELSE t."email" END AS "c_3",
           "s"."parent_account_number" AS "n_4",
           "b"."parent_account_number" AS "b_4",
           CASE WHEN t.ctid IS NULL THEN gone."customer_account" ELSE t."customer_account" END AS "c_4",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "contactpersonid" character varying(20),
       "firstname" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80),
       "parent_account_number" character varying(20))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "contactpersonid" character varying(20),
       "firstname" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80),
       "parent_account_number" character varying(20)) ON true
      LEFT JOIN "fno"."contact_persons" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."contact_person_id" = "s"."contactpersonid"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_right' AND d.map_name = 'contact_persons'
              AND d.image @> jsonb_build_object('dataareaid', "l"."lookup_1", 'contact_person_id', "s"."contactpersonid")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"fno"."contact_persons", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL))
), compared AS (
    -- tc_: the row here changed the field since it last crossed; sc_: the source did.
    SELECT j.*,
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_1" IS DISTINCT FROM j."n_1"
                                           ELSE j."c_1" IS DISTINCT FROM j."b_1" END
               AS "tc_1",
           j.fresh OR j."n_1" IS DISTINCT FROM j."b_1" AS "sc_1",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_2" IS DISTINCT FROM j."n_2"
                                           ELSE j."c_2" IS DISTINCT FROM j."b_2" END
               AS "tc_2",
           j.fresh OR j."n_2" IS DISTINCT FROM j."b_2" AS "sc_2",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_3" IS DISTINCT FROM j."n_3"
                                           ELSE j."c_3" IS DISTINCT FROM j."b_3" END
               AS "tc_3",
           j.fresh OR j."n_3" IS DISTINCT FROM j."b_3" AS "sc_3",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_4" IS DISTINCT FROM j."n_4"
                                           ELSE j."c_4" IS DISTINCT FROM j."b_4" END
               AS "tc_4",
           j.fresh OR j."n_4" IS DISTINCT FROM j."b_4" AS "sc_4",
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND false) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM judged AS j
), decided AS (
    -- x_: both changed the field, to different values: its policy decides (take_).
    SELECT j.*,
           j."tc_1" AND j."sc_1" AND j."c_1" IS DISTINCT FROM j."n_1"
               AS "x_1",
           j."tc_2" AND j."sc_2" AND j."c_2" IS DISTINCT FROM j."n_2"
               AS "x_2",
           j."tc_3" AND j."sc_3" AND j."c_3" IS DISTINCT FROM j."n_3"
               AS "x_3",
           j."tc_4" AND j."sc_4" AND j."c_4" IS DISTINCT FROM j."n_4"
               AS "x_4",
           j.gone OR (j."tc_1" OR j."tc_2" OR j."tc_3" OR j."tc_4") AS conflict
      FROM compared AS j
), settled AS (
    SELECT j.*,
           NOT j."tc_1" OR (j."x_1" AND false) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND false) AS "take_2",
           NOT j."tc_3" OR (j."x_3" AND false) AS "take_3",
           NOT j."tc_4" OR (j."x_4" AND false) AS "take_4",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           CASE WHEN j."take_4" THEN "j"."n_4" ELSE j."c_4" END AS "f_4",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR false) AS inserting
      FROM settled AS j
), planned AS (
    SELECT j.*,
           j.present AND NOT j.waiting AND NOT j.keep_existing
               AND (j."f_1", j."f_2", j."f_3", j."f_4") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4") AS updating
      FROM final AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'contact_persons', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'contactpersonid', j.image->'contactpersonid'), jsonb_build_object('dataareaid', j."k_1", 'contact_person_id', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('first_name', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'last_name', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_2" THEN 'incoming' ELSE 'local' END) WHEN j."tc_2" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'email', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_3" THEN 'incoming' ELSE 'local' END) WHEN j."tc_3" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'customer_account', CASE WHEN j."x_4" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_4" THEN 'incoming' ELSE 'local' END) WHEN j."tc_4" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1") OR (j."tc_2" AND NOT j."take_2") OR (j."tc_3" AND NOT j."take_3") OR (j."tc_4" AND NOT j."take_4")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1") OR (j."take_2" AND j."c_2" IS DISTINCT FROM j."n_2") OR (j."take_3" AND j."c_3" IS DISTINCT FROM j."n_3") OR (j."take_4" AND j."c_4" IS DISTINCT FROM j."n_4")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "fno"."contact_persons" ("dataareaid", "contact_person_id", "first_name", "last_name", "email", "customer_account")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END,
       CASE WHEN j.gone THEN j."f_3" ELSE j."n_3" END,
       CASE WHEN j.gone THEN j."f_4" ELSE j."n_4" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("dataareaid", "contact_person_id") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "fno"."contact_persons" AS t
       SET "first_name" = j."f_1",
       "last_name" = j."f_2",
       "email" = j."f_3",
       "customer_account" = j."f_4"
      FROM planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.updating
    RETURNING j.id, t.xmin AS written_xid
)
SELECT count(*) FILTER (WHERE j.inserting OR j.updating),
       (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'contact_persons', 'fno.contact_persons'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_contact_persons_to_left"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'contactpersonid', c.value->'image'->'contactpersonid')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'contactpersonid', c.value->'image'->'contactpersonid')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_contact_persons_to_left"(v_key_changes, p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('contact_persons', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'contactpersonid', v_change->'image'->'contactpersonid')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('contact_persons', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'contactpersonid', v_change->'image'->'contactpersonid'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_left/apply', '50e18b73e35e3454e24873b897b14e5f52a30acfb8f2a6f8559dac7535715a2c', $sql$-- Removing map 'contact_persons' ('to_left') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_contact_persons_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_contact_persons_to_left"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_groups/to_left/apply ====
-- Map 'customer_groups', 'to_left': write a batch of captured changes into "fno"."customer_groups".
-- Per key, the batch's newest change is applied. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
--
-- Conflicts: a change meets a row the application here changed since the last
-- value that crossed over (the row differs from the change's base). Per field,
-- an edit made on one side only survives; a field both sides changed goes to
-- the side its policy names; the conflict is logged. Rows are written only as
-- they were judged (same xmin): one changed meanwhile makes the batch retry.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The capture
-- triggers here skip what it writes (loop safety): the marker below counts only
-- for a role that owns the replicator's schema.
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customer_groups', 'cds.customer_group'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.customer_groups were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."group_code") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['name']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['name']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "group_code" character varying(10))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."group_code" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."group_code", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."group_code" AS "k_2",
           l.base_known AND NOT l.forced AND t."description" IS DISTINCT FROM "b"."name" AS "tc_1",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "group_code" character varying(10),
       "name" character varying(60))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "group_code" character varying(10),
       "name" character varying(60)) ON true
      JOIN "fno"."customer_groups" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."customer_group" = "s"."group_code"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR false AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customer_groups', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'group_code', j.image->'group_code'), jsonb_build_object('dataareaid', j."k_1", 'customer_group', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('description', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'took_incoming' ELSE 'kept_local' END
      FROM planned AS j
     WHERE j.conflict
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), buried AS (
    -- A row changed here that a delete from there removes: its fields live on for
    -- changes made there before this row's own changes crossed (a tombstone that
    -- crosses when this side's newest change of the row is applied there).
    INSERT INTO "replicator"."tombstone" (direction, change_id, map_name, image, deleted_by, crossed_at,
                                 deleted_at)
    SELECT 'to_right', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'customer_groups',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_right' AND c.map_name = 'customer_groups'
                            AND c.image @> jsonb_build_object('dataareaid', j."k_1", 'customer_group', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "fno"."customer_groups" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customer_groups', 'fno.customer_groups'
        USING ERRCODE = 'serialization_failure';
END IF;
    RETURN;
END IF;
-- A held change that a newer change of its key overtakes is no longer wanted; a
-- change whose parent has not arrived on this side yet is held, not written with
-- a null reference (the applier retries it when the parent's map applies).
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."group_code") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['name']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['name']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "group_code" character varying(10))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."group_code" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."group_code", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_left'
       AND h.map_name = 'customer_groups'
       AND h.id < l.id
       AND h.image -> 'companyid' = l.image -> 'companyid' AND h.image -> 'group_code' = l.image -> 'group_code'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_left', l.id, 'customer_groups',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
), judged AS (
    -- Each change beside the row it meets here: what it brings (n_), what the row
    -- held when it last crossed (b_), what the row holds now (c_), or held when it
    -- was deleted here (gone).
    SELECT l.id, l.op, l.image, l.at, l.forced,
           t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           t.ctid IS NOT NULL AS present,
           t.ctid IS NULL AND del.image IS NOT NULL AS gone,
           del.deleted_at,
           l.base_known AND NOT l.forced AS judge,
           l.base IS NULL AS fresh,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."group_code" AS "k_2",
           "s"."name" AS "n_1",
           "b"."name" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."description" ELSE t."description" END AS "c_1",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "group_code" character varying(10),
       "name" character varying(60))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "group_code" character varying(10),
       "name" character varying(60)) ON true
      LEFT JOIN "fno"."customer_groups" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."customer_group" = "s"."group_code"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_right' AND d.map_name = 'customer_groups'
              AND d.image @> jsonb_build_object('dataareaid', "l"."lookup_1", 'customer_group', "s"."group_code")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"fno"."customer_groups", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL))
), compared AS (
    -- tc_: the row here changed the field since it last crossed; sc_: the source did.
    SELECT j.*,
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_1" IS DISTINCT FROM j."n_1"
                                           ELSE j."c_1" IS DISTINCT FROM j."b_1" END
               AS "tc_1",
           j.fresh OR j."n_1" IS DISTINCT FROM j."b_1" AS "sc_1",
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND false) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM judged AS j
), decided AS (
    -- x_: both changed the field, to different values: its policy decides (take_).
    SELECT j.*,
           j."tc_1" AND j."sc_1" AND j."c_1" IS DISTINCT FROM j."n_1"
               AS "x_1",
           j.gone OR (j."tc_1") AS conflict
      FROM compared AS j
), settled AS (
    SELECT j.*,
           NOT j."tc_1" OR (j."x_1" AND false) AS "take_1",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR false) AS inserting
      FROM settled AS j
), planned AS (
    SELECT j.*,
           j.present AND NOT j.waiting AND NOT j.keep_existing
               AND (j."f_1") IS DISTINCT FROM (j."c_1") AS updating
      FROM final AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customer_groups', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'group_code', j.image->'group_code'), jsonb_build_object('dataareaid', j."k_1", 'customer_group', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "fno"."customer_groups" ("dataareaid", "customer_group", "description")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("dataareaid", "customer_group") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "fno"."customer_groups" AS t
       SET "description" = j."f_1"
      FROM planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.updating
    RETURNING j.id, t.xmin AS written_xid
)
SELECT count(*) FILTER (WHERE j.inserting OR j.updating),
       (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customer_groups', 'fno.customer_groups'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_customer_groups_to_left"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'group_code', c.value->'image'->'group_code')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'group_code', c.value->'image'->'group_code')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_customer_groups_to_left"(v_key_changes, p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('customer_groups', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'group_code', v_change->'image'->'group_code')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('customer_groups', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'group_code', v_change->'image'->'group_code'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_left/apply', 'b989bf89f0c54dc7f317ffdf5a52f7decb482b4740e3be6fd1c2a31627600216', $sql$-- Removing map 'customer_groups' ('to_left') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_customer_groups_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customer_groups_to_left"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_payment_methods/to_left/apply ====
-- Map 'customer_payment_methods', 'to_left': write a batch of captured changes into "fno"."customer_payment_methods".
-- Per key, the batch's newest change is applied. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
--
-- Conflicts: a change meets a row the application here changed since the last
-- value that crossed over (the row differs from the change's base). Per field,
-- an edit made on one side only survives; a field both sides changed goes to
-- the side its policy names; the conflict is logged. Rows are written only as
-- they were judged (same xmin): one changed meanwhile makes the batch retry.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The capture
-- triggers here skip what it writes (loop safety): the marker below counts only
-- for a role that owns the replicator's schema.
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customer_payment_methods', 'cds.customer_payment_method'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.customer_payment_methods were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."code") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['name', 'payment_type']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['name', 'payment_type']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "code" character varying(10))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."code" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."code", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."code" AS "k_2",
           l.base_known AND NOT l.forced AND t."description" IS DISTINCT FROM "b"."name" AS "tc_1",
           l.base_known AND NOT l.forced AND t."payment_type" IS DISTINCT FROM CAST(CASE WHEN "b"."payment_type" IS NULL THEN NULL WHEN "b"."payment_type"::text = 'check' THEN 'Check' WHEN "b"."payment_type"::text = 'electronic' THEN 'Electronic' WHEN "b"."payment_type"::text = 'cash' THEN 'Cash' ELSE NULL END AS character varying(12)) AS "tc_2",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "payment_type" text)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "payment_type" text) ON true
      JOIN "fno"."customer_payment_methods" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."payment_method" = "s"."code"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR false AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customer_payment_methods', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'code', j.image->'code'), jsonb_build_object('dataareaid', j."k_1", 'payment_method', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('description', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'payment_type', CASE WHEN j."tc_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'took_incoming' ELSE 'kept_local' END
      FROM planned AS j
     WHERE j.conflict
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), buried AS (
    -- A row changed here that a delete from there removes: its fields live on for
    -- changes made there before this row's own changes crossed (a tombstone that
    -- crosses when this side's newest change of the row is applied there).
    INSERT INTO "replicator"."tombstone" (direction, change_id, map_name, image, deleted_by, crossed_at,
                                 deleted_at)
    SELECT 'to_right', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'customer_payment_methods',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_right' AND c.map_name = 'customer_payment_methods'
                            AND c.image @> jsonb_build_object('dataareaid', j."k_1", 'payment_method', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "fno"."customer_payment_methods" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customer_payment_methods', 'fno.customer_payment_methods'
        USING ERRCODE = 'serialization_failure';
END IF;
    RETURN;
END IF;
-- A held change that a newer change of its key overtakes is no longer wanted; a
-- change whose parent has not arrived on this side yet is held, not written with
-- a null reference (the applier retries it when the parent's map applies).
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."code") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['name', 'payment_type']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['name', 'payment_type']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "code" character varying(10))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."code" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."code", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_left'
       AND h.map_name = 'customer_payment_methods'
       AND h.id < l.id
       AND h.image -> 'companyid' = l.image -> 'companyid' AND h.image -> 'code' = l.image -> 'code'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_left', l.id, 'customer_payment_methods',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
), judged AS (
    -- Each change beside the row it meets here: what it brings (n_), what the row
    -- held when it last crossed (b_), what the row holds now (c_), or held when it
    -- was deleted here (gone).
    SELECT l.id, l.op, l.image, l.at, l.forced,
           t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           t.ctid IS NOT NULL AS present,
           t.ctid IS NULL AND del.image IS NOT NULL AS gone,
           del.deleted_at,
           l.base_known AND NOT l.forced AS judge,
           l.base IS NULL AS fresh,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."code" AS "k_2",
           "s"."name" AS "n_1",
           "b"."name" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."description" ELSE t."description" END AS "c_1",
           CAST(CASE WHEN "s"."payment_type" IS NULL THEN NULL WHEN "s"."payment_type"::text = 'check' THEN 'Check' WHEN "s"."payment_type"::text = 'electronic' THEN 'Electronic' WHEN "s"."payment_type"::text = 'cash' THEN 'Cash' ELSE "replicator"."unmapped_value"('customer_payment_methods', 'payment_type', "s"."payment_type"::text) END AS character varying(12)) AS "n_2",
           CAST(CASE WHEN "b"."payment_type" IS NULL THEN NULL WHEN "b"."payment_type"::text = 'check' THEN 'Check' WHEN "b"."payment_type"::text = 'electronic' THEN 'Electronic' WHEN "b"."payment_type"::text = 'cash' THEN 'Cash' ELSE NULL END AS character varying(12)) AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."payment_type" ELSE t."payment_type" END AS "c_2",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "payment_type" text)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "payment_type" text) ON true
      LEFT JOIN "fno"."customer_payment_methods" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."payment_method" = "s"."code"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_right' AND d.map_name = 'customer_payment_methods'
              AND d.image @> jsonb_build_object('dataareaid', "l"."lookup_1", 'payment_method', "s"."code")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"fno"."customer_payment_methods", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL))
), compared AS (
    -- tc_: the row here changed the field since it last crossed; sc_: the source did.
    SELECT j.*,
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_1" IS DISTINCT FROM j."n_1"
                                           ELSE j."c_1" IS DISTINCT FROM j."b_1" END
               AS "tc_1",
           j.fresh OR j."n_1" IS DISTINCT FROM j."b_1" AS "sc_1",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_2" IS DISTINCT FROM j."n_2"
                                           ELSE j."c_2" IS DISTINCT FROM j."b_2" END
               AS "tc_2",
           j.fresh OR j."n_2" IS DISTINCT FROM j."b_2" AS "sc_2",
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND false) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM judged AS j
), decided AS (
    -- x_: both changed the field, to different values: its policy decides (take_).
    SELECT j.*,
           j."tc_1" AND j."sc_1" AND j."c_1" IS DISTINCT FROM j."n_1"
               AS "x_1",
           j."tc_2" AND j."sc_2" AND j."c_2" IS DISTINCT FROM j."n_2"
               AS "x_2",
           j.gone OR (j."tc_1" OR j."tc_2") AS conflict
      FROM compared AS j
), settled AS (
    SELECT j.*,
           NOT j."tc_1" OR (j."x_1" AND false) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND false) AS "take_2",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR false) AS inserting
      FROM settled AS j
), planned AS (
    SELECT j.*,
           j.present AND NOT j.waiting AND NOT j.keep_existing
               AND (j."f_1", j."f_2") IS DISTINCT FROM (j."c_1", j."c_2") AS updating
      FROM final AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customer_payment_methods', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'code', j.image->'code'), jsonb_build_object('dataareaid', j."k_1", 'payment_method', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'payment_type', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_2" THEN 'incoming' ELSE 'local' END) WHEN j."tc_2" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1") OR (j."tc_2" AND NOT j."take_2")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1") OR (j."take_2" AND j."c_2" IS DISTINCT FROM j."n_2")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "fno"."customer_payment_methods" ("dataareaid", "payment_method", "description", "payment_type")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("dataareaid", "payment_method") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "fno"."customer_payment_methods" AS t
       SET "description" = j."f_1",
       "payment_type" = j."f_2"
      FROM planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.updating
    RETURNING j.id, t.xmin AS written_xid
)
SELECT count(*) FILTER (WHERE j.inserting OR j.updating),
       (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customer_payment_methods', 'fno.customer_payment_methods'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_customer_payment_methods_to_left"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'code', c.value->'image'->'code')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'code', c.value->'image'->'code')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_customer_payment_methods_to_left"(v_key_changes, p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('customer_payment_methods', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'code', v_change->'image'->'code')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('customer_payment_methods', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'code', v_change->'image'->'code'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_left/apply', '7074d27e92ebfadc8f0cdb15d7557f1cca0427d85f8fdd70532b39da28a3ec97', $sql$-- Removing map 'customer_payment_methods' ('to_left') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_customer_payment_methods_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customer_payment_methods_to_left"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_person/to_left/apply ====
-- Map 'customers_person', 'to_left': write a batch of captured changes into "fno"."customers".
-- Per key, the batch's newest change is applied. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
--
-- Conflicts: a change meets a row the application here changed since the last
-- value that crossed over (the row differs from the change's base). Per field,
-- an edit made on one side only survives; a field both sides changed goes to
-- the side its policy names; the conflict is logged. Rows are written only as
-- they were judged (same xmin): one changed meanwhile makes the batch retry.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The capture
-- triggers here skip what it writes (loop safety): the marker below counts only
-- for a role that owns the replicator's schema.
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customers_person', 'cds.contact'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.customers were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."customer_number") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['firstname', 'middlename', 'lastname', 'emailaddress1']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['firstname', 'middlename', 'lastname', 'emailaddress1']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "customer_number" character varying(20))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."customer_number" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."customer_number", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."customer_number" AS "k_2",
           l.base_known AND NOT l.forced AND t."name" IS DISTINCT FROM (CAST(CONCAT_WS(' ', "b"."firstname", "b"."middlename", "b"."lastname") AS VARCHAR(100))) AS "tc_1",
           l.base_known AND NOT l.forced AND t."email" IS DISTINCT FROM "b"."emailaddress1" AS "tc_2",
           l.base_known AND NOT l.forced AND t."party_type" IS DISTINCT FROM CAST('Person' AS "fno"."party_type") AS "tc_3",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "customer_number" character varying(20),
       "firstname" character varying(50),
       "middlename" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "customer_number" character varying(20),
       "firstname" character varying(50),
       "middlename" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80)) ON true
      JOIN "fno"."customers" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."account_num" = "s"."customer_number"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2" OR j."tc_3") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR false AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customers_person', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'customer_number', j.image->'customer_number'), jsonb_build_object('dataareaid', j."k_1", 'account_num', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('name', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'email', CASE WHEN j."tc_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'party_type', CASE WHEN j."tc_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'took_incoming' ELSE 'kept_local' END
      FROM planned AS j
     WHERE j.conflict
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), buried AS (
    -- A row changed here that a delete from there removes: its fields live on for
    -- changes made there before this row's own changes crossed (a tombstone that
    -- crosses when this side's newest change of the row is applied there).
    INSERT INTO "replicator"."tombstone" (direction, change_id, map_name, image, deleted_by, crossed_at,
                                 deleted_at)
    SELECT 'to_right', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'customers_person',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_right' AND c.map_name = 'customers_person'
                            AND c.image @> jsonb_build_object('dataareaid', j."k_1", 'account_num', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "fno"."customers" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_person', 'fno.customers'
        USING ERRCODE = 'serialization_failure';
END IF;
    RETURN;
END IF;
-- A held change that a newer change of its key overtakes is no longer wanted; a
-- change whose parent has not arrived on this side yet is held, not written with
-- a null reference (the applier retries it when the parent's map applies).
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."customer_number") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['firstname', 'middlename', 'lastname', 'emailaddress1']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['firstname', 'middlename', 'lastname', 'emailaddress1']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "customer_number" character varying(20))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."customer_number" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."customer_number", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_left'
       AND h.map_name = 'customers_person'
       AND h.id < l.id
       AND h.image -> 'companyid' = l.image -> 'companyid' AND h.image -> 'customer_number' = l.image -> 'customer_number'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_left', l.id, 'customers_person',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
), judged AS (
    -- Each change beside the row it meets here: what it brings (n_), what the row
    -- held when it last crossed (b_), what the row holds now (c_), or held when it
    -- was deleted here (gone).
    SELECT l.id, l.op, l.image, l.at, l.forced,
           t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           t.ctid IS NOT NULL AS present,
           t.ctid IS NULL AND del.image IS NOT NULL AS gone,
           del.deleted_at,
           l.base_known AND NOT l.forced AS judge,
           l.base IS NULL AS fresh,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."customer_number" AS "k_2",
           (CAST(CONCAT_WS(' ', "s"."firstname", "s"."middlename", "s"."lastname") AS VARCHAR(100))) AS "n_1",
           (CAST(CONCAT_WS(' ', "b"."firstname", "b"."middlename", "b"."lastname") AS VARCHAR(100))) AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."name" ELSE t."name" END AS "c_1",
           "s"."emailaddress1" AS "n_2",
           "b"."emailaddress1" AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."email" ELSE t."email" END AS "c_2",
           CAST('Person' AS "fno"."party_type") AS "n_3",
           CAST('Person' AS "fno"."party_type") AS "b_3",
           CASE WHEN t.ctid IS NULL THEN gone."party_type" ELSE t."party_type" END AS "c_3",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "customer_number" character varying(20),
       "firstname" character varying(50),
       "middlename" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "customer_number" character varying(20),
       "firstname" character varying(50),
       "middlename" character varying(50),
       "lastname" character varying(50),
       "emailaddress1" character varying(80)) ON true
      LEFT JOIN "fno"."customers" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."account_num" = "s"."customer_number"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_right' AND d.map_name = 'customers_person'
              AND d.image @> jsonb_build_object('dataareaid', "l"."lookup_1", 'account_num', "s"."customer_number")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"fno"."customers", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL))
), compared AS (
    -- tc_: the row here changed the field since it last crossed; sc_: the source did.
    SELECT j.*,
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_1" IS DISTINCT FROM j."n_1"
                                           ELSE j."c_1" IS DISTINCT FROM j."b_1" END
               AS "tc_1",
           j.fresh OR j."n_1" IS DISTINCT FROM j."b_1" AS "sc_1",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_2" IS DISTINCT FROM j."n_2"
                                           ELSE j."c_2" IS DISTINCT FROM j."b_2" END
               AS "tc_2",
           j.fresh OR j."n_2" IS DISTINCT FROM j."b_2" AS "sc_2",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_3" IS DISTINCT FROM j."n_3"
                                           ELSE j."c_3" IS DISTINCT FROM j."b_3" END
               AS "tc_3",
           j.fresh OR j."n_3" IS DISTINCT FROM j."b_3" AS "sc_3",
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND false) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM judged AS j
), decided AS (
    -- x_: both changed the field, to different values: its policy decides (take_).
    SELECT j.*,
           j."tc_1" AND j."sc_1" AND j."c_1" IS DISTINCT FROM j."n_1"
               AS "x_1",
           j."tc_2" AND j."sc_2" AND j."c_2" IS DISTINCT FROM j."n_2"
               AS "x_2",
           j."tc_3" AND j."sc_3" AND j."c_3" IS DISTINCT FROM j."n_3"
               AS "x_3",
           j.gone OR (j."tc_1" OR j."tc_2" OR j."tc_3") AS conflict
      FROM compared AS j
), settled AS (
    SELECT j.*,
           NOT j."tc_1" OR (j."x_1" AND false) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND false) AS "take_2",
           NOT j."tc_3" OR (j."x_3" AND false) AS "take_3",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR false) AS inserting
      FROM settled AS j
), planned AS (
    SELECT j.*,
           j.present AND NOT j.waiting AND NOT j.keep_existing
               AND (j."f_1", j."f_2", j."f_3") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3") AS updating
      FROM final AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customers_person', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'customer_number', j.image->'customer_number'), jsonb_build_object('dataareaid', j."k_1", 'account_num', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('name', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'email', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_2" THEN 'incoming' ELSE 'local' END) WHEN j."tc_2" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'party_type', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_3" THEN 'incoming' ELSE 'local' END) WHEN j."tc_3" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1") OR (j."tc_2" AND NOT j."take_2") OR (j."tc_3" AND NOT j."take_3")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1") OR (j."take_2" AND j."c_2" IS DISTINCT FROM j."n_2") OR (j."take_3" AND j."c_3" IS DISTINCT FROM j."n_3")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "fno"."customers" ("dataareaid", "account_num", "name", "email", "party_type")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END,
       CASE WHEN j.gone THEN j."f_3" ELSE j."n_3" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("dataareaid", "account_num") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "fno"."customers" AS t
       SET "name" = j."f_1",
       "email" = j."f_2",
       "party_type" = j."f_3"
      FROM planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.updating
    RETURNING j.id, t.xmin AS written_xid
)
SELECT count(*) FILTER (WHERE j.inserting OR j.updating),
       (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_person', 'fno.customers'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_customers_person_to_left"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'customer_number', c.value->'image'->'customer_number')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'customer_number', c.value->'image'->'customer_number')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_customers_person_to_left"(v_key_changes, p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('customers_person', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'customer_number', v_change->'image'->'customer_number')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('customers_person', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'customer_number', v_change->'image'->'customer_number'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_left/apply', '51672b7625300f1d87d722630434f7be26302ca3cb45b891388af3dc24c43edf', $sql$-- Removing map 'customers_person' ('to_left') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_customers_person_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customers_person_to_left"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/loyalty_cards/to_left/apply ====
-- Map 'loyalty_cards', 'to_left': write a batch of captured changes into "fno"."loyalty_cards".
-- Per key, the batch's newest change is applied. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
--
-- Conflicts: a change meets a row the application here changed since the last
-- value that crossed over (the row differs from the change's base). Per field,
-- an edit made on one side only survives; a field both sides changed goes to
-- the side its policy names; the conflict is logged. Rows are written only as
-- they were judged (same xmin): one changed meanwhile makes the batch retry.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The capture
-- triggers here skip what it writes (loop safety): the marker below counts only
-- for a role that owns the replicator's schema.
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'loyalty_cards', 'cds.loyalty_card'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.loyalty_cards were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."card_number") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['tier', 'issued_on', 'is_blocked']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['tier', 'issued_on', 'is_blocked']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "card_number" character varying(20))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."card_number" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."card_number", c.id DESC
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "s"."card_number" AS "k_1",
           l.base_known AND NOT l.forced AND t."tier" IS DISTINCT FROM COALESCE("b"."tier", CAST('Basic' AS character varying(10))) AS "tc_1",
           l.base_known AND NOT l.forced AND t."issued_on" IS DISTINCT FROM "b"."issued_on" AS "tc_2",
           l.base_known AND NOT l.forced AND t."blocked" IS DISTINCT FROM "b"."is_blocked" AS "tc_3",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "is_blocked" boolean)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "is_blocked" boolean) ON true
      JOIN "fno"."loyalty_cards" AS t ON "t"."card_number" = "s"."card_number"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2" OR j."tc_3") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR false AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'loyalty_cards', 'to_left', j.id, j.op, jsonb_build_object('card_number', j.image->'card_number'), jsonb_build_object('card_number', j."k_1"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('tier', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'issued_on', CASE WHEN j."tc_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'blocked', CASE WHEN j."tc_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'took_incoming' ELSE 'kept_local' END
      FROM planned AS j
     WHERE j.conflict
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), buried AS (
    -- A row changed here that a delete from there removes: its fields live on for
    -- changes made there before this row's own changes crossed (a tombstone that
    -- crosses when this side's newest change of the row is applied there).
    INSERT INTO "replicator"."tombstone" (direction, change_id, map_name, image, deleted_by, crossed_at,
                                 deleted_at)
    SELECT 'to_right', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'loyalty_cards',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_right' AND c.map_name = 'loyalty_cards'
                            AND c.image @> jsonb_build_object('card_number', j."k_1")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "fno"."loyalty_cards" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'loyalty_cards', 'fno.loyalty_cards'
        USING ERRCODE = 'serialization_failure';
END IF;
    RETURN;
END IF;
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."card_number") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['tier', 'issued_on', 'is_blocked']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['tier', 'issued_on', 'is_blocked']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "card_number" character varying(20))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."card_number" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."card_number", c.id DESC
), judged AS (
    -- Each change beside the row it meets here: what it brings (n_), what the row
    -- held when it last crossed (b_), what the row holds now (c_), or held when it
    -- was deleted here (gone).
    SELECT l.id, l.op, l.image, l.at, l.forced,
           t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           t.ctid IS NOT NULL AS present,
           t.ctid IS NULL AND del.image IS NOT NULL AS gone,
           del.deleted_at,
           l.base_known AND NOT l.forced AS judge,
           l.base IS NULL AS fresh,
           NULL::timestamptz AS local_at,
           "s"."card_number" AS "k_1",
           COALESCE("s"."tier", CAST('Basic' AS character varying(10))) AS "n_1",
           COALESCE("b"."tier", CAST('Basic' AS character varying(10))) AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."tier" ELSE t."tier" END AS "c_1",
           "s"."issued_on" AS "n_2",
           "b"."issued_on" AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."issued_on" ELSE t."issued_on" END AS "c_2",
           "s"."is_blocked" AS "n_3",
           "b"."is_blocked" AS "b_3",
           CASE WHEN t.ctid IS NULL THEN gone."blocked" ELSE t."blocked" END AS "c_3",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "is_blocked" boolean)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "is_blocked" boolean) ON true
      LEFT JOIN "fno"."loyalty_cards" AS t ON "t"."card_number" = "s"."card_number"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_right' AND d.map_name = 'loyalty_cards'
              AND d.image @> jsonb_build_object('card_number', "s"."card_number")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"fno"."loyalty_cards", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
), compared AS (
    -- tc_: the row here changed the field since it last crossed; sc_: the source did.
    SELECT j.*,
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_1" IS DISTINCT FROM j."n_1"
                                           ELSE j."c_1" IS DISTINCT FROM j."b_1" END
               AS "tc_1",
           j.fresh OR j."n_1" IS DISTINCT FROM j."b_1" AS "sc_1",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_2" IS DISTINCT FROM j."n_2"
                                           ELSE j."c_2" IS DISTINCT FROM j."b_2" END
               AS "tc_2",
           j.fresh OR j."n_2" IS DISTINCT FROM j."b_2" AS "sc_2",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_3" IS DISTINCT FROM j."n_3"
                                           ELSE j."c_3" IS DISTINCT FROM j."b_3" END
               AS "tc_3",
           j.fresh OR j."n_3" IS DISTINCT FROM j."b_3" AS "sc_3",
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND false) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM judged AS j
), decided AS (
    -- x_: both changed the field, to different values: its policy decides (take_).
    SELECT j.*,
           j."tc_1" AND j."sc_1" AND j."c_1" IS DISTINCT FROM j."n_1"
               AS "x_1",
           j."tc_2" AND j."sc_2" AND j."c_2" IS DISTINCT FROM j."n_2"
               AS "x_2",
           j."tc_3" AND j."sc_3" AND j."c_3" IS DISTINCT FROM j."n_3"
               AS "x_3",
           j.gone OR (j."tc_1" OR j."tc_2" OR j."tc_3") AS conflict
      FROM compared AS j
), settled AS (
    SELECT j.*,
           NOT j."tc_1" OR (j."x_1" AND false) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND false) AS "take_2",
           NOT j."tc_3" OR (j."x_3" AND false) AS "take_3",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR false) AS inserting
      FROM settled AS j
), planned AS (
    SELECT j.*,
           j.present AND NOT j.waiting AND NOT j.keep_existing
               AND (j."f_1", j."f_2", j."f_3") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3") AS updating
      FROM final AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'loyalty_cards', 'to_left', j.id, j.op, jsonb_build_object('card_number', j.image->'card_number'), jsonb_build_object('card_number', j."k_1"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('tier', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'issued_on', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_2" THEN 'incoming' ELSE 'local' END) WHEN j."tc_2" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'blocked', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_3" THEN 'incoming' ELSE 'local' END) WHEN j."tc_3" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1") OR (j."tc_2" AND NOT j."take_2") OR (j."tc_3" AND NOT j."take_3")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1") OR (j."take_2" AND j."c_2" IS DISTINCT FROM j."n_2") OR (j."take_3" AND j."c_3" IS DISTINCT FROM j."n_3")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "fno"."loyalty_cards" ("card_number", "tier", "issued_on", "blocked")
    SELECT j."k_1",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END,
       CASE WHEN j.gone THEN j."f_3" ELSE j."n_3" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("card_number") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "fno"."loyalty_cards" AS t
       SET "tier" = j."f_1",
       "issued_on" = j."f_2",
       "blocked" = j."f_3"
      FROM planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.updating
    RETURNING j.id, t.xmin AS written_xid
)
SELECT count(*) FILTER (WHERE j.inserting OR j.updating),
       (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'loyalty_cards', 'fno.loyalty_cards'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_loyalty_cards_to_left"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('card_number', c.value->'image'->'card_number')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('card_number', c.value->'image'->'card_number')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_loyalty_cards_to_left"(v_key_changes, p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('loyalty_cards', 'to_left', ARRAY[jsonb_build_object('card_number', v_change->'image'->'card_number')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('loyalty_cards', 'to_left', v_change, jsonb_build_object('card_number', v_change->'image'->'card_number'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_left/apply', '5da440ddd580e52011e392a44d9f38c7c7d432fb75fd6c4d5fdf85c64a1b85b5', $sql$DROP FUNCTION IF EXISTS "replicator"."apply_loyalty_cards_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_loyalty_cards_to_left"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/name_affixes/to_left/apply ====
-- Map 'name_affixes', 'to_left': write a batch of captured changes into "fno"."name_affixes".
-- Per key, the batch's newest change is applied. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
--
-- Conflicts: a change meets a row the application here changed since the last
-- value that crossed over (the row differs from the change's base). Per field,
-- an edit made on one side only survives; a field both sides changed goes to
-- the side its policy names; the conflict is logged. Rows are written only as
-- they were judged (same xmin): one changed meanwhile makes the batch retry.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The capture
-- triggers here skip what it writes (loop safety): the marker below counts only
-- for a role that owns the replicator's schema.
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'name_affixes', 'cds.name_affix'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.name_affixes were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."affix", "k"."affix_type") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['description']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['description']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "affix" character varying(20),
       "affix_type" character varying(10))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."affix", "k"."affix_type" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."affix", "k"."affix_type", c.id DESC
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "s"."affix" AS "k_1",
           "s"."affix_type" AS "k_2",
           l.base_known AND NOT l.forced AND t."description" IS DISTINCT FROM "b"."description" AS "tc_1",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "affix" character varying(20),
       "affix_type" character varying(10),
       "description" character varying(60))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "affix" character varying(20),
       "affix_type" character varying(10),
       "description" character varying(60)) ON true
      JOIN "fno"."name_affixes" AS t ON "t"."affix" = "s"."affix" AND "t"."affix_type" = "s"."affix_type"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR false AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'name_affixes', 'to_left', j.id, j.op, jsonb_build_object('affix', j.image->'affix', 'affix_type', j.image->'affix_type'), jsonb_build_object('affix', j."k_1", 'affix_type', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('description', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'took_incoming' ELSE 'kept_local' END
      FROM planned AS j
     WHERE j.conflict
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), buried AS (
    -- A row changed here that a delete from there removes: its fields live on for
    -- changes made there before this row's own changes crossed (a tombstone that
    -- crosses when this side's newest change of the row is applied there).
    INSERT INTO "replicator"."tombstone" (direction, change_id, map_name, image, deleted_by, crossed_at,
                                 deleted_at)
    SELECT 'to_right', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'name_affixes',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_right' AND c.map_name = 'name_affixes'
                            AND c.image @> jsonb_build_object('affix', j."k_1", 'affix_type', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "fno"."name_affixes" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'name_affixes', 'fno.name_affixes'
        USING ERRCODE = 'serialization_failure';
END IF;
    RETURN;
END IF;
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."affix", "k"."affix_type") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['description']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['description']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "affix" character varying(20),
       "affix_type" character varying(10))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."affix", "k"."affix_type" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."affix", "k"."affix_type", c.id DESC
), judged AS (
    -- Each change beside the row it meets here: what it brings (n_), what the row
    -- held when it last crossed (b_), what the row holds now (c_), or held when it
    -- was deleted here (gone).
    SELECT l.id, l.op, l.image, l.at, l.forced,
           t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           t.ctid IS NOT NULL AS present,
           t.ctid IS NULL AND del.image IS NOT NULL AS gone,
           del.deleted_at,
           l.base_known AND NOT l.forced AS judge,
           l.base IS NULL AS fresh,
           NULL::timestamptz AS local_at,
           "s"."affix" AS "k_1",
           "s"."affix_type" AS "k_2",
           "s"."description" AS "n_1",
           "b"."description" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."description" ELSE t."description" END AS "c_1",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "affix" character varying(20),
       "affix_type" character varying(10),
       "description" character varying(60))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "affix" character varying(20),
       "affix_type" character varying(10),
       "description" character varying(60)) ON true
      LEFT JOIN "fno"."name_affixes" AS t ON "t"."affix" = "s"."affix" AND "t"."affix_type" = "s"."affix_type"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_right' AND d.map_name = 'name_affixes'
              AND d.image @> jsonb_build_object('affix', "s"."affix", 'affix_type', "s"."affix_type")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"fno"."name_affixes", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
), compared AS (
    -- tc_: the row here changed the field since it last crossed; sc_: the source did.
    SELECT j.*,
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_1" IS DISTINCT FROM j."n_1"
                                           ELSE j."c_1" IS DISTINCT FROM j."b_1" END
               AS "tc_1",
           j.fresh OR j."n_1" IS DISTINCT FROM j."b_1" AS "sc_1",
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND false) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM judged AS j
), decided AS (
    -- x_: both changed the field, to different values: its policy decides (take_).
    SELECT j.*,
           j."tc_1" AND j."sc_1" AND j."c_1" IS DISTINCT FROM j."n_1"
               AS "x_1",
           j.gone OR (j."tc_1") AS conflict
      FROM compared AS j
), settled AS (
    SELECT j.*,
           NOT j."tc_1" OR (j."x_1" AND false) AS "take_1",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR false) AS inserting
      FROM settled AS j
), planned AS (
    SELECT j.*,
           j.present AND NOT j.waiting AND NOT j.keep_existing
               AND (j."f_1") IS DISTINCT FROM (j."c_1") AS updating
      FROM final AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'name_affixes', 'to_left', j.id, j.op, jsonb_build_object('affix', j.image->'affix', 'affix_type', j.image->'affix_type'), jsonb_build_object('affix', j."k_1", 'affix_type', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "fno"."name_affixes" ("affix", "affix_type", "description")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("affix", "affix_type") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "fno"."name_affixes" AS t
       SET "description" = j."f_1"
      FROM planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.updating
    RETURNING j.id, t.xmin AS written_xid
)
SELECT count(*) FILTER (WHERE j.inserting OR j.updating),
       (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'name_affixes', 'fno.name_affixes'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_name_affixes_to_left"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('affix', c.value->'image'->'affix', 'affix_type', c.value->'image'->'affix_type')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('affix', c.value->'image'->'affix', 'affix_type', c.value->'image'->'affix_type')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_name_affixes_to_left"(v_key_changes, p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('name_affixes', 'to_left', ARRAY[jsonb_build_object('affix', v_change->'image'->'affix', 'affix_type', v_change->'image'->'affix_type')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('name_affixes', 'to_left', v_change, jsonb_build_object('affix', v_change->'image'->'affix', 'affix_type', v_change->'image'->'affix_type'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_left/apply', '323bccf45357e1695ee500004f9d52ff7150b626f84f66754aefdebad4640777', $sql$DROP FUNCTION IF EXISTS "replicator"."apply_name_affixes_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_name_affixes_to_left"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_days/to_left/apply ====
-- Map 'payment_days', 'to_left': write a batch of captured changes into "fno"."payment_days".
-- Per key, the batch's newest change is applied. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
--
-- Conflicts: a change meets a row the application here changed since the last
-- value that crossed over (the row differs from the change's base). Per field,
-- an edit made on one side only survives; a field both sides changed goes to
-- the side its policy names; the conflict is logged. Rows are written only as
-- they were judged (same xmin): one changed meanwhile makes the batch retry.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The capture
-- triggers here skip what it writes (loop safety): the marker below counts only
-- for a role that owns the replicator's schema.
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_days', 'cds.payment_day'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.payment_days were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."name") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['description']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['description']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "name" character varying(30))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."name" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."name" AS "k_2",
           l.base_known AND NOT l.forced AND t."description" IS DISTINCT FROM "b"."description" AS "tc_1",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60)) ON true
      JOIN "fno"."payment_days" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."payment_day_name" = "s"."name"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR false AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_days', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'name', j.image->'name'), jsonb_build_object('dataareaid', j."k_1", 'payment_day_name', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('description', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'took_incoming' ELSE 'kept_local' END
      FROM planned AS j
     WHERE j.conflict
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), buried AS (
    -- A row changed here that a delete from there removes: its fields live on for
    -- changes made there before this row's own changes crossed (a tombstone that
    -- crosses when this side's newest change of the row is applied there).
    INSERT INTO "replicator"."tombstone" (direction, change_id, map_name, image, deleted_by, crossed_at,
                                 deleted_at)
    SELECT 'to_right', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'payment_days',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_right' AND c.map_name = 'payment_days'
                            AND c.image @> jsonb_build_object('dataareaid', j."k_1", 'payment_day_name', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "fno"."payment_days" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_days', 'fno.payment_days'
        USING ERRCODE = 'serialization_failure';
END IF;
    RETURN;
END IF;
-- A held change that a newer change of its key overtakes is no longer wanted; a
-- change whose parent has not arrived on this side yet is held, not written with
-- a null reference (the applier retries it when the parent's map applies).
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."name") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['description']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['description']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "name" character varying(30))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."name" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_left'
       AND h.map_name = 'payment_days'
       AND h.id < l.id
       AND h.image -> 'companyid' = l.image -> 'companyid' AND h.image -> 'name' = l.image -> 'name'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_left', l.id, 'payment_days',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
), judged AS (
    -- Each change beside the row it meets here: what it brings (n_), what the row
    -- held when it last crossed (b_), what the row holds now (c_), or held when it
    -- was deleted here (gone).
    SELECT l.id, l.op, l.image, l.at, l.forced,
           t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           t.ctid IS NOT NULL AS present,
           t.ctid IS NULL AND del.image IS NOT NULL AS gone,
           del.deleted_at,
           l.base_known AND NOT l.forced AS judge,
           l.base IS NULL AS fresh,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."name" AS "k_2",
           "s"."description" AS "n_1",
           "b"."description" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."description" ELSE t."description" END AS "c_1",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60)) ON true
      LEFT JOIN "fno"."payment_days" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."payment_day_name" = "s"."name"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_right' AND d.map_name = 'payment_days'
              AND d.image @> jsonb_build_object('dataareaid', "l"."lookup_1", 'payment_day_name', "s"."name")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"fno"."payment_days", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL))
), compared AS (
    -- tc_: the row here changed the field since it last crossed; sc_: the source did.
    SELECT j.*,
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_1" IS DISTINCT FROM j."n_1"
                                           ELSE j."c_1" IS DISTINCT FROM j."b_1" END
               AS "tc_1",
           j.fresh OR j."n_1" IS DISTINCT FROM j."b_1" AS "sc_1",
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND false) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM judged AS j
), decided AS (
    -- x_: both changed the field, to different values: its policy decides (take_).
    SELECT j.*,
           j."tc_1" AND j."sc_1" AND j."c_1" IS DISTINCT FROM j."n_1"
               AS "x_1",
           j.gone OR (j."tc_1") AS conflict
      FROM compared AS j
), settled AS (
    SELECT j.*,
           NOT j."tc_1" OR (j."x_1" AND false) AS "take_1",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR false) AS inserting
      FROM settled AS j
), planned AS (
    SELECT j.*,
           j.present AND NOT j.waiting AND NOT j.keep_existing
               AND (j."f_1") IS DISTINCT FROM (j."c_1") AS updating
      FROM final AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_days', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'name', j.image->'name'), jsonb_build_object('dataareaid', j."k_1", 'payment_day_name', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "fno"."payment_days" ("dataareaid", "payment_day_name", "description")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("dataareaid", "payment_day_name") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "fno"."payment_days" AS t
       SET "description" = j."f_1"
      FROM planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.updating
    RETURNING j.id, t.xmin AS written_xid
)
SELECT count(*) FILTER (WHERE j.inserting OR j.updating),
       (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_days', 'fno.payment_days'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_days_to_left"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'name', c.value->'image'->'name')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'name', c.value->'image'->'name')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_payment_days_to_left"(v_key_changes, p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('payment_days', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'name', v_change->'image'->'name')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('payment_days', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'name', v_change->'image'->'name'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_left/apply', '2255e3e3b05264fe29c6ee5e2e676299f5d1ffab179864b78f1959c71b3f3e6a', $sql$-- Removing map 'payment_days' ('to_left') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_payment_days_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_days_to_left"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_day_lines/to_left/apply ====
-- Map 'payment_day_lines', 'to_left': write a batch of captured changes into "fno"."payment_day_lines".
-- Per key, the batch's newest change is applied. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
--
-- Conflicts: a change meets a row the application here changed since the last
-- value that crossed over (the row differs from the change's base). Per field,
-- an edit made on one side only survives; a field both sides changed goes to
-- the side its policy names; the conflict is logged. Rows are written only as
-- they were judged (same xmin): one changed meanwhile makes the batch retry.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The capture
-- triggers here skip what it writes (loop safety): the marker below counts only
-- for a role that owns the replicator's schema.
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_day_lines', 'cds.payment_day_line'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.payment_day_lines were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."paymentdayid", "k"."line_number") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['weekday', 'dayofmonth']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['weekday', 'dayofmonth']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "paymentdayid" uuid,
       "line_number" integer)
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."paymentdayid", "k"."line_number" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."paymentdayid", "k"."line_number", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."payment_day_name" FROM "fno"."payment_days" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_day_name') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_day_name" = CAST((l.refs -> 'payment_day_name') ->> 'name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "l"."lookup_2" AS "k_2",
           "s"."line_number" AS "k_3",
           l.base_known AND NOT l.forced AND t."week_day" IS DISTINCT FROM CAST(CASE WHEN "b"."weekday" IS NULL THEN NULL WHEN "b"."weekday"::text = 'none' THEN 'None' WHEN "b"."weekday"::text = 'monday' THEN 'Monday' WHEN "b"."weekday"::text = 'tuesday' THEN 'Tuesday' WHEN "b"."weekday"::text = 'wednesday' THEN 'Wednesday' WHEN "b"."weekday"::text = 'thursday' THEN 'Thursday' WHEN "b"."weekday"::text = 'friday' THEN 'Friday' WHEN "b"."weekday"::text = 'saturday' THEN 'Saturday' WHEN "b"."weekday"::text = 'sunday' THEN 'Sunday' ELSE NULL END AS character varying(10)) AS "tc_1",
           l.base_known AND NOT l.forced AND t."day_of_month" IS DISTINCT FROM "b"."dayofmonth" AS "tc_2",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "paymentdayid" uuid,
       "line_number" integer,
       "weekday" text,
       "dayofmonth" integer)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "paymentdayid" uuid,
       "line_number" integer,
       "weekday" text,
       "dayofmonth" integer) ON true
      JOIN "fno"."payment_day_lines" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."payment_day_name" = "l"."lookup_2" AND "t"."line_num" = "s"."line_number"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR false AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_day_lines', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'paymentdayid', j.image->'paymentdayid', 'line_number', j.image->'line_number'), jsonb_build_object('dataareaid', j."k_1", 'payment_day_name', j."k_2", 'line_num', j."k_3"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('week_day', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'day_of_month', CASE WHEN j."tc_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'took_incoming' ELSE 'kept_local' END
      FROM planned AS j
     WHERE j.conflict
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), buried AS (
    -- A row changed here that a delete from there removes: its fields live on for
    -- changes made there before this row's own changes crossed (a tombstone that
    -- crosses when this side's newest change of the row is applied there).
    INSERT INTO "replicator"."tombstone" (direction, change_id, map_name, image, deleted_by, crossed_at,
                                 deleted_at)
    SELECT 'to_right', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'payment_day_lines',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_right' AND c.map_name = 'payment_day_lines'
                            AND c.image @> jsonb_build_object('dataareaid', j."k_1", 'payment_day_name', j."k_2", 'line_num', j."k_3")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "fno"."payment_day_lines" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_day_lines', 'fno.payment_day_lines'
        USING ERRCODE = 'serialization_failure';
END IF;
    RETURN;
END IF;
-- A held change that a newer change of its key overtakes is no longer wanted; a
-- change whose parent has not arrived on this side yet is held, not written with
-- a null reference (the applier retries it when the parent's map applies).
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."paymentdayid", "k"."line_number") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['weekday', 'dayofmonth']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['weekday', 'dayofmonth']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "paymentdayid" uuid,
       "line_number" integer)
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."paymentdayid", "k"."line_number" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."paymentdayid", "k"."line_number", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."payment_day_name" FROM "fno"."payment_days" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_day_name') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_day_name" = CAST((l.refs -> 'payment_day_name') ->> 'name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_left'
       AND h.map_name = 'payment_day_lines'
       AND h.id < l.id
       AND h.image -> 'companyid' = l.image -> 'companyid' AND h.image -> 'paymentdayid' = l.image -> 'paymentdayid' AND h.image -> 'line_number' = l.image -> 'line_number'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_left', l.id, 'payment_day_lines',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'paymentdayid' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'payment_days' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'paymentdayid' IS NOT NULL AND "l"."lookup_2" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
), judged AS (
    -- Each change beside the row it meets here: what it brings (n_), what the row
    -- held when it last crossed (b_), what the row holds now (c_), or held when it
    -- was deleted here (gone).
    SELECT l.id, l.op, l.image, l.at, l.forced,
           t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           t.ctid IS NOT NULL AS present,
           t.ctid IS NULL AND del.image IS NOT NULL AS gone,
           del.deleted_at,
           l.base_known AND NOT l.forced AS judge,
           l.base IS NULL AS fresh,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "l"."lookup_2" AS "k_2",
           "s"."line_number" AS "k_3",
           CAST(CASE WHEN "s"."weekday" IS NULL THEN NULL WHEN "s"."weekday"::text = 'none' THEN 'None' WHEN "s"."weekday"::text = 'monday' THEN 'Monday' WHEN "s"."weekday"::text = 'tuesday' THEN 'Tuesday' WHEN "s"."weekday"::text = 'wednesday' THEN 'Wednesday' WHEN "s"."weekday"::text = 'thursday' THEN 'Thursday' WHEN "s"."weekday"::text = 'friday' THEN 'Friday' WHEN "s"."weekday"::text = 'saturday' THEN 'Saturday' WHEN "s"."weekday"::text = 'sunday' THEN 'Sunday' ELSE "replicator"."unmapped_value"('payment_day_lines', 'week_day', "s"."weekday"::text) END AS character varying(10)) AS "n_1",
           CAST(CASE WHEN "b"."weekday" IS NULL THEN NULL WHEN "b"."weekday"::text = 'none' THEN 'None' WHEN "b"."weekday"::text = 'monday' THEN 'Monday' WHEN "b"."weekday"::text = 'tuesday' THEN 'Tuesday' WHEN "b"."weekday"::text = 'wednesday' THEN 'Wednesday' WHEN "b"."weekday"::text = 'thursday' THEN 'Thursday' WHEN "b"."weekday"::text = 'friday' THEN 'Friday' WHEN "b"."weekday"::text = 'saturday' THEN 'Saturday' WHEN "b"."weekday"::text = 'sunday' THEN 'Sunday' ELSE NULL END AS character varying(10)) AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."week_day" ELSE t."week_day" END AS "c_1",
           "s"."dayofmonth" AS "n_2",
           "b"."dayofmonth" AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."day_of_month" ELSE t."day_of_month" END AS "c_2",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "paymentdayid" uuid,
       "line_number" integer,
       "weekday" text,
       "dayofmonth" integer)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "paymentdayid" uuid,
       "line_number" integer,
       "weekday" text,
       "dayofmonth" integer) ON true
      LEFT JOIN "fno"."payment_day_lines" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."payment_day_name" = "l"."lookup_2" AND "t"."line_num" = "s"."line_number"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_right' AND d.map_name = 'payment_day_lines'
              AND d.image @> jsonb_build_object('dataareaid', "l"."lookup_1", 'payment_day_name', "l"."lookup_2", 'line_num', "s"."line_number")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"fno"."payment_day_lines", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'paymentdayid' IS NOT NULL AND "l"."lookup_2" IS NULL))
), compared AS (
    -- tc_: the row here changed the field since it last crossed; sc_: the source did.
    SELECT j.*,
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_1" IS DISTINCT FROM j."n_1"
                                           ELSE j."c_1" IS DISTINCT FROM j."b_1" END
               AS "tc_1",
           j.fresh OR j."n_1" IS DISTINCT FROM j."b_1" AS "sc_1",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_2" IS DISTINCT FROM j."n_2"
                                           ELSE j."c_2" IS DISTINCT FROM j."b_2" END
               AS "tc_2",
           j.fresh OR j."n_2" IS DISTINCT FROM j."b_2" AS "sc_2",
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND false) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM judged AS j
), decided AS (
    -- x_: both changed the field, to different values: its policy decides (take_).
    SELECT j.*,
           j."tc_1" AND j."sc_1" AND j."c_1" IS DISTINCT FROM j."n_1"
               AS "x_1",
           j."tc_2" AND j."sc_2" AND j."c_2" IS DISTINCT FROM j."n_2"
               AS "x_2",
           j.gone OR (j."tc_1" OR j."tc_2") AS conflict
      FROM compared AS j
), settled AS (
    SELECT j.*,
           NOT j."tc_1" OR (j."x_1" AND false) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND false) AS "take_2",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR false) AS inserting
      FROM settled AS j
), planned AS (
    SELECT j.*,
           j.present AND NOT j.waiting AND NOT j.keep_existing
               AND (j."f_1", j."f_2") IS DISTINCT FROM (j."c_1", j."c_2") AS updating
      FROM final AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_day_lines', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'paymentdayid', j.image->'paymentdayid', 'line_number', j.image->'line_number'), jsonb_build_object('dataareaid', j."k_1", 'payment_day_name', j."k_2", 'line_num', j."k_3"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('week_day', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'day_of_month', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_2" THEN 'incoming' ELSE 'local' END) WHEN j."tc_2" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1") OR (j."tc_2" AND NOT j."take_2")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1") OR (j."take_2" AND j."c_2" IS DISTINCT FROM j."n_2")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "fno"."payment_day_lines" ("dataareaid", "payment_day_name", "line_num", "week_day", "day_of_month")
    SELECT j."k_1",
       j."k_2",
       j."k_3",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("dataareaid", "payment_day_name", "line_num") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "fno"."payment_day_lines" AS t
       SET "week_day" = j."f_1",
       "day_of_month" = j."f_2"
      FROM planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.updating
    RETURNING j.id, t.xmin AS written_xid
)
SELECT count(*) FILTER (WHERE j.inserting OR j.updating),
       (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_day_lines', 'fno.payment_day_lines'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_day_lines_to_left"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'paymentdayid', c.value->'image'->'paymentdayid', 'line_number', c.value->'image'->'line_number')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'paymentdayid', c.value->'image'->'paymentdayid', 'line_number', c.value->'image'->'line_number')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_payment_day_lines_to_left"(v_key_changes, p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('payment_day_lines', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'paymentdayid', v_change->'image'->'paymentdayid', 'line_number', v_change->'image'->'line_number')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('payment_day_lines', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'paymentdayid', v_change->'image'->'paymentdayid', 'line_number', v_change->'image'->'line_number'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_left/apply', '8f58a58b11e231862345c0e1e54f4840324dd443e95a06d3a8d7c66c219ed7a9', $sql$-- Removing map 'payment_day_lines' ('to_left') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_payment_day_lines_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_day_lines_to_left"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedules/to_left/apply ====
-- Map 'payment_schedules', 'to_left': write a batch of captured changes into "fno"."payment_schedules".
-- Per key, the batch's newest change is applied. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
--
-- Conflicts: a change meets a row the application here changed since the last
-- value that crossed over (the row differs from the change's base). Per field,
-- an edit made on one side only survives; a field both sides changed goes to
-- the side its policy names; the conflict is logged. Rows are written only as
-- they were judged (same xmin): one changed meanwhile makes the batch retry.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The capture
-- triggers here skip what it writes (loop safety): the marker below counts only
-- for a role that owns the replicator's schema.
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_schedules', 'cds.payment_schedule'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.payment_schedules were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."name") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['description', 'allocation']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['description', 'allocation']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "name" character varying(30))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."name" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."name" AS "k_2",
           l.base_known AND NOT l.forced AND t."description" IS DISTINCT FROM "b"."description" AS "tc_1",
           l.base_known AND NOT l.forced AND t."allocation" IS DISTINCT FROM CAST(CASE WHEN "b"."allocation" IS NULL THEN NULL WHEN "b"."allocation"::text = 'percent' THEN 'Percent' WHEN "b"."allocation"::text = 'fixed' THEN 'Fixed' ELSE NULL END AS character varying(10)) AS "tc_2",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60),
       "allocation" text)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60),
       "allocation" text) ON true
      JOIN "fno"."payment_schedules" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."schedule_name" = "s"."name"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR false AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_schedules', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'name', j.image->'name'), jsonb_build_object('dataareaid', j."k_1", 'schedule_name', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('description', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'allocation', CASE WHEN j."tc_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'took_incoming' ELSE 'kept_local' END
      FROM planned AS j
     WHERE j.conflict
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), buried AS (
    -- A row changed here that a delete from there removes: its fields live on for
    -- changes made there before this row's own changes crossed (a tombstone that
    -- crosses when this side's newest change of the row is applied there).
    INSERT INTO "replicator"."tombstone" (direction, change_id, map_name, image, deleted_by, crossed_at,
                                 deleted_at)
    SELECT 'to_right', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'payment_schedules',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_right' AND c.map_name = 'payment_schedules'
                            AND c.image @> jsonb_build_object('dataareaid', j."k_1", 'schedule_name', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "fno"."payment_schedules" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_schedules', 'fno.payment_schedules'
        USING ERRCODE = 'serialization_failure';
END IF;
    RETURN;
END IF;
-- A held change that a newer change of its key overtakes is no longer wanted; a
-- change whose parent has not arrived on this side yet is held, not written with
-- a null reference (the applier retries it when the parent's map applies).
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."name") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['description', 'allocation']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['description', 'allocation']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "name" character varying(30))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."name" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_left'
       AND h.map_name = 'payment_schedules'
       AND h.id < l.id
       AND h.image -> 'companyid' = l.image -> 'companyid' AND h.image -> 'name' = l.image -> 'name'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_left', l.id, 'payment_schedules',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
), judged AS (
    -- Each change beside the row it meets here: what it brings (n_), what the row
    -- held when it last crossed (b_), what the row holds now (c_), or held when it
    -- was deleted here (gone).
    SELECT l.id, l.op, l.image, l.at, l.forced,
           t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           t.ctid IS NOT NULL AS present,
           t.ctid IS NULL AND del.image IS NOT NULL AS gone,
           del.deleted_at,
           l.base_known AND NOT l.forced AS judge,
           l.base IS NULL AS fresh,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."name" AS "k_2",
           "s"."description" AS "n_1",
           "b"."description" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."description" ELSE t."description" END AS "c_1",
           CAST(CASE WHEN "s"."allocation" IS NULL THEN NULL WHEN "s"."allocation"::text = 'percent' THEN 'Percent' WHEN "s"."allocation"::text = 'fixed' THEN 'Fixed' ELSE "replicator"."unmapped_value"('payment_schedules', 'allocation', "s"."allocation"::text) END AS character varying(10)) AS "n_2",
           CAST(CASE WHEN "b"."allocation" IS NULL THEN NULL WHEN "b"."allocation"::text = 'percent' THEN 'Percent' WHEN "b"."allocation"::text = 'fixed' THEN 'Fixed' ELSE NULL END AS character varying(10)) AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."allocation" ELSE t."allocation" END AS "c_2",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60),
       "allocation" text)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "name" character varying(30),
       "description" character varying(60),
       "allocation" text) ON true
      LEFT JOIN "fno"."payment_schedules" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."schedule_name" = "s"."name"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_right' AND d.map_name = 'payment_schedules'
              AND d.image @> jsonb_build_object('dataareaid', "l"."lookup_1", 'schedule_name', "s"."name")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"fno"."payment_schedules", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL))
), compared AS (
    -- tc_: the row here changed the field since it last crossed; sc_: the source did.
    SELECT j.*,
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_1" IS DISTINCT FROM j."n_1"
                                           ELSE j."c_1" IS DISTINCT FROM j."b_1" END
               AS "tc_1",
           j.fresh OR j."n_1" IS DISTINCT FROM j."b_1" AS "sc_1",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_2" IS DISTINCT FROM j."n_2"
                                           ELSE j."c_2" IS DISTINCT FROM j."b_2" END
               AS "tc_2",
           j.fresh OR j."n_2" IS DISTINCT FROM j."b_2" AS "sc_2",
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND false) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM judged AS j
), decided AS (
    -- x_: both changed the field, to different values: its policy decides (take_).
    SELECT j.*,
           j."tc_1" AND j."sc_1" AND j."c_1" IS DISTINCT FROM j."n_1"
               AS "x_1",
           j."tc_2" AND j."sc_2" AND j."c_2" IS DISTINCT FROM j."n_2"
               AS "x_2",
           j.gone OR (j."tc_1" OR j."tc_2") AS conflict
      FROM compared AS j
), settled AS (
    SELECT j.*,
           NOT j."tc_1" OR (j."x_1" AND false) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND false) AS "take_2",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR false) AS inserting
      FROM settled AS j
), planned AS (
    SELECT j.*,
           j.present AND NOT j.waiting AND NOT j.keep_existing
               AND (j."f_1", j."f_2") IS DISTINCT FROM (j."c_1", j."c_2") AS updating
      FROM final AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_schedules', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'name', j.image->'name'), jsonb_build_object('dataareaid', j."k_1", 'schedule_name', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'allocation', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_2" THEN 'incoming' ELSE 'local' END) WHEN j."tc_2" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1") OR (j."tc_2" AND NOT j."take_2")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1") OR (j."take_2" AND j."c_2" IS DISTINCT FROM j."n_2")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "fno"."payment_schedules" ("dataareaid", "schedule_name", "description", "allocation")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("dataareaid", "schedule_name") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "fno"."payment_schedules" AS t
       SET "description" = j."f_1",
       "allocation" = j."f_2"
      FROM planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.updating
    RETURNING j.id, t.xmin AS written_xid
)
SELECT count(*) FILTER (WHERE j.inserting OR j.updating),
       (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_schedules', 'fno.payment_schedules'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_schedules_to_left"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'name', c.value->'image'->'name')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'name', c.value->'image'->'name')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_payment_schedules_to_left"(v_key_changes, p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('payment_schedules', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'name', v_change->'image'->'name')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('payment_schedules', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'name', v_change->'image'->'name'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_left/apply', '92844e942907b1aca45901e4a4e7a37c1df269b5729294a5d5e2dbc1888f216b', $sql$-- Removing map 'payment_schedules' ('to_left') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_payment_schedules_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_schedules_to_left"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedule_lines/to_left/apply ====
-- Map 'payment_schedule_lines', 'to_left': write a batch of captured changes into "fno"."payment_schedule_lines".
-- Per key, the batch's newest change is applied. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
--
-- Conflicts: a change meets a row the application here changed since the last
-- value that crossed over (the row differs from the change's base). Per field,
-- an edit made on one side only survives; a field both sides changed goes to
-- the side its policy names; the conflict is logged. Rows are written only as
-- they were judged (same xmin): one changed meanwhile makes the batch retry.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The capture
-- triggers here skip what it writes (loop safety): the marker below counts only
-- for a role that owns the replicator's schema.
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_schedule_lines', 'cds.payment_schedule_line'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.payment_schedule_lines were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."paymentscheduleid", "k"."line_number") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['percentage', 'months', 'days']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['percentage', 'months', 'days']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "paymentscheduleid" uuid,
       "line_number" integer)
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."paymentscheduleid", "k"."line_number" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."paymentscheduleid", "k"."line_number", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."schedule_name" FROM "fno"."payment_schedules" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'schedule_name') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."schedule_name" = CAST((l.refs -> 'schedule_name') ->> 'name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "l"."lookup_2" AS "k_2",
           "s"."line_number" AS "k_3",
           l.base_known AND NOT l.forced AND t."percent" IS DISTINCT FROM (CAST(ROUND("b"."percentage", 6) AS DECIMAL(32, 6))) AS "tc_1",
           l.base_known AND NOT l.forced AND t."due_months" IS DISTINCT FROM "b"."months" AS "tc_2",
           l.base_known AND NOT l.forced AND t."due_days" IS DISTINCT FROM "b"."days" AS "tc_3",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "paymentscheduleid" uuid,
       "line_number" integer,
       "percentage" numeric(38,10),
       "months" integer,
       "days" integer)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "paymentscheduleid" uuid,
       "line_number" integer,
       "percentage" numeric(38,10),
       "months" integer,
       "days" integer) ON true
      JOIN "fno"."payment_schedule_lines" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."schedule_name" = "l"."lookup_2" AND "t"."line_num" = "s"."line_number"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2" OR j."tc_3") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR false AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_schedule_lines', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'paymentscheduleid', j.image->'paymentscheduleid', 'line_number', j.image->'line_number'), jsonb_build_object('dataareaid', j."k_1", 'schedule_name', j."k_2", 'line_num', j."k_3"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('percent', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'due_months', CASE WHEN j."tc_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'due_days', CASE WHEN j."tc_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'took_incoming' ELSE 'kept_local' END
      FROM planned AS j
     WHERE j.conflict
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), buried AS (
    -- A row changed here that a delete from there removes: its fields live on for
    -- changes made there before this row's own changes crossed (a tombstone that
    -- crosses when this side's newest change of the row is applied there).
    INSERT INTO "replicator"."tombstone" (direction, change_id, map_name, image, deleted_by, crossed_at,
                                 deleted_at)
    SELECT 'to_right', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'payment_schedule_lines',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_right' AND c.map_name = 'payment_schedule_lines'
                            AND c.image @> jsonb_build_object('dataareaid', j."k_1", 'schedule_name', j."k_2", 'line_num', j."k_3")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "fno"."payment_schedule_lines" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_schedule_lines', 'fno.payment_schedule_lines'
        USING ERRCODE = 'serialization_failure';
END IF;
    RETURN;
END IF;
-- A held change that a newer change of its key overtakes is no longer wanted; a
-- change whose parent has not arrived on this side yet is held, not written with
-- a null reference (the applier retries it when the parent's map applies).
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."paymentscheduleid", "k"."line_number") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['percentage', 'months', 'days']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['percentage', 'months', 'days']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "paymentscheduleid" uuid,
       "line_number" integer)
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."paymentscheduleid", "k"."line_number" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."paymentscheduleid", "k"."line_number", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."schedule_name" FROM "fno"."payment_schedules" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'schedule_name') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."schedule_name" = CAST((l.refs -> 'schedule_name') ->> 'name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_left'
       AND h.map_name = 'payment_schedule_lines'
       AND h.id < l.id
       AND h.image -> 'companyid' = l.image -> 'companyid' AND h.image -> 'paymentscheduleid' = l.image -> 'paymentscheduleid' AND h.image -> 'line_number' = l.image -> 'line_number'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_left', l.id, 'payment_schedule_lines',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'paymentscheduleid' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'payment_schedules' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'paymentscheduleid' IS NOT NULL AND "l"."lookup_2" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
), judged AS (
    -- Each change beside the row it meets here: what it brings (n_), what the row
    -- held when it last crossed (b_), what the row holds now (c_), or held when it
    -- was deleted here (gone).
    SELECT l.id, l.op, l.image, l.at, l.forced,
           t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           t.ctid IS NOT NULL AS present,
           t.ctid IS NULL AND del.image IS NOT NULL AS gone,
           del.deleted_at,
           l.base_known AND NOT l.forced AS judge,
           l.base IS NULL AS fresh,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "l"."lookup_2" AS "k_2",
           "s"."line_number" AS "k_3",
           (CAST(ROUND("s"."percentage", 6) AS DECIMAL(32, 6))) AS "n_1",
           (CAST(ROUND("b"."percentage", 6) AS DECIMAL(32, 6))) AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."percent" ELSE t."percent" END AS "c_1",
           "s"."months" AS "n_2",
           "b"."months" AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."due_months" ELSE t."due_months" END AS "c_2",
           "s"."days" AS "n_3",
           "b"."days" AS "b_3",
           CASE WHEN t.ctid IS NULL THEN gone."due_days" ELSE t."due_days" END AS "c_3",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "paymentscheduleid" uuid,
       "line_number" integer,
       "percentage" numeric(38,10),
       "months" integer,
       "days" integer)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "paymentscheduleid" uuid,
       "line_number" integer,
       "percentage" numeric(38,10),
       "months" integer,
       "days" integer) ON true
      LEFT JOIN "fno"."payment_schedule_lines" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."schedule_name" = "l"."lookup_2" AND "t"."line_num" = "s"."line_number"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_right' AND d.map_name = 'payment_schedule_lines'
              AND d.image @> jsonb_build_object('dataareaid', "l"."lookup_1", 'schedule_name', "l"."lookup_2", 'line_num', "s"."line_number")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"fno"."payment_schedule_lines", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'paymentscheduleid' IS NOT NULL AND "l"."lookup_2" IS NULL))
), compared AS (
    -- tc_: the row here changed the field since it last crossed; sc_: the source did.
    SELECT j.*,
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_1" IS DISTINCT FROM j."n_1"
                                           ELSE j."c_1" IS DISTINCT FROM j."b_1" END
               AS "tc_1",
           j.fresh OR j."n_1" IS DISTINCT FROM j."b_1" AS "sc_1",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_2" IS DISTINCT FROM j."n_2"
                                           ELSE j."c_2" IS DISTINCT FROM j."b_2" END
               AS "tc_2",
           j.fresh OR j."n_2" IS DISTINCT FROM j."b_2" AS "sc_2",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_3" IS DISTINCT FROM j."n_3"
                                           ELSE j."c_3" IS DISTINCT FROM j."b_3" END
               AS "tc_3",
           j.fresh OR j."n_3" IS DISTINCT FROM j."b_3" AS "sc_3",
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND false) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM judged AS j
), decided AS (
    -- x_: both changed the field, to different values: its policy decides (take_).
    SELECT j.*,
           j."tc_1" AND j."sc_1" AND j."c_1" IS DISTINCT FROM j."n_1"
               AS "x_1",
           j."tc_2" AND j."sc_2" AND j."c_2" IS DISTINCT FROM j."n_2"
               AS "x_2",
           j."tc_3" AND j."sc_3" AND j."c_3" IS DISTINCT FROM j."n_3"
               AS "x_3",
           j.gone OR (j."tc_1" OR j."tc_2" OR j."tc_3") AS conflict
      FROM compared AS j
), settled AS (
    SELECT j.*,
           NOT j."tc_1" OR (j."x_1" AND false) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND false) AS "take_2",
           NOT j."tc_3" OR (j."x_3" AND false) AS "take_3",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR false) AS inserting
      FROM settled AS j
), planned AS (
    SELECT j.*,
           j.present AND NOT j.waiting AND NOT j.keep_existing
               AND (j."f_1", j."f_2", j."f_3") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3") AS updating
      FROM final AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_schedule_lines', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'paymentscheduleid', j.image->'paymentscheduleid', 'line_number', j.image->'line_number'), jsonb_build_object('dataareaid', j."k_1", 'schedule_name', j."k_2", 'line_num', j."k_3"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('percent', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'due_months', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_2" THEN 'incoming' ELSE 'local' END) WHEN j."tc_2" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'due_days', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_3" THEN 'incoming' ELSE 'local' END) WHEN j."tc_3" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1") OR (j."tc_2" AND NOT j."take_2") OR (j."tc_3" AND NOT j."take_3")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1") OR (j."take_2" AND j."c_2" IS DISTINCT FROM j."n_2") OR (j."take_3" AND j."c_3" IS DISTINCT FROM j."n_3")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "fno"."payment_schedule_lines" ("dataareaid", "schedule_name", "line_num", "percent", "due_months", "due_days")
    SELECT j."k_1",
       j."k_2",
       j."k_3",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END,
       CASE WHEN j.gone THEN j."f_3" ELSE j."n_3" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("dataareaid", "schedule_name", "line_num") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "fno"."payment_schedule_lines" AS t
       SET "percent" = j."f_1",
       "due_months" = j."f_2",
       "due_days" = j."f_3"
      FROM planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.updating
    RETURNING j.id, t.xmin AS written_xid
)
SELECT count(*) FILTER (WHERE j.inserting OR j.updating),
       (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_schedule_lines', 'fno.payment_schedule_lines'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_schedule_lines_to_left"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'paymentscheduleid', c.value->'image'->'paymentscheduleid', 'line_number', c.value->'image'->'line_number')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'paymentscheduleid', c.value->'image'->'paymentscheduleid', 'line_number', c.value->'image'->'line_number')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_payment_schedule_lines_to_left"(v_key_changes, p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('payment_schedule_lines', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'paymentscheduleid', v_change->'image'->'paymentscheduleid', 'line_number', v_change->'image'->'line_number')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('payment_schedule_lines', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'paymentscheduleid', v_change->'image'->'paymentscheduleid', 'line_number', v_change->'image'->'line_number'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_left/apply', '132d32c05baf20465d31bd65a56da5a9e298445edd8e26238a846eb53f16e1fa', $sql$-- Removing map 'payment_schedule_lines' ('to_left') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_payment_schedule_lines_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_schedule_lines_to_left"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_terms/to_left/apply ====
-- Map 'payment_terms', 'to_left': write a batch of captured changes into "fno"."payment_terms".
-- Per key, the batch's newest change is applied. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
--
-- Conflicts: a change meets a row the application here changed since the last
-- value that crossed over (the row differs from the change's base). Per field,
-- an edit made on one side only survives; a field both sides changed goes to
-- the side its policy names; the conflict is logged. Rows are written only as
-- they were judged (same xmin): one changed meanwhile makes the batch retry.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The capture
-- triggers here skip what it writes (loop safety): the marker below counts only
-- for a role that owns the replicator's schema.
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_terms', 'cds.payment_term'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.payment_terms were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."code") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['name', 'due_days', 'paymentscheduleid', 'paymentdayid']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['name', 'due_days', 'paymentscheduleid', 'paymentdayid']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "code" character varying(10))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."code" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."code", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."schedule_name" FROM "fno"."payment_schedules" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_schedule') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."schedule_name" = CAST((l.refs -> 'payment_schedule') ->> 'name' AS character varying(30))) AS "lookup_2",
           (SELECT "p1"."payment_day_name" FROM "fno"."payment_days" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_day') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_day_name" = CAST((l.refs -> 'payment_day') ->> 'name' AS character varying(30))) AS "lookup_3",
           -- and as the row was before the change (its base)
           (SELECT "p1"."schedule_name" FROM "fno"."payment_schedules" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.base_refs -> 'payment_schedule') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."schedule_name" = CAST((l.base_refs -> 'payment_schedule') ->> 'name' AS character varying(30))) AS "base_lookup_2",
           (SELECT "p1"."payment_day_name" FROM "fno"."payment_days" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.base_refs -> 'payment_day') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_day_name" = CAST((l.base_refs -> 'payment_day') ->> 'name' AS character varying(30))) AS "base_lookup_3"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."code" AS "k_2",
           l.base_known AND NOT l.forced AND t."description" IS DISTINCT FROM "b"."name" AS "tc_1",
           l.base_known AND NOT l.forced AND t."net_days" IS DISTINCT FROM "b"."due_days" AS "tc_2",
           l.base_known AND NOT l.forced AND t."payment_schedule" IS DISTINCT FROM "l"."base_lookup_2" AS "tc_3",
           l.base_known AND NOT l.forced AND t."payment_day" IS DISTINCT FROM "l"."base_lookup_3" AS "tc_4",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "due_days" integer,
       "paymentscheduleid" uuid,
       "paymentdayid" uuid)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "due_days" integer,
       "paymentscheduleid" uuid,
       "paymentdayid" uuid) ON true
      JOIN "fno"."payment_terms" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."payment_term_id" = "s"."code"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2" OR j."tc_3" OR j."tc_4") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR false AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_terms', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'code', j.image->'code'), jsonb_build_object('dataareaid', j."k_1", 'payment_term_id', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('description', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'net_days', CASE WHEN j."tc_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'payment_schedule', CASE WHEN j."tc_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'payment_day', CASE WHEN j."tc_4" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'took_incoming' ELSE 'kept_local' END
      FROM planned AS j
     WHERE j.conflict
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), buried AS (
    -- A row changed here that a delete from there removes: its fields live on for
    -- changes made there before this row's own changes crossed (a tombstone that
    -- crosses when this side's newest change of the row is applied there).
    INSERT INTO "replicator"."tombstone" (direction, change_id, map_name, image, deleted_by, crossed_at,
                                 deleted_at)
    SELECT 'to_right', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'payment_terms',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_right' AND c.map_name = 'payment_terms'
                            AND c.image @> jsonb_build_object('dataareaid', j."k_1", 'payment_term_id', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "fno"."payment_terms" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_terms', 'fno.payment_terms'
        USING ERRCODE = 'serialization_failure';
END IF;
    RETURN;
END IF;
-- A held change that a newer change of its key overtakes is no longer wanted; a
-- change whose parent has not arrived on this side yet is held, not written with
-- a null reference (the applier retries it when the parent's map applies).
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."code") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['name', 'due_days', 'paymentscheduleid', 'paymentdayid']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['name', 'due_days', 'paymentscheduleid', 'paymentdayid']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "code" character varying(10))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."code" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."code", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."schedule_name" FROM "fno"."payment_schedules" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_schedule') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."schedule_name" = CAST((l.refs -> 'payment_schedule') ->> 'name' AS character varying(30))) AS "lookup_2",
           (SELECT "p1"."payment_day_name" FROM "fno"."payment_days" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_day') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_day_name" = CAST((l.refs -> 'payment_day') ->> 'name' AS character varying(30))) AS "lookup_3",
           -- and as the row was before the change (its base)
           (SELECT "p1"."schedule_name" FROM "fno"."payment_schedules" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.base_refs -> 'payment_schedule') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."schedule_name" = CAST((l.base_refs -> 'payment_schedule') ->> 'name' AS character varying(30))) AS "base_lookup_2",
           (SELECT "p1"."payment_day_name" FROM "fno"."payment_days" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.base_refs -> 'payment_day') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_day_name" = CAST((l.base_refs -> 'payment_day') ->> 'name' AS character varying(30))) AS "base_lookup_3"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_left'
       AND h.map_name = 'payment_terms'
       AND h.id < l.id
       AND h.image -> 'companyid' = l.image -> 'companyid' AND h.image -> 'code' = l.image -> 'code'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_left', l.id, 'payment_terms',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'paymentscheduleid' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'payment_schedules' END, CASE WHEN (l.image ->> 'paymentdayid' IS NOT NULL AND "l"."lookup_3" IS NULL) THEN 'payment_days' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'paymentscheduleid' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'paymentdayid' IS NOT NULL AND "l"."lookup_3" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
), judged AS (
    -- Each change beside the row it meets here: what it brings (n_), what the row
    -- held when it last crossed (b_), what the row holds now (c_), or held when it
    -- was deleted here (gone).
    SELECT l.id, l.op, l.image, l.at, l.forced,
           t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           t.ctid IS NOT NULL AS present,
           t.ctid IS NULL AND del.image IS NOT NULL AS gone,
           del.deleted_at,
           l.base_known AND NOT l.forced AS judge,
           l.base IS NULL AS fresh,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."code" AS "k_2",
           "s"."name" AS "n_1",
           "b"."name" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."description" ELSE t."description" END AS "c_1",
           "s"."due_days" AS "n_2",
           "b"."due_days" AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."net_days" ELSE t."net_days" END AS "c_2",
           "l"."lookup_2" AS "n_3",
           "l"."base_lookup_2" AS "b_3",
           CASE WHEN t.ctid IS NULL THEN gone."payment_schedule" ELSE t."payment_schedule" END AS "c_3",
           "l"."lookup_3" AS "n_4",
           "l"."base_lookup_3" AS "b_4",
           CASE WHEN t.ctid IS NULL THEN gone."payment_day" ELSE t."payment_day" END AS "c_4",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "due_days" integer,
       "paymentscheduleid" uuid,
       "paymentdayid" uuid)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "code" character varying(10),
       "name" character varying(60),
       "due_days" integer,
       "paymentscheduleid" uuid,
       "paymentdayid" uuid) ON true
      LEFT JOIN "fno"."payment_terms" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."payment_term_id" = "s"."code"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_right' AND d.map_name = 'payment_terms'
              AND d.image @> jsonb_build_object('dataareaid', "l"."lookup_1", 'payment_term_id', "s"."code")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"fno"."payment_terms", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'paymentscheduleid' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'paymentdayid' IS NOT NULL AND "l"."lookup_3" IS NULL))
), compared AS (
    -- tc_: the row here changed the field since it last crossed; sc_: the source did.
    SELECT j.*,
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_1" IS DISTINCT FROM j."n_1"
                                           ELSE j."c_1" IS DISTINCT FROM j."b_1" END
               AS "tc_1",
           j.fresh OR j."n_1" IS DISTINCT FROM j."b_1" AS "sc_1",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_2" IS DISTINCT FROM j."n_2"
                                           ELSE j."c_2" IS DISTINCT FROM j."b_2" END
               AS "tc_2",
           j.fresh OR j."n_2" IS DISTINCT FROM j."b_2" AS "sc_2",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_3" IS DISTINCT FROM j."n_3"
                                           ELSE j."c_3" IS DISTINCT FROM j."b_3" END
               AS "tc_3",
           j.fresh OR j."n_3" IS DISTINCT FROM j."b_3" AS "sc_3",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_4" IS DISTINCT FROM j."n_4"
                                           ELSE j."c_4" IS DISTINCT FROM j."b_4" END
               AS "tc_4",
           j.fresh OR j."n_4" IS DISTINCT FROM j."b_4" AS "sc_4",
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND false) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM judged AS j
), decided AS (
    -- x_: both changed the field, to different values: its policy decides (take_).
    SELECT j.*,
           j."tc_1" AND j."sc_1" AND j."c_1" IS DISTINCT FROM j."n_1"
               AS "x_1",
           j."tc_2" AND j."sc_2" AND j."c_2" IS DISTINCT FROM j."n_2"
               AS "x_2",
           j."tc_3" AND j."sc_3" AND j."c_3" IS DISTINCT FROM j."n_3"
               AS "x_3",
           j."tc_4" AND j."sc_4" AND j."c_4" IS DISTINCT FROM j."n_4"
               AS "x_4",
           j.gone OR (j."tc_1" OR j."tc_2" OR j."tc_3" OR j."tc_4") AS conflict
      FROM compared AS j
), settled AS (
    SELECT j.*,
           NOT j."tc_1" OR (j."x_1" AND false) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND false) AS "take_2",
           NOT j."tc_3" OR (j."x_3" AND false) AS "take_3",
           NOT j."tc_4" OR (j."x_4" AND false) AS "take_4",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           CASE WHEN j."take_4" THEN "j"."n_4" ELSE j."c_4" END AS "f_4",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR false) AS inserting
      FROM settled AS j
), planned AS (
    SELECT j.*,
           j.present AND NOT j.waiting AND NOT j.keep_existing
               AND (j."f_1", j."f_2", j."f_3", j."f_4") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4") AS updating
      FROM final AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_terms', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'code', j.image->'code'), jsonb_build_object('dataareaid', j."k_1", 'payment_term_id', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('description', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'net_days', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_2" THEN 'incoming' ELSE 'local' END) WHEN j."tc_2" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'payment_schedule', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_3" THEN 'incoming' ELSE 'local' END) WHEN j."tc_3" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'payment_day', CASE WHEN j."x_4" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_4" THEN 'incoming' ELSE 'local' END) WHEN j."tc_4" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1") OR (j."tc_2" AND NOT j."take_2") OR (j."tc_3" AND NOT j."take_3") OR (j."tc_4" AND NOT j."take_4")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1") OR (j."take_2" AND j."c_2" IS DISTINCT FROM j."n_2") OR (j."take_3" AND j."c_3" IS DISTINCT FROM j."n_3") OR (j."take_4" AND j."c_4" IS DISTINCT FROM j."n_4")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "fno"."payment_terms" ("dataareaid", "payment_term_id", "description", "net_days", "payment_schedule", "payment_day")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END,
       CASE WHEN j.gone THEN j."f_3" ELSE j."n_3" END,
       CASE WHEN j.gone THEN j."f_4" ELSE j."n_4" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("dataareaid", "payment_term_id") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "fno"."payment_terms" AS t
       SET "description" = j."f_1",
       "net_days" = j."f_2",
       "payment_schedule" = j."f_3",
       "payment_day" = j."f_4"
      FROM planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.updating
    RETURNING j.id, t.xmin AS written_xid
)
SELECT count(*) FILTER (WHERE j.inserting OR j.updating),
       (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_terms', 'fno.payment_terms'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_terms_to_left"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'code', c.value->'image'->'code')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'code', c.value->'image'->'code')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_payment_terms_to_left"(v_key_changes, p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('payment_terms', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'code', v_change->'image'->'code')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('payment_terms', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'code', v_change->'image'->'code'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_left/apply', '62eec321d9c20470ebb3141679c55e5b25badc2b5939e907eb5ae0df4ae971b3', $sql$-- Removing map 'payment_terms' ('to_left') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_payment_terms_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_terms_to_left"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_organization/to_left/apply ====
-- Map 'customers_organization', 'to_left': write a batch of captured changes into "fno"."customers".
-- Per key, the batch's newest change is applied. Deletes and upserts run as two passes
-- (p_deletes), so a batch can delete children before parents and insert parents
-- before children. plpgsql rather than sql: it keeps the statements' plans.
--
-- Conflicts: a change meets a row the application here changed since the last
-- value that crossed over (the row differs from the change's base). Per field,
-- an edit made on one side only survives; a field both sides changed goes to
-- the side its policy names; the conflict is logged. Rows are written only as
-- they were judged (same xmin): one changed meanwhile makes the batch retry.
--
-- Runs as its owner (SECURITY DEFINER): the applier's runtime role has no right on
-- the target table itself; it may only call this function. The capture
-- triggers here skip what it writes (loop safety): the marker below counts only
-- for a role that owns the replicator's schema.
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customers_organization', 'cds.account'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of fno.customers were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."accountnumber") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['name', 'customergroupid', 'paymenttermid', 'customerpaymentmethodid', 'emailaddress1', 'creditlimit', 'credit_hold']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['name', 'customergroupid', 'paymenttermid', 'customerpaymentmethodid', 'emailaddress1', 'creditlimit', 'credit_hold']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "accountnumber" character varying(20))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."accountnumber" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."accountnumber", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."customer_group" FROM "fno"."customer_groups" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'customer_group') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."customer_group" = CAST((l.refs -> 'customer_group') ->> 'group_code' AS character varying(10))) AS "lookup_2",
           (SELECT "p1"."payment_term_id" FROM "fno"."payment_terms" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_terms') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_term_id" = CAST((l.refs -> 'payment_terms') ->> 'code' AS character varying(10))) AS "lookup_3",
           (SELECT "p1"."payment_method" FROM "fno"."customer_payment_methods" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_method') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_method" = CAST((l.refs -> 'payment_method') ->> 'code' AS character varying(10))) AS "lookup_4",
           -- and as the row was before the change (its base)
           (SELECT "p1"."customer_group" FROM "fno"."customer_groups" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.base_refs -> 'customer_group') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."customer_group" = CAST((l.base_refs -> 'customer_group') ->> 'group_code' AS character varying(10))) AS "base_lookup_2",
           (SELECT "p1"."payment_term_id" FROM "fno"."payment_terms" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.base_refs -> 'payment_terms') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_term_id" = CAST((l.base_refs -> 'payment_terms') ->> 'code' AS character varying(10))) AS "base_lookup_3",
           (SELECT "p1"."payment_method" FROM "fno"."customer_payment_methods" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.base_refs -> 'payment_method') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_method" = CAST((l.base_refs -> 'payment_method') ->> 'code' AS character varying(10))) AS "base_lookup_4"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."accountnumber" AS "k_2",
           l.base_known AND NOT l.forced AND t."name" IS DISTINCT FROM "b"."name" AS "tc_1",
           l.base_known AND NOT l.forced AND t."customer_group" IS DISTINCT FROM "l"."base_lookup_2" AS "tc_2",
           l.base_known AND NOT l.forced AND t."payment_terms" IS DISTINCT FROM "l"."base_lookup_3" AS "tc_3",
           l.base_known AND NOT l.forced AND t."payment_method" IS DISTINCT FROM "l"."base_lookup_4" AS "tc_4",
           l.base_known AND NOT l.forced AND t."email" IS DISTINCT FROM "b"."emailaddress1" AS "tc_5",
           l.base_known AND NOT l.forced AND t."credit_limit" IS DISTINCT FROM COALESCE((CAST("b"."creditlimit" AS DECIMAL(32, 6))), CAST(0 AS numeric(32,6))) AS "tc_6",
           l.base_known AND NOT l.forced AND t."blocked" IS DISTINCT FROM CAST(CASE WHEN "b"."credit_hold" IS NULL THEN NULL WHEN "b"."credit_hold"::text = 'none' THEN 'No' WHEN "b"."credit_hold"::text = 'invoice_hold' THEN 'Invoice' WHEN "b"."credit_hold"::text = 'full_hold' THEN 'All' ELSE NULL END AS character varying(10)) AS "tc_7",
           l.base_known AND NOT l.forced AND t."party_type" IS DISTINCT FROM CAST('Organization' AS "fno"."party_type") AS "tc_8",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
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
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "accountnumber" character varying(20),
       "name" character varying(100),
       "customergroupid" uuid,
       "paymenttermid" uuid,
       "customerpaymentmethodid" uuid,
       "emailaddress1" character varying(80),
       "creditlimit" numeric(38,4),
       "credit_hold" text) ON true
      JOIN "fno"."customers" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."account_num" = "s"."accountnumber"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2" OR j."tc_3" OR j."tc_4" OR j."tc_5" OR j."tc_6" OR j."tc_7" OR j."tc_8") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR false AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customers_organization', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'accountnumber', j.image->'accountnumber'), jsonb_build_object('dataareaid', j."k_1", 'account_num', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('name', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'customer_group', CASE WHEN j."tc_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'payment_terms', CASE WHEN j."tc_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'payment_method', CASE WHEN j."tc_4" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'email', CASE WHEN j."tc_5" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'credit_limit', CASE WHEN j."tc_6" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'blocked', CASE WHEN j."tc_7" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'party_type', CASE WHEN j."tc_8" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'took_incoming' ELSE 'kept_local' END
      FROM planned AS j
     WHERE j.conflict
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), buried AS (
    -- A row changed here that a delete from there removes: its fields live on for
    -- changes made there before this row's own changes crossed (a tombstone that
    -- crosses when this side's newest change of the row is applied there).
    INSERT INTO "replicator"."tombstone" (direction, change_id, map_name, image, deleted_by, crossed_at,
                                 deleted_at)
    SELECT 'to_right', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'customers_organization',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_right' AND c.map_name = 'customers_organization'
                            AND c.image @> jsonb_build_object('dataareaid', j."k_1", 'account_num', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "fno"."customers" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_organization', 'fno.customers'
        USING ERRCODE = 'serialization_failure';
END IF;
    RETURN;
END IF;
-- A held change that a newer change of its key overtakes is no longer wanted; a
-- change whose parent has not arrived on this side yet is held, not written with
-- a null reference (the applier retries it when the parent's map applies).
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."companyid", "k"."accountnumber") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['name', 'customergroupid', 'paymenttermid', 'customerpaymentmethodid', 'emailaddress1', 'creditlimit', 'credit_hold']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['name', 'customergroupid', 'paymenttermid', 'customerpaymentmethodid', 'emailaddress1', 'creditlimit', 'credit_hold']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "companyid" uuid,
       "accountnumber" character varying(20))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."companyid", "k"."accountnumber" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."companyid", "k"."accountnumber", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."dataareaid" FROM "fno"."companies" AS "p1" WHERE "p1"."dataareaid" = CAST((l.refs -> 'dataareaid') ->> 'company_code' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."customer_group" FROM "fno"."customer_groups" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'customer_group') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."customer_group" = CAST((l.refs -> 'customer_group') ->> 'group_code' AS character varying(10))) AS "lookup_2",
           (SELECT "p1"."payment_term_id" FROM "fno"."payment_terms" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_terms') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_term_id" = CAST((l.refs -> 'payment_terms') ->> 'code' AS character varying(10))) AS "lookup_3",
           (SELECT "p1"."payment_method" FROM "fno"."customer_payment_methods" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.refs -> 'payment_method') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_method" = CAST((l.refs -> 'payment_method') ->> 'code' AS character varying(10))) AS "lookup_4",
           -- and as the row was before the change (its base)
           (SELECT "p1"."customer_group" FROM "fno"."customer_groups" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.base_refs -> 'customer_group') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."customer_group" = CAST((l.base_refs -> 'customer_group') ->> 'group_code' AS character varying(10))) AS "base_lookup_2",
           (SELECT "p1"."payment_term_id" FROM "fno"."payment_terms" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.base_refs -> 'payment_terms') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_term_id" = CAST((l.base_refs -> 'payment_terms') ->> 'code' AS character varying(10))) AS "base_lookup_3",
           (SELECT "p1"."payment_method" FROM "fno"."customer_payment_methods" AS "p1" WHERE "p1"."dataareaid" = (SELECT "p2"."dataareaid" FROM "fno"."companies" AS "p2" WHERE "p2"."dataareaid" = CAST(((l.base_refs -> 'payment_method') -> 'companyid') ->> 'company_code' AS character varying(4))) AND "p1"."payment_method" = CAST((l.base_refs -> 'payment_method') ->> 'code' AS character varying(10))) AS "base_lookup_4"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_left'
       AND h.map_name = 'customers_organization'
       AND h.id < l.id
       AND h.image -> 'companyid' = l.image -> 'companyid' AND h.image -> 'accountnumber' = l.image -> 'accountnumber'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_left', l.id, 'customers_organization',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'customergroupid' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'customer_groups' END, CASE WHEN (l.image ->> 'paymenttermid' IS NOT NULL AND "l"."lookup_3" IS NULL) THEN 'payment_terms' END, CASE WHEN (l.image ->> 'customerpaymentmethodid' IS NOT NULL AND "l"."lookup_4" IS NULL) THEN 'customer_payment_methods' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'customergroupid' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'paymenttermid' IS NOT NULL AND "l"."lookup_3" IS NULL) OR (l.image ->> 'customerpaymentmethodid' IS NOT NULL AND "l"."lookup_4" IS NULL))
        ON CONFLICT (direction, id) DO NOTHING
), judged AS (
    -- Each change beside the row it meets here: what it brings (n_), what the row
    -- held when it last crossed (b_), what the row holds now (c_), or held when it
    -- was deleted here (gone).
    SELECT l.id, l.op, l.image, l.at, l.forced,
           t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           t.ctid IS NOT NULL AS present,
           t.ctid IS NULL AND del.image IS NOT NULL AS gone,
           del.deleted_at,
           l.base_known AND NOT l.forced AS judge,
           l.base IS NULL AS fresh,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."accountnumber" AS "k_2",
           "s"."name" AS "n_1",
           "b"."name" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."name" ELSE t."name" END AS "c_1",
           "l"."lookup_2" AS "n_2",
           "l"."base_lookup_2" AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."customer_group" ELSE t."customer_group" END AS "c_2",
           "l"."lookup_3" AS "n_3",
           "l"."base_lookup_3" AS "b_3",
           CASE WHEN t.ctid IS NULL THEN gone."payment_terms" ELSE t."payment_terms" END AS "c_3",
           "l"."lookup_4" AS "n_4",
           "l"."base_lookup_4" AS "b_4",
           CASE WHEN t.ctid IS NULL THEN gone."payment_method" ELSE t."payment_method" END AS "c_4",
           "s"."emailaddress1" AS "n_5",
           "b"."emailaddress1" AS "b_5",
           CASE WHEN t.ctid IS NULL THEN gone."email" ELSE t."email" END AS "c_5",
           COALESCE((CAST("s"."creditlimit" AS DECIMAL(32, 6))), CAST(0 AS numeric(32,6))) AS "n_6",
           COALESCE((CAST("b"."creditlimit" AS DECIMAL(32, 6))), CAST(0 AS numeric(32,6))) AS "b_6",
           CASE WHEN t.ctid IS NULL THEN gone."credit_limit" ELSE t."credit_limit" END AS "c_6",
           CAST(CASE WHEN "s"."credit_hold" IS NULL THEN NULL WHEN "s"."credit_hold"::text = 'none' THEN 'No' WHEN "s"."credit_hold"::text = 'invoice_hold' THEN 'Invoice' WHEN "s"."credit_hold"::text = 'full_hold' THEN 'All' ELSE "replicator"."unmapped_value"('customers_organization', 'blocked', "s"."credit_hold"::text) END AS character varying(10)) AS "n_7",
           CAST(CASE WHEN "b"."credit_hold" IS NULL THEN NULL WHEN "b"."credit_hold"::text = 'none' THEN 'No' WHEN "b"."credit_hold"::text = 'invoice_hold' THEN 'Invoice' WHEN "b"."credit_hold"::text = 'full_hold' THEN 'All' ELSE NULL END AS character varying(10)) AS "b_7",
           CASE WHEN t.ctid IS NULL THEN gone."blocked" ELSE t."blocked" END AS "c_7",
           CAST('Organization' AS "fno"."party_type") AS "n_8",
           CAST('Organization' AS "fno"."party_type") AS "b_8",
           CASE WHEN t.ctid IS NULL THEN gone."party_type" ELSE t."party_type" END AS "c_8",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
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
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "companyid" uuid,
       "accountnumber" character varying(20),
       "name" character varying(100),
       "customergroupid" uuid,
       "paymenttermid" uuid,
       "customerpaymentmethodid" uuid,
       "emailaddress1" character varying(80),
       "creditlimit" numeric(38,4),
       "credit_hold" text) ON true
      LEFT JOIN "fno"."customers" AS t ON "t"."dataareaid" = "l"."lookup_1" AND "t"."account_num" = "s"."accountnumber"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_right' AND d.map_name = 'customers_organization'
              AND d.image @> jsonb_build_object('dataareaid', "l"."lookup_1", 'account_num', "s"."accountnumber")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"fno"."customers", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'companyid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'customergroupid' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'paymenttermid' IS NOT NULL AND "l"."lookup_3" IS NULL) OR (l.image ->> 'customerpaymentmethodid' IS NOT NULL AND "l"."lookup_4" IS NULL))
), compared AS (
    -- tc_: the row here changed the field since it last crossed; sc_: the source did.
    SELECT j.*,
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_1" IS DISTINCT FROM j."n_1"
                                           ELSE j."c_1" IS DISTINCT FROM j."b_1" END
               AS "tc_1",
           j.fresh OR j."n_1" IS DISTINCT FROM j."b_1" AS "sc_1",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_2" IS DISTINCT FROM j."n_2"
                                           ELSE j."c_2" IS DISTINCT FROM j."b_2" END
               AS "tc_2",
           j.fresh OR j."n_2" IS DISTINCT FROM j."b_2" AS "sc_2",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_3" IS DISTINCT FROM j."n_3"
                                           ELSE j."c_3" IS DISTINCT FROM j."b_3" END
               AS "tc_3",
           j.fresh OR j."n_3" IS DISTINCT FROM j."b_3" AS "sc_3",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_4" IS DISTINCT FROM j."n_4"
                                           ELSE j."c_4" IS DISTINCT FROM j."b_4" END
               AS "tc_4",
           j.fresh OR j."n_4" IS DISTINCT FROM j."b_4" AS "sc_4",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_5" IS DISTINCT FROM j."n_5"
                                           ELSE j."c_5" IS DISTINCT FROM j."b_5" END
               AS "tc_5",
           j.fresh OR j."n_5" IS DISTINCT FROM j."b_5" AS "sc_5",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_6" IS DISTINCT FROM j."n_6"
                                           ELSE j."c_6" IS DISTINCT FROM j."b_6" END
               AS "tc_6",
           j.fresh OR j."n_6" IS DISTINCT FROM j."b_6" AS "sc_6",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_7" IS DISTINCT FROM j."n_7"
                                           ELSE j."c_7" IS DISTINCT FROM j."b_7" END
               AS "tc_7",
           j.fresh OR j."n_7" IS DISTINCT FROM j."b_7" AS "sc_7",
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_8" IS DISTINCT FROM j."n_8"
                                           ELSE j."c_8" IS DISTINCT FROM j."b_8" END
               AS "tc_8",
           j.fresh OR j."n_8" IS DISTINCT FROM j."b_8" AS "sc_8",
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND false) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND false) AS newer
      FROM judged AS j
), decided AS (
    -- x_: both changed the field, to different values: its policy decides (take_).
    SELECT j.*,
           j."tc_1" AND j."sc_1" AND j."c_1" IS DISTINCT FROM j."n_1"
               AS "x_1",
           j."tc_2" AND j."sc_2" AND j."c_2" IS DISTINCT FROM j."n_2"
               AS "x_2",
           j."tc_3" AND j."sc_3" AND j."c_3" IS DISTINCT FROM j."n_3"
               AS "x_3",
           j."tc_4" AND j."sc_4" AND j."c_4" IS DISTINCT FROM j."n_4"
               AS "x_4",
           j."tc_5" AND j."sc_5" AND j."c_5" IS DISTINCT FROM j."n_5"
               AS "x_5",
           j."tc_6" AND j."sc_6" AND j."c_6" IS DISTINCT FROM j."n_6"
               AS "x_6",
           j."tc_7" AND j."sc_7" AND j."c_7" IS DISTINCT FROM j."n_7"
               AS "x_7",
           j."tc_8" AND j."sc_8" AND j."c_8" IS DISTINCT FROM j."n_8"
               AS "x_8",
           j.gone OR (j."tc_1" OR j."tc_2" OR j."tc_3" OR j."tc_4" OR j."tc_5" OR j."tc_6" OR j."tc_7" OR j."tc_8") AS conflict
      FROM compared AS j
), settled AS (
    SELECT j.*,
           NOT j."tc_1" OR (j."x_1" AND false) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND false) AS "take_2",
           NOT j."tc_3" OR (j."x_3" AND false) AS "take_3",
           NOT j."tc_4" OR (j."x_4" AND false) AS "take_4",
           NOT j."tc_5" OR (j."x_5" AND false) AS "take_5",
           NOT j."tc_6" OR (j."x_6" AND false) AS "take_6",
           NOT j."tc_7" OR (j."x_7" AND false) AS "take_7",
           NOT j."tc_8" OR (j."x_8" AND false) AS "take_8",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           CASE WHEN j."take_4" THEN "j"."n_4" ELSE j."c_4" END AS "f_4",
           CASE WHEN j."take_5" THEN "j"."n_5" ELSE j."c_5" END AS "f_5",
           CASE WHEN j."take_6" THEN "j"."n_6" ELSE j."c_6" END AS "f_6",
           CASE WHEN j."take_7" THEN "j"."n_7" ELSE j."c_7" END AS "f_7",
           CASE WHEN j."take_8" THEN "j"."n_8" ELSE j."c_8" END AS "f_8",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR false) AS inserting
      FROM settled AS j
), planned AS (
    SELECT j.*,
           j.present AND NOT j.waiting AND NOT j.keep_existing
               AND (j."f_1", j."f_2", j."f_3", j."f_4", j."f_5", j."f_6", j."f_7", j."f_8") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4", j."c_5", j."c_6", j."c_7", j."c_8") AS updating
      FROM final AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customers_organization', 'to_left', j.id, j.op, jsonb_build_object('companyid', j.image->'companyid', 'accountnumber', j.image->'accountnumber'), jsonb_build_object('dataareaid', j."k_1", 'account_num', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('name', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'customer_group', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_2" THEN 'incoming' ELSE 'local' END) WHEN j."tc_2" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'payment_terms', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_3" THEN 'incoming' ELSE 'local' END) WHEN j."tc_3" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'payment_method', CASE WHEN j."x_4" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_4" THEN 'incoming' ELSE 'local' END) WHEN j."tc_4" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'email', CASE WHEN j."x_5" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_5" THEN 'incoming' ELSE 'local' END) WHEN j."tc_5" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'credit_limit', CASE WHEN j."x_6" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_6" THEN 'incoming' ELSE 'local' END) WHEN j."tc_6" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'blocked', CASE WHEN j."x_7" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_7" THEN 'incoming' ELSE 'local' END) WHEN j."tc_7" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'party_type', CASE WHEN j."x_8" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_8" THEN 'incoming' ELSE 'local' END) WHEN j."tc_8" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1") OR (j."tc_2" AND NOT j."take_2") OR (j."tc_3" AND NOT j."take_3") OR (j."tc_4" AND NOT j."take_4") OR (j."tc_5" AND NOT j."take_5") OR (j."tc_6" AND NOT j."take_6") OR (j."tc_7" AND NOT j."take_7") OR (j."tc_8" AND NOT j."take_8")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1") OR (j."take_2" AND j."c_2" IS DISTINCT FROM j."n_2") OR (j."take_3" AND j."c_3" IS DISTINCT FROM j."n_3") OR (j."take_4" AND j."c_4" IS DISTINCT FROM j."n_4") OR (j."take_5" AND j."c_5" IS DISTINCT FROM j."n_5") OR (j."take_6" AND j."c_6" IS DISTINCT FROM j."n_6") OR (j."take_7" AND j."c_7" IS DISTINCT FROM j."n_7") OR (j."take_8" AND j."c_8" IS DISTINCT FROM j."n_8")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "fno"."customers" ("dataareaid", "account_num", "name", "customer_group", "payment_terms", "payment_method", "email", "credit_limit", "blocked", "party_type")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END,
       CASE WHEN j.gone THEN j."f_3" ELSE j."n_3" END,
       CASE WHEN j.gone THEN j."f_4" ELSE j."n_4" END,
       CASE WHEN j.gone THEN j."f_5" ELSE j."n_5" END,
       CASE WHEN j.gone THEN j."f_6" ELSE j."n_6" END,
       CASE WHEN j.gone THEN j."f_7" ELSE j."n_7" END,
       CASE WHEN j.gone THEN j."f_8" ELSE j."n_8" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("dataareaid", "account_num") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "fno"."customers" AS t
       SET "name" = j."f_1",
       "customer_group" = j."f_2",
       "payment_terms" = j."f_3",
       "payment_method" = j."f_4",
       "email" = j."f_5",
       "credit_limit" = j."f_6",
       "blocked" = j."f_7",
       "party_type" = j."f_8"
      FROM planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.updating
    RETURNING j.id, t.xmin AS written_xid
)
SELECT count(*) FILTER (WHERE j.inserting OR j.updating),
       (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    -- A row inserted, changed or deleted here after it was judged: judge again.
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_organization', 'fno.customers'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_customers_organization_to_left"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('companyid', c.value->'image'->'companyid', 'accountnumber', c.value->'image'->'accountnumber')
                  FROM jsonb_array_elements(p_changes) AS c
                 WHERE (c.value->>'op' = 'D') = p_deletes));
        END IF;
        RETURN 0;
    EXCEPTION
        WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
            RAISE;  -- transient: the applier retries the whole batch
        WHEN OTHERS THEN
            NULL;   -- find the bad key(s) below
    END;
    FOR v_key_changes IN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          FROM jsonb_array_elements(p_changes) AS c
         GROUP BY jsonb_build_object('companyid', c.value->'image'->'companyid', 'accountnumber', c.value->'image'->'accountnumber')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_customers_organization_to_left"(v_key_changes, p_deletes);
            IF v_errors AND (v_change->>'op' = 'D') = p_deletes THEN
                PERFORM "replicator"."supersede_errors"('customers_organization', 'to_left', ARRAY[jsonb_build_object('companyid', v_change->'image'->'companyid', 'accountnumber', v_change->'image'->'accountnumber')]);
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                PERFORM "replicator"."log_error"('customers_organization', 'to_left', v_change, jsonb_build_object('companyid', v_change->'image'->'companyid', 'accountnumber', v_change->'image'->'accountnumber'),
                                        v_sqlstate, v_message, v_detail);
                v_errors := true;
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_left/apply', '5a6169cbcfca245f243a0e58071d6c7b38c01830fd5ed31492fc5749b0384d6b', $sql$-- Removing map 'customers_organization' ('to_left') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_customers_organization_to_left"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customers_organization_to_left"(jsonb, boolean);
$sql$)
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
    IF p_direction = 'to_left' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customers_organization'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_customers_organization_to_left"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('customers_organization', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_terms'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_payment_terms_to_left"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('payment_terms', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_schedule_lines'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_payment_schedule_lines_to_left"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('payment_schedule_lines', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_schedules'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_payment_schedules_to_left"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('payment_schedules', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_day_lines'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_payment_day_lines_to_left"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('payment_day_lines', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_days'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_payment_days_to_left"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('payment_days', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'name_affixes'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_name_affixes_to_left"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('name_affixes', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'loyalty_cards'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_loyalty_cards_to_left"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('loyalty_cards', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customers_person'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_customers_person_to_left"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('customers_person', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customer_payment_methods'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_customer_payment_methods_to_left"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('customer_payment_methods', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customer_groups'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_customer_groups_to_left"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('customer_groups', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'contact_persons'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_contact_persons_to_left"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('contact_persons', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'companies'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_companies_to_left"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('companies', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'companies';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_companies_to_left"(v_changes, false);
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
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'contact_persons';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_contact_persons_to_left"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_contact_persons_to_left"(v_changes, false);
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
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customer_groups';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customer_groups_to_left"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customer_groups_to_left"(v_changes, false);
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
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customer_payment_methods';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customer_payment_methods_to_left"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customer_payment_methods_to_left"(v_changes, false);
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
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customers_person';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customers_person_to_left"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customers_person_to_left"(v_changes, false);
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
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'loyalty_cards';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_loyalty_cards_to_left"(v_changes, false);
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
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'name_affixes';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_name_affixes_to_left"(v_changes, false);
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
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_days';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_days_to_left"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_days_to_left"(v_changes, false);
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
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_day_lines';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_day_lines_to_left"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_day_lines_to_left"(v_changes, false);
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
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_schedules';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_schedules_to_left"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_schedules_to_left"(v_changes, false);
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
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_schedule_lines';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_schedule_lines_to_left"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_schedule_lines_to_left"(v_changes, false);
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
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_terms';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_terms_to_left"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_payment_terms_to_left"(v_changes, false);
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
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customers_organization';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customers_organization_to_left"(v_changes, false);
            v_failed := v_failed + v_map_failed;
            SELECT count(*) INTO v_held FROM "replicator"."held_change"
             WHERE direction = p_direction
               AND id = ANY (ARRAY(SELECT (c.value->>'id')::bigint FROM jsonb_array_elements(v_changes) AS c));
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
                             ORDER BY id), count(*)
              INTO v_changes, v_count
              FROM retried;
            IF v_count > 0 THEN
                v_map_failed := "replicator"."apply_customers_organization_to_left"(v_changes, false);
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
VALUES ('dispatch', '536d6fc7ed803a73ed326f176cf8c8e672d2c21348f0309dd6dd18eb93066c1d', $sql$$sql$)
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('companies', 'to_right', 'D', to_jsonb(OLD), NULL);
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('companies', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), NULL,
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(NULL AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_companies_to_right_trunc"
AFTER TRUNCATE ON "fno"."companies"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_companies_to_right_upd"
AFTER UPDATE ON "fno"."companies"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."name") IS DISTINCT FROM ("new"."dataareaid", "new"."name")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_companies_to_right_sync"
AFTER UPDATE ON "fno"."companies"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'companies'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_right/capture', '262a49bfd3a7c2da793726c3683bb7808681a3d110f7d91075ea29de26cc42f1', $sql$-- Removing map 'companies' ('to_right') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', NULL, 'force', true)
             ORDER BY "new"."dataareaid"), '[]')
      FROM (SELECT * FROM "fno"."companies" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid") > (CAST(p_after ->> 'dataareaid' AS character varying(4))))
             ORDER BY "new"."dataareaid"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'companies', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), NULL, true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_right/snapshot', 'd2ac4b0dd94c095bb8ba9f4abfd9a39f98f68eaaed8887ccafb9b03675f8e514', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_companies_to_right"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('contact_persons', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('contact_persons', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_right_trunc"
AFTER TRUNCATE ON "fno"."contact_persons"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_right_upd"
AFTER UPDATE ON "fno"."contact_persons"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."contact_person_id", "old"."first_name", "old"."last_name", "old"."email", "old"."customer_account") IS DISTINCT FROM ("new"."dataareaid", "new"."contact_person_id", "new"."first_name", "new"."last_name", "new"."email", "new"."customer_account")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_right_sync"
AFTER UPDATE ON "fno"."contact_persons"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'contact_persons'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_right/capture', '22d69309442cb3a7a548f84b25050234a61265b08e219f5447fdcba1d1af804b', $sql$-- Removing map 'contact_persons' ('to_right') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), 'force', true)
             ORDER BY "new"."dataareaid", "new"."contact_person_id"), '[]')
      FROM (SELECT * FROM "fno"."contact_persons" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."contact_person_id") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'contact_person_id' AS character varying(20))))
             ORDER BY "new"."dataareaid", "new"."contact_person_id"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'contact_persons', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_right/snapshot', '742f11f0772e1999ff7eb0df89623f6e295c3d09e1c60757828a495b7fd12e6a', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_contact_persons_to_right"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customer_groups', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('customer_groups', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_right_trunc"
AFTER TRUNCATE ON "fno"."customer_groups"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_right_upd"
AFTER UPDATE ON "fno"."customer_groups"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."customer_group", "old"."description") IS DISTINCT FROM ("new"."dataareaid", "new"."customer_group", "new"."description")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_right_sync"
AFTER UPDATE ON "fno"."customer_groups"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customer_groups'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_right/capture', 'f9a1e7481c1f9def519a721d0b118977d6e678164376a0ea6158fd156d25e770', $sql$-- Removing map 'customer_groups' ('to_right') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), 'force', true)
             ORDER BY "new"."dataareaid", "new"."customer_group"), '[]')
      FROM (SELECT * FROM "fno"."customer_groups" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."customer_group") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'customer_group' AS character varying(10))))
             ORDER BY "new"."dataareaid", "new"."customer_group"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'customer_groups', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_right/snapshot', '5af44e9f01dbb31c28fc4f435f408a4ca0cb9d335fff10ac6f0483bd439487e7', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customer_groups_to_right"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customer_payment_methods', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('customer_payment_methods', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_right_trunc"
AFTER TRUNCATE ON "fno"."customer_payment_methods"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_right_upd"
AFTER UPDATE ON "fno"."customer_payment_methods"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."payment_method", "old"."description", "old"."payment_type") IS DISTINCT FROM ("new"."dataareaid", "new"."payment_method", "new"."description", "new"."payment_type")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_right_sync"
AFTER UPDATE ON "fno"."customer_payment_methods"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customer_payment_methods'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_right/capture', '854b4ab03ffc0b4b4ce88bece36d075e9f1d85932101a8c687a2ade1c00417c0', $sql$-- Removing map 'customer_payment_methods' ('to_right') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), 'force', true)
             ORDER BY "new"."dataareaid", "new"."payment_method"), '[]')
      FROM (SELECT * FROM "fno"."customer_payment_methods" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."payment_method") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'payment_method' AS character varying(10))))
             ORDER BY "new"."dataareaid", "new"."payment_method"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'customer_payment_methods', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_right/snapshot', 'ebd51f1b80e23604eb1e1ea3afde9f93106905b31aa70d6639115e0b4a1018b7', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customer_payment_methods_to_right"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customers_person', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('customers_person', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_right_trunc"
AFTER TRUNCATE ON "fno"."customers"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_right_upd"
AFTER UPDATE ON "fno"."customers"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."account_num", "old"."name", "old"."email", "old"."party_type") IS DISTINCT FROM ("new"."dataareaid", "new"."account_num", "new"."name", "new"."email", "new"."party_type")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_right_sync"
AFTER UPDATE ON "fno"."customers"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customers_person'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_right/capture', 'd7fe8100b8f69500b42004dbd217459a5948028f6a3bdef9c5791a539955c7cf', $sql$-- Removing map 'customers_person' ('to_right') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), 'force', true)
             ORDER BY "new"."dataareaid", "new"."account_num"), '[]')
      FROM (SELECT * FROM "fno"."customers" AS "new"
             WHERE coalesce(("new"."party_type" = 'Person'), false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."account_num") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'account_num' AS character varying(20))))
             ORDER BY "new"."dataareaid", "new"."account_num"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'customers_person', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_right/snapshot', '412d373a76e57c0a9f6c290f002b1d9beaab7ecc764323da15ddd9e42960e10a', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customers_person_to_right"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('loyalty_cards', 'to_right', 'D', to_jsonb(OLD), NULL);
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('loyalty_cards', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), NULL,
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(NULL AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_right_trunc"
AFTER TRUNCATE ON "fno"."loyalty_cards"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_right_upd"
AFTER UPDATE ON "fno"."loyalty_cards"
FOR EACH ROW
WHEN (("old"."card_number", "old"."tier", "old"."issued_on", "old"."blocked") IS DISTINCT FROM ("new"."card_number", "new"."tier", "new"."issued_on", "new"."blocked")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_right_sync"
AFTER UPDATE ON "fno"."loyalty_cards"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'loyalty_cards'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_right/capture', '0c800ba4b343451c49b0cd2fef346ffc077ceffd8e44e0729a02385f542f2c28', $sql$-- Removing map 'loyalty_cards' ('to_right') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', NULL, 'force', true)
             ORDER BY "new"."card_number"), '[]')
      FROM (SELECT * FROM "fno"."loyalty_cards" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."card_number") > (CAST(p_after ->> 'card_number' AS character varying(20))))
             ORDER BY "new"."card_number"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'loyalty_cards', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), NULL, true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_right/snapshot', 'ad5155ae6a855af998edfef03904b585e5861db13c1d252920d4b274a3e73bb9', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_loyalty_cards_to_right"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('name_affixes', 'to_right', 'D', to_jsonb(OLD), NULL);
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('name_affixes', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), NULL,
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(NULL AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_right_trunc"
AFTER TRUNCATE ON "fno"."name_affixes"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_right_upd"
AFTER UPDATE ON "fno"."name_affixes"
FOR EACH ROW
WHEN (("old"."affix", "old"."affix_type", "old"."description") IS DISTINCT FROM ("new"."affix", "new"."affix_type", "new"."description")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_right_sync"
AFTER UPDATE ON "fno"."name_affixes"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'name_affixes'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_right/capture', 'a80c52e1d7b764a4a6c36386c2ffbaf4c39ca4c88d3b2a3fe8966f92056e981b', $sql$-- Removing map 'name_affixes' ('to_right') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', NULL, 'force', true)
             ORDER BY "new"."affix", "new"."affix_type"), '[]')
      FROM (SELECT * FROM "fno"."name_affixes" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."affix", "new"."affix_type") > (CAST(p_after ->> 'affix' AS character varying(20)), CAST(p_after ->> 'affix_type' AS character varying(10))))
             ORDER BY "new"."affix", "new"."affix_type"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'name_affixes', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), NULL, true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_right/snapshot', '9aa2e5b11688e6b10394808541202e3284b2f365120f7ad475ef59d125ad15b2', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_name_affixes_to_right"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_days', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('payment_days', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_right_trunc"
AFTER TRUNCATE ON "fno"."payment_days"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_right_upd"
AFTER UPDATE ON "fno"."payment_days"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."payment_day_name", "old"."description") IS DISTINCT FROM ("new"."dataareaid", "new"."payment_day_name", "new"."description")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_right_sync"
AFTER UPDATE ON "fno"."payment_days"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_days'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_right/capture', 'ce9a23ba33ce2b2582c34d08ea075ff9a9a7a9af4d7554b0ea60ba0074da4a11', $sql$-- Removing map 'payment_days' ('to_right') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), 'force', true)
             ORDER BY "new"."dataareaid", "new"."payment_day_name"), '[]')
      FROM (SELECT * FROM "fno"."payment_days" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."payment_day_name") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'payment_day_name' AS character varying(30))))
             ORDER BY "new"."dataareaid", "new"."payment_day_name"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'payment_days', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_right/snapshot', 'f21d22789ce554617a53fd8a2c7164ab4831dce987c256d241bd020b7d06ff30', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_days_to_right"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_day_lines', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END,
       'paymentdayid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."payment_day_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'payment_day_name', "old"."payment_day_name") END));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('payment_day_lines', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'paymentdayid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_day_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_day_name', "new"."payment_day_name") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END,
       'paymentdayid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."payment_day_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'payment_day_name', "old"."payment_day_name") END) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_right_trunc"
AFTER TRUNCATE ON "fno"."payment_day_lines"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_right_upd"
AFTER UPDATE ON "fno"."payment_day_lines"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."payment_day_name", "old"."line_num", "old"."week_day", "old"."day_of_month") IS DISTINCT FROM ("new"."dataareaid", "new"."payment_day_name", "new"."line_num", "new"."week_day", "new"."day_of_month")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_right_sync"
AFTER UPDATE ON "fno"."payment_day_lines"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_day_lines'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_right/capture', 'a77b23d3ffab299c676ebab2d0f8f7ee05b48138cdd4612949f87236979993dd', $sql$-- Removing map 'payment_day_lines' ('to_right') must not throw away changes still queued for it.
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
       'paymentdayid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_day_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_day_name', "new"."payment_day_name") END), 'force', true)
             ORDER BY "new"."dataareaid", "new"."payment_day_name", "new"."line_num"), '[]')
      FROM (SELECT * FROM "fno"."payment_day_lines" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."payment_day_name", "new"."line_num") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'payment_day_name' AS character varying(30)), CAST(p_after ->> 'line_num' AS integer)))
             ORDER BY "new"."dataareaid", "new"."payment_day_name", "new"."line_num"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'payment_day_lines', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'paymentdayid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_day_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_day_name', "new"."payment_day_name") END), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_right/snapshot', 'b2a00382391d06dba5c71eba041cda8040af2a78af781dd237748799c8324036', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_day_lines_to_right"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_schedules', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('payment_schedules', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_right_trunc"
AFTER TRUNCATE ON "fno"."payment_schedules"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_right_upd"
AFTER UPDATE ON "fno"."payment_schedules"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."schedule_name", "old"."description", "old"."allocation") IS DISTINCT FROM ("new"."dataareaid", "new"."schedule_name", "new"."description", "new"."allocation")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_right_sync"
AFTER UPDATE ON "fno"."payment_schedules"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_schedules'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_right/capture', '069bc3149f8d517eaff2dd30a67fc5e31457d97383f3625e4d454b423465ebf8', $sql$-- Removing map 'payment_schedules' ('to_right') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), 'force', true)
             ORDER BY "new"."dataareaid", "new"."schedule_name"), '[]')
      FROM (SELECT * FROM "fno"."payment_schedules" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."schedule_name") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'schedule_name' AS character varying(30))))
             ORDER BY "new"."dataareaid", "new"."schedule_name"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'payment_schedules', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_right/snapshot', '77554cfcebb9cbe79eaf118dbceb403e645cb2df279a27d62b202eebf34749f9', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_schedules_to_right"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_schedule_lines', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."schedule_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'schedule_name', "old"."schedule_name") END));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('payment_schedule_lines', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."schedule_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'schedule_name', "new"."schedule_name") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."schedule_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'schedule_name', "old"."schedule_name") END) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_right_trunc"
AFTER TRUNCATE ON "fno"."payment_schedule_lines"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_right_upd"
AFTER UPDATE ON "fno"."payment_schedule_lines"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."schedule_name", "old"."line_num", "old"."percent", "old"."due_months", "old"."due_days") IS DISTINCT FROM ("new"."dataareaid", "new"."schedule_name", "new"."line_num", "new"."percent", "new"."due_months", "new"."due_days")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_right_sync"
AFTER UPDATE ON "fno"."payment_schedule_lines"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_schedule_lines'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_right/capture', 'a899ef9a0dd790a36d9382f87ef92d7ce73bb90f258c64a2b9c6687426c35c51', $sql$-- Removing map 'payment_schedule_lines' ('to_right') must not throw away changes still queued for it.
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
       'paymentscheduleid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."schedule_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'schedule_name', "new"."schedule_name") END), 'force', true)
             ORDER BY "new"."dataareaid", "new"."schedule_name", "new"."line_num"), '[]')
      FROM (SELECT * FROM "fno"."payment_schedule_lines" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."schedule_name", "new"."line_num") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'schedule_name' AS character varying(30)), CAST(p_after ->> 'line_num' AS integer)))
             ORDER BY "new"."dataareaid", "new"."schedule_name", "new"."line_num"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'payment_schedule_lines', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."schedule_name" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'schedule_name', "new"."schedule_name") END), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_right/snapshot', '7cc2a4e797836cae69dfeb24ce32849bcb260d4de723adc1e056f98135446885', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_schedule_lines_to_right"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_terms', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."payment_schedule" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'schedule_name', "old"."payment_schedule") END,
       'paymentdayid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."payment_day" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'payment_day_name', "old"."payment_day") END));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('payment_terms', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_schedule" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'schedule_name', "new"."payment_schedule") END,
       'paymentdayid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_day" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_day_name', "new"."payment_day") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."payment_schedule" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'schedule_name', "old"."payment_schedule") END,
       'paymentdayid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."payment_day" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'payment_day_name', "old"."payment_day") END) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_right_trunc"
AFTER TRUNCATE ON "fno"."payment_terms"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_right_upd"
AFTER UPDATE ON "fno"."payment_terms"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."payment_term_id", "old"."description", "old"."net_days", "old"."payment_schedule", "old"."payment_day") IS DISTINCT FROM ("new"."dataareaid", "new"."payment_term_id", "new"."description", "new"."net_days", "new"."payment_schedule", "new"."payment_day")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_right_sync"
AFTER UPDATE ON "fno"."payment_terms"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_terms'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_right/capture', '92f0b2ffe37020df340f74212caabb8c5e35971c6d4229cdfa400b61d350e410', $sql$-- Removing map 'payment_terms' ('to_right') must not throw away changes still queued for it.
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
       'paymentdayid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_day" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_day_name', "new"."payment_day") END), 'force', true)
             ORDER BY "new"."dataareaid", "new"."payment_term_id"), '[]')
      FROM (SELECT * FROM "fno"."payment_terms" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."payment_term_id") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'payment_term_id' AS character varying(10))))
             ORDER BY "new"."dataareaid", "new"."payment_term_id"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'payment_terms', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'paymentscheduleid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_schedule" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'schedule_name', "new"."payment_schedule") END,
       'paymentdayid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_day" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_day_name', "new"."payment_day") END), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_right/snapshot', 'b9956f52f45c258be91b071f2091ad4f432365c8d10ab30d7bba3d1100010f4d', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_terms_to_right"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customers_organization', 'to_right', 'D', to_jsonb(OLD), jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END,
       'customergroupid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."customer_group" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'customer_group', "old"."customer_group") END,
       'paymenttermid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."payment_terms" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'payment_term_id', "old"."payment_terms") END,
       'customerpaymentmethodid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."payment_method" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'payment_method', "old"."payment_method") END));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('customers_organization', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'customergroupid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."customer_group" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'customer_group', "new"."customer_group") END,
       'paymenttermid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_terms" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_term_id', "new"."payment_terms") END,
       'customerpaymentmethodid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_method" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_method', "new"."payment_method") END),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('companyid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END,
       'customergroupid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."customer_group" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'customer_group', "old"."customer_group") END,
       'paymenttermid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."payment_terms" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'payment_term_id', "old"."payment_terms") END,
       'customerpaymentmethodid', CASE WHEN "old"."dataareaid" IS NOT NULL AND "old"."payment_method" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "old"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "old"."dataareaid") END, 'payment_method', "old"."payment_method") END) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_right"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_right_trunc"
AFTER TRUNCATE ON "fno"."customers"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_right_upd"
AFTER UPDATE ON "fno"."customers"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."account_num", "old"."name", "old"."customer_group", "old"."payment_terms", "old"."payment_method", "old"."email", "old"."credit_limit", "old"."blocked", "old"."party_type") IS DISTINCT FROM ("new"."dataareaid", "new"."account_num", "new"."name", "new"."customer_group", "new"."payment_terms", "new"."payment_method", "new"."email", "new"."credit_limit", "new"."blocked", "new"."party_type")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_right"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_right_sync"
AFTER UPDATE ON "fno"."customers"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customers_organization'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_right"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_right/capture', '5b1e5b607364719286dab7d508b8e0718d813a04d7c7dc685205e388b965ba2e', $sql$-- Removing map 'customers_organization' ('to_right') must not throw away changes still queued for it.
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
       'customerpaymentmethodid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_method" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_method', "new"."payment_method") END), 'force', true)
             ORDER BY "new"."dataareaid", "new"."account_num"), '[]')
      FROM (SELECT * FROM "fno"."customers" AS "new"
             WHERE coalesce(("new"."party_type" = 'Organization'), false)
               AND (p_after IS NULL OR ("new"."dataareaid", "new"."account_num") > (CAST(p_after ->> 'dataareaid' AS character varying(4)), CAST(p_after ->> 'account_num' AS character varying(20))))
             ORDER BY "new"."dataareaid", "new"."account_num"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'customers_organization', 'to_right', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('companyid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END,
       'customergroupid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."customer_group" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'customer_group', "new"."customer_group") END,
       'paymenttermid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_terms" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_term_id', "new"."payment_terms") END,
       'customerpaymentmethodid', CASE WHEN "new"."dataareaid" IS NOT NULL AND "new"."payment_method" IS NOT NULL THEN jsonb_build_object('dataareaid', CASE WHEN "new"."dataareaid" IS NOT NULL THEN jsonb_build_object('dataareaid', "new"."dataareaid") END, 'payment_method', "new"."payment_method") END), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_right/snapshot', 'e15e15c5e06c5171781d7326d418232059c25f98790db073362b9fe286e962d1', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customers_organization_to_right"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_customers_organization_to_right"(jsonb);
$sql$)
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

-- Functions are callable by their owner only ...
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA replicator FROM PUBLIC;
-- ... and by the applier's runtime role, which also keeps the control tables. It holds
-- nothing on the applications' tables: the apply functions write them as their owner.
GRANT USAGE ON SCHEMA replicator TO "replicator_runtime";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA replicator TO "replicator_runtime";
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA replicator TO "replicator_runtime";

INSERT INTO replicator.deployment (bundle_sha256) VALUES ('4ed9aa22c0085fbfc7bc8c7e6429fd60752f4b682fc5baeac7e6df6dfeb95ecb');
INSERT INTO replicator.activity_log (kind, message, detail)
VALUES ('deploy', 'deployed bundle 4ed9aa22c008: 44 to create, 0 to replace, 0 to drop', jsonb_build_object('bundle', '4ed9aa22c0085fbfc7bc8c7e6429fd60752f4b682fc5baeac7e6df6dfeb95ecb'));
