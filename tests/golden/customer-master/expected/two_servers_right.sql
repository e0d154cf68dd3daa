-- replicator plan for database cds (reached through the right side's connection)
-- bundle 4ed9aa22c0085fbfc7bc8c7e6429fd60752f4b682fc5baeac7e6df6dfeb95ecb: 44 to create, 0 to replace, 0 to drop
--   create  control
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

-- ==== create map/companies/to_right/apply ====
-- Map 'companies', 'to_right': write a batch of captured changes into "cds"."company".
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'companies', 'fno.companies'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.company were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."dataareaid") c.id, c.op, c.image, c.refs, c.at,
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
       "dataareaid" character varying(4))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."dataareaid", c.id DESC
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "s"."dataareaid" AS "k_1",
           l.base_known AND NOT l.forced AND t."name" IS DISTINCT FROM "b"."name" AS "tc_1",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "name" character varying(60))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "name" character varying(60)) ON true
      JOIN "cds"."company" AS t ON "t"."company_code" = "s"."dataareaid"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR true AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'companies', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid'), jsonb_build_object('company_code', j."k_1"),
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
    SELECT 'to_left', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'companies',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_left' AND c.map_name = 'companies'
                            AND c.image @> jsonb_build_object('company_code', j."k_1")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "cds"."company" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'companies', 'cds.company'
        USING ERRCODE = 'serialization_failure';
END IF;
    RETURN;
