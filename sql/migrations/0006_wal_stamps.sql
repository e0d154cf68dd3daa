-- WAL capture stamps each change with its own source transaction's commit time.
--
-- The listener queues what one read of the slot finds, many source transactions, in
-- one transaction: one of its own per source transaction cost more than the capture
-- itself under many small writes (four statements and a commit each). The capturing
-- transaction's commit time, which stamps a trigger-captured change, would then stamp
-- every change of the read with the last one's: an earlier change would look newer
-- than a concurrent change of the other side that was in fact newer, and newest_wins
-- would pick the wrong one. So the change carries its source transaction's commit
-- time (null, as commit_stamp, unless track_commit_timestamp is on).

-- stamp: the change's commit time in microseconds, where it is not its capturing
-- transaction's (WAL capture); null: commit_stamp(xid).
ALTER TABLE replicator.change_queue ADD COLUMN IF NOT EXISTS stamp bigint;

-- As in 0004, with the change's own stamp first.
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
             WHERE q.direction = p_direction AND q.id = ANY (p_ids)) AS c
$$;
