-- What a change costs as it crosses, made smaller.
--
-- commit_stamp, inlined where it is called: a SET clause kept the planner from
-- inlining it, and each call then saved and restored search_path (about 3 us a
-- change). A standard-SQL body binds its names when it is created, so it needs no
-- search_path of its own. VOLATILE as pg_xact_commit_timestamp is: a STABLE function
-- is not inlined around a volatile one.
CREATE OR REPLACE FUNCTION replicator.commit_stamp(p_xid xid)
RETURNS bigint
LANGUAGE sql
VOLATILE
RETURN CASE WHEN pg_catalog.current_setting('track_commit_timestamp')::boolean
            THEN (EXTRACT(epoch FROM pg_catalog.pg_xact_commit_timestamp(p_xid)) * 1000000)::bigint END;

-- outgoing reads the crossing changes itself again, as before 0003: the absorb
-- functions, the other readers of outgoing_rows, read the queue directly (they need
-- neither what the other side judges a change by nor a clock per change).
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
DROP FUNCTION IF EXISTS replicator.outgoing_rows(text, bigint[], text);