END IF;
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."dataareaid") c.id, c.op, c.image, c.refs, c.at,
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
       "dataareaid" character varying(4))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."dataareaid", c.id DESC
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
           "s"."dataareaid" AS "k_1",
           "s"."name" AS "n_1",
           "b"."name" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."name" ELSE t."name" END AS "c_1",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "name" character varying(60))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "name" character varying(60)) ON true
      LEFT JOIN "cds"."company" AS t ON "t"."company_code" = "s"."dataareaid"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_left' AND d.map_name = 'companies'
              AND d.image @> jsonb_build_object('company_code', "s"."dataareaid")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"cds"."company", del.image) AS gone ON true

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
                   AND true) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
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
           NOT j."tc_1" OR (j."x_1" AND true) AS "take_1",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR true) AS inserting
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
    SELECT 'companies', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid'), jsonb_build_object('company_code', j."k_1"),
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
    INSERT INTO "cds"."company" ("company_code", "name")
    SELECT j."k_1",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("company_code") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "cds"."company" AS t
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
        'companies', 'cds.company'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_companies_to_right"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid')
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_companies_to_right"(v_key_changes, p_deletes);
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
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_right/apply', '2466300d7415605eb6ba8ae958cec252b4073f907e7a4ff61864ea1f71103c67', $sql$DROP FUNCTION IF EXISTS "replicator"."apply_companies_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_companies_to_right"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/contact_persons/to_right/apply ====
-- Map 'contact_persons', 'to_right': write a batch of captured changes into "cds"."contact".
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'contact_persons', 'fno.contact_persons'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.contact were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."dataareaid", "k"."contact_person_id") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['first_name', 'last_name', 'email', 'customer_account']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['first_name', 'last_name', 'email', 'customer_account']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."contact_person_id" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."dataareaid", "k"."contact_person_id", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."contact_person_id" AS "k_2",
           l.base_known AND NOT l.forced AND t."firstname" IS DISTINCT FROM "b"."first_name" AS "tc_1",
           l.base_known AND NOT l.forced AND t."lastname" IS DISTINCT FROM "b"."last_name" AS "tc_2",
           l.base_known AND NOT l.forced AND t."emailaddress1" IS DISTINCT FROM "b"."email" AS "tc_3",
           l.base_known AND NOT l.forced AND t."parent_account_number" IS DISTINCT FROM "b"."customer_account" AS "tc_4",
           l.base_known AND NOT l.forced AND t."is_sellable" IS DISTINCT FROM CAST(false AS boolean) AS "tc_5",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20),
       "first_name" character varying(50),
       "last_name" character varying(50),
       "email" character varying(80),
       "customer_account" character varying(20))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20),
       "first_name" character varying(50),
       "last_name" character varying(50),
       "email" character varying(80),
       "customer_account" character varying(20)) ON true
      JOIN "cds"."contact" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."contactpersonid" = "s"."contact_person_id"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2" OR j."tc_3" OR j."tc_4" OR j."tc_5") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR true AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'contact_persons', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'contact_person_id', j.image->'contact_person_id'), jsonb_build_object('companyid', j."k_1", 'contactpersonid', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('first_name', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'last_name', CASE WHEN j."tc_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'email', CASE WHEN j."tc_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'customer_account', CASE WHEN j."tc_4" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'is_sellable', CASE WHEN j."tc_5" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
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
    SELECT 'to_left', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'contact_persons',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_left' AND c.map_name = 'contact_persons'
                            AND c.image @> jsonb_build_object('companyid', j."k_1", 'contactpersonid', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "cds"."contact" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'contact_persons', 'cds.contact'
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."contact_person_id") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['first_name', 'last_name', 'email', 'customer_account']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['first_name', 'last_name', 'email', 'customer_account']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."contact_person_id" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
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
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_right', l.id, 'contact_persons',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
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
           "s"."contact_person_id" AS "k_2",
           "s"."first_name" AS "n_1",
           "b"."first_name" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."firstname" ELSE t."firstname" END AS "c_1",
           "s"."last_name" AS "n_2",
           "b"."last_name" AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."lastname" ELSE t."lastname" END AS "c_2",
           "s"."email" AS "n_3",
           "b"."email" AS "b_3",
           CASE WHEN t.ctid IS NULL THEN gone."emailaddress1" ELSE t."emailaddress1" END AS "c_3",
           "s"."customer_account" AS "n_4",
           "b"."customer_account" AS "b_4",
           CASE WHEN t.ctid IS NULL THEN gone."parent_account_number" ELSE t."parent_account_number" END AS "c_4",
           CAST(false AS boolean) AS "n_5",
           CAST(false AS boolean) AS "b_5",
           CASE WHEN t.ctid IS NULL THEN gone."is_sellable" ELSE t."is_sellable" END AS "c_5",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20),
       "first_name" character varying(50),
       "last_name" character varying(50),
       "email" character varying(80),
       "customer_account" character varying(20))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "contact_person_id" character varying(20),
       "first_name" character varying(50),
       "last_name" character varying(50),
       "email" character varying(80),
       "customer_account" character varying(20)) ON true
      LEFT JOIN "cds"."contact" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."contactpersonid" = "s"."contact_person_id"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_left' AND d.map_name = 'contact_persons'
              AND d.image @> jsonb_build_object('companyid', "l"."lookup_1", 'contactpersonid', "s"."contact_person_id")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"cds"."contact", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
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
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND true) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
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
           j.gone OR (j."tc_1" OR j."tc_2" OR j."tc_3" OR j."tc_4" OR j."tc_5") AS conflict
      FROM compared AS j
), settled AS (
    SELECT j.*,
           NOT j."tc_1" OR (j."x_1" AND true) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND true) AS "take_2",
           NOT j."tc_3" OR (j."x_3" AND true) AS "take_3",
           NOT j."tc_4" OR (j."x_4" AND true) AS "take_4",
           NOT j."tc_5" OR (j."x_5" AND true) AS "take_5",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           CASE WHEN j."take_4" THEN "j"."n_4" ELSE j."c_4" END AS "f_4",
           CASE WHEN j."take_5" THEN ("j"."c_5" OR "j"."n_5") ELSE j."c_5" END AS "f_5",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR true) AS inserting
      FROM settled AS j
), planned AS (
    SELECT j.*,
           j.present AND NOT j.waiting AND NOT j.keep_existing
               AND (j."f_1", j."f_2", j."f_3", j."f_4", j."f_5") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4", j."c_5") AS updating
      FROM final AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'contact_persons', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'contact_person_id', j.image->'contact_person_id'), jsonb_build_object('companyid', j."k_1", 'contactpersonid', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('first_name', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'last_name', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_2" THEN 'incoming' ELSE 'local' END) WHEN j."tc_2" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'email', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_3" THEN 'incoming' ELSE 'local' END) WHEN j."tc_3" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'customer_account', CASE WHEN j."x_4" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_4" THEN 'incoming' ELSE 'local' END) WHEN j."tc_4" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'is_sellable', CASE WHEN j."x_5" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_5" THEN 'incoming' ELSE 'local' END) WHEN j."tc_5" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1") OR (j."tc_2" AND NOT j."take_2") OR (j."tc_3" AND NOT j."take_3") OR (j."tc_4" AND NOT j."take_4") OR (j."tc_5" AND NOT j."take_5")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1") OR (j."take_2" AND j."c_2" IS DISTINCT FROM j."n_2") OR (j."take_3" AND j."c_3" IS DISTINCT FROM j."n_3") OR (j."take_4" AND j."c_4" IS DISTINCT FROM j."n_4") OR (j."take_5" AND j."c_5" IS DISTINCT FROM j."n_5")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "cds"."contact" ("companyid", "contactpersonid", "firstname", "lastname", "emailaddress1", "parent_account_number", "is_sellable")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END,
       CASE WHEN j.gone THEN j."f_3" ELSE j."n_3" END,
       CASE WHEN j.gone THEN j."f_4" ELSE j."n_4" END,
       CASE WHEN j.gone THEN j."f_5" ELSE j."n_5" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("companyid", "contactpersonid") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "cds"."contact" AS t
       SET "firstname" = j."f_1",
       "lastname" = j."f_2",
       "emailaddress1" = j."f_3",
       "parent_account_number" = j."f_4",
       "is_sellable" = j."f_5"
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
        'contact_persons', 'cds.contact'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_contact_persons_to_right"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'contact_person_id', c.value->'image'->'contact_person_id')
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'contact_person_id', c.value->'image'->'contact_person_id')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_contact_persons_to_right"(v_key_changes, p_deletes);
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
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_right/apply', '796e16320b2661d4da3544f1ba3ef673717d59348380b362f2df6972b34462b1', $sql$-- Removing map 'contact_persons' ('to_right') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_contact_persons_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_contact_persons_to_right"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_groups/to_right/apply ====
-- Map 'customer_groups', 'to_right': write a batch of captured changes into "cds"."customer_group".
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customer_groups', 'fno.customer_groups'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.customer_group were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."dataareaid", "k"."customer_group") c.id, c.op, c.image, c.refs, c.at,
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
       "dataareaid" character varying(4),
       "customer_group" character varying(10))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."customer_group" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."dataareaid", "k"."customer_group", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."customer_group" AS "k_2",
           l.base_known AND NOT l.forced AND t."name" IS DISTINCT FROM "b"."description" AS "tc_1",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "customer_group" character varying(10),
       "description" character varying(60))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "customer_group" character varying(10),
       "description" character varying(60)) ON true
      JOIN "cds"."customer_group" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."group_code" = "s"."customer_group"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR true AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customer_groups', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'customer_group', j.image->'customer_group'), jsonb_build_object('companyid', j."k_1", 'group_code', j."k_2"),
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
    SELECT 'to_left', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'customer_groups',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_left' AND c.map_name = 'customer_groups'
                            AND c.image @> jsonb_build_object('companyid', j."k_1", 'group_code', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "cds"."customer_group" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customer_groups', 'cds.customer_group'
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."customer_group") c.id, c.op, c.image, c.refs, c.at,
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
       "dataareaid" character varying(4),
       "customer_group" character varying(10))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."customer_group" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
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
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_right', l.id, 'customer_groups',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
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
           "s"."customer_group" AS "k_2",
           "s"."description" AS "n_1",
           "b"."description" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."name" ELSE t."name" END AS "c_1",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "customer_group" character varying(10),
       "description" character varying(60))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "customer_group" character varying(10),
       "description" character varying(60)) ON true
      LEFT JOIN "cds"."customer_group" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."group_code" = "s"."customer_group"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_left' AND d.map_name = 'customer_groups'
              AND d.image @> jsonb_build_object('companyid', "l"."lookup_1", 'group_code', "s"."customer_group")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"cds"."customer_group", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
), compared AS (
    -- tc_: the row here changed the field since it last crossed; sc_: the source did.
    SELECT j.*,
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_1" IS DISTINCT FROM j."n_1"
                                           ELSE j."c_1" IS DISTINCT FROM j."b_1" END
               AS "tc_1",
           j.fresh OR j."n_1" IS DISTINCT FROM j."b_1" AS "sc_1",
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND true) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
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
           NOT j."tc_1" OR (j."x_1" AND true) AS "take_1",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR true) AS inserting
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
    SELECT 'customer_groups', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'customer_group', j.image->'customer_group'), jsonb_build_object('companyid', j."k_1", 'group_code', j."k_2"),
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
    INSERT INTO "cds"."customer_group" ("companyid", "group_code", "name")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("companyid", "group_code") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "cds"."customer_group" AS t
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
        'customer_groups', 'cds.customer_group'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_customer_groups_to_right"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'customer_group', c.value->'image'->'customer_group')
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'customer_group', c.value->'image'->'customer_group')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_customer_groups_to_right"(v_key_changes, p_deletes);
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
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_right/apply', 'c8f019469600e14c151367a269947a3152dbb5d2f01e32292b322c75314906f5', $sql$-- Removing map 'customer_groups' ('to_right') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_customer_groups_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customer_groups_to_right"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_payment_methods/to_right/apply ====
-- Map 'customer_payment_methods', 'to_right': write a batch of captured changes into "cds"."customer_payment_method".
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customer_payment_methods', 'fno.customer_payment_methods'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.customer_payment_method were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_method") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['description', 'payment_type']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['description', 'payment_type']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_method" character varying(10))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_method" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."dataareaid", "k"."payment_method", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."payment_method" AS "k_2",
           l.base_known AND NOT l.forced AND t."name" IS DISTINCT FROM "b"."description" AS "tc_1",
           l.base_known AND NOT l.forced AND t."payment_type" IS DISTINCT FROM CAST(CASE WHEN "b"."payment_type" IS NULL THEN NULL WHEN "b"."payment_type"::text = 'Check' THEN 'check' WHEN "b"."payment_type"::text = 'Electronic' THEN 'electronic' WHEN "b"."payment_type"::text = 'Cash' THEN 'cash' ELSE NULL END AS "cds"."payment_type") AS "tc_2",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_method" character varying(10),
       "description" character varying(60),
       "payment_type" character varying(12))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "payment_method" character varying(10),
       "description" character varying(60),
       "payment_type" character varying(12)) ON true
      JOIN "cds"."customer_payment_method" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."code" = "s"."payment_method"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR true AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customer_payment_methods', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'payment_method', j.image->'payment_method'), jsonb_build_object('companyid', j."k_1", 'code', j."k_2"),
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
    SELECT 'to_left', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'customer_payment_methods',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_left' AND c.map_name = 'customer_payment_methods'
                            AND c.image @> jsonb_build_object('companyid', j."k_1", 'code', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "cds"."customer_payment_method" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customer_payment_methods', 'cds.customer_payment_method'
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_method") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['description', 'payment_type']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['description', 'payment_type']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_method" character varying(10))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_method" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
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
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_right', l.id, 'customer_payment_methods',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
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
           "s"."payment_method" AS "k_2",
           "s"."description" AS "n_1",
           "b"."description" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."name" ELSE t."name" END AS "c_1",
           CAST(CASE WHEN "s"."payment_type" IS NULL THEN NULL WHEN "s"."payment_type"::text = 'Check' THEN 'check' WHEN "s"."payment_type"::text = 'Electronic' THEN 'electronic' WHEN "s"."payment_type"::text = 'Cash' THEN 'cash' ELSE "replicator"."unmapped_value"('customer_payment_methods', 'payment_type', "s"."payment_type"::text) END AS "cds"."payment_type") AS "n_2",
           CAST(CASE WHEN "b"."payment_type" IS NULL THEN NULL WHEN "b"."payment_type"::text = 'Check' THEN 'check' WHEN "b"."payment_type"::text = 'Electronic' THEN 'electronic' WHEN "b"."payment_type"::text = 'Cash' THEN 'cash' ELSE NULL END AS "cds"."payment_type") AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."payment_type" ELSE t."payment_type" END AS "c_2",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_method" character varying(10),
       "description" character varying(60),
       "payment_type" character varying(12))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "payment_method" character varying(10),
       "description" character varying(60),
       "payment_type" character varying(12)) ON true
      LEFT JOIN "cds"."customer_payment_method" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."code" = "s"."payment_method"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_left' AND d.map_name = 'customer_payment_methods'
              AND d.image @> jsonb_build_object('companyid', "l"."lookup_1", 'code', "s"."payment_method")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"cds"."customer_payment_method", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
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
                   AND true) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
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
           NOT j."tc_1" OR (j."x_1" AND true) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND true) AS "take_2",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR true) AS inserting
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
    SELECT 'customer_payment_methods', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'payment_method', j.image->'payment_method'), jsonb_build_object('companyid', j."k_1", 'code', j."k_2"),
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
    INSERT INTO "cds"."customer_payment_method" ("companyid", "code", "name", "payment_type")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("companyid", "code") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "cds"."customer_payment_method" AS t
       SET "name" = j."f_1",
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
        'customer_payment_methods', 'cds.customer_payment_method'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_customer_payment_methods_to_right"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_method', c.value->'image'->'payment_method')
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_method', c.value->'image'->'payment_method')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_customer_payment_methods_to_right"(v_key_changes, p_deletes);
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
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_right/apply', '701ea991c5c589632d6e7f32d5be7bb2897136f000219a34f48a0832c0e45c13', $sql$-- Removing map 'customer_payment_methods' ('to_right') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_customer_payment_methods_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customer_payment_methods_to_right"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_person/to_right/apply ====
-- Map 'customers_person', 'to_right': write a batch of captured changes into "cds"."contact".
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customers_person', 'fno.customers'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.contact were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."dataareaid", "k"."account_num") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['name', 'email']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['name', 'email']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "account_num" character varying(20))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."account_num" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."dataareaid", "k"."account_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."account_num" AS "k_2",
           l.base_known AND NOT l.forced AND t."firstname" IS DISTINCT FROM (CAST(SPLIT_PART("b"."name", ' ', 1) AS VARCHAR(50))) AS "tc_1",
           l.base_known AND NOT l.forced AND t."middlename" IS DISTINCT FROM (CAST(NULLIF(REGEXP_REPLACE(REGEXP_REPLACE("b"."name", '^[^ ]* ?', ''), ' ?[^ ]*$', ''), '') AS VARCHAR(50))) AS "tc_2",
           l.base_known AND NOT l.forced AND t."lastname" IS DISTINCT FROM (CAST(CASE WHEN POSITION(' ' IN "b"."name") > 0 THEN REGEXP_REPLACE("b"."name", '^.* ', '') END AS VARCHAR(50))) AS "tc_3",
           l.base_known AND NOT l.forced AND t."emailaddress1" IS DISTINCT FROM "b"."email" AS "tc_4",
           l.base_known AND NOT l.forced AND t."is_sellable" IS DISTINCT FROM CAST(true AS boolean) AS "tc_5",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "account_num" character varying(20),
       "name" character varying(100),
       "email" character varying(80))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "account_num" character varying(20),
       "name" character varying(100),
       "email" character varying(80)) ON true
      JOIN "cds"."contact" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."customer_number" = "s"."account_num"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2" OR j."tc_3" OR j."tc_4" OR j."tc_5") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR true AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customers_person', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'account_num', j.image->'account_num'), jsonb_build_object('companyid', j."k_1", 'customer_number', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('firstname', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'middlename', CASE WHEN j."tc_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'lastname', CASE WHEN j."tc_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'email', CASE WHEN j."tc_4" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'is_sellable', CASE WHEN j."tc_5" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
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
    SELECT 'to_left', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'customers_person',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_left' AND c.map_name = 'customers_person'
                            AND c.image @> jsonb_build_object('companyid', j."k_1", 'customer_number', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "cds"."contact" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_person', 'cds.contact'
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."account_num") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['name', 'email']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['name', 'email']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "account_num" character varying(20))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."account_num" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
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
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_right', l.id, 'customers_person',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
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
           "s"."account_num" AS "k_2",
           (CAST(SPLIT_PART("s"."name", ' ', 1) AS VARCHAR(50))) AS "n_1",
           (CAST(SPLIT_PART("b"."name", ' ', 1) AS VARCHAR(50))) AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."firstname" ELSE t."firstname" END AS "c_1",
           (CAST(NULLIF(REGEXP_REPLACE(REGEXP_REPLACE("s"."name", '^[^ ]* ?', ''), ' ?[^ ]*$', ''), '') AS VARCHAR(50))) AS "n_2",
           (CAST(NULLIF(REGEXP_REPLACE(REGEXP_REPLACE("b"."name", '^[^ ]* ?', ''), ' ?[^ ]*$', ''), '') AS VARCHAR(50))) AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."middlename" ELSE t."middlename" END AS "c_2",
           (CAST(CASE WHEN POSITION(' ' IN "s"."name") > 0 THEN REGEXP_REPLACE("s"."name", '^.* ', '') END AS VARCHAR(50))) AS "n_3",
           (CAST(CASE WHEN POSITION(' ' IN "b"."name") > 0 THEN REGEXP_REPLACE("b"."name", '^.* ', '') END AS VARCHAR(50))) AS "b_3",
           CASE WHEN t.ctid IS NULL THEN gone."lastname" ELSE t."lastname" END AS "c_3",
           "s"."email" AS "n_4",
           "b"."email" AS "b_4",
           CASE WHEN t.ctid IS NULL THEN gone."emailaddress1" ELSE t."emailaddress1" END AS "c_4",
           CAST(true AS boolean) AS "n_5",
           CAST(true AS boolean) AS "b_5",
           CASE WHEN t.ctid IS NULL THEN gone."is_sellable" ELSE t."is_sellable" END AS "c_5",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "account_num" character varying(20),
       "name" character varying(100),
       "email" character varying(80))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "account_num" character varying(20),
       "name" character varying(100),
       "email" character varying(80)) ON true
      LEFT JOIN "cds"."contact" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."customer_number" = "s"."account_num"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_left' AND d.map_name = 'customers_person'
              AND d.image @> jsonb_build_object('companyid', "l"."lookup_1", 'customer_number', "s"."account_num")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"cds"."contact", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
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
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND true) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
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
           j.gone OR (j."tc_1" OR j."tc_2" OR j."tc_3" OR j."tc_4" OR j."tc_5") AS conflict
      FROM compared AS j
), settled AS (
    SELECT j.*,
           NOT j."tc_1" OR (j."x_1" AND true) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND true) AS "take_2",
           NOT j."tc_3" OR (j."x_3" AND true) AS "take_3",
           NOT j."tc_4" OR (j."x_4" AND true) AS "take_4",
           NOT j."tc_5" OR (j."x_5" AND true) AS "take_5",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           CASE WHEN j."take_4" THEN "j"."n_4" ELSE j."c_4" END AS "f_4",
           CASE WHEN j."take_5" THEN ("j"."c_5" OR "j"."n_5") ELSE j."c_5" END AS "f_5",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR true) AS inserting
      FROM settled AS j
), planned AS (
    SELECT j.*,
           j.present AND NOT j.waiting AND NOT j.keep_existing
               AND (j."f_1", j."f_2", j."f_3", j."f_4", j."f_5") IS DISTINCT FROM (j."c_1", j."c_2", j."c_3", j."c_4", j."c_5") AS updating
      FROM final AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customers_person', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'account_num', j.image->'account_num'), jsonb_build_object('companyid', j."k_1", 'customer_number', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('firstname', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'middlename', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_2" THEN 'incoming' ELSE 'local' END) WHEN j."tc_2" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'lastname', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_3" THEN 'incoming' ELSE 'local' END) WHEN j."tc_3" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'email', CASE WHEN j."x_4" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_4" THEN 'incoming' ELSE 'local' END) WHEN j."tc_4" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'is_sellable', CASE WHEN j."x_5" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_5" THEN 'incoming' ELSE 'local' END) WHEN j."tc_5" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1") OR (j."tc_2" AND NOT j."take_2") OR (j."tc_3" AND NOT j."take_3") OR (j."tc_4" AND NOT j."take_4") OR (j."tc_5" AND NOT j."take_5")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1") OR (j."take_2" AND j."c_2" IS DISTINCT FROM j."n_2") OR (j."take_3" AND j."c_3" IS DISTINCT FROM j."n_3") OR (j."take_4" AND j."c_4" IS DISTINCT FROM j."n_4") OR (j."take_5" AND j."c_5" IS DISTINCT FROM j."n_5")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "cds"."contact" ("companyid", "customer_number", "firstname", "middlename", "lastname", "emailaddress1", "is_sellable")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END,
       CASE WHEN j.gone THEN j."f_3" ELSE j."n_3" END,
       CASE WHEN j.gone THEN j."f_4" ELSE j."n_4" END,
       CASE WHEN j.gone THEN j."f_5" ELSE j."n_5" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("companyid", "customer_number") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "cds"."contact" AS t
       SET "firstname" = j."f_1",
       "middlename" = j."f_2",
       "lastname" = j."f_3",
       "emailaddress1" = j."f_4",
       "is_sellable" = j."f_5"
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
        'customers_person', 'cds.contact'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_customers_person_to_right"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'account_num', c.value->'image'->'account_num')
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'account_num', c.value->'image'->'account_num')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_customers_person_to_right"(v_key_changes, p_deletes);
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
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_right/apply', '65accbfae95d6e7180e85f300eeb14e245c2aa7909ee5892761edfd9e9dd1a31', $sql$-- Removing map 'customers_person' ('to_right') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_customers_person_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customers_person_to_right"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/loyalty_cards/to_right/apply ====
-- Map 'loyalty_cards', 'to_right': write a batch of captured changes into "cds"."loyalty_card".
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'loyalty_cards', 'fno.loyalty_cards'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.loyalty_card were left as they are: delete them there if they should go, then close this error with replicator skip.';
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
                                 WHEN 'D' THEN c.image ?& ARRAY['tier', 'issued_on', 'blocked']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['tier', 'issued_on', 'blocked']::text[], false) END) OVER w
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
           l.base_known AND NOT l.forced AND t."tier" IS DISTINCT FROM "b"."tier" AS "tc_1",
           l.base_known AND NOT l.forced AND t."issued_on" IS DISTINCT FROM "b"."issued_on" AS "tc_2",
           l.base_known AND NOT l.forced AND t."is_blocked" IS DISTINCT FROM "b"."blocked" AS "tc_3",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "blocked" boolean)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "blocked" boolean) ON true
      JOIN "cds"."loyalty_card" AS t ON "t"."card_number" = "s"."card_number"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2" OR j."tc_3") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR true AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'loyalty_cards', 'to_right', j.id, j.op, jsonb_build_object('card_number', j.image->'card_number'), jsonb_build_object('card_number', j."k_1"),
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
    SELECT 'to_left', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'loyalty_cards',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_left' AND c.map_name = 'loyalty_cards'
                            AND c.image @> jsonb_build_object('card_number', j."k_1")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "cds"."loyalty_card" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'loyalty_cards', 'cds.loyalty_card'
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
                                 WHEN 'D' THEN c.image ?& ARRAY['tier', 'issued_on', 'blocked']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['tier', 'issued_on', 'blocked']::text[], false) END) OVER w
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
           "s"."tier" AS "n_1",
           "b"."tier" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."tier" ELSE t."tier" END AS "c_1",
           "s"."issued_on" AS "n_2",
           "b"."issued_on" AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."issued_on" ELSE t."issued_on" END AS "c_2",
           "s"."blocked" AS "n_3",
           "b"."blocked" AS "b_3",
           CASE WHEN t.ctid IS NULL THEN gone."is_blocked" ELSE t."is_blocked" END AS "c_3",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "blocked" boolean)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "card_number" character varying(20),
       "tier" character varying(10),
       "issued_on" date,
       "blocked" boolean) ON true
      LEFT JOIN "cds"."loyalty_card" AS t ON "t"."card_number" = "s"."card_number"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_left' AND d.map_name = 'loyalty_cards'
              AND d.image @> jsonb_build_object('card_number', "s"."card_number")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"cds"."loyalty_card", del.image) AS gone ON true

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
                   AND true) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
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
           NOT j."tc_1" OR (j."x_1" AND true) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND true) AS "take_2",
           NOT j."tc_3" OR (j."x_3" AND true) AS "take_3",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR true) AS inserting
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
    SELECT 'loyalty_cards', 'to_right', j.id, j.op, jsonb_build_object('card_number', j.image->'card_number'), jsonb_build_object('card_number', j."k_1"),
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
    INSERT INTO "cds"."loyalty_card" ("card_number", "tier", "issued_on", "is_blocked")
    SELECT j."k_1",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END,
       CASE WHEN j.gone THEN j."f_3" ELSE j."n_3" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("card_number") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "cds"."loyalty_card" AS t
       SET "tier" = j."f_1",
       "issued_on" = j."f_2",
       "is_blocked" = j."f_3"
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
        'loyalty_cards', 'cds.loyalty_card'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_loyalty_cards_to_right"(p_changes jsonb, p_deletes boolean)
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
            PERFORM "replicator"."write_loyalty_cards_to_right"(v_key_changes, p_deletes);
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
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_right/apply', '3d5538b14280a2947f5a2e854a047b2c9f0ed8642f479fc8c1991dc5927665b4', $sql$DROP FUNCTION IF EXISTS "replicator"."apply_loyalty_cards_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_loyalty_cards_to_right"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/name_affixes/to_right/apply ====
-- Map 'name_affixes', 'to_right': write a batch of captured changes into "cds"."name_affix".
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'name_affixes', 'fno.name_affixes'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.name_affix were left as they are: delete them there if they should go, then close this error with replicator skip.';
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
      JOIN "cds"."name_affix" AS t ON "t"."affix" = "s"."affix" AND "t"."affix_type" = "s"."affix_type"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR true AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'name_affixes', 'to_right', j.id, j.op, jsonb_build_object('affix', j.image->'affix', 'affix_type', j.image->'affix_type'), jsonb_build_object('affix', j."k_1", 'affix_type', j."k_2"),
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
    SELECT 'to_left', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'name_affixes',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_left' AND c.map_name = 'name_affixes'
                            AND c.image @> jsonb_build_object('affix', j."k_1", 'affix_type', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "cds"."name_affix" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'name_affixes', 'cds.name_affix'
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
      LEFT JOIN "cds"."name_affix" AS t ON "t"."affix" = "s"."affix" AND "t"."affix_type" = "s"."affix_type"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_left' AND d.map_name = 'name_affixes'
              AND d.image @> jsonb_build_object('affix', "s"."affix", 'affix_type', "s"."affix_type")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"cds"."name_affix", del.image) AS gone ON true

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
                   AND true) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
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
           NOT j."tc_1" OR (j."x_1" AND true) AS "take_1",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR true) AS inserting
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
    SELECT 'name_affixes', 'to_right', j.id, j.op, jsonb_build_object('affix', j.image->'affix', 'affix_type', j.image->'affix_type'), jsonb_build_object('affix', j."k_1", 'affix_type', j."k_2"),
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
    INSERT INTO "cds"."name_affix" ("affix", "affix_type", "description")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("affix", "affix_type") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "cds"."name_affix" AS t
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
        'name_affixes', 'cds.name_affix'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_name_affixes_to_right"(p_changes jsonb, p_deletes boolean)
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
            PERFORM "replicator"."write_name_affixes_to_right"(v_key_changes, p_deletes);
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
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_right/apply', '4d96e601adbc511af96812e93364ddd188b60bdc4276d67bcf4a7dd115af0c94', $sql$DROP FUNCTION IF EXISTS "replicator"."apply_name_affixes_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_name_affixes_to_right"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_days/to_right/apply ====
-- Map 'payment_days', 'to_right': write a batch of captured changes into "cds"."payment_day".
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_days', 'fno.payment_days'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.payment_day were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_day_name") c.id, c.op, c.image, c.refs, c.at,
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
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_day_name" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."dataareaid", "k"."payment_day_name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."payment_day_name" AS "k_2",
           l.base_known AND NOT l.forced AND t."description" IS DISTINCT FROM "b"."description" AS "tc_1",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "description" character varying(60))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "description" character varying(60)) ON true
      JOIN "cds"."payment_day" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."name" = "s"."payment_day_name"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR true AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_days', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'payment_day_name', j.image->'payment_day_name'), jsonb_build_object('companyid', j."k_1", 'name', j."k_2"),
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
    SELECT 'to_left', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'payment_days',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_left' AND c.map_name = 'payment_days'
                            AND c.image @> jsonb_build_object('companyid', j."k_1", 'name', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "cds"."payment_day" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_days', 'cds.payment_day'
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_day_name") c.id, c.op, c.image, c.refs, c.at,
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
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_day_name" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
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
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_right', l.id, 'payment_days',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
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
           "s"."payment_day_name" AS "k_2",
           "s"."description" AS "n_1",
           "b"."description" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."description" ELSE t."description" END AS "c_1",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "description" character varying(60))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "description" character varying(60)) ON true
      LEFT JOIN "cds"."payment_day" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."name" = "s"."payment_day_name"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_left' AND d.map_name = 'payment_days'
              AND d.image @> jsonb_build_object('companyid', "l"."lookup_1", 'name', "s"."payment_day_name")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"cds"."payment_day", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
), compared AS (
    -- tc_: the row here changed the field since it last crossed; sc_: the source did.
    SELECT j.*,
           j.judge AND (j.present OR j.gone) AND CASE WHEN j.fresh THEN j."c_1" IS DISTINCT FROM j."n_1"
                                           ELSE j."c_1" IS DISTINCT FROM j."b_1" END
               AS "tc_1",
           j.fresh OR j."n_1" IS DISTINCT FROM j."b_1" AS "sc_1",
           coalesce(j.at, '-infinity') > coalesce(j.deleted_at, '-infinity')
               OR (coalesce(j.at, '-infinity') = coalesce(j.deleted_at, '-infinity')
                   AND true) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
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
           NOT j."tc_1" OR (j."x_1" AND true) AS "take_1",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR true) AS inserting
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
    SELECT 'payment_days', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'payment_day_name', j.image->'payment_day_name'), jsonb_build_object('companyid', j."k_1", 'name', j."k_2"),
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
    INSERT INTO "cds"."payment_day" ("companyid", "name", "description")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("companyid", "name") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "cds"."payment_day" AS t
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
        'payment_days', 'cds.payment_day'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_days_to_right"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_day_name', c.value->'image'->'payment_day_name')
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_day_name', c.value->'image'->'payment_day_name')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_payment_days_to_right"(v_key_changes, p_deletes);
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
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_right/apply', 'b0943db9f68f8888fc135ec74bc1c6c895762a910911a2502eb3a8d48ae4f2e1', $sql$-- Removing map 'payment_days' ('to_right') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_payment_days_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_days_to_right"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_day_lines/to_right/apply ====
-- Map 'payment_day_lines', 'to_right': write a batch of captured changes into "cds"."payment_day_line".
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_day_lines', 'fno.payment_day_lines'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.payment_day_line were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_day_name", "k"."line_num") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['week_day', 'day_of_month']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['week_day', 'day_of_month']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer)
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_day_name", "k"."line_num" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."dataareaid", "k"."payment_day_name", "k"."line_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentdayid" FROM "cds"."payment_day" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentdayid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentdayid') ->> 'payment_day_name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "l"."lookup_2" AS "k_2",
           "s"."line_num" AS "k_3",
           l.base_known AND NOT l.forced AND t."weekday" IS DISTINCT FROM CAST(CASE WHEN "b"."week_day" IS NULL THEN NULL WHEN "b"."week_day"::text = 'None' THEN 'none' WHEN "b"."week_day"::text = 'Monday' THEN 'monday' WHEN "b"."week_day"::text = 'Tuesday' THEN 'tuesday' WHEN "b"."week_day"::text = 'Wednesday' THEN 'wednesday' WHEN "b"."week_day"::text = 'Thursday' THEN 'thursday' WHEN "b"."week_day"::text = 'Friday' THEN 'friday' WHEN "b"."week_day"::text = 'Saturday' THEN 'saturday' WHEN "b"."week_day"::text = 'Sunday' THEN 'sunday' ELSE NULL END AS "cds"."weekday") AS "tc_1",
           l.base_known AND NOT l.forced AND t."dayofmonth" IS DISTINCT FROM "b"."day_of_month" AS "tc_2",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer,
       "week_day" character varying(10),
       "day_of_month" integer)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer,
       "week_day" character varying(10),
       "day_of_month" integer) ON true
      JOIN "cds"."payment_day_line" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."paymentdayid" = "l"."lookup_2" AND "t"."line_number" = "s"."line_num"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR true AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_day_lines', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'payment_day_name', j.image->'payment_day_name', 'line_num', j.image->'line_num'), jsonb_build_object('companyid', j."k_1", 'paymentdayid', j."k_2", 'line_number', j."k_3"),
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
    SELECT 'to_left', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'payment_day_lines',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_left' AND c.map_name = 'payment_day_lines'
                            AND c.image @> jsonb_build_object('companyid', j."k_1", 'paymentdayid', j."k_2", 'line_number', j."k_3")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "cds"."payment_day_line" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_day_lines', 'cds.payment_day_line'
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_day_name", "k"."line_num") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['week_day', 'day_of_month']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['week_day', 'day_of_month']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer)
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_day_name", "k"."line_num" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
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
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_right', l.id, 'payment_day_lines',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'payment_day_name' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'payment_days' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'payment_day_name' IS NOT NULL AND "l"."lookup_2" IS NULL))
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
           "s"."line_num" AS "k_3",
           CAST(CASE WHEN "s"."week_day" IS NULL THEN NULL WHEN "s"."week_day"::text = 'None' THEN 'none' WHEN "s"."week_day"::text = 'Monday' THEN 'monday' WHEN "s"."week_day"::text = 'Tuesday' THEN 'tuesday' WHEN "s"."week_day"::text = 'Wednesday' THEN 'wednesday' WHEN "s"."week_day"::text = 'Thursday' THEN 'thursday' WHEN "s"."week_day"::text = 'Friday' THEN 'friday' WHEN "s"."week_day"::text = 'Saturday' THEN 'saturday' WHEN "s"."week_day"::text = 'Sunday' THEN 'sunday' ELSE "replicator"."unmapped_value"('payment_day_lines', 'week_day', "s"."week_day"::text) END AS "cds"."weekday") AS "n_1",
           CAST(CASE WHEN "b"."week_day" IS NULL THEN NULL WHEN "b"."week_day"::text = 'None' THEN 'none' WHEN "b"."week_day"::text = 'Monday' THEN 'monday' WHEN "b"."week_day"::text = 'Tuesday' THEN 'tuesday' WHEN "b"."week_day"::text = 'Wednesday' THEN 'wednesday' WHEN "b"."week_day"::text = 'Thursday' THEN 'thursday' WHEN "b"."week_day"::text = 'Friday' THEN 'friday' WHEN "b"."week_day"::text = 'Saturday' THEN 'saturday' WHEN "b"."week_day"::text = 'Sunday' THEN 'sunday' ELSE NULL END AS "cds"."weekday") AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."weekday" ELSE t."weekday" END AS "c_1",
           "s"."day_of_month" AS "n_2",
           "b"."day_of_month" AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."dayofmonth" ELSE t."dayofmonth" END AS "c_2",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer,
       "week_day" character varying(10),
       "day_of_month" integer)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "payment_day_name" character varying(30),
       "line_num" integer,
       "week_day" character varying(10),
       "day_of_month" integer) ON true
      LEFT JOIN "cds"."payment_day_line" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."paymentdayid" = "l"."lookup_2" AND "t"."line_number" = "s"."line_num"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_left' AND d.map_name = 'payment_day_lines'
              AND d.image @> jsonb_build_object('companyid', "l"."lookup_1", 'paymentdayid', "l"."lookup_2", 'line_number', "s"."line_num")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"cds"."payment_day_line", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'payment_day_name' IS NOT NULL AND "l"."lookup_2" IS NULL))
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
                   AND true) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
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
           NOT j."tc_1" OR (j."x_1" AND true) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND true) AS "take_2",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR true) AS inserting
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
    SELECT 'payment_day_lines', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'payment_day_name', j.image->'payment_day_name', 'line_num', j.image->'line_num'), jsonb_build_object('companyid', j."k_1", 'paymentdayid', j."k_2", 'line_number', j."k_3"),
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
    INSERT INTO "cds"."payment_day_line" ("companyid", "paymentdayid", "line_number", "weekday", "dayofmonth")
    SELECT j."k_1",
       j."k_2",
       j."k_3",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("companyid", "paymentdayid", "line_number") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "cds"."payment_day_line" AS t
       SET "weekday" = j."f_1",
       "dayofmonth" = j."f_2"
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
        'payment_day_lines', 'cds.payment_day_line'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_day_lines_to_right"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_day_name', c.value->'image'->'payment_day_name', 'line_num', c.value->'image'->'line_num')
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_day_name', c.value->'image'->'payment_day_name', 'line_num', c.value->'image'->'line_num')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_payment_day_lines_to_right"(v_key_changes, p_deletes);
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
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_right/apply', '990a29527303cd852945c203ffd381fde5c8def7d40188dd75d8c3fcb8e5a9f7', $sql$-- Removing map 'payment_day_lines' ('to_right') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_payment_day_lines_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_day_lines_to_right"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedules/to_right/apply ====
-- Map 'payment_schedules', 'to_right': write a batch of captured changes into "cds"."payment_schedule".
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_schedules', 'fno.payment_schedules'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.payment_schedule were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."dataareaid", "k"."schedule_name") c.id, c.op, c.image, c.refs, c.at,
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
       "dataareaid" character varying(4),
       "schedule_name" character varying(30))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."schedule_name" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."dataareaid", "k"."schedule_name", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."schedule_name" AS "k_2",
           l.base_known AND NOT l.forced AND t."description" IS DISTINCT FROM "b"."description" AS "tc_1",
           l.base_known AND NOT l.forced AND t."allocation" IS DISTINCT FROM CAST(CASE WHEN "b"."allocation" IS NULL THEN NULL WHEN "b"."allocation"::text = 'Percent' THEN 'percent' WHEN "b"."allocation"::text = 'Fixed' THEN 'fixed' ELSE NULL END AS "cds"."allocation_type") AS "tc_2",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "description" character varying(60),
       "allocation" character varying(10))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "description" character varying(60),
       "allocation" character varying(10)) ON true
      JOIN "cds"."payment_schedule" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."name" = "s"."schedule_name"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR true AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_schedules', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'schedule_name', j.image->'schedule_name'), jsonb_build_object('companyid', j."k_1", 'name', j."k_2"),
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
    SELECT 'to_left', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'payment_schedules',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_left' AND c.map_name = 'payment_schedules'
                            AND c.image @> jsonb_build_object('companyid', j."k_1", 'name', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "cds"."payment_schedule" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_schedules', 'cds.payment_schedule'
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."schedule_name") c.id, c.op, c.image, c.refs, c.at,
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
       "dataareaid" character varying(4),
       "schedule_name" character varying(30))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."schedule_name" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
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
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_right', l.id, 'payment_schedules',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
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
           "s"."schedule_name" AS "k_2",
           "s"."description" AS "n_1",
           "b"."description" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."description" ELSE t."description" END AS "c_1",
           CAST(CASE WHEN "s"."allocation" IS NULL THEN NULL WHEN "s"."allocation"::text = 'Percent' THEN 'percent' WHEN "s"."allocation"::text = 'Fixed' THEN 'fixed' ELSE "replicator"."unmapped_value"('payment_schedules', 'allocation', "s"."allocation"::text) END AS "cds"."allocation_type") AS "n_2",
           CAST(CASE WHEN "b"."allocation" IS NULL THEN NULL WHEN "b"."allocation"::text = 'Percent' THEN 'percent' WHEN "b"."allocation"::text = 'Fixed' THEN 'fixed' ELSE NULL END AS "cds"."allocation_type") AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."allocation" ELSE t."allocation" END AS "c_2",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "description" character varying(60),
       "allocation" character varying(10))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "description" character varying(60),
       "allocation" character varying(10)) ON true
      LEFT JOIN "cds"."payment_schedule" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."name" = "s"."schedule_name"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_left' AND d.map_name = 'payment_schedules'
              AND d.image @> jsonb_build_object('companyid', "l"."lookup_1", 'name', "s"."schedule_name")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"cds"."payment_schedule", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL))
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
                   AND true) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
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
           NOT j."tc_1" OR (j."x_1" AND true) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND true) AS "take_2",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR true) AS inserting
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
    SELECT 'payment_schedules', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'schedule_name', j.image->'schedule_name'), jsonb_build_object('companyid', j."k_1", 'name', j."k_2"),
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
    INSERT INTO "cds"."payment_schedule" ("companyid", "name", "description", "allocation")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("companyid", "name") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "cds"."payment_schedule" AS t
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
        'payment_schedules', 'cds.payment_schedule'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_schedules_to_right"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'schedule_name', c.value->'image'->'schedule_name')
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'schedule_name', c.value->'image'->'schedule_name')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_payment_schedules_to_right"(v_key_changes, p_deletes);
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
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_right/apply', '6922f040e007ce99f2a7aae3671e1fedaf7f09ebf7fee9f8213622eaaaa38b70', $sql$-- Removing map 'payment_schedules' ('to_right') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_payment_schedules_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_schedules_to_right"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_schedule_lines/to_right/apply ====
-- Map 'payment_schedule_lines', 'to_right': write a batch of captured changes into "cds"."payment_schedule_line".
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_schedule_lines', 'fno.payment_schedule_lines'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.payment_schedule_line were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."dataareaid", "k"."schedule_name", "k"."line_num") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['percent', 'due_months', 'due_days']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['percent', 'due_months', 'due_days']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer)
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."schedule_name", "k"."line_num" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."dataareaid", "k"."schedule_name", "k"."line_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentscheduleid" FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentscheduleid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentscheduleid') ->> 'schedule_name' AS character varying(30))) AS "lookup_2"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "l"."lookup_2" AS "k_2",
           "s"."line_num" AS "k_3",
           l.base_known AND NOT l.forced AND t."percentage" IS DISTINCT FROM "b"."percent" AS "tc_1",
           l.base_known AND NOT l.forced AND t."months" IS DISTINCT FROM "b"."due_months" AS "tc_2",
           l.base_known AND NOT l.forced AND t."days" IS DISTINCT FROM "b"."due_days" AS "tc_3",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer,
       "percent" numeric(32,6),
       "due_months" integer,
       "due_days" integer)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer,
       "percent" numeric(32,6),
       "due_months" integer,
       "due_days" integer) ON true
      JOIN "cds"."payment_schedule_line" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."paymentscheduleid" = "l"."lookup_2" AND "t"."line_number" = "s"."line_num"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2" OR j."tc_3") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR true AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_schedule_lines', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'schedule_name', j.image->'schedule_name', 'line_num', j.image->'line_num'), jsonb_build_object('companyid', j."k_1", 'paymentscheduleid', j."k_2", 'line_number', j."k_3"),
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
    SELECT 'to_left', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'payment_schedule_lines',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_left' AND c.map_name = 'payment_schedule_lines'
                            AND c.image @> jsonb_build_object('companyid', j."k_1", 'paymentscheduleid', j."k_2", 'line_number', j."k_3")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "cds"."payment_schedule_line" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_schedule_lines', 'cds.payment_schedule_line'
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."schedule_name", "k"."line_num") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['percent', 'due_months', 'due_days']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['percent', 'due_months', 'due_days']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer)
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."schedule_name", "k"."line_num" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
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
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_right', l.id, 'payment_schedule_lines',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'schedule_name' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'payment_schedules' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'schedule_name' IS NOT NULL AND "l"."lookup_2" IS NULL))
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
           "s"."line_num" AS "k_3",
           "s"."percent" AS "n_1",
           "b"."percent" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."percentage" ELSE t."percentage" END AS "c_1",
           "s"."due_months" AS "n_2",
           "b"."due_months" AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."months" ELSE t."months" END AS "c_2",
           "s"."due_days" AS "n_3",
           "b"."due_days" AS "b_3",
           CASE WHEN t.ctid IS NULL THEN gone."days" ELSE t."days" END AS "c_3",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer,
       "percent" numeric(32,6),
       "due_months" integer,
       "due_days" integer)
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "schedule_name" character varying(30),
       "line_num" integer,
       "percent" numeric(32,6),
       "due_months" integer,
       "due_days" integer) ON true
      LEFT JOIN "cds"."payment_schedule_line" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."paymentscheduleid" = "l"."lookup_2" AND "t"."line_number" = "s"."line_num"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_left' AND d.map_name = 'payment_schedule_lines'
              AND d.image @> jsonb_build_object('companyid', "l"."lookup_1", 'paymentscheduleid', "l"."lookup_2", 'line_number', "s"."line_num")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"cds"."payment_schedule_line", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'schedule_name' IS NOT NULL AND "l"."lookup_2" IS NULL))
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
                   AND true) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
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
           NOT j."tc_1" OR (j."x_1" AND true) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND true) AS "take_2",
           NOT j."tc_3" OR (j."x_3" AND true) AS "take_3",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR true) AS inserting
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
    SELECT 'payment_schedule_lines', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'schedule_name', j.image->'schedule_name', 'line_num', j.image->'line_num'), jsonb_build_object('companyid', j."k_1", 'paymentscheduleid', j."k_2", 'line_number', j."k_3"),
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
    INSERT INTO "cds"."payment_schedule_line" ("companyid", "paymentscheduleid", "line_number", "percentage", "months", "days")
    SELECT j."k_1",
       j."k_2",
       j."k_3",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END,
       CASE WHEN j.gone THEN j."f_3" ELSE j."n_3" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("companyid", "paymentscheduleid", "line_number") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "cds"."payment_schedule_line" AS t
       SET "percentage" = j."f_1",
       "months" = j."f_2",
       "days" = j."f_3"
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
        'payment_schedule_lines', 'cds.payment_schedule_line'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_schedule_lines_to_right"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'schedule_name', c.value->'image'->'schedule_name', 'line_num', c.value->'image'->'line_num')
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'schedule_name', c.value->'image'->'schedule_name', 'line_num', c.value->'image'->'line_num')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_payment_schedule_lines_to_right"(v_key_changes, p_deletes);
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
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_right/apply', '65b5c55b2dd9de6dbce526e27e850dedea8f260493d5d6cdb29ac96c1e92ced1', $sql$-- Removing map 'payment_schedule_lines' ('to_right') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_payment_schedule_lines_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_schedule_lines_to_right"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_terms/to_right/apply ====
-- Map 'payment_terms', 'to_right': write a batch of captured changes into "cds"."payment_term".
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'payment_terms', 'fno.payment_terms'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.payment_term were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_term_id") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['description', 'net_days', 'payment_schedule', 'payment_day']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['description', 'net_days', 'payment_schedule', 'payment_day']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_term_id" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."dataareaid", "k"."payment_term_id", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentscheduleid" FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentscheduleid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentscheduleid') ->> 'schedule_name' AS character varying(30))) AS "lookup_2",
           (SELECT "p1"."paymentdayid" FROM "cds"."payment_day" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentdayid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentdayid') ->> 'payment_day_name' AS character varying(30))) AS "lookup_3",
           -- and as the row was before the change (its base)
           (SELECT "p1"."paymentscheduleid" FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.base_refs -> 'paymentscheduleid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.base_refs -> 'paymentscheduleid') ->> 'schedule_name' AS character varying(30))) AS "base_lookup_2",
           (SELECT "p1"."paymentdayid" FROM "cds"."payment_day" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.base_refs -> 'paymentdayid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.base_refs -> 'paymentdayid') ->> 'payment_day_name' AS character varying(30))) AS "base_lookup_3"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."payment_term_id" AS "k_2",
           l.base_known AND NOT l.forced AND t."name" IS DISTINCT FROM "b"."description" AS "tc_1",
           l.base_known AND NOT l.forced AND t."due_days" IS DISTINCT FROM "b"."net_days" AS "tc_2",
           l.base_known AND NOT l.forced AND t."paymentscheduleid" IS DISTINCT FROM "l"."base_lookup_2" AS "tc_3",
           l.base_known AND NOT l.forced AND t."paymentdayid" IS DISTINCT FROM "l"."base_lookup_3" AS "tc_4",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10),
       "description" character varying(60),
       "net_days" integer,
       "payment_schedule" character varying(30),
       "payment_day" character varying(30))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10),
       "description" character varying(60),
       "net_days" integer,
       "payment_schedule" character varying(30),
       "payment_day" character varying(30)) ON true
      JOIN "cds"."payment_term" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."code" = "s"."payment_term_id"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2" OR j."tc_3" OR j."tc_4") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR true AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'payment_terms', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'payment_term_id', j.image->'payment_term_id'), jsonb_build_object('companyid', j."k_1", 'code', j."k_2"),
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
    SELECT 'to_left', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'payment_terms',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_left' AND c.map_name = 'payment_terms'
                            AND c.image @> jsonb_build_object('companyid', j."k_1", 'code', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "cds"."payment_term" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'payment_terms', 'cds.payment_term'
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."payment_term_id") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['description', 'net_days', 'payment_schedule', 'payment_day']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['description', 'net_days', 'payment_schedule', 'payment_day']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."payment_term_id" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."dataareaid", "k"."payment_term_id", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."paymentscheduleid" FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentscheduleid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentscheduleid') ->> 'schedule_name' AS character varying(30))) AS "lookup_2",
           (SELECT "p1"."paymentdayid" FROM "cds"."payment_day" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymentdayid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.refs -> 'paymentdayid') ->> 'payment_day_name' AS character varying(30))) AS "lookup_3",
           -- and as the row was before the change (its base)
           (SELECT "p1"."paymentscheduleid" FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.base_refs -> 'paymentscheduleid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.base_refs -> 'paymentscheduleid') ->> 'schedule_name' AS character varying(30))) AS "base_lookup_2",
           (SELECT "p1"."paymentdayid" FROM "cds"."payment_day" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.base_refs -> 'paymentdayid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."name" = CAST((l.base_refs -> 'paymentdayid') ->> 'payment_day_name' AS character varying(30))) AS "base_lookup_3"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_right'
       AND h.map_name = 'payment_terms'
       AND h.id < l.id
       AND h.image -> 'dataareaid' = l.image -> 'dataareaid' AND h.image -> 'payment_term_id' = l.image -> 'payment_term_id'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_right', l.id, 'payment_terms',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'payment_schedule' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'payment_schedules' END, CASE WHEN (l.image ->> 'payment_day' IS NOT NULL AND "l"."lookup_3" IS NULL) THEN 'payment_days' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'payment_schedule' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'payment_day' IS NOT NULL AND "l"."lookup_3" IS NULL))
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
           "s"."payment_term_id" AS "k_2",
           "s"."description" AS "n_1",
           "b"."description" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."name" ELSE t."name" END AS "c_1",
           "s"."net_days" AS "n_2",
           "b"."net_days" AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."due_days" ELSE t."due_days" END AS "c_2",
           "l"."lookup_2" AS "n_3",
           "l"."base_lookup_2" AS "b_3",
           CASE WHEN t.ctid IS NULL THEN gone."paymentscheduleid" ELSE t."paymentscheduleid" END AS "c_3",
           "l"."lookup_3" AS "n_4",
           "l"."base_lookup_3" AS "b_4",
           CASE WHEN t.ctid IS NULL THEN gone."paymentdayid" ELSE t."paymentdayid" END AS "c_4",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
      FROM resolved AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10),
       "description" character varying(60),
       "net_days" integer,
       "payment_schedule" character varying(30),
       "payment_day" character varying(30))
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "payment_term_id" character varying(10),
       "description" character varying(60),
       "net_days" integer,
       "payment_schedule" character varying(30),
       "payment_day" character varying(30)) ON true
      LEFT JOIN "cds"."payment_term" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."code" = "s"."payment_term_id"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_left' AND d.map_name = 'payment_terms'
              AND d.image @> jsonb_build_object('companyid', "l"."lookup_1", 'code', "s"."payment_term_id")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"cds"."payment_term", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'payment_schedule' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'payment_day' IS NOT NULL AND "l"."lookup_3" IS NULL))
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
                   AND true) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
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
           NOT j."tc_1" OR (j."x_1" AND true) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND true) AS "take_2",
           NOT j."tc_3" OR (j."x_3" AND true) AS "take_3",
           NOT j."tc_4" OR (j."x_4" AND true) AS "take_4",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           CASE WHEN j."take_4" THEN "j"."n_4" ELSE j."c_4" END AS "f_4",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR true) AS inserting
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
    SELECT 'payment_terms', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'payment_term_id', j.image->'payment_term_id'), jsonb_build_object('companyid', j."k_1", 'code', j."k_2"),
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
    INSERT INTO "cds"."payment_term" ("companyid", "code", "name", "due_days", "paymentscheduleid", "paymentdayid")
    SELECT j."k_1",
       j."k_2",
       CASE WHEN j.gone THEN j."f_1" ELSE j."n_1" END,
       CASE WHEN j.gone THEN j."f_2" ELSE j."n_2" END,
       CASE WHEN j.gone THEN j."f_3" ELSE j."n_3" END,
       CASE WHEN j.gone THEN j."f_4" ELSE j."n_4" END
      FROM planned AS j
     WHERE j.inserting
        ON CONFLICT ("companyid", "code") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "cds"."payment_term" AS t
       SET "name" = j."f_1",
       "due_days" = j."f_2",
       "paymentscheduleid" = j."f_3",
       "paymentdayid" = j."f_4"
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
        'payment_terms', 'cds.payment_term'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_terms_to_right"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_term_id', c.value->'image'->'payment_term_id')
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'payment_term_id', c.value->'image'->'payment_term_id')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_payment_terms_to_right"(v_key_changes, p_deletes);
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
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_right/apply', '6685c0e66b45279ef5f130d20fe4a8c0f425ac340c8b214bf1c9c0ea756088d9', $sql$-- Removing map 'payment_terms' ('to_right') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_payment_terms_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_payment_terms_to_right"(jsonb, boolean);
$sql$)
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_organization/to_right/apply ====
-- Map 'customers_organization', 'to_right': write a batch of captured changes into "cds"."account".
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
BEGIN
IF p_deletes THEN
IF EXISTS (SELECT FROM jsonb_array_elements(p_changes) AS c WHERE c.value->>'op' = 'T') THEN
    RAISE EXCEPTION 'replicator: map % does not replicate a TRUNCATE of % (on_truncate = "refuse")',
        'customers_organization', 'fno.customers'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'The rows of cds.account were left as they are: delete them there if they should go, then close this error with replicator skip.';
