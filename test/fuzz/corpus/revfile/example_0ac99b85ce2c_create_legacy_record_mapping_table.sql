-- migrate:revision 0ac99b85ce2c
-- migrate:down_revision c59020af2c8f
-- migrate:depends_on 526071ea8db9
-- migrate:message Create legacy record mapping table.
-- migrate:upgrade
CREATE TABLE rdm_records_legacy_map (
    legacy_id uuid NOT NULL,
    record_id uuid NOT NULL,
    created timestamp without time zone NOT NULL DEFAULT now(),
    CONSTRAINT pk_rdm_records_legacy_map PRIMARY KEY (legacy_id),
    CONSTRAINT fk_rdm_records_legacy_map_legacy_id_records_metadata
        FOREIGN KEY (legacy_id) REFERENCES records_metadata (id) ON DELETE CASCADE,
    CONSTRAINT fk_rdm_records_legacy_map_record_id_rdm_records_metadata
        FOREIGN KEY (record_id) REFERENCES rdm_records_metadata (id) ON DELETE CASCADE
);

CREATE INDEX ix_rdm_records_legacy_map_record_id
    ON rdm_records_legacy_map (record_id);
-- migrate:downgrade
DROP INDEX ix_rdm_records_legacy_map_record_id;
DROP TABLE rdm_records_legacy_map;
