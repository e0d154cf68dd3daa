-- replicator roles for database fno+cds (reached through the left side's connection)
-- Run as a superuser connected to this database, once, and again whenever a map starts
-- using another table (psql -v ON_ERROR_STOP=1 -1 -f this-file); running it again
-- changes nothing. Passwords are not set here: give each login one (\password in
-- psql), or use certificates.
SET LOCAL search_path = pg_catalog, pg_temp;
-- For the fno+cds database only: on any other (a file applied to the wrong database)
-- it stops here, and psql -v ON_ERROR_STOP=1 -1 rolls everything back.
DO $database$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'fno') OR NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'cds') THEN
        RAISE EXCEPTION 'replicator: this file is for the % database (schema %), but psql is connected to database %, which lacks it',
            'fno+cds', 'fno, cds', current_database()
            USING HINT = 'connect to that database: psql -v ON_ERROR_STOP=1 -1 -f FILE DBNAME';
    END IF;
END
$database$;

-- The owner deploys: it owns the replicator's schema, every table and function in it.
-- The runtime role is the applier's login: the control schema, nothing else.
-- Each side's writer (no login) writes that side's mapped tables and nothing else: the
-- apply functions hand it the rows, so an application trigger on a mapped table fires
-- with its rights, never the owner's.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'replicator_owner') THEN
        CREATE ROLE "replicator_owner" LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'replicator_runtime') THEN
        CREATE ROLE "replicator_runtime" LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'replicator_left_writer') THEN
        CREATE ROLE "replicator_left_writer" NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'replicator_right_writer') THEN
        CREATE ROLE "replicator_right_writer" NOLOGIN;
    END IF;
END
$roles$;

CREATE SCHEMA IF NOT EXISTS replicator AUTHORIZATION "replicator_owner";
CREATE SCHEMA IF NOT EXISTS "replicator_write" AUTHORIZATION "replicator_owner";
-- A schema deployed before roles were set: it and everything in it go to the owner (the
-- writers' functions: deploy gives them to their writers again).
DO $own$
DECLARE
    v_statement text;
BEGIN
    FOR v_statement IN
        SELECT format('ALTER SCHEMA %I OWNER TO %I', n.nspname, 'replicator_owner')
          FROM pg_namespace AS n
         WHERE n.nspname IN ('replicator', 'replicator_write')
        UNION ALL
        SELECT format('ALTER %s %s OWNER TO %I',
                      CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END,
                      c.oid::regclass, 'replicator_owner')
          FROM pg_class AS c
         WHERE c.relnamespace = 'replicator'::regnamespace AND c.relkind IN ('r', 'p', 'v')
        UNION ALL
        SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, 'replicator_owner')
          FROM pg_proc AS p
         WHERE p.pronamespace = 'replicator'::regnamespace
    LOOP
        EXECUTE v_statement;
    END LOOP;
END
$own$;
REVOKE ALL ON SCHEMA replicator FROM PUBLIC;
REVOKE ALL ON SCHEMA "replicator_write" FROM PUBLIC;
GRANT USAGE ON SCHEMA replicator TO "replicator_runtime";
-- The apply functions mark their writes with this setting (SET clause); PostgreSQL
-- lets only a superuser, or a role granted it, attach an extension-less setting.
GRANT SET ON PARAMETER replicator.applying TO "replicator_owner";
GRANT USAGE ON SCHEMA "fno" TO "replicator_owner";
GRANT USAGE ON SCHEMA "cds" TO "replicator_owner";

-- The owner's functions read the mapped tables (capture, snapshot, judging conflicts)
-- and its triggers capture them, as the application's roles fire them.
GRANT SELECT, TRIGGER ON "cds"."account" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "cds"."company" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "cds"."contact" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "cds"."customer_group" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "cds"."customer_payment_method" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "cds"."loyalty_card" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "cds"."name_affix" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "cds"."payment_day" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "cds"."payment_day_line" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "cds"."payment_schedule" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "cds"."payment_schedule_line" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "cds"."payment_term" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "fno"."companies" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "fno"."contact_persons" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "fno"."customer_groups" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "fno"."customer_payment_methods" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "fno"."customers" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "fno"."loyalty_cards" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "fno"."name_affixes" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "fno"."payment_day_lines" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "fno"."payment_days" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "fno"."payment_schedule_lines" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "fno"."payment_schedules" TO "replicator_owner";
GRANT SELECT, TRIGGER ON "fno"."payment_terms" TO "replicator_owner";

