-- A captured change is one insert into the queue, and on an application's single-row
-- write that insert was checked against two CHECK constraints (its direction, its op)
-- that PostgreSQL reads back from the catalog and prepares anew for every statement:
-- about a quarter of what capture cost the writer (README, Where the time goes). Only
-- the replicator's own functions write the queue, with the direction and op as
-- constants of their generated SQL (pinned by its golden files), so the checks go.
ALTER TABLE replicator.change_queue
    DROP CONSTRAINT IF EXISTS change_queue_direction_check,
    DROP CONSTRAINT IF EXISTS change_queue_op_check;
