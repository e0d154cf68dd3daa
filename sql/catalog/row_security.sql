-- Tables of one schema with row level security enabled, and whether it applies to
-- the role the replicator reads and writes them as (%(writer)s: the [roles] owner,
-- or else this session's role). It does not apply to a superuser or a BYPASSRLS
-- role, nor to the table's owner (or a member of it) unless it is forced.
-- open_to_writer: a permissive policy for every command shows that role every row
-- (USING (true), and WITH CHECK (true) or none), and no restrictive policy narrows it.
WITH writer AS (
    SELECT r.oid, r.rolname, r.rolsuper OR r.rolbypassrls AS bypasses
      FROM pg_roles AS r
     WHERE r.rolname = coalesce(%(writer)s, current_user)
),
policy AS (
    SELECT p.polrelid, p.polpermissive, p.polcmd,
           coalesce(pg_get_expr(p.polqual, p.polrelid), 'true') = 'true'
               AND coalesce(pg_get_expr(p.polwithcheck, p.polrelid), 'true') = 'true' AS all_rows
      FROM pg_policy AS p
      LEFT JOIN writer AS w ON true
     WHERE 0 = ANY (p.polroles)
        OR EXISTS (SELECT FROM unnest(p.polroles) AS r(oid) WHERE pg_has_role(w.oid, r.oid, 'USAGE'))
)
SELECT c.relname                                                     AS table_name,
       c.relforcerowsecurity                                         AS forced,
       coalesce(w.rolname, %(writer)s, current_user)                 AS writer,
       coalesce(NOT w.bypasses
                AND (c.relforcerowsecurity OR NOT pg_has_role(w.oid, c.relowner, 'USAGE')),
                true)                                                AS applies,
       EXISTS (SELECT FROM policy AS p
                WHERE p.polrelid = c.oid AND p.polpermissive AND p.polcmd = '*' AND p.all_rows)
       AND NOT EXISTS (SELECT FROM policy AS p
                        WHERE p.polrelid = c.oid AND NOT p.polpermissive AND NOT p.all_rows)
                                                                     AS open_to_writer
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
  LEFT JOIN writer AS w ON true
 WHERE n.nspname = %(schema)s
   AND c.relkind = ANY (%(kinds)s::"char"[])
   AND c.relrowsecurity
 ORDER BY c.relname