-- The left side's writer: the owner creates and replaces its functions (as a
-- member), the capture triggers skip its writes (it may use the writers' schema).
GRANT "replicator_left_writer" TO "replicator_owner";
GRANT USAGE ON SCHEMA "replicator_write", "fno" TO "replicator_left_writer";
REVOKE INSERT, UPDATE, DELETE ON "fno"."companies" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "fno"."companies" TO "replicator_left_writer";
REVOKE INSERT, UPDATE, DELETE ON "fno"."contact_persons" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "fno"."contact_persons" TO "replicator_left_writer";
REVOKE INSERT, UPDATE, DELETE ON "fno"."customer_groups" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "fno"."customer_groups" TO "replicator_left_writer";
REVOKE INSERT, UPDATE, DELETE ON "fno"."customer_payment_methods" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "fno"."customer_payment_methods" TO "replicator_left_writer";
REVOKE INSERT, UPDATE, DELETE ON "fno"."customers" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "fno"."customers" TO "replicator_left_writer";
REVOKE INSERT, UPDATE, DELETE ON "fno"."loyalty_cards" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "fno"."loyalty_cards" TO "replicator_left_writer";
REVOKE INSERT, UPDATE, DELETE ON "fno"."name_affixes" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "fno"."name_affixes" TO "replicator_left_writer";
REVOKE INSERT, UPDATE, DELETE ON "fno"."payment_day_lines" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "fno"."payment_day_lines" TO "replicator_left_writer";
REVOKE INSERT, UPDATE, DELETE ON "fno"."payment_days" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "fno"."payment_days" TO "replicator_left_writer";
REVOKE INSERT, UPDATE, DELETE ON "fno"."payment_schedule_lines" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "fno"."payment_schedule_lines" TO "replicator_left_writer";
REVOKE INSERT, UPDATE, DELETE ON "fno"."payment_schedules" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "fno"."payment_schedules" TO "replicator_left_writer";
REVOKE INSERT, UPDATE, DELETE ON "fno"."payment_terms" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "fno"."payment_terms" TO "replicator_left_writer";
-- Serial columns of the tables it writes draw from their sequences.
DO $sequences$
DECLARE
    v_sequence regclass;
BEGIN
    FOR v_sequence IN
        SELECT d.objid::regclass
          FROM pg_depend AS d
          JOIN pg_class AS s ON s.oid = d.objid AND s.relkind = 'S'
         WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'a'
           AND d.refobjid = ANY (ARRAY['"fno"."companies"',
       '"fno"."contact_persons"',
       '"fno"."customer_groups"',
       '"fno"."customer_payment_methods"',
       '"fno"."customers"',
       '"fno"."loyalty_cards"',
       '"fno"."name_affixes"',
       '"fno"."payment_day_lines"',
       '"fno"."payment_days"',
       '"fno"."payment_schedule_lines"',
       '"fno"."payment_schedules"',
       '"fno"."payment_terms"']::regclass[])
    LOOP
        EXECUTE format('GRANT USAGE ON SEQUENCE %s TO %I', v_sequence, 'replicator_left_writer');
    END LOOP;
END
$sequences$;

-- The right side's writer: the owner creates and replaces its functions (as a
-- member), the capture triggers skip its writes (it may use the writers' schema).
GRANT "replicator_right_writer" TO "replicator_owner";
GRANT USAGE ON SCHEMA "replicator_write", "cds" TO "replicator_right_writer";
REVOKE INSERT, UPDATE, DELETE ON "cds"."account" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "cds"."account" TO "replicator_right_writer";
REVOKE INSERT, UPDATE, DELETE ON "cds"."company" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "cds"."company" TO "replicator_right_writer";
REVOKE INSERT, UPDATE, DELETE ON "cds"."contact" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "cds"."contact" TO "replicator_right_writer";
REVOKE INSERT, UPDATE, DELETE ON "cds"."customer_group" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "cds"."customer_group" TO "replicator_right_writer";
REVOKE INSERT, UPDATE, DELETE ON "cds"."customer_payment_method" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "cds"."customer_payment_method" TO "replicator_right_writer";
REVOKE INSERT, UPDATE, DELETE ON "cds"."loyalty_card" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "cds"."loyalty_card" TO "replicator_right_writer";
REVOKE INSERT, UPDATE, DELETE ON "cds"."name_affix" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "cds"."name_affix" TO "replicator_right_writer";
REVOKE INSERT, UPDATE, DELETE ON "cds"."payment_day" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "cds"."payment_day" TO "replicator_right_writer";
REVOKE INSERT, UPDATE, DELETE ON "cds"."payment_day_line" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "cds"."payment_day_line" TO "replicator_right_writer";
REVOKE INSERT, UPDATE, DELETE ON "cds"."payment_schedule" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "cds"."payment_schedule" TO "replicator_right_writer";
REVOKE INSERT, UPDATE, DELETE ON "cds"."payment_schedule_line" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "cds"."payment_schedule_line" TO "replicator_right_writer";
REVOKE INSERT, UPDATE, DELETE ON "cds"."payment_term" FROM "replicator_owner";  -- the writer's now
GRANT SELECT, INSERT, UPDATE, DELETE ON "cds"."payment_term" TO "replicator_right_writer";
-- Serial columns of the tables it writes draw from their sequences.
DO $sequences$
DECLARE
    v_sequence regclass;
BEGIN
    FOR v_sequence IN
        SELECT d.objid::regclass
          FROM pg_depend AS d
          JOIN pg_class AS s ON s.oid = d.objid AND s.relkind = 'S'
         WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'a'
           AND d.refobjid = ANY (ARRAY['"cds"."account"',
       '"cds"."company"',
       '"cds"."contact"',
       '"cds"."customer_group"',
       '"cds"."customer_payment_method"',
       '"cds"."loyalty_card"',
       '"cds"."name_affix"',
       '"cds"."payment_day"',
       '"cds"."payment_day_line"',
       '"cds"."payment_schedule"',
       '"cds"."payment_schedule_line"',
       '"cds"."payment_term"']::regclass[])
    LOOP
        EXECUTE format('GRANT USAGE ON SEQUENCE %s TO %I', v_sequence, 'replicator_right_writer');
    END LOOP;
END
$sequences$;

-- Without WAL capture here, the applier only asks whether a replication origin exists.
GRANT EXECUTE ON FUNCTION pg_replication_origin_oid(text) TO "replicator_owner", "replicator_runtime";
