-- The control schema's version: one row per numbered migration (sql/migrations/) that
-- ran here. Deploy runs the missing ones, in order, in its transaction, and records
-- each with the sha256 of the text it ran.
CREATE TABLE replicator.schema_migration (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    sha256     text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text        NOT NULL DEFAULT current_user
);
