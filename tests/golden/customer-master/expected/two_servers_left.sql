-- replicator plan for database fno (reached through the left side's connection)
-- bundle e59831f1b43df3e68d78a452c327a288198b768cd82f5f42e892ec03eaa3ae6c: 11 to create, 0 to replace, 0 to drop
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
    op          text        NOT NULL CHECK (op IN ('I', 'U', 'D')),
    image       jsonb       NOT NULL,
    captured_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (direction, id)
) WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);

-- Per map and direction: its state and what the applier did last.
CREATE TABLE IF NOT EXISTS replicator.map_state (
    map_name        text        NOT NULL,
    direction       text        NOT NULL CHECK (direction IN ('to_right', 'to_left')),
    state           text        NOT NULL DEFAULT 'running'
                                CHECK (state IN ('running', 'paused', 'catching_up', 'stopped', 'failed')),
    applied_total   bigint      NOT NULL DEFAULT 0,
    last_applied_at timestamptz,
    PRIMARY KEY (map_name, direction)
);

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

-- Two servers: the ids of the last batch applied here from the other side,
-- written in the same transaction as the batch, so a replay after a crash
-- between this commit and the source's dequeue skips them.
CREATE TABLE IF NOT EXISTS replicator.applied_batch (
    direction  text        PRIMARY KEY CHECK (direction IN ('to_right', 'to_left')),
    change_ids bigint[]    NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
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
BEGIN
    WITH batch AS (
        DELETE FROM replicator.change_queue AS q
         WHERE q.direction = p_direction
           -- An array, not IN (subquery): the plan plpgsql caches after a few
           -- calls must stay a primary-key lookup however long the queue grows.
           AND q.id = ANY (ARRAY(SELECT id FROM replicator.change_queue
                                  WHERE direction = p_direction
                                  ORDER BY id LIMIT p_limit
                                    FOR UPDATE SKIP LOCKED))
        RETURNING q.id, q.map_name, q.op, q.image
    )
    SELECT jsonb_agg(jsonb_build_object('id', id, 'map', map_name, 'op', op, 'image', image)
                     ORDER BY id),
           count(*)
      INTO v_batch, taken
      FROM batch;
    failed := 0;
    IF taken > 0 THEN
        failed := replicator.apply_batch(p_direction, v_batch);
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
           coalesce(jsonb_agg(jsonb_build_object('id', id, 'map', map_name, 'op', op, 'image', image)
                              ORDER BY id), '[]')
      FROM (SELECT id, map_name, op, image FROM replicator.change_queue
             WHERE direction = p_direction ORDER BY id LIMIT p_limit) AS oldest
$$;

-- Two servers, source side: forget changes the target has durably applied.
CREATE OR REPLACE FUNCTION replicator.ack_batch(p_direction text, p_ids bigint[])
RETURNS integer
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    WITH gone AS (
        DELETE FROM replicator.change_queue WHERE direction = p_direction AND id = ANY (p_ids)
        RETURNING 1
    )
    SELECT count(*)::integer FROM gone
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
    INSERT INTO replicator.applied_batch (direction, change_ids)
    SELECT p_direction, coalesce(array_agg((c.value->>'id')::bigint), '{}')
      FROM jsonb_array_elements(p_batch) AS c
    ON CONFLICT (direction) DO UPDATE
       SET change_ids = EXCLUDED.change_ids, applied_at = now();
END
$$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('control', '8d5a7e421b0f434bf7d6836aedc81e858d8baba6871a83a438b65eff5e9eb3b9', '')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_groups/to_left/apply ====
-- Map 'customer_groups', 'to_left': write a batch of captured changes into "fno"."customer_groups".
-- One statement per batch: the newest change per key wins; deletes and upserts together.
-- plpgsql rather than sql: it keeps the statement's plan for the session.
CREATE OR REPLACE FUNCTION "replicator"."write_customer_groups_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
WITH latest AS (
    SELECT DISTINCT ON ("k"."company_code", "k"."group_code") c.op, c.image
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "company_code" character varying(4),
       "group_code" character varying(10))
     ORDER BY "k"."company_code", "k"."group_code", c.id DESC
), removed AS (
    DELETE FROM "fno"."customer_groups" AS t
     USING latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "company_code" character varying(4),
       "group_code" character varying(10))
     WHERE l.op = 'D'
       AND "t"."dataareaid" = "s"."company_code" AND "t"."customer_group" = "s"."group_code"
)
INSERT INTO "fno"."customer_groups" AS t ("dataareaid", "customer_group", "description")
SELECT "s"."company_code",
       "s"."group_code",
       "s"."name"
  FROM latest AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "company_code" character varying(4),
       "group_code" character varying(10),
       "name" character varying(60))
 WHERE l.op <> 'D'
    ON CONFLICT ("dataareaid", "customer_group") DO UPDATE
   SET "description" = EXCLUDED."description"
 WHERE ("t"."description") IS DISTINCT FROM (EXCLUDED."description")
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply.
CREATE OR REPLACE FUNCTION "replicator"."apply_customer_groups_to_left"(p_changes jsonb)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    BEGIN
        PERFORM "replicator"."write_customer_groups_to_left"(p_changes);
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
            PERFORM "replicator"."write_customer_groups_to_left"(jsonb_build_array(v_change));
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                INSERT INTO "replicator"."error_log"
                       (map_name, direction, change_id, op, key, image, sqlstate, message, detail)
                VALUES ('customer_groups', 'to_left', (v_change->>'id')::bigint, v_change->>'op',
                        jsonb_build_object('company_code', v_change->'image'->'company_code', 'group_code', v_change->'image'->'group_code'), v_change->'image', v_sqlstate, v_message, NULLIF(v_detail, ''));
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_left/apply', '2aa16681c53ee3df6b4005eca40f252a7c354963525619e70322aa85a7c260f7', 'DROP FUNCTION IF EXISTS "replicator"."apply_customer_groups_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator"."write_customer_groups_to_left"(jsonb);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_person/to_left/apply ====
-- Map 'customers_person', 'to_left': write a batch of captured changes into "fno"."customers".
-- One statement per batch: the newest change per key wins; deletes and upserts together.
-- plpgsql rather than sql: it keeps the statement's plan for the session.
CREATE OR REPLACE FUNCTION "replicator"."write_customers_person_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
WITH latest AS (
    SELECT DISTINCT ON ("k"."company_code", "k"."customer_number") c.op, c.image
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "company_code" character varying(4),
       "customer_number" character varying(20))
     ORDER BY "k"."company_code", "k"."customer_number", c.id DESC
), removed AS (
    DELETE FROM "fno"."customers" AS t
     USING latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "company_code" character varying(4),
       "customer_number" character varying(20))
     WHERE l.op = 'D'
       AND "t"."dataareaid" = "s"."company_code" AND "t"."account_num" = "s"."customer_number"
)
INSERT INTO "fno"."customers" AS t ("dataareaid", "account_num", "name", "email", "party_type")
SELECT "s"."company_code",
       "s"."customer_number",
       "s"."fullname",
       "s"."emailaddress1",
       CAST('Person' AS "fno"."party_type")
  FROM latest AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "company_code" character varying(4),
       "customer_number" character varying(20),
       "fullname" character varying(100),
       "emailaddress1" character varying(80))
 WHERE l.op <> 'D'
    ON CONFLICT ("dataareaid", "account_num") DO UPDATE
   SET "name" = EXCLUDED."name",
       "email" = EXCLUDED."email",
       "party_type" = EXCLUDED."party_type"
 WHERE ("t"."name", "t"."email", "t"."party_type") IS DISTINCT FROM (EXCLUDED."name", EXCLUDED."email", EXCLUDED."party_type")
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply.
CREATE OR REPLACE FUNCTION "replicator"."apply_customers_person_to_left"(p_changes jsonb)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    BEGIN
        PERFORM "replicator"."write_customers_person_to_left"(p_changes);
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
            PERFORM "replicator"."write_customers_person_to_left"(jsonb_build_array(v_change));
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                INSERT INTO "replicator"."error_log"
                       (map_name, direction, change_id, op, key, image, sqlstate, message, detail)
                VALUES ('customers_person', 'to_left', (v_change->>'id')::bigint, v_change->>'op',
                        jsonb_build_object('company_code', v_change->'image'->'company_code', 'customer_number', v_change->'image'->'customer_number'), v_change->'image', v_sqlstate, v_message, NULLIF(v_detail, ''));
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_left/apply', '37469ce6e86d40b561e469ddfec3f2f1cbe742e0a7d01a3612fd86df9ca44b5b', 'DROP FUNCTION IF EXISTS "replicator"."apply_customers_person_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator"."write_customers_person_to_left"(jsonb);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_terms/to_left/apply ====
-- Map 'payment_terms', 'to_left': write a batch of captured changes into "fno"."payment_terms".
-- One statement per batch: the newest change per key wins; deletes and upserts together.
-- plpgsql rather than sql: it keeps the statement's plan for the session.
CREATE OR REPLACE FUNCTION "replicator"."write_payment_terms_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
WITH latest AS (
    SELECT DISTINCT ON ("k"."company_code", "k"."code") c.op, c.image
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "company_code" character varying(4),
       "code" character varying(10))
     ORDER BY "k"."company_code", "k"."code", c.id DESC
), removed AS (
    DELETE FROM "fno"."payment_terms" AS t
     USING latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "company_code" character varying(4),
       "code" character varying(10))
     WHERE l.op = 'D'
       AND "t"."dataareaid" = "s"."company_code" AND "t"."payment_term_id" = "s"."code"
)
INSERT INTO "fno"."payment_terms" AS t ("dataareaid", "payment_term_id", "description", "net_days")
SELECT "s"."company_code",
       "s"."code",
       "s"."name",
       "s"."due_days"
  FROM latest AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "company_code" character varying(4),
       "code" character varying(10),
       "name" character varying(60),
       "due_days" integer)
 WHERE l.op <> 'D'
    ON CONFLICT ("dataareaid", "payment_term_id") DO UPDATE
   SET "description" = EXCLUDED."description",
       "net_days" = EXCLUDED."net_days"
 WHERE ("t"."description", "t"."net_days") IS DISTINCT FROM (EXCLUDED."description", EXCLUDED."net_days")
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply.
CREATE OR REPLACE FUNCTION "replicator"."apply_payment_terms_to_left"(p_changes jsonb)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    BEGIN
        PERFORM "replicator"."write_payment_terms_to_left"(p_changes);
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
            PERFORM "replicator"."write_payment_terms_to_left"(jsonb_build_array(v_change));
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                INSERT INTO "replicator"."error_log"
                       (map_name, direction, change_id, op, key, image, sqlstate, message, detail)
                VALUES ('payment_terms', 'to_left', (v_change->>'id')::bigint, v_change->>'op',
                        jsonb_build_object('company_code', v_change->'image'->'company_code', 'code', v_change->'image'->'code'), v_change->'image', v_sqlstate, v_message, NULLIF(v_detail, ''));
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_left/apply', '6acd51a730a0e9a6f7c68a9cd2417d621956dbdbf08e1077b7e517191c028e40', 'DROP FUNCTION IF EXISTS "replicator"."apply_payment_terms_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator"."write_payment_terms_to_left"(jsonb);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_organization/to_left/apply ====
-- Map 'customers_organization', 'to_left': write a batch of captured changes into "fno"."customers".
-- One statement per batch: the newest change per key wins; deletes and upserts together.
-- plpgsql rather than sql: it keeps the statement's plan for the session.
CREATE OR REPLACE FUNCTION "replicator"."write_customers_organization_to_left"(p_changes jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET replicator.applying = 'on'
AS $write$
BEGIN
WITH latest AS (
    SELECT DISTINCT ON ("k"."company_code", "k"."accountnumber") c.op, c.image
      FROM jsonb_to_recordset(p_changes) AS c(id bigint, op text, image jsonb)
     CROSS JOIN LATERAL jsonb_to_record(c.image) AS k(
       "company_code" character varying(4),
       "accountnumber" character varying(20))
     ORDER BY "k"."company_code", "k"."accountnumber", c.id DESC
), removed AS (
    DELETE FROM "fno"."customers" AS t
     USING latest AS l
     CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "company_code" character varying(4),
       "accountnumber" character varying(20))
     WHERE l.op = 'D'
       AND "t"."dataareaid" = "s"."company_code" AND "t"."account_num" = "s"."accountnumber"
)
INSERT INTO "fno"."customers" AS t ("dataareaid", "account_num", "name", "customer_group", "payment_terms", "email", "blocked", "party_type")
SELECT "s"."company_code",
       "s"."accountnumber",
       "s"."name",
       "s"."customer_group_code",
       "s"."payment_terms_code",
       "s"."emailaddress1",
       CAST(CASE WHEN "s"."credit_hold" IS NULL THEN NULL WHEN "s"."credit_hold"::text = 'none' THEN 'No' WHEN "s"."credit_hold"::text = 'invoice_hold' THEN 'Invoice' WHEN "s"."credit_hold"::text = 'full_hold' THEN 'All' ELSE "replicator"."unmapped_value"('customers_organization', 'blocked', "s"."credit_hold"::text) END AS character varying(10)),
       CAST('Organization' AS "fno"."party_type")
  FROM latest AS l
 CROSS JOIN LATERAL jsonb_to_record(l.image) AS s(
       "company_code" character varying(4),
       "accountnumber" character varying(20),
       "name" character varying(100),
       "customer_group_code" character varying(10),
       "payment_terms_code" character varying(10),
       "emailaddress1" character varying(80),
       "credit_hold" text)
 WHERE l.op <> 'D'
    ON CONFLICT ("dataareaid", "account_num") DO UPDATE
   SET "name" = EXCLUDED."name",
       "customer_group" = EXCLUDED."customer_group",
       "payment_terms" = EXCLUDED."payment_terms",
       "email" = EXCLUDED."email",
       "blocked" = EXCLUDED."blocked",
       "party_type" = EXCLUDED."party_type"
 WHERE ("t"."name", "t"."customer_group", "t"."payment_terms", "t"."email", "t"."blocked", "t"."party_type") IS DISTINCT FROM (EXCLUDED."name", EXCLUDED."customer_group", EXCLUDED."payment_terms", EXCLUDED."email", EXCLUDED."blocked", EXCLUDED."party_type")
