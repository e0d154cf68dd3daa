-- The queue finds a row's changes by a hash index on their key.
--
-- Every queued change went into a B-tree on (key, map_name, direction). Each insert
-- compares jsonb keys at every level on its way down that tree, and jsonb comparison
-- is slow: about 10 µs of every queued change, as much as the row and the queue's
-- other two indexes together (single-row inserts into the queue, timed by
-- pg_stat_statements). A hash index compares a key's hash, and the key itself only
-- where the hashes are equal: about 4 µs. Every reader of the index looks for one
-- key (the apply functions: this side's queued changes of a row; the initial sync: a
-- key queued here), an equality a hash index answers; map and direction, which the
-- B-tree held too, are checked on the rows it finds.
--
-- The index is built while the migration holds the queue: writes to mapped tables
-- (their capture triggers insert into it) wait until it is built, about half a
-- second per 200,000 queued changes on the machine the bench runs on.
DROP INDEX IF EXISTS replicator.change_queue_row;
CREATE INDEX IF NOT EXISTS change_queue_key ON replicator.change_queue USING hash (key);
