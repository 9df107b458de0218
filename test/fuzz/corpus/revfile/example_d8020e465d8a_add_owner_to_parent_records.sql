-- migrate:revision d8020e465d8a
-- migrate:down_revision d850ec42296c
-- migrate:depends_on e7ae7b675731
-- migrate:message Add owner to parent records.
-- migrate:upgrade
ALTER TABLE rdm_parents_metadata
    ADD COLUMN owner_id integer,
    ADD CONSTRAINT fk_rdm_parents_metadata_owner_id_accounts_user
        FOREIGN KEY (owner_id) REFERENCES accounts_user (id) ON DELETE SET NULL;

CREATE INDEX ix_rdm_parents_metadata_owner_id ON rdm_parents_metadata (owner_id);
-- migrate:downgrade
DROP INDEX ix_rdm_parents_metadata_owner_id;

ALTER TABLE rdm_parents_metadata
    DROP CONSTRAINT fk_rdm_parents_metadata_owner_id_accounts_user,
    DROP COLUMN owner_id;
