-- migrate:revision f0f0f0f0f001
-- migrate:down_revision none
-- migrate:branch_labels audit
-- migrate:depends_on a0a0a0a0a001
-- migrate:message Create audit log.
-- migrate:upgrade
CREATE TABLE audit_log (
    id UUID NOT NULL,
    account_id INTEGER,
    note JSONB,
    CONSTRAINT pk_audit_log PRIMARY KEY (id)
);
-- migrate:downgrade
DROP TABLE audit_log;