END IF;
-- A key whose newest change is a delete.
WITH latest AS (
    -- The newest change per key, and the key's row as it was before the batch's
    -- first change of it (base: null for a new row). A conflict is judged by it.
    SELECT DISTINCT ON ("k"."dataareaid", "k"."account_num") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['name', 'customer_group', 'payment_terms', 'payment_method', 'email', 'credit_limit', 'blocked']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['name', 'customer_group', 'payment_terms', 'payment_method', 'email', 'credit_limit', 'blocked']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "account_num" character varying(20))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."account_num" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."dataareaid", "k"."account_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."customergroupid" FROM "cds"."customer_group" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'customergroupid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."group_code" = CAST((l.refs -> 'customergroupid') ->> 'customer_group' AS character varying(10))) AS "lookup_2",
           (SELECT "p1"."paymenttermid" FROM "cds"."payment_term" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymenttermid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.refs -> 'paymenttermid') ->> 'payment_term_id' AS character varying(10))) AS "lookup_3",
           (SELECT "p1"."customerpaymentmethodid" FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'customerpaymentmethodid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.refs -> 'customerpaymentmethodid') ->> 'payment_method' AS character varying(10))) AS "lookup_4",
           -- and as the row was before the change (its base)
           (SELECT "p1"."customergroupid" FROM "cds"."customer_group" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.base_refs -> 'customergroupid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."group_code" = CAST((l.base_refs -> 'customergroupid') ->> 'customer_group' AS character varying(10))) AS "base_lookup_2",
           (SELECT "p1"."paymenttermid" FROM "cds"."payment_term" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.base_refs -> 'paymenttermid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.base_refs -> 'paymenttermid') ->> 'payment_term_id' AS character varying(10))) AS "base_lookup_3",
           (SELECT "p1"."customerpaymentmethodid" FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.base_refs -> 'customerpaymentmethodid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.base_refs -> 'customerpaymentmethodid') ->> 'payment_method' AS character varying(10))) AS "base_lookup_4"
      FROM latest AS l
), doomed AS (
    SELECT l.id, l.op, l.image, l.at, t.ctid AS tid, t.xmin AS txmin, to_jsonb(t) AS local_row,
           NULL::timestamptz AS local_at,
           "l"."lookup_1" AS "k_1",
           "s"."account_num" AS "k_2",
           l.base_known AND NOT l.forced AND t."name" IS DISTINCT FROM "b"."name" AS "tc_1",
           l.base_known AND NOT l.forced AND t."customergroupid" IS DISTINCT FROM "l"."base_lookup_2" AS "tc_2",
           l.base_known AND NOT l.forced AND t."paymenttermid" IS DISTINCT FROM "l"."base_lookup_3" AS "tc_3",
           l.base_known AND NOT l.forced AND t."customerpaymentmethodid" IS DISTINCT FROM "l"."base_lookup_4" AS "tc_4",
           l.base_known AND NOT l.forced AND t."emailaddress1" IS DISTINCT FROM "b"."email" AS "tc_5",
           l.base_known AND NOT l.forced AND t."creditlimit" IS DISTINCT FROM (CAST(ROUND("b"."credit_limit", 4) AS DECIMAL(38, 4))) AS "tc_6",
           l.base_known AND NOT l.forced AND t."credit_hold" IS DISTINCT FROM CAST(CASE WHEN "b"."blocked" IS NULL THEN NULL WHEN "b"."blocked"::text = 'No' THEN 'none' WHEN "b"."blocked"::text = 'Invoice' THEN 'invoice_hold' WHEN "b"."blocked"::text = 'All' THEN 'full_hold' ELSE NULL END AS "cds"."hold_status") AS "tc_7",
           l.base_known AND NOT l.forced AND t."relationship_type" IS DISTINCT FROM CAST('customer' AS character varying(20)) AS "tc_8",
           l.base_known AND NOT l.forced AND l.base IS NULL AS fresh,
           false AS marked,
           l.forced
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
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "account_num" character varying(20),
       "name" character varying(100),
       "customer_group" character varying(10),
       "payment_terms" character varying(10),
       "payment_method" character varying(10),
       "email" character varying(80),
       "credit_limit" numeric(32,6),
       "blocked" character varying(10)) ON true
      JOIN "cds"."account" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."accountnumber" = "s"."account_num"

     WHERE l.op = 'D'
), settled AS (
    -- A delete meets a row changed here (delete against update), or one made here
    -- while the source inserted and deleted its own (a new key on both sides).
    SELECT j.*,
           j.fresh OR (j."tc_1" OR j."tc_2" OR j."tc_3" OR j."tc_4" OR j."tc_5" OR j."tc_6" OR j."tc_7" OR j."tc_8") AS conflict,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
      FROM doomed AS j
), planned AS (
    SELECT j.*,
           j.conflict AND false AS waiting,
           NOT j.conflict OR true AS goes
      FROM settled AS j
), logged AS (
    -- One row per conflict; a manual one waits, one per key, until replicator resolve.
    INSERT INTO "replicator"."conflict_log" AS x (map_name, direction, change_id, op, key, target_key, incoming,
                                        local, incoming_at, local_at, fields, policy, outcome)
    SELECT 'customers_organization', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'account_num', j.image->'account_num'), jsonb_build_object('companyid', j."k_1", 'accountnumber', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('name', CASE WHEN j."tc_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'customer_group', CASE WHEN j."tc_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'payment_terms', CASE WHEN j."tc_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'payment_method', CASE WHEN j."tc_4" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'email', CASE WHEN j."tc_5" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'credit_limit', CASE WHEN j."tc_6" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'blocked', CASE WHEN j."tc_7" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END,
               'relationship_type', CASE WHEN j."tc_8" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j.goes THEN 'incoming' ELSE 'local' END) END)),
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
    SELECT 'to_left', coalesce(q.id, nextval('replicator.change_queue_id_seq')), 'customers_organization',
           j.local_row, pg_current_xact_id()::xid, CASE WHEN q.id IS NULL THEN now() END, j.at
      FROM planned AS j
     CROSS JOIN LATERAL (SELECT max(c.id) AS id FROM "replicator"."change_queue" AS c
                          WHERE c.direction = 'to_left' AND c.map_name = 'customers_organization'
                            AND c.image @> jsonb_build_object('companyid', j."k_1", 'accountnumber', j."k_2")) AS q
     WHERE j.conflict AND j.goes AND NOT j.waiting
        ON CONFLICT DO NOTHING
), removed AS (
    DELETE FROM "cds"."account" AS t
     USING planned AS j
     WHERE t.ctid = j.tid AND t.xmin = j.txmin AND j.goes AND NOT j.waiting
    RETURNING 1
)
SELECT count(*) FILTER (WHERE j.goes AND NOT j.waiting AND NOT j.marked), (SELECT count(*) FROM removed)
  INTO v_wanted, v_written
  FROM planned AS j;
