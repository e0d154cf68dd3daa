-- Per map and direction as this database sees it: state and applied figures
-- (meaningful where the direction's target lives), queued changes and their
-- age (where its source lives), changes held for a parent that has not arrived
-- and errors logged in the last hour and in all (where its target lives).
SELECT s.map_name,
       s.direction,
       s.state,
       s.applied_total,
       s.last_applied_at,
       coalesce(q.queued, 0)                    AS queued,
       q.oldest_captured_at,
       coalesce(h.held, 0)                      AS held,
       coalesce(e.errors, 0)                    AS errors,
       coalesce(e.errors_last_hour, 0)          AS errors_last_hour
  FROM replicator.map_state AS s
  LEFT JOIN (SELECT map_name, direction, count(*) AS queued, min(captured_at) AS oldest_captured_at
               FROM replicator.change_queue GROUP BY map_name, direction) AS q
         USING (map_name, direction)
  LEFT JOIN (SELECT map_name, direction, count(*) AS held
               FROM replicator.held_change GROUP BY map_name, direction) AS h
         USING (map_name, direction)
  LEFT JOIN (SELECT map_name, direction, count(*) AS errors,
                    count(*) FILTER (WHERE logged_at > now() - interval '1 hour') AS errors_last_hour
               FROM replicator.error_log GROUP BY map_name, direction) AS e
         USING (map_name, direction)
 ORDER BY s.map_name, s.direction
