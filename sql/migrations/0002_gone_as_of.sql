-- Versions: as of which of this side's own changes the deleted row in `gone` holds.
-- A change from the other side merged into a row deleted here (the delete still queued,
-- or crossed) is newer than the delete's image; without this a later change that brings
-- the row back started from the delete's image and lost the merge (issue 17).
ALTER TABLE replicator.versions ADD COLUMN IF NOT EXISTS gone_as_of bigint;