IF v_written < v_wanted THEN
    RAISE EXCEPTION 'replicator: map %: a row of % changed while a batch was applied to it',
        'customers_organization', 'cds.account'
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
    SELECT DISTINCT ON ("k"."dataareaid", "k"."account_num") c.id, c.op, c.image, c.refs, c.at,
           first_value(CASE c.op WHEN 'U' THEN c.before_refs WHEN 'D' THEN c.refs END) OVER w
               AS base_refs,
           bool_or(coalesce(c.force, false)) OVER w AS forced,
           first_value(CASE c.op WHEN 'U' THEN c.before WHEN 'D' THEN c.image END) OVER w AS base,
           -- Known only from a whole row (WAL capture without REPLICA IDENTITY FULL
           -- sends the key alone): without it the change is written as it comes.
           first_value(CASE c.op WHEN 'I' THEN true
                                 WHEN 'D' THEN c.image ?& ARRAY['name', 'customer_group', 'payment_terms', 'payment_method', 'email', 'credit_limit', 'blocked']::text[]
                                 ELSE coalesce(c.before ?& ARRAY['name', 'customer_group', 'payment_terms', 'payment_method', 'email', 'credit_limit', 'blocked']::text[], false) END) OVER w
               AS base_known
      FROM jsonb_to_recordset(p_changes)
           AS c(id bigint, op text, image jsonb, refs jsonb, before jsonb, before_refs jsonb,
                at timestamptz, force boolean)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "dataareaid" character varying(4),
       "account_num" character varying(20))
     WHERE c.op <> 'T'
    WINDOW w AS (PARTITION BY "k"."dataareaid", "k"."account_num" ORDER BY c.id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
     ORDER BY "k"."dataareaid", "k"."account_num", c.id DESC
), resolved AS (
    -- Lookups: each reference translated through its map's keys to this side's row.
    SELECT l.*,
           (SELECT "p1"."companyid" FROM "cds"."company" AS "p1" WHERE "p1"."company_code" = CAST((l.refs -> 'companyid') ->> 'dataareaid' AS character varying(4))) AS "lookup_1",
           (SELECT "p1"."customergroupid" FROM "cds"."customer_group" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'customergroupid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."group_code" = CAST((l.refs -> 'customergroupid') ->> 'customer_group' AS character varying(10))) AS "lookup_2",
           (SELECT "p1"."paymenttermid" FROM "cds"."payment_term" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'paymenttermid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.refs -> 'paymenttermid') ->> 'payment_term_id' AS character varying(10))) AS "lookup_3",
           (SELECT "p1"."customerpaymentmethodid" FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.refs -> 'customerpaymentmethodid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.refs -> 'customerpaymentmethodid') ->> 'payment_method' AS character varying(10))) AS "lookup_4",
           -- and as the row was before the change (its base)
           (SELECT "p1"."customergroupid" FROM "cds"."customer_group" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.base_refs -> 'customergroupid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."group_code" = CAST((l.base_refs -> 'customergroupid') ->> 'customer_group' AS character varying(10))) AS "base_lookup_2",
           (SELECT "p1"."paymenttermid" FROM "cds"."payment_term" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.base_refs -> 'paymenttermid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.base_refs -> 'paymenttermid') ->> 'payment_term_id' AS character varying(10))) AS "base_lookup_3",
           (SELECT "p1"."customerpaymentmethodid" FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."companyid" = (SELECT "p2"."companyid" FROM "cds"."company" AS "p2" WHERE "p2"."company_code" = CAST(((l.base_refs -> 'customerpaymentmethodid') -> 'dataareaid') ->> 'dataareaid' AS character varying(4))) AND "p1"."code" = CAST((l.base_refs -> 'customerpaymentmethodid') ->> 'payment_method' AS character varying(10))) AS "base_lookup_4"
      FROM latest AS l
), superseded AS (
    DELETE FROM "replicator"."held_change" AS h
     USING latest AS l
     WHERE h.direction = 'to_right'
       AND h.map_name = 'customers_organization'
       AND h.id < l.id
       AND h.image -> 'dataareaid' = l.image -> 'dataareaid' AND h.image -> 'account_num' = l.image -> 'account_num'
), held AS (
    INSERT INTO "replicator"."held_change" AS h (direction, id, map_name, op, image, refs, before, before_refs, at,
                                 forced, waiting_for)
    SELECT 'to_right', l.id, 'customers_organization',
           -- Held alone, it must still say what the batch said: new here, or changed.
           CASE WHEN l.base_known AND l.base IS NULL THEN 'I' ELSE l.op END,
           l.image, l.refs, CASE WHEN l.base_known THEN l.base END, l.base_refs, l.at, l.forced,
           concat_ws(', ', CASE WHEN (l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) THEN 'companies' END, CASE WHEN (l.image ->> 'customer_group' IS NOT NULL AND "l"."lookup_2" IS NULL) THEN 'customer_groups' END, CASE WHEN (l.image ->> 'payment_terms' IS NOT NULL AND "l"."lookup_3" IS NULL) THEN 'payment_terms' END, CASE WHEN (l.image ->> 'payment_method' IS NOT NULL AND "l"."lookup_4" IS NULL) THEN 'customer_payment_methods' END)
      FROM resolved AS l
     WHERE l.op <> 'D'
       AND ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'customer_group' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'payment_terms' IS NOT NULL AND "l"."lookup_3" IS NULL) OR (l.image ->> 'payment_method' IS NOT NULL AND "l"."lookup_4" IS NULL))
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
           "s"."account_num" AS "k_2",
           "s"."name" AS "n_1",
           "b"."name" AS "b_1",
           CASE WHEN t.ctid IS NULL THEN gone."name" ELSE t."name" END AS "c_1",
           "l"."lookup_2" AS "n_2",
           "l"."base_lookup_2" AS "b_2",
           CASE WHEN t.ctid IS NULL THEN gone."customergroupid" ELSE t."customergroupid" END AS "c_2",
           "l"."lookup_3" AS "n_3",
           "l"."base_lookup_3" AS "b_3",
           CASE WHEN t.ctid IS NULL THEN gone."paymenttermid" ELSE t."paymenttermid" END AS "c_3",
           "l"."lookup_4" AS "n_4",
           "l"."base_lookup_4" AS "b_4",
           CASE WHEN t.ctid IS NULL THEN gone."customerpaymentmethodid" ELSE t."customerpaymentmethodid" END AS "c_4",
           "s"."email" AS "n_5",
           "b"."email" AS "b_5",
           CASE WHEN t.ctid IS NULL THEN gone."emailaddress1" ELSE t."emailaddress1" END AS "c_5",
           (CAST(ROUND("s"."credit_limit", 4) AS DECIMAL(38, 4))) AS "n_6",
           (CAST(ROUND("b"."credit_limit", 4) AS DECIMAL(38, 4))) AS "b_6",
           CASE WHEN t.ctid IS NULL THEN gone."creditlimit" ELSE t."creditlimit" END AS "c_6",
           CAST(CASE WHEN "s"."blocked" IS NULL THEN NULL WHEN "s"."blocked"::text = 'No' THEN 'none' WHEN "s"."blocked"::text = 'Invoice' THEN 'invoice_hold' WHEN "s"."blocked"::text = 'All' THEN 'full_hold' ELSE "replicator"."unmapped_value"('customers_organization', 'blocked', "s"."blocked"::text) END AS "cds"."hold_status") AS "n_7",
           CAST(CASE WHEN "b"."blocked" IS NULL THEN NULL WHEN "b"."blocked"::text = 'No' THEN 'none' WHEN "b"."blocked"::text = 'Invoice' THEN 'invoice_hold' WHEN "b"."blocked"::text = 'All' THEN 'full_hold' ELSE NULL END AS "cds"."hold_status") AS "b_7",
           CASE WHEN t.ctid IS NULL THEN gone."credit_hold" ELSE t."credit_hold" END AS "c_7",
           CAST('customer' AS character varying(20)) AS "n_8",
           CAST('customer' AS character varying(20)) AS "b_8",
           CASE WHEN t.ctid IS NULL THEN gone."relationship_type" ELSE t."relationship_type" END AS "c_8",
           -- An initial sync from the side that is not master adds rows, never overwrites.
           current_setting('replicator.keep_existing', true) IS NOT DISTINCT FROM 'on' AS keep_existing
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
      LEFT JOIN LATERAL jsonb_to_record(l.base) AS b(
       "dataareaid" character varying(4),
       "account_num" character varying(20),
       "name" character varying(100),
       "customer_group" character varying(10),
       "payment_terms" character varying(10),
       "payment_method" character varying(10),
       "email" character varying(80),
       "credit_limit" numeric(32,6),
       "blocked" character varying(10)) ON true
      LEFT JOIN "cds"."account" AS t ON "t"."companyid" = "l"."lookup_1" AND "t"."accountnumber" = "s"."account_num"
      -- Deleted here before this change could know (the delete had not crossed over
      -- when the change was made): the change meets the delete, and the fields the
      -- deleted row held (gone).
      LEFT JOIN LATERAL (
           SELECT d.image, coalesce(d.deleted_at, "replicator"."committed_at"(d.deleted_by)) AS deleted_at
             FROM "replicator"."tombstone" AS d
            WHERE t.ctid IS NULL AND l.base_known AND NOT l.forced
              AND d.direction = 'to_left' AND d.map_name = 'customers_organization'
              AND d.image @> jsonb_build_object('companyid', "l"."lookup_1", 'accountnumber', "s"."account_num")
              AND (d.crossed_at IS NULL OR d.crossed_at > l.at)
            ORDER BY d.change_id DESC
            LIMIT 1) AS del ON true
      LEFT JOIN LATERAL jsonb_populate_record(NULL::"cds"."account", del.image) AS gone ON true

     -- A delete whose row is still here lost its conflict (or marks, or is ignored):
     -- the deleted version is judged like an update, so its fields merge by policy.
     WHERE (l.op <> 'D' OR t.ctid IS NOT NULL)
       AND NOT ((l.image ->> 'dataareaid' IS NOT NULL AND "l"."lookup_1" IS NULL) OR (l.image ->> 'customer_group' IS NOT NULL AND "l"."lookup_2" IS NULL) OR (l.image ->> 'payment_terms' IS NOT NULL AND "l"."lookup_3" IS NULL) OR (l.image ->> 'payment_method' IS NOT NULL AND "l"."lookup_4" IS NULL))
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
                   AND true) AS newer_than_delete,
           coalesce(j.at, '-infinity') > j.local_at
               OR (coalesce(j.at, '-infinity') = j.local_at AND true) AS newer
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
           NOT j."tc_1" OR (j."x_1" AND true) AS "take_1",
           NOT j."tc_2" OR (j."x_2" AND true) AS "take_2",
           NOT j."tc_3" OR (j."x_3" AND true) AS "take_3",
           NOT j."tc_4" OR (j."x_4" AND true) AS "take_4",
           NOT j."tc_5" OR (j."x_5" AND true) AS "take_5",
           NOT j."tc_6" OR (j."x_6" AND true) AS "take_6",
           NOT j."tc_7" OR (j."x_7" AND true) AS "take_7",
           NOT j."tc_8" OR (j."x_8" AND true) AS "take_8",
           false AS waiting
      FROM decided AS j
), final AS (
    SELECT j.*,
           CASE WHEN j."take_1" THEN "j"."n_1" ELSE j."c_1" END AS "f_1",
           CASE WHEN j."take_2" THEN "j"."n_2" ELSE j."c_2" END AS "f_2",
           CASE WHEN j."take_3" THEN "j"."n_3" ELSE j."c_3" END AS "f_3",
           CASE WHEN j."take_4" THEN "j"."n_4" ELSE j."c_4" END AS "f_4",
           CASE WHEN j."take_5" THEN COALESCE("j"."n_5", "j"."c_5") ELSE j."c_5" END AS "f_5",
           CASE WHEN j."take_6" THEN "j"."n_6" ELSE j."c_6" END AS "f_6",
           CASE WHEN j."take_7" THEN "j"."n_7" ELSE j."c_7" END AS "f_7",
           CASE WHEN j."take_8" THEN "j"."n_8" ELSE j."c_8" END AS "f_8",
           NOT j.present AND NOT j.waiting AND (NOT j.gone OR true) AS inserting
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
    SELECT 'customers_organization', 'to_right', j.id, j.op, jsonb_build_object('dataareaid', j.image->'dataareaid', 'account_num', j.image->'account_num'), jsonb_build_object('companyid', j."k_1", 'accountnumber', j."k_2"),
           j.image, j.local_row, j.at, nullif(j.local_at, '-infinity'),
           jsonb_strip_nulls(jsonb_build_object('name', CASE WHEN j."x_1" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_1" THEN 'incoming' ELSE 'local' END) WHEN j."tc_1" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'customer_group', CASE WHEN j."x_2" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_2" THEN 'incoming' ELSE 'local' END) WHEN j."tc_2" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'payment_terms', CASE WHEN j."x_3" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_3" THEN 'incoming' ELSE 'local' END) WHEN j."tc_3" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'payment_method', CASE WHEN j."x_4" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_4" THEN 'incoming' ELSE 'local' END) WHEN j."tc_4" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'email', CASE WHEN j."x_5" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_5" THEN 'incoming' ELSE 'local' END) WHEN j."tc_5" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'credit_limit', CASE WHEN j."x_6" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_6" THEN 'incoming' ELSE 'local' END) WHEN j."tc_6" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'blocked', CASE WHEN j."x_7" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_7" THEN 'incoming' ELSE 'local' END) WHEN j."tc_7" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END,
               'relationship_type', CASE WHEN j."x_8" THEN jsonb_build_object('policy', 'left_wins', 'took', CASE WHEN j.waiting THEN 'waiting' WHEN j."take_8" THEN 'incoming' ELSE 'local' END) WHEN j."tc_8" THEN jsonb_build_object('policy', 'merge', 'took', 'local') END)),
           'left_wins', CASE WHEN j.waiting THEN 'waiting' WHEN j.gone THEN CASE WHEN j.inserting THEN 'took_incoming' ELSE 'kept_local' END WHEN NOT ((j."tc_1" AND NOT j."take_1") OR (j."tc_2" AND NOT j."take_2") OR (j."tc_3" AND NOT j."take_3") OR (j."tc_4" AND NOT j."take_4") OR (j."tc_5" AND NOT j."take_5") OR (j."tc_6" AND NOT j."take_6") OR (j."tc_7" AND NOT j."take_7") OR (j."tc_8" AND NOT j."take_8")) THEN 'took_incoming' WHEN NOT ((j."take_1" AND j."c_1" IS DISTINCT FROM j."n_1") OR (j."take_2" AND j."c_2" IS DISTINCT FROM j."n_2") OR (j."take_3" AND j."c_3" IS DISTINCT FROM j."n_3") OR (j."take_4" AND j."c_4" IS DISTINCT FROM j."n_4") OR (j."take_5" AND j."c_5" IS DISTINCT FROM j."n_5") OR (j."take_6" AND j."c_6" IS DISTINCT FROM j."n_6") OR (j."take_7" AND j."c_7" IS DISTINCT FROM j."n_7") OR (j."take_8" AND j."c_8" IS DISTINCT FROM j."n_8")) THEN 'kept_local' ELSE 'merged' END
      FROM planned AS j
     WHERE j.conflict AND j.op <> 'D'
        ON CONFLICT (map_name, direction, key) WHERE outcome = 'waiting'
        DO UPDATE SET change_id = EXCLUDED.change_id, op = EXCLUDED.op, incoming = EXCLUDED.incoming,
                      local = EXCLUDED.local, incoming_at = EXCLUDED.incoming_at,
                      local_at = EXCLUDED.local_at, fields = EXCLUDED.fields, logged_at = now()
), inserted AS (
    INSERT INTO "cds"."account" ("companyid", "accountnumber", "name", "customergroupid", "paymenttermid", "customerpaymentmethodid", "emailaddress1", "creditlimit", "credit_hold", "relationship_type")
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
        ON CONFLICT ("companyid", "accountnumber") DO NOTHING
    RETURNING xmin AS written_xid
), updated AS (
    UPDATE "cds"."account" AS t
       SET "name" = j."f_1",
       "customergroupid" = j."f_2",
       "paymenttermid" = j."f_3",
       "customerpaymentmethodid" = j."f_4",
       "emailaddress1" = j."f_5",
       "creditlimit" = j."f_6",
       "credit_hold" = j."f_7",
       "relationship_type" = j."f_8"
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
        'customers_organization', 'cds.account'
        USING ERRCODE = 'serialization_failure';
END IF;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one key at a time
-- (its changes together, as the batch held them) so a bad change goes to the
-- error log and its neighbours still apply. A change that applies settles the
-- open error of its key (see replicator.supersede_errors).
CREATE OR REPLACE FUNCTION "replicator"."apply_customers_organization_to_right"(p_changes jsonb, p_deletes boolean)
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
                SELECT jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'account_num', c.value->'image'->'account_num')
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
         GROUP BY jsonb_build_object('dataareaid', c.value->'image'->'dataareaid', 'account_num', c.value->'image'->'account_num')
         ORDER BY min((c.value->>'id')::bigint)
    LOOP
        v_change := v_key_changes->-1;  -- the key's newest change stands for it in the log
        BEGIN
            PERFORM "replicator"."write_customers_organization_to_right"(v_key_changes, p_deletes);
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
                -- Each change counts once: deletes in the delete pass, the rest after.
                v_failed := v_failed + (SELECT count(*) FROM jsonb_array_elements(v_key_changes) AS c
                                         WHERE (c.value->>'op' IN ('D', 'T')) = p_deletes);
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_right/apply', 'f331930207ab853891f5eb98952311522c200b7b8a2529a4105596d40933f800', $sql$-- Removing map 'customers_organization' ('to_right') must not throw away changes held for it.
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
DROP FUNCTION IF EXISTS "replicator"."apply_customers_organization_to_right"(jsonb, boolean);
DROP FUNCTION IF EXISTS "replicator"."write_customers_organization_to_right"(jsonb, boolean);
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
    IF p_direction = 'to_right' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customers_organization'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_customers_organization_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('customers_organization', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_terms'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_payment_terms_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('payment_terms', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_schedule_lines'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_payment_schedule_lines_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('payment_schedule_lines', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_schedules'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_payment_schedules_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('payment_schedules', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_day_lines'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_payment_day_lines_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('payment_day_lines', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_days'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_payment_days_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('payment_days', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'name_affixes'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_name_affixes_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('name_affixes', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'loyalty_cards'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_loyalty_cards_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('loyalty_cards', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customers_person'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_customers_person_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('customers_person', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customer_payment_methods'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_customer_payment_methods_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('customer_payment_methods', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customer_groups'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_customer_groups_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('customer_groups', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'contact_persons'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
        IF v_changes IS NOT NULL THEN
            v_map_failed := "replicator"."apply_contact_persons_to_right"(v_changes, true);
            v_failed := v_failed + v_map_failed;
            v_delete_failed := v_delete_failed || jsonb_build_object('contact_persons', v_map_failed);
        END IF;
    END IF;
    IF p_direction = 'to_right' THEN
        -- All of the map's changes, if any deletes: a key's deletion is judged
        -- against what the row was before the batch's first change of it.
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint)
          INTO v_changes
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'companies'
        HAVING bool_or(c.value->>'op' IN ('D', 'T'));
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
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
                RETURNING id, op, image, refs, before, before_refs, at, forced
            )
            SELECT jsonb_agg(jsonb_build_object('id', id, 'op', op, 'image', image, 'refs', refs,
                                                'before', before, 'before_refs', before_refs,
                                                'at', at, 'force', forced)
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
VALUES ('dispatch', '404394049ea015f7aec25f4960b675d989132cb07a1785ecc069212118615f77', $sql$$sql$)
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('companies', 'to_left', 'D', to_jsonb(OLD), NULL);
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('companies', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
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
CREATE OR REPLACE TRIGGER "replicator_companies_to_left"
AFTER INSERT OR DELETE ON "cds"."company"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_companies_to_left_trunc"
AFTER TRUNCATE ON "cds"."company"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_companies_to_left_upd"
AFTER UPDATE ON "cds"."company"
FOR EACH ROW
WHEN (("old"."company_code", "old"."name") IS DISTINCT FROM ("new"."company_code", "new"."name")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_companies_to_left_sync"
AFTER UPDATE ON "cds"."company"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'companies'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_companies_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_left/capture', '6ebc52c5b5d044840f92a5065f950f6e8c169603fcd46615b6c6d7cae95c6b2b', $sql$-- Removing map 'companies' ('to_left') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', NULL, 'force', true)
             ORDER BY "new"."company_code"), '[]')
      FROM (SELECT * FROM "cds"."company" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."company_code") > (CAST(p_after ->> 'company_code' AS character varying(4))))
             ORDER BY "new"."company_code"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'companies', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), NULL, true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/companies/to_left/snapshot', 'df008c0437ef3948010aa36e07164cd1adc8c0fb2b18cc46d2f1cdaadc1fd76d', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_companies_to_left"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('contact_persons', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('contact_persons', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_left_trunc"
AFTER TRUNCATE ON "cds"."contact"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_left_upd"
AFTER UPDATE ON "cds"."contact"
FOR EACH ROW
WHEN (("old"."companyid", "old"."contactpersonid", "old"."firstname", "old"."lastname", "old"."emailaddress1", "old"."parent_account_number") IS DISTINCT FROM ("new"."companyid", "new"."contactpersonid", "new"."firstname", "new"."lastname", "new"."emailaddress1", "new"."parent_account_number")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_contact_persons_to_left_sync"
AFTER UPDATE ON "cds"."contact"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'contact_persons'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_contact_persons_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_left/capture', 'f1e4ab6fbff3436bbb010638a9f57920f83b9f10618bf363ec3a60026ff2d43f', $sql$-- Removing map 'contact_persons' ('to_left') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), 'force', true)
             ORDER BY "new"."companyid", "new"."contactpersonid"), '[]')
      FROM (SELECT * FROM "cds"."contact" AS "new"
             WHERE coalesce(("new"."contactpersonid" IS NOT NULL), false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."contactpersonid") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'contactpersonid' AS character varying(20))))
             ORDER BY "new"."companyid", "new"."contactpersonid"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'contact_persons', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/contact_persons/to_left/snapshot', 'bfaba0ae3c6d72c07aeec8e73bce38e7fecab623379c118f0efdbc60eae8445e', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_contact_persons_to_left"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customer_groups', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('customer_groups', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_left_trunc"
AFTER TRUNCATE ON "cds"."customer_group"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_left_upd"
AFTER UPDATE ON "cds"."customer_group"
FOR EACH ROW
WHEN (("old"."companyid", "old"."group_code", "old"."name") IS DISTINCT FROM ("new"."companyid", "new"."group_code", "new"."name")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_left_sync"
AFTER UPDATE ON "cds"."customer_group"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customer_groups'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_left/capture', '2f24c60f7c6fa2e36d4cf1af3b1ef87d7a52c911b27f30751061299bec84ca58', $sql$-- Removing map 'customer_groups' ('to_left') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), 'force', true)
             ORDER BY "new"."companyid", "new"."group_code"), '[]')
      FROM (SELECT * FROM "cds"."customer_group" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."group_code") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'group_code' AS character varying(10))))
             ORDER BY "new"."companyid", "new"."group_code"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'customer_groups', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_left/snapshot', 'cc7f265e9549a4414b78195a94046eedb1aa3d39bab058f04d0964b5a39612fb', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customer_groups_to_left"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customer_payment_methods', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('customer_payment_methods', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_left_trunc"
AFTER TRUNCATE ON "cds"."customer_payment_method"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_left_upd"
AFTER UPDATE ON "cds"."customer_payment_method"
FOR EACH ROW
WHEN (("old"."companyid", "old"."code", "old"."name", "old"."payment_type") IS DISTINCT FROM ("new"."companyid", "new"."code", "new"."name", "new"."payment_type")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customer_payment_methods_to_left_sync"
AFTER UPDATE ON "cds"."customer_payment_method"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customer_payment_methods'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customer_payment_methods_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_left/capture', 'c4826726dbb21fffc2ea29705016c7d7f411e51624fa4ca8288c81aeff837117', $sql$-- Removing map 'customer_payment_methods' ('to_left') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), 'force', true)
             ORDER BY "new"."companyid", "new"."code"), '[]')
      FROM (SELECT * FROM "cds"."customer_payment_method" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."code") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'code' AS character varying(10))))
             ORDER BY "new"."companyid", "new"."code"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'customer_payment_methods', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_payment_methods/to_left/snapshot', 'f46d5f1044cc686881538c1b50b0e9a7a4d8b2f3a323e098c1d23d7f5a171f82', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customer_payment_methods_to_left"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customers_person', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('customers_person', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_left_trunc"
AFTER TRUNCATE ON "cds"."contact"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_left_upd"
AFTER UPDATE ON "cds"."contact"
FOR EACH ROW
WHEN (("old"."companyid", "old"."customer_number", "old"."firstname", "old"."middlename", "old"."lastname", "old"."emailaddress1", "old"."is_sellable") IS DISTINCT FROM ("new"."companyid", "new"."customer_number", "new"."firstname", "new"."middlename", "new"."lastname", "new"."emailaddress1", "new"."is_sellable")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_left_sync"
AFTER UPDATE ON "cds"."contact"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customers_person'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_left/capture', '2ace1977fd32b87373c659ed8f8c0e7bbec67a56a05910bf63e45d193c1816e6', $sql$-- Removing map 'customers_person' ('to_left') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), 'force', true)
             ORDER BY "new"."companyid", "new"."customer_number"), '[]')
      FROM (SELECT * FROM "cds"."contact" AS "new"
             WHERE coalesce(("new"."is_sellable" AND "new"."customer_number" IS NOT NULL), false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."customer_number") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'customer_number' AS character varying(20))))
             ORDER BY "new"."companyid", "new"."customer_number"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'customers_person', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_left/snapshot', '380ca028509ebd2dd38b63715eaf891db9e51696bd8ffc8ccdef43b56ca29b2c', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customers_person_to_left"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('loyalty_cards', 'to_left', 'D', to_jsonb(OLD), NULL);
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('loyalty_cards', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
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
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_left"
AFTER INSERT OR DELETE ON "cds"."loyalty_card"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_left_trunc"
AFTER TRUNCATE ON "cds"."loyalty_card"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_left_upd"
AFTER UPDATE ON "cds"."loyalty_card"
FOR EACH ROW
WHEN (("old"."card_number", "old"."tier", "old"."issued_on", "old"."is_blocked") IS DISTINCT FROM ("new"."card_number", "new"."tier", "new"."issued_on", "new"."is_blocked")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_loyalty_cards_to_left_sync"
AFTER UPDATE ON "cds"."loyalty_card"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'loyalty_cards'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_loyalty_cards_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_left/capture', '2ca5620fb73e41d82a8b3c8cea8309c55ec29da778a17a2affed99bd7ab8908a', $sql$-- Removing map 'loyalty_cards' ('to_left') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', NULL, 'force', true)
             ORDER BY "new"."card_number"), '[]')
      FROM (SELECT * FROM "cds"."loyalty_card" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."card_number") > (CAST(p_after ->> 'card_number' AS character varying(20))))
             ORDER BY "new"."card_number"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'loyalty_cards', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), NULL, true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/loyalty_cards/to_left/snapshot', '8ac45b7614d331e07283be60226fd064b1d2e8400e4f181c2f11e5cc41839b55', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_loyalty_cards_to_left"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('name_affixes', 'to_left', 'D', to_jsonb(OLD), NULL);
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('name_affixes', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
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
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_left"
AFTER INSERT OR DELETE ON "cds"."name_affix"
FOR EACH ROW
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_left_trunc"
AFTER TRUNCATE ON "cds"."name_affix"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_left_upd"
AFTER UPDATE ON "cds"."name_affix"
FOR EACH ROW
WHEN (("old"."affix", "old"."affix_type", "old"."description") IS DISTINCT FROM ("new"."affix", "new"."affix_type", "new"."description")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_name_affixes_to_left_sync"
AFTER UPDATE ON "cds"."name_affix"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'name_affixes'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_name_affixes_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_left/capture', 'c2f6aaa0c2daee9e2ed171ed8e0dd5e7cd0a19e1954c13d0cb9de9e0f9aac847', $sql$-- Removing map 'name_affixes' ('to_left') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', NULL, 'force', true)
             ORDER BY "new"."affix", "new"."affix_type"), '[]')
      FROM (SELECT * FROM "cds"."name_affix" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."affix", "new"."affix_type") > (CAST(p_after ->> 'affix' AS character varying(20)), CAST(p_after ->> 'affix_type' AS character varying(10))))
             ORDER BY "new"."affix", "new"."affix_type"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'name_affixes', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), NULL, true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/name_affixes/to_left/snapshot', 'a9036c3d6724b8f93bdc9c8493f74c71d8654643c7145258bc5860f5a35e99b0', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_name_affixes_to_left"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_days', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('payment_days', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_left_trunc"
AFTER TRUNCATE ON "cds"."payment_day"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_left_upd"
AFTER UPDATE ON "cds"."payment_day"
FOR EACH ROW
WHEN (("old"."companyid", "old"."name", "old"."description") IS DISTINCT FROM ("new"."companyid", "new"."name", "new"."description")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_days_to_left_sync"
AFTER UPDATE ON "cds"."payment_day"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_days'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_days_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_left/capture', '3a06ff8b151bdeb07985d733740b77bfc80e87025562f7d9e2688cfc0548ddcd', $sql$-- Removing map 'payment_days' ('to_left') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), 'force', true)
             ORDER BY "new"."companyid", "new"."name"), '[]')
      FROM (SELECT * FROM "cds"."payment_day" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."name") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'name' AS character varying(30))))
             ORDER BY "new"."companyid", "new"."name"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'payment_days', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_days/to_left/snapshot', '90bbc5134c2edae5d6b85a25edd73d9993a6c65310d884f7ac1404a175092480', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_days_to_left"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_day_lines', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'payment_day_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "old"."paymentdayid" AND "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('payment_day_lines', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'payment_day_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'payment_day_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "old"."paymentdayid" AND "p1"."companyid" = "old"."companyid")) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_left_trunc"
