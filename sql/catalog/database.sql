-- Which database this is, the same through any connection string that reaches it:
-- the cluster's system identifier and the database's name.
SELECT (SELECT system_identifier FROM pg_control_system())::text || '/' || current_database()
       AS database