;
END
$write$;

-- The queued path: the whole batch at once; if that fails, one change at a time
-- so a bad change goes to the error log and its neighbours still apply.
CREATE OR REPLACE FUNCTION "replicator"."apply_customers_organization_to_left"(p_changes jsonb)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $apply$
DECLARE
    v_change jsonb;
    v_failed integer := 0;
    v_sqlstate text;
    v_message text;
    v_detail text;
BEGIN
    BEGIN
        PERFORM "replicator"."write_customers_organization_to_left"(p_changes);
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
            PERFORM "replicator"."write_customers_organization_to_left"(jsonb_build_array(v_change));
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected OR lock_not_available OR query_canceled THEN
                RAISE;
            WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_sqlstate = RETURNED_SQLSTATE,
                                        v_message = MESSAGE_TEXT,
                                        v_detail = PG_EXCEPTION_DETAIL;
                INSERT INTO "replicator"."error_log"
                       (map_name, direction, change_id, op, key, image, sqlstate, message, detail)
                VALUES ('customers_organization', 'to_left', (v_change->>'id')::bigint, v_change->>'op',
                        jsonb_build_object('company_code', v_change->'image'->'company_code', 'accountnumber', v_change->'image'->'accountnumber'), v_change->'image', v_sqlstate, v_message, NULLIF(v_detail, ''));
                v_failed := v_failed + 1;
        END;
    END LOOP;
    RETURN v_failed;
