-- migrate:revision d850ec42296c
-- migrate:down_revision 110e9cacd8b0
-- migrate:message Create rdm records tables.
-- migrate:upgrade
CREATE TABLE rdm_parents_metadata (
    created timestamp without time zone NOT NULL DEFAULT now(),
    updated timestamp without time zone NOT NULL DEFAULT now(),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    json jsonb,
    version_id integer NOT NULL,
    CONSTRAINT pk_rdm_parents_metadata PRIMARY KEY (id)
);

CREATE TABLE rdm_records_metadata (
    created timestamp without time zone NOT NULL DEFAULT now(),
    updated timestamp without time zone NOT NULL DEFAULT now(),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    json jsonb,
    version_id integer NOT NULL,
    index integer,
    parent_id uuid,
    deletion_status varchar(1) NOT NULL DEFAULT 'P',
    CONSTRAINT pk_rdm_records_metadata PRIMARY KEY (id),
    CONSTRAINT fk_rdm_records_metadata_parent_id_rdm_parents_metadata
        FOREIGN KEY (parent_id) REFERENCES rdm_parents_metadata (id) ON DELETE RESTRICT
);

CREATE TABLE rdm_drafts_metadata (
    created timestamp without time zone NOT NULL DEFAULT now(),
    updated timestamp without time zone NOT NULL DEFAULT now(),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    json jsonb,
    version_id integer NOT NULL,
    index integer,
    parent_id uuid,
    expires_at timestamp without time zone,
    fork_version_id integer,
    CONSTRAINT pk_rdm_drafts_metadata PRIMARY KEY (id),
    CONSTRAINT fk_rdm_drafts_metadata_parent_id_rdm_parents_metadata
        FOREIGN KEY (parent_id) REFERENCES rdm_parents_metadata (id) ON DELETE RESTRICT
);

CREATE TABLE rdm_versions_state (
    latest_index integer,
    parent_id uuid NOT NULL,
    latest_id uuid,
    next_draft_id uuid,
    CONSTRAINT pk_rdm_versions_state PRIMARY KEY (parent_id),
    CONSTRAINT fk_rdm_versions_state_parent_id_rdm_parents_metadata
        FOREIGN KEY (parent_id) REFERENCES rdm_parents_metadata (id) ON DELETE CASCADE,
    CONSTRAINT fk_rdm_versions_state_latest_id_rdm_records_metadata
        FOREIGN KEY (latest_id) REFERENCES rdm_records_metadata (id),
    CONSTRAINT fk_rdm_versions_state_next_draft_id_rdm_drafts_metadata
        FOREIGN KEY (next_draft_id) REFERENCES rdm_drafts_metadata (id)
);

CREATE INDEX ix_rdm_records_metadata_parent_id ON rdm_records_metadata (parent_id);
CREATE INDEX ix_rdm_drafts_metadata_parent_id ON rdm_drafts_metadata (parent_id);
-- migrate:downgrade
DROP INDEX ix_rdm_drafts_metadata_parent_id;
DROP INDEX ix_rdm_records_metadata_parent_id;
DROP TABLE rdm_versions_state;
DROP TABLE rdm_drafts_metadata;
DROP TABLE rdm_records_metadata;
DROP TABLE rdm_parents_metadata;