AFTER TRUNCATE ON "cds"."payment_day_line"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_left_upd"
AFTER UPDATE ON "cds"."payment_day_line"
FOR EACH ROW
WHEN (("old"."companyid", "old"."paymentdayid", "old"."line_number", "old"."weekday", "old"."dayofmonth") IS DISTINCT FROM ("new"."companyid", "new"."paymentdayid", "new"."line_number", "new"."weekday", "new"."dayofmonth")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_day_lines_to_left_sync"
AFTER UPDATE ON "cds"."payment_day_line"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_day_lines'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_day_lines_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_left/capture', '3a8193326e8e906f94297fcd7859d852f720a994e0d7df102ab1d845740abef1', $sql$-- Removing map 'payment_day_lines' ('to_left') must not throw away changes still queued for it.
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
       'payment_day_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")), 'force', true)
             ORDER BY "new"."companyid", "new"."paymentdayid", "new"."line_number"), '[]')
      FROM (SELECT * FROM "cds"."payment_day_line" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."paymentdayid", "new"."line_number") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'paymentdayid' AS uuid), CAST(p_after ->> 'line_number' AS integer)))
             ORDER BY "new"."companyid", "new"."paymentdayid", "new"."line_number"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'payment_day_lines', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'payment_day_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_day_lines/to_left/snapshot', 'b1bd0772932777ff96548f4d8d2940335c0edcc4f8f3198ed114c5f609fa38bd', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_day_lines_to_left"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_schedules', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('payment_schedules', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid")) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_left_trunc"
