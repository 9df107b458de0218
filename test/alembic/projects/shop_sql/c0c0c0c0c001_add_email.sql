-- migrate:revision c0c0c0c0c001
-- migrate:down_revision a0a0a0a0a001
-- migrate:message Add email to account.
-- migrate:upgrade
ALTER TABLE account ADD COLUMN email VARCHAR(200);
ALTER TABLE account ADD CONSTRAINT uq_account_email UNIQUE (email);
-- migrate:downgrade
ALTER TABLE account DROP CONSTRAINT uq_account_email;
ALTER TABLE account DROP COLUMN email;