END
$apply$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_left/apply', '83d2158acdc20bb1a1a6635bc83f9304b9f4cd69585360a25e917db404851a6c', 'DROP FUNCTION IF EXISTS "replicator"."apply_customers_organization_to_left"(jsonb);
DROP FUNCTION IF EXISTS "replicator"."write_customers_organization_to_left"(jsonb);
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create dispatch ====
-- Hands each change of a batch to the apply function of its map, maps in file order.
CREATE OR REPLACE FUNCTION "replicator"."apply_batch"(p_direction text, p_batch jsonb)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $dispatch$
DECLARE
    v_changes jsonb;
    v_count integer;
    v_map_failed integer;
    v_failed integer := 0;
BEGIN
    IF p_direction = 'to_left' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customer_groups';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customer_groups_to_left"(v_changes);
            v_failed := v_failed + v_map_failed;
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed,
                   last_applied_at = now()
             WHERE map_name = 'customer_groups' AND direction = 'to_left';
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customers_person';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customers_person_to_left"(v_changes);
            v_failed := v_failed + v_map_failed;
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed,
                   last_applied_at = now()
             WHERE map_name = 'customers_person' AND direction = 'to_left';
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'payment_terms';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_payment_terms_to_left"(v_changes);
            v_failed := v_failed + v_map_failed;
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed,
                   last_applied_at = now()
             WHERE map_name = 'payment_terms' AND direction = 'to_left';
        END IF;
    END IF;
    IF p_direction = 'to_left' THEN
        SELECT jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), count(*)
          INTO v_changes, v_count
          FROM jsonb_array_elements(p_batch) AS c
         WHERE c.value->>'map' = 'customers_organization';
        IF v_count > 0 THEN
            v_map_failed := "replicator"."apply_customers_organization_to_left"(v_changes);
            v_failed := v_failed + v_map_failed;
            UPDATE "replicator"."map_state"
               SET applied_total = applied_total + v_count - v_map_failed,
                   last_applied_at = now()
             WHERE map_name = 'customers_organization' AND direction = 'to_left';
        END IF;
    END IF;
    -- A change for a map this database does not know goes to the error log, never away.
    INSERT INTO "replicator"."error_log" (map_name, direction, change_id, op, key, image, sqlstate, message)
    SELECT c.value->>'map', p_direction, (c.value->>'id')::bigint, c.value->>'op', '{}'::jsonb,
           c.value->'image', '42704', 'no map of this name is deployed for this direction'
      FROM jsonb_array_elements(p_batch) AS c
     WHERE NOT ((c.value->>'map') || '/' || p_direction = ANY (ARRAY['customer_groups/to_left', 'customers_person/to_left', 'payment_terms/to_left', 'customers_organization/to_left']::text[]));
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_failed + v_count;
END
$dispatch$;
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('dispatch', '4cd301806f05f0712df30d72d783e8f11709cea57b2b77e76b98ae7c46f029d7', '')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customer_groups/to_right/capture ====
-- Map 'customer_groups', 'to_right': capture changes of "fno"."customer_groups".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_customer_groups_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
BEGIN
    -- The replicator's own writes are never captured again (loop safety).
    IF current_setting('replicator.applying', true) = 'on' THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('customer_groups', 'to_right', 'D', to_jsonb(OLD));
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('customer_groups', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_right"
AFTER INSERT OR DELETE ON "fno"."customer_groups"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_customer_groups_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customer_groups_to_right_upd"
AFTER UPDATE ON "fno"."customer_groups"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."customer_group", "old"."description") IS DISTINCT FROM ("new"."dataareaid", "new"."customer_group", "new"."description"))
EXECUTE FUNCTION "replicator"."capture_customer_groups_to_right"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customer_groups/to_right/capture', '022e34d8d8e1a429310a6672f7e747684b917d0a2d0b4f8bbcd6b57ecb3b1bc1', '-- Removing map ''customer_groups'' (''to_right'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''customer_groups'' AND direction = ''to_right'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''customer_groups'', ''to_right'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_customer_groups_to_right"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_person/to_right/capture ====
-- Map 'customers_person', 'to_right': capture changes of "fno"."customers".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_customers_person_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
BEGIN
    -- The replicator's own writes are never captured again (loop safety).
    IF current_setting('replicator.applying', true) = 'on' THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('customers_person', 'to_right', 'D', to_jsonb(OLD));
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('customers_person', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_customers_person_to_right"
AFTER INSERT OR DELETE ON "fno"."customers"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_customers_person_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customers_person_to_right_upd"
AFTER UPDATE ON "fno"."customers"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."account_num", "old"."name", "old"."email", "old"."party_type") IS DISTINCT FROM ("new"."dataareaid", "new"."account_num", "new"."name", "new"."email", "new"."party_type"))
EXECUTE FUNCTION "replicator"."capture_customers_person_to_right"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_person/to_right/capture', 'a728340ad0949b49e071a9ab313e84f940edc7f825851e765b6c9b5c32145e26', '-- Removing map ''customers_person'' (''to_right'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''customers_person'' AND direction = ''to_right'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''customers_person'', ''to_right'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_customers_person_to_right"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/payment_terms/to_right/capture ====
-- Map 'payment_terms', 'to_right': capture changes of "fno"."payment_terms".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_payment_terms_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
BEGIN
    -- The replicator's own writes are never captured again (loop safety).
    IF current_setting('replicator.applying', true) = 'on' THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('payment_terms', 'to_right', 'D', to_jsonb(OLD));
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('payment_terms', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_right"
AFTER INSERT OR DELETE ON "fno"."payment_terms"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_payment_terms_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_payment_terms_to_right_upd"
AFTER UPDATE ON "fno"."payment_terms"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."payment_term_id", "old"."description", "old"."net_days") IS DISTINCT FROM ("new"."dataareaid", "new"."payment_term_id", "new"."description", "new"."net_days"))
EXECUTE FUNCTION "replicator"."capture_payment_terms_to_right"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/payment_terms/to_right/capture', '942c26013531b173d417ee42d129f37ff9fb6668a08844facc2b18c1d025d25b', '-- Removing map ''payment_terms'' (''to_right'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''payment_terms'' AND direction = ''to_right'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''payment_terms'', ''to_right'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_payment_terms_to_right"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create map/customers_organization/to_right/capture ====
-- Map 'customers_organization', 'to_right': capture changes of "fno"."customers".
-- A row counts while it matches the filter: entering it is an insert, leaving it a delete.
CREATE OR REPLACE FUNCTION "replicator"."capture_customers_organization_to_right"()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $capture$
DECLARE
    v_old_in boolean := false;
    v_new_in boolean := false;
    v_same_key boolean := false;
BEGIN
    -- The replicator's own writes are never captured again (loop safety).
    IF current_setting('replicator.applying', true) = 'on' THEN
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
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('customers_organization', 'to_right', 'D', to_jsonb(OLD));
    END IF;
    IF v_new_in THEN
        INSERT INTO "replicator"."change_queue" (map_name, direction, op, image)
        VALUES ('customers_organization', 'to_right', CASE WHEN v_old_in AND v_same_key THEN 'U' ELSE 'I' END,
                to_jsonb(NEW));
    END IF;
    -- Wake the applier only if it sleeps (it then holds this lock exclusively):
    -- a NOTIFY on every commit would serialise the writers' commits.
    IF (v_old_in OR v_new_in) AND NOT pg_try_advisory_xact_lock_shared(7501166, 1) THEN
        PERFORM pg_notify('replicator_wake', '');
    END IF;
    RETURN NULL;
END
$capture$;

CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_right"
AFTER INSERT OR DELETE ON "fno"."customers"
FOR EACH ROW EXECUTE FUNCTION "replicator"."capture_customers_organization_to_right"();

-- Updates that touch no mapped or filtered column are not captured at all.
CREATE OR REPLACE TRIGGER "replicator_customers_organization_to_right_upd"
AFTER UPDATE ON "fno"."customers"
FOR EACH ROW
WHEN (("old"."dataareaid", "old"."account_num", "old"."name", "old"."customer_group", "old"."payment_terms", "old"."email", "old"."credit_limit", "old"."blocked", "old"."party_type") IS DISTINCT FROM ("new"."dataareaid", "new"."account_num", "new"."name", "new"."customer_group", "new"."payment_terms", "new"."email", "new"."credit_limit", "new"."blocked", "new"."party_type"))
EXECUTE FUNCTION "replicator"."capture_customers_organization_to_right"();
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('map/customers_organization/to_right/capture', '994b748af40049f8a95f469b22137eb07c6a66ee0d11e0013627f2df18d981c5', '-- Removing map ''customers_organization'' (''to_right'') must not throw away changes still queued for it.
DO $guard$
DECLARE
    v_queued bigint;
BEGIN
    SELECT count(*) INTO v_queued FROM "replicator"."change_queue"
     WHERE map_name = ''customers_organization'' AND direction = ''to_right'';
    IF v_queued > 0 THEN
        RAISE EXCEPTION ''replicator: map % (%) still has % queued changes; run the applier until they are applied, then deploy again'',
            ''customers_organization'', ''to_right'', v_queued
            USING ERRCODE = ''object_in_use'';
    END IF;
END
$guard$;
DROP FUNCTION IF EXISTS "replicator"."capture_customers_organization_to_right"() CASCADE;
')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

-- ==== create registry ====
-- The maps and directions this database takes part in.
INSERT INTO "replicator"."map_state" (map_name, direction)
VALUES ('customer_groups', 'to_right'), ('customer_groups', 'to_left'), ('customers_person', 'to_right'), ('customers_person', 'to_left'), ('payment_terms', 'to_right'), ('payment_terms', 'to_left'), ('customers_organization', 'to_right'), ('customers_organization', 'to_left')
ON CONFLICT (map_name, direction) DO NOTHING;
DELETE FROM "replicator"."map_state"
 WHERE (map_name, direction) NOT IN (VALUES ('customer_groups', 'to_right'), ('customer_groups', 'to_left'), ('customers_person', 'to_right'), ('customers_person', 'to_left'), ('payment_terms', 'to_right'), ('payment_terms', 'to_left'), ('customers_organization', 'to_right'), ('customers_organization', 'to_left'));
INSERT INTO replicator.deployed_artifact (name, sha256, drop_sql)
VALUES ('registry', 'f6833ea98c4f6f2cd2e686dce98c99f687d108d08ea7f33c06721471427891e8', '')
ON CONFLICT (name) DO UPDATE
   SET sha256 = EXCLUDED.sha256, drop_sql = EXCLUDED.drop_sql, deployed_at = now();

INSERT INTO replicator.deployment (bundle_sha256) VALUES ('e59831f1b43df3e68d78a452c327a288198b768cd82f5f42e892ec03eaa3ae6c');