AFTER TRUNCATE ON "cds"."payment_schedule"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_left_upd"
AFTER UPDATE ON "cds"."payment_schedule"
FOR EACH ROW
WHEN (("old"."companyid", "old"."name", "old"."description", "old"."allocation") IS DISTINCT FROM ("new"."companyid", "new"."name", "new"."description", "new"."allocation")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_schedules_to_left_sync"
AFTER UPDATE ON "cds"."payment_schedule"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_schedules'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedules_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_left/capture', 'cff92041b450f0e85c73fa535a9a0a4875d0eefb7f6f14f19f585cf900f168f4', $sql$-- Removing map 'payment_schedules' ('to_left') must not throw away changes still queued for it.
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
               'op', 'I', 'image', to_jsonb("new"), 'refs', jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), 'force', true)
             ORDER BY "new"."companyid", "new"."name"), '[]')
      FROM (SELECT * FROM "cds"."payment_schedule" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."name") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'name' AS character varying(30))))
             ORDER BY "new"."companyid", "new"."name"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'payment_schedules', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid")), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedules/to_left/snapshot', '2ffabced172bd5c4a473d73526b666f634775d8ad5c09756bf28d10efa23c294', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_schedules_to_left"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_schedule_lines', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'schedule_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "old"."paymentscheduleid" AND "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('payment_schedule_lines', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'schedule_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "new"."paymentscheduleid" AND "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'schedule_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "old"."paymentscheduleid" AND "p1"."companyid" = "old"."companyid")) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_left_trunc"
