-- Single-column CHECK constraints (on the column or on its domain); the
-- catalog reader keeps those that restrict the column to a list of values.
SELECT c.relname                         AS table_name,
       a.attname                         AS column_name,
       pg_get_constraintdef(k.oid)       AS definition
  FROM pg_constraint k
  JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.conkey[1]
 WHERE n.nspname = %(schema)s
   AND k.contype = 'c'
   AND array_length(k.conkey, 1) = 1
UNION ALL
SELECT c.relname, a.attname, pg_get_constraintdef(k.oid)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid AND t.typtype = 'd'
  JOIN pg_constraint k ON k.contypid = t.oid AND k.contype = 'c'
 WHERE n.nspname = %(schema)s
   AND c.relkind = ANY (%(kinds)s::"char"[])
 ORDER BY 1, 2, 3
