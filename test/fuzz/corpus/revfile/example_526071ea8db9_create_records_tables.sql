-- migrate:revision 526071ea8db9
-- migrate:down_revision 702e2fba0db9
-- migrate:message Create records tables.
-- migrate:upgrade
CREATE TABLE records_metadata (
    created timestamp without time zone NOT NULL DEFAULT now(),
    updated timestamp without time zone NOT NULL DEFAULT now(),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    json jsonb,
    version_id integer NOT NULL,
    CONSTRAINT pk_records_metadata PRIMARY KEY (id)
);

CREATE TABLE records_metadata_version (
    created timestamp without time zone,
    updated timestamp without time zone,
    id uuid NOT NULL,
    json jsonb,
    version_id integer,
    transaction_id bigint NOT NULL,
    end_transaction_id bigint,
    operation_type smallint NOT NULL,
    CONSTRAINT pk_records_metadata_version PRIMARY KEY (id, transaction_id)
);

CREATE INDEX ix_records_metadata_version_transaction_id
    ON records_metadata_version (transaction_id);
CREATE INDEX ix_records_metadata_version_end_transaction_id
    ON records_metadata_version (end_transaction_id);
CREATE INDEX ix_records_metadata_version_operation_type
    ON records_metadata_version (operation_type);
-- migrate:downgrade
DROP INDEX ix_records_metadata_version_operation_type;
DROP INDEX ix_records_metadata_version_end_transaction_id;
DROP INDEX ix_records_metadata_version_transaction_id;
DROP TABLE records_metadata_version;
DROP TABLE records_metadata;
