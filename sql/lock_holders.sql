-- Who holds locks a deploy may have waited for, in this database: other sessions'
-- locks on the tables of the given schemas (the mapped tables and the replicator's
-- own), and the deploy lock of another deploy. One row per session and table, with
-- its strongest lock; strongest first. state is null for another role's session
-- unless this role may read all statistics (pg_read_all_stats).
SELECT locked, mode, pid, role_name, application_name, state, seconds
  FROM (SELECT DISTINCT ON (l.pid, n.nspname, c.relname)
               CASE WHEN l.locktype = 'relation' THEN n.nspname || '.' || c.relname END AS locked,
               l.mode,
               l.pid,
               a.usename                                                 AS role_name,
               a.application_name,
               a.state,
               extract(epoch FROM now() - coalesce(a.state_change, a.backend_start))::bigint
                                                                         AS seconds,
               array_position(ARRAY['AccessShareLock', 'RowShareLock', 'RowExclusiveLock',
                                    'ShareUpdateExclusiveLock', 'ShareLock',
                                    'ShareRowExclusiveLock', 'ExclusiveLock',
                                    'AccessExclusiveLock'], l.mode)      AS strength
          FROM pg_locks AS l
          JOIN pg_stat_activity AS a ON a.pid = l.pid
          LEFT JOIN pg_class AS c ON l.locktype = 'relation' AND c.oid = l.relation
          LEFT JOIN pg_namespace AS n ON n.oid = c.relnamespace
         WHERE l.granted
           AND l.pid <> pg_backend_pid()
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND ((l.locktype = 'relation' AND c.relkind IN ('r', 'p')
                 AND n.nspname = ANY (%(schemas)s::text[]))
                OR (l.locktype = 'advisory' AND l.classid = %(deploy_1)s::oid
                    AND l.objid = %(deploy_2)s::oid AND l.objsubid = 2))
         ORDER BY l.pid, n.nspname, c.relname, strength DESC) AS held
 ORDER BY strength DESC, pid, locked
