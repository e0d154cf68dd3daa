-- A batch of a few changes crosses on plans made once, from the first statement to the
-- last.
--
-- The apply functions have planned a batch of up to 16 changes with generic plans,
-- made once per session; the functions around them did not. apply_queued and
-- apply_remote planned each of their statements anew at every call
-- (force_custom_plan, which large batches need), runnable_ids too (it ran under that
-- mode), and outgoing, caught_up and log_batch, SQL functions with a SET clause, were
-- parsed and planned anew at every call. At 100 commits/s a batch is one change: that
-- was about a third of its time, and a commit arriving meanwhile waited for it. They
-- are plpgsql now (their plans kept for the session), and each batch of up to 16
-- changes runs them on generic plans; a larger one is still planned for its size.
-- clean_crossings has a standard-SQL body, inlined where it is called.
-- plan_for_batch decides by the batch's size, for these functions and for the
-- generated ones (replicator/sqlgen/plans.py), which spelled the same test out.

-- For the top of a function with SET plan_cache_mode = force_custom_plan: a batch of
-- up to 16 changes runs on generic plans (made once per session), a larger one is
-- planned for its size (a plan made for one change, which plpgsql keeps after a few
-- calls, made large batches several times slower). The function's SET restores the
-- mode when it returns. No SET clause here, which would restore it when this one
-- returns: a standard-SQL body binds its names when it is created, under the
-- deploying session's pinned search_path (as commit_stamp, 0004). Returns the mode.
CREATE OR REPLACE FUNCTION replicator.plan_for_batch(p_changes integer)
RETURNS text
LANGUAGE sql
VOLATILE
RETURN pg_catalog.set_config('plan_cache_mode',
                             CASE WHEN p_changes <= 16 THEN 'force_generic_plan'
                                  ELSE 'force_custom_plan' END, true);

-- The oldest changes of a direction whose maps may apply: one plan for any number.
CREATE OR REPLACE FUNCTION replicator.runnable_ids(p_direction text, p_limit integer)
RETURNS bigint[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = auto
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

-- As in 0006, in plpgsql.
CREATE OR REPLACE FUNCTION replicator.outgoing(p_direction text, p_ids bigint[])
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', c.id, 'map', c.map_name, 'op', c.op, 'image', c.image, 'refs', c.refs,
               'before', c.before, 'key', c.key, 'seen', c.seen, 'stamp', c.stamp)
             ORDER BY c.id), '[]')
      FROM (SELECT q.id, q.map_name, q.op, q.image, q.refs, q.before, q.key,
                   coalesce(q.seen, (v.clock->''->>s.other)::bigint, 0) AS seen,
                   greatest(max(coalesce(q.stamp, replicator.commit_stamp(q.xid)))
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
             WHERE q.direction = p_direction AND q.id = ANY (p_ids)) AS c);
END
$$;

CREATE OR REPLACE FUNCTION replicator.caught_up(p_direction text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    WITH done AS (
        UPDATE replicator.map_state AS s
           SET state = 'running', state_since = now(), state_reason = 'backlog applied'
         WHERE s.direction = p_direction AND s.state = 'catching_up'
           AND NOT EXISTS (SELECT 1 FROM replicator.change_queue AS q
                            WHERE q.direction = p_direction AND q.map_name = s.map_name)
        RETURNING s.map_name
    )
    INSERT INTO replicator.activity_log (kind, map_name, direction, message)
    SELECT 'state', map_name, p_direction, 'catching_up → running: backlog applied' FROM done;
END
$$;

CREATE OR REPLACE FUNCTION replicator.log_batch(p_direction text, p_taken integer, p_failed integer,
                                                p_skipped integer, p_started timestamptz)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO replicator.activity_log (kind, direction, message, detail)
    VALUES ('batch', p_direction,
            format('applied %s, failed %s, skipped %s', p_taken - p_failed - p_skipped, p_failed, p_skipped),
            jsonb_build_object('taken', p_taken, 'failed', p_failed, 'skipped', p_skipped,
                               'ms', round(extract(epoch FROM clock_timestamp() - p_started) * 1000, 1)));
END
$$;

CREATE OR REPLACE FUNCTION replicator.clean_crossings()
RETURNS bigint[]
LANGUAGE sql
STABLE
RETURN coalesce(pg_catalog.string_to_array(
                    nullif(pg_catalog.current_setting('replicator.clean_crossings', true), ''),
                    ',')::bigint[],
                '{}');

-- As in 0005, small batches on generic plans.
CREATE OR REPLACE FUNCTION replicator.apply_queued(p_direction text, p_limit integer,
                                                   p_final boolean DEFAULT false,
                                                   OUT taken integer, OUT failed integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
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
        PERFORM replicator.plan_for_batch(taken);
        v_batch := replicator.outgoing(p_direction, v_ids);
        PERFORM set_config('replicator.clean_crossings', '', true);
        failed := replicator.apply_batch(p_direction, v_batch, p_final);
        -- Absorbed before they leave the queue: the absorb functions read them there.
        PERFORM replicator.absorb_unclean(p_direction, v_ids, replicator.clean_crossings());
        DELETE FROM replicator.change_queue WHERE direction = p_direction AND id = ANY (v_ids);
        PERFORM replicator.log_batch(p_direction, taken, failed, 0, v_started);
        PERFORM replicator.caught_up(p_direction);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION replicator.apply_remote(p_direction text, p_batch jsonb,
                                                   p_final boolean DEFAULT false,
                                                   OUT applied integer, OUT failed integer,
                                                   OUT skipped integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    v_done bigint[];
    v_fresh jsonb;
    v_started timestamptz := clock_timestamp();
BEGIN
    PERFORM replicator.plan_for_batch(jsonb_array_length(p_batch));
    SELECT change_ids INTO v_done FROM replicator.applied_batch
     WHERE direction = p_direction FOR UPDATE;
    SELECT coalesce(jsonb_agg(c.value ORDER BY (c.value->>'id')::bigint), '[]'), count(*)
      INTO v_fresh, applied
      FROM jsonb_array_elements(p_batch) AS c
     WHERE NOT ((c.value->>'id')::bigint = ANY (coalesce(v_done, '{}')));
    skipped := jsonb_array_length(p_batch) - applied;
    failed := 0;
    PERFORM set_config('replicator.clean_crossings', '', true);
    IF applied > 0 THEN
        failed := replicator.apply_batch(p_direction, v_fresh, p_final);
    END IF;
    applied := applied - failed;
    PERFORM replicator.log_batch(p_direction, applied + failed + skipped, failed, skipped, v_started);
    INSERT INTO replicator.applied_batch (direction, change_ids, clean_ids)
    SELECT p_direction, coalesce(array_agg((c.value->>'id')::bigint), '{}'),
           replicator.clean_crossings()
      FROM jsonb_array_elements(p_batch) AS c
    ON CONFLICT (direction) DO UPDATE
       SET change_ids = EXCLUDED.change_ids, clean_ids = EXCLUDED.clean_ids, applied_at = now();
END
$$;

-- As in 0001, the batch read on generic plans when small.
CREATE OR REPLACE FUNCTION replicator.peek_batch(p_direction text, p_limit integer,
                                                 OUT ids bigint[], OUT batch jsonb)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    ids := ARRAY(SELECT unnest(replicator.runnable_ids(p_direction, p_limit)) ORDER BY 1);
    PERFORM replicator.plan_for_batch(cardinality(ids));
    batch := replicator.outgoing(p_direction, ids);
END
$$;
