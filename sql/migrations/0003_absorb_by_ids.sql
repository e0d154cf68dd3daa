-- Changes cross recorded in their rows' clocks straight from the queue: absorb reads
-- the crossing changes by id, typed, instead of the batch as JSON split by map and
-- parsed again (and, between two servers, built a second time when acknowledged).
-- outgoing_rows is what outgoing sends, as rows; p_map: only that map's.
CREATE OR REPLACE FUNCTION replicator.outgoing_rows(p_direction text, p_ids bigint[],
                                                    p_map text DEFAULT NULL)
RETURNS TABLE (id bigint, map_name text, op text, image jsonb, refs jsonb, before jsonb,
               key jsonb, seen bigint, stamp bigint)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT q.id, q.map_name, q.op, q.image, q.refs, q.before, q.key,
           coalesce(q.seen, (v.clock->''->>s.other)::bigint, 0),
           greatest(max(replicator.commit_stamp(q.xid))
                        OVER (PARTITION BY q.map_name, q.key ORDER BY q.id),
                    (v.clock->''->>s.own_stamp)::bigint)
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
     WHERE q.direction = p_direction AND q.id = ANY (p_ids)
       AND (p_map IS NULL OR q.map_name = p_map)
$$;

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
      FROM replicator.outgoing_rows(p_direction, p_ids) AS c
$$;

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
        PERFORM replicator.absorb_batch(p_direction, v_ids);
        DELETE FROM replicator.change_queue WHERE direction = p_direction AND id = ANY (v_ids);
        failed := replicator.apply_batch(p_direction, v_batch, p_final);
        PERFORM replicator.log_batch(p_direction, taken, failed, 0, v_started);
        PERFORM replicator.caught_up(p_direction);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION replicator.ack_batch(p_direction text, p_ids bigint[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_gone integer;
BEGIN
    PERFORM replicator.absorb_batch(p_direction, p_ids);
    DELETE FROM replicator.change_queue WHERE direction = p_direction AND id = ANY (p_ids);
    GET DIAGNOSTICS v_gone = ROW_COUNT;
    PERFORM replicator.caught_up(p_direction);
    RETURN v_gone;
END
$$;
