-- Sessions of this server, other than this one, in a transaction that has written
-- (it holds a transaction id): creating a logical slot waits until each has ended.
-- Longest first. state is null for another role's session unless this role may read
-- all statistics (pg_read_all_stats).
SELECT NULL::text                                                     AS locked,
       'a transaction id'                                             AS mode,
       pid,
       usename                                                        AS role_name,
       application_name,
       state,
       extract(epoch FROM now() - coalesce(state_change, backend_start))::bigint AS seconds,
       datname                                                        AS database_name
  FROM pg_stat_activity
 WHERE backend_xid IS NOT NULL
   AND pid <> pg_backend_pid()
 ORDER BY xact_start, pid
