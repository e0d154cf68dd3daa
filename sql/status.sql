-- replicator status reads the control schema's status view on each database, and
-- the changes its capture could not queue (replicator.uncaptured, kept where they
-- were captured): how many, and the latest one's reason.
SELECT s.*,
       coalesce(u.uncaptured, 0) AS uncaptured,
       u.uncaptured_reason
  FROM replicator.status AS s
  LEFT JOIN (SELECT DISTINCT ON (map_name, direction)
                    map_name, direction,
                    count(*) OVER (PARTITION BY map_name, direction) AS uncaptured,
                    reason AS uncaptured_reason
               FROM replicator.uncaptured
              ORDER BY map_name, direction, id DESC) AS u
         USING (map_name, direction)
 ORDER BY map_name, direction
