-- The applier's heartbeat on this database: alive while its session is (pg_stat_activity
-- shows every role's sessions' pids), and how long ago it last polled.
SELECT h.host, h.os_pid, h.started_at, h.polled_at, now() - h.polled_at AS polled_age,
       EXISTS (SELECT FROM pg_stat_activity AS a
                WHERE a.pid = h.pid AND a.datname = current_database()) AS alive
  FROM replicator.applier_heartbeat AS h
