-- Columns of every relation of the kinds asked for in one schema, with what
-- validation needs to judge a type pair: the base type behind a domain, its
-- length, precision and scale, and the labels of an enum; and, repeated on
-- each of a table's rows, its kind, its replica identity (what WAL capture sees of
-- an updated or deleted row), its persistence (an UNLOGGED table writes no WAL) and
-- whether it is a partition (rows inserted through the partitioned table fire its row
-- triggers, not its statement triggers).
SELECT c.relname                                       AS table_name,
       a.attname                                       AS column_name,
       a.attnum                                        AS position,
       format_type(a.atttypid, a.atttypmod)            AS type_sql,
       t.typtype                                       AS type_kind,
       t.typname                                       AS type_name,
       tn.nspname                                      AS type_schema,
       bt.typname                                      AS base_type,
       format_type(bt.oid, CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END)
                                                       AS base_type_sql,
       CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END
                                                       AS typmod,
       a.attnotnull OR (t.typtype = 'd' AND t.typnotnull)
                                                       AS not_null,
       a.atthasdef OR a.attidentity <> '' OR (t.typtype = 'd' AND t.typdefault IS NOT NULL)
                                                       AS has_default,
       a.attgenerated <> ''                            AS generated,
       a.attidentity::text                             AS identity,
       CASE WHEN t.typtype = 'e' THEN
            ARRAY(SELECT e.enumlabel::text FROM pg_enum e
                  WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
       END                                             AS enum_labels,
       c.relreplident                                  AS replica_identity,
       c.relkind                                       AS kind,
       c.relpersistence                                AS persistence,
       c.relispartition                                AS is_partition
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid
  JOIN pg_namespace tn ON tn.oid = t.typnamespace
  JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
 WHERE n.nspname = %(schema)s
   AND c.relkind = ANY (%(kinds)s::"char"[])
 ORDER BY c.relname, a.attnum
