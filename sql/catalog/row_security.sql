-- Tables of one schema with row level security enabled, and the roles the replicator
-- reads and writes them as (%(roles)s: a side's writer and the [roles] owner, or else
-- this session's role) that it binds. It does not bind a superuser or a BYPASSRLS
-- role, nor the table's owner (or a member of it) unless it is forced; nor a role a
-- permissive policy for every command shows every row (USING (true), and WITH CHECK
-- (true) or none) while no restrictive policy narrows it.
WITH who AS (
    SELECT w.name, w.ord, r.oid, coalesce(r.rolsuper OR r.rolbypassrls, false) AS bypasses
      FROM unnest(coalesce(%(roles)s::text[], ARRAY[current_user::text])) WITH ORDINALITY AS w(name, ord)
      LEFT JOIN pg_roles AS r ON r.rolname = w.name
),
policy AS (
    SELECT p.polrelid, p.polpermissive, p.polcmd, p.polroles,
           coalesce(pg_get_expr(p.polqual, p.polrelid), 'true') = 'true'
               AND coalesce(pg_get_expr(p.polwithcheck, p.polrelid), 'true') = 'true' AS all_rows
      FROM pg_policy AS p
),
bound AS (
    SELECT c.oid, c.relname, c.relforcerowsecurity, w.name, w.ord
      FROM pg_class AS c
      JOIN pg_namespace AS n ON n.oid = c.relnamespace
     CROSS JOIN who AS w
     WHERE n.nspname = %(schema)s
       AND c.relkind = ANY (%(kinds)s::"char"[])
       AND c.relrowsecurity
       AND w.oid IS NOT NULL AND NOT w.bypasses
       AND (c.relforcerowsecurity OR NOT pg_has_role(w.oid, c.relowner, 'USAGE'))
       AND NOT (EXISTS (SELECT FROM policy AS p
                         WHERE p.polrelid = c.oid AND p.polpermissive AND p.polcmd = '*' AND p.all_rows
                           AND (0 = ANY (p.polroles)
                                OR EXISTS (SELECT FROM unnest(p.polroles) AS r(oid)
                                            WHERE pg_has_role(w.oid, r.oid, 'USAGE'))))
                AND NOT EXISTS (SELECT FROM policy AS p
                                 WHERE p.polrelid = c.oid AND NOT p.polpermissive AND NOT p.all_rows
                                   AND (0 = ANY (p.polroles)
                                        OR EXISTS (SELECT FROM unnest(p.polroles) AS r(oid)
                                                    WHERE pg_has_role(w.oid, r.oid, 'USAGE')))))
)
SELECT b.relname AS table_name, b.relforcerowsecurity AS forced,
       array_agg(b.name ORDER BY b.ord) AS hidden_from
  FROM bound AS b
 GROUP BY b.relname, b.relforcerowsecurity
 ORDER BY b.relname