AFTER TRUNCATE ON "cds"."payment_schedule_line"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_left_upd"
AFTER UPDATE ON "cds"."payment_schedule_line"
FOR EACH ROW
WHEN (("old"."companyid", "old"."paymentscheduleid", "old"."line_number", "old"."percentage", "old"."months", "old"."days") IS DISTINCT FROM ("new"."companyid", "new"."paymentscheduleid", "new"."line_number", "new"."percentage", "new"."months", "new"."days")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_schedule_lines_to_left_sync"
AFTER UPDATE ON "cds"."payment_schedule_line"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_schedule_lines'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_schedule_lines_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_left/capture', '25f30213c95d6bcb711102f73172274e659000a43254b61da2462bcc451acbb3', $sql$-- Removing map 'payment_schedule_lines' ('to_left') must not throw away changes still queued for it.
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
       'schedule_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "new"."paymentscheduleid" AND "p1"."companyid" = "new"."companyid")), 'force', true)
             ORDER BY "new"."companyid", "new"."paymentscheduleid", "new"."line_number"), '[]')
      FROM (SELECT * FROM "cds"."payment_schedule_line" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."paymentscheduleid", "new"."line_number") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'paymentscheduleid' AS uuid), CAST(p_after ->> 'line_number' AS integer)))
             ORDER BY "new"."companyid", "new"."paymentscheduleid", "new"."line_number"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'payment_schedule_lines', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'schedule_name', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "new"."paymentscheduleid" AND "p1"."companyid" = "new"."companyid")), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_schedule_lines/to_left/snapshot', '68be787c687b34fba98d0cbb10e0d575ee9fd47b07b059059e049df491f16edf', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_schedule_lines_to_left"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('payment_terms', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'payment_schedule', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "old"."paymentscheduleid" AND "p1"."companyid" = "old"."companyid"),
       'payment_day', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "old"."paymentdayid" AND "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('payment_terms', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'payment_schedule', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "new"."paymentscheduleid" AND "p1"."companyid" = "new"."companyid"),
       'payment_day', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'payment_schedule', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "old"."paymentscheduleid" AND "p1"."companyid" = "old"."companyid"),
       'payment_day', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "old"."paymentdayid" AND "p1"."companyid" = "old"."companyid")) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_left_trunc"
