-- migrate:revision 74ee3dd23415
-- migrate:down_revision 526071ea8db9
-- migrate:message Add is_deleted to records.
-- migrate:upgrade
ALTER TABLE records_metadata
    ADD COLUMN is_deleted boolean NOT NULL DEFAULT false;
ALTER TABLE records_metadata_version
    ADD COLUMN is_deleted boolean;

CREATE INDEX ix_records_metadata_is_deleted
    ON records_metadata (is_deleted) WHERE is_deleted;
-- migrate:downgrade
DROP INDEX ix_records_metadata_is_deleted;

ALTER TABLE records_metadata_version
    DROP COLUMN is_deleted;
ALTER TABLE records_metadata
    DROP COLUMN is_deleted;
