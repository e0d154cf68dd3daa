-- Versions: as of which of this side's own changes `gone` was decided (by an incoming
-- change applied to the row, or by this side's newest change crossing). A change from
-- the other side merged into a row deleted here (the delete still queued, or crossed)
-- is newer than the delete's image; without this a later change that brings the row
-- back started from the delete's image and lost the merge (issue 17). And a row that
-- exists again keeps no deleted row, so purge does not forget its clock.
ALTER TABLE replicator.versions ADD COLUMN IF NOT EXISTS gone_as_of bigint;