AFTER TRUNCATE ON "cds"."payment_term"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_left_upd"
AFTER UPDATE ON "cds"."payment_term"
FOR EACH ROW
WHEN (("old"."companyid", "old"."code", "old"."name", "old"."due_days", "old"."paymentscheduleid", "old"."paymentdayid") IS DISTINCT FROM ("new"."companyid", "new"."code", "new"."name", "new"."due_days", "new"."paymentscheduleid", "new"."paymentdayid")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_left_sync"
AFTER UPDATE ON "cds"."payment_term"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'payment_terms'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_left/capture', 'a5f919eba606338a199b44b3ed39532a65a38636e6ca480a536afcbee478d611', $sql$-- Removing map 'payment_terms' ('to_left') must not throw away changes still queued for it.
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
       'payment_day', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")), 'force', true)
             ORDER BY "new"."companyid", "new"."code"), '[]')
      FROM (SELECT * FROM "cds"."payment_term" AS "new"
             WHERE coalesce(true, false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."code") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'code' AS character varying(10))))
             ORDER BY "new"."companyid", "new"."code"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'payment_terms', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'payment_schedule', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_schedule" AS "p1" WHERE "p1"."paymentscheduleid" = "new"."paymentscheduleid" AND "p1"."companyid" = "new"."companyid"),
       'payment_day', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'name', "p1"."name") FROM "cds"."payment_day" AS "p1" WHERE "p1"."paymentdayid" = "new"."paymentdayid" AND "p1"."companyid" = "new"."companyid")), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_left/snapshot', '696335bd71eef7003cc7adb311104a7dfbefa6e89259e6199cdb471168d2f0ad', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_payment_terms_to_left"(jsonb, integer);
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs)
        VALUES ('customers_organization', 'to_left', 'D', to_jsonb(OLD), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'customer_group', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'group_code', "p1"."group_code") FROM "cds"."customer_group" AS "p1" WHERE "p1"."customergroupid" = "old"."customergroupid" AND "p1"."companyid" = "old"."companyid"),
       'payment_terms', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."payment_term" AS "p1" WHERE "p1"."paymenttermid" = "old"."paymenttermid" AND "p1"."companyid" = "old"."companyid"),
       'payment_method', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."customerpaymentmethodid" = "old"."customerpaymentmethodid" AND "p1"."companyid" = "old"."companyid")));
    END IF;
    IF v_new_in THEN
        -- An update carries the row before it: the other side finds a conflict by it.
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, before, before_refs)
        VALUES ('customers_organization', 'to_left', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'customer_group', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'group_code', "p1"."group_code") FROM "cds"."customer_group" AS "p1" WHERE "p1"."customergroupid" = "new"."customergroupid" AND "p1"."companyid" = "new"."companyid"),
       'payment_terms', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."payment_term" AS "p1" WHERE "p1"."paymenttermid" = "new"."paymenttermid" AND "p1"."companyid" = "new"."companyid"),
       'payment_method', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."customerpaymentmethodid" = "new"."customerpaymentmethodid" AND "p1"."companyid" = "new"."companyid")),
                CASE WHEN v_old_in AND v_same_key THEN to_jsonb(OLD) END,
                CASE WHEN v_old_in AND v_same_key THEN CAST(jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "old"."companyid"),
       'customer_group', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'group_code', "p1"."group_code") FROM "cds"."customer_group" AS "p1" WHERE "p1"."customergroupid" = "old"."customergroupid" AND "p1"."companyid" = "old"."companyid"),
       'payment_terms', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."payment_term" AS "p1" WHERE "p1"."paymenttermid" = "old"."paymenttermid" AND "p1"."companyid" = "old"."companyid"),
       'payment_method', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."customerpaymentmethodid" = "old"."customerpaymentmethodid" AND "p1"."companyid" = "old"."companyid")) AS jsonb) END);
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
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_left"();

-- A TRUNCATE fires no row trigger: it is captured whole, and on_truncate decides.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_left_trunc"
AFTER TRUNCATE ON "cds"."account"
FOR EACH STATEMENT
WHEN ((current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_left"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_left_upd"
AFTER UPDATE ON "cds"."account"
FOR EACH ROW
WHEN (("old"."companyid", "old"."accountnumber", "old"."name", "old"."customergroupid", "old"."paymenttermid", "old"."customerpaymentmethodid", "old"."emailaddress1", "old"."creditlimit", "old"."credit_hold", "old"."relationship_type") IS DISTINCT FROM ("new"."companyid", "new"."accountnumber", "new"."name", "new"."customergroupid", "new"."paymenttermid", "new"."customerpaymentmethodid", "new"."emailaddress1", "new"."creditlimit", "new"."credit_hold", "new"."relationship_type")
      AND (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_left"();

-- An initial sync of this map (replicator sync) notes each row it overwrote here.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_left_sync"
AFTER UPDATE ON "cds"."account"
FOR EACH ROW
WHEN (current_setting('replicator.sync_log', true) = 'customers_organization'
      AND NOT (current_setting('replicator.applying', true) IS DISTINCT FROM 'on' OR NOT has_schema_privilege('replicator', 'CREATE')))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_left"('sync');
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_left/capture', '69aca4f4be23a09e244b9b88309210ae0d1821a9a7dbe935f9b3f7d2934f4338', $sql$-- Removing map 'customers_organization' ('to_left') must not throw away changes still queued for it.
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
       'payment_method', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."customerpaymentmethodid" = "new"."customerpaymentmethodid" AND "p1"."companyid" = "new"."companyid")), 'force', true)
             ORDER BY "new"."companyid", "new"."accountnumber"), '[]')
      FROM (SELECT * FROM "cds"."account" AS "new"
             WHERE coalesce(("new"."relationship_type" = 'customer'), false)
               AND (p_after IS NULL OR ("new"."companyid", "new"."accountnumber") > (CAST(p_after ->> 'companyid' AS uuid), CAST(p_after ->> 'accountnumber' AS character varying(20))))
             ORDER BY "new"."companyid", "new"."accountnumber"
             LIMIT p_limit) AS "new"
$snapshot$;

-- replicator resolve: queue the row of this key as it is now (a delete if it is
-- gone or filtered out), to be written over there whatever that side holds.
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
    INSERT INTO "replicator"."change_queue" (map_name, direction, op, image, refs, forced)
    SELECT 'customers_organization', 'to_left', CASE WHEN v_found THEN 'U' ELSE 'D' END,
           to_jsonb("new"), jsonb_build_object('dataareaid', (SELECT jsonb_build_object('company_code', "p1"."company_code") FROM "cds"."company" AS "p1" WHERE "p1"."companyid" = "new"."companyid"),
       'customer_group', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'group_code', "p1"."group_code") FROM "cds"."customer_group" AS "p1" WHERE "p1"."customergroupid" = "new"."customergroupid" AND "p1"."companyid" = "new"."companyid"),
       'payment_terms', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."payment_term" AS "p1" WHERE "p1"."paymenttermid" = "new"."paymenttermid" AND "p1"."companyid" = "new"."companyid"),
       'payment_method', (SELECT jsonb_build_object('companyid', (SELECT jsonb_build_object('company_code', "p2"."company_code") FROM "cds"."company" AS "p2" WHERE "p2"."companyid" = "p1"."companyid"), 'code', "p1"."code") FROM "cds"."customer_payment_method" AS "p1" WHERE "p1"."customerpaymentmethodid" = "new"."customerpaymentmethodid" AND "p1"."companyid" = "new"."companyid")), true
      FROM (SELECT v_row.*) AS "new";
    PERFORM pg_notify('replicator_wake', '');
END
$resend$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_left/snapshot', '0e4225cc28a9cd711d80e2ecb895eab8bde324b924051eedacf6eb4451f7f02a', $sql$DROP FUNCTION IF EXISTS "replicator"."snapshot_customers_organization_to_left"(jsonb, integer);
DROP FUNCTION IF EXISTS "replicator"."resend_customers_organization_to_left"(jsonb);
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
