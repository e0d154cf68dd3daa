-- Primary keys and unique indexes usable as a map key: valid, not partial,
-- over plain columns only (no expressions), so ON CONFLICT can name them.
-- (A replica identity index is always one of them: PostgreSQL demands the same.)
SELECT c.relname                          AS table_name,
       i.relname                          AS index_name,
       x.indisprimary                     AS is_primary,
       x.indisreplident                   AS is_replica_identity,
       ARRAY(SELECT a.attname::text
               FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
              ORDER BY k.ord)             AS columns
  FROM pg_index x
  JOIN pg_class c ON c.oid = x.indrelid
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s
   AND x.indisunique
   AND x.indisvalid
   AND x.indpred IS NULL
   AND x.indexprs IS NULL
   AND NOT (0 = ANY (x.indkey::int2[]))
 ORDER BY c.relname, x.indisprimary DESC, i.relname
