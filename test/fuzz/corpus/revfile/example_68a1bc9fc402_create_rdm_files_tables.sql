-- migrate:revision 68a1bc9fc402
-- migrate:down_revision d850ec42296c
-- migrate:message Create rdm files tables.
-- migrate:upgrade
CREATE TABLE rdm_records_files (
    created timestamp without time zone NOT NULL DEFAULT now(),
    updated timestamp without time zone NOT NULL DEFAULT now(),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    json jsonb,
    version_id integer NOT NULL,
    key text NOT NULL,
    record_id uuid NOT NULL,
    object_version_id uuid,
    CONSTRAINT pk_rdm_records_files PRIMARY KEY (id),
    CONSTRAINT uq_rdm_records_files_record_id_key UNIQUE (record_id, key),
    CONSTRAINT fk_rdm_records_files_record_id_rdm_records_metadata
        FOREIGN KEY (record_id) REFERENCES rdm_records_metadata (id) ON DELETE CASCADE
);

CREATE TABLE rdm_drafts_files (
    created timestamp without time zone NOT NULL DEFAULT now(),
    updated timestamp without time zone NOT NULL DEFAULT now(),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    json jsonb,
    version_id integer NOT NULL,
    key text NOT NULL,
    record_id uuid NOT NULL,
    object_version_id uuid,
    CONSTRAINT pk_rdm_drafts_files PRIMARY KEY (id),
    CONSTRAINT uq_rdm_drafts_files_record_id_key UNIQUE (record_id, key),
    CONSTRAINT fk_rdm_drafts_files_record_id_rdm_drafts_metadata
        FOREIGN KEY (record_id) REFERENCES rdm_drafts_metadata (id) ON DELETE CASCADE
);

CREATE INDEX ix_rdm_records_files_object_version_id
    ON rdm_records_files (object_version_id);
CREATE INDEX ix_rdm_drafts_files_object_version_id
    ON rdm_drafts_files (object_version_id);
-- migrate:downgrade
DROP INDEX ix_rdm_drafts_files_object_version_id;
DROP INDEX ix_rdm_records_files_object_version_id;
DROP TABLE rdm_drafts_files;
DROP TABLE rdm_records_files;
