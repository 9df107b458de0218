-- migrate:revision 1db94dcc2387
-- migrate:down_revision 61b292ece53c
-- migrate:message Add username and profile to users.
-- migrate:upgrade
ALTER TABLE accounts_user
    ADD COLUMN username varchar(255),
    ADD COLUMN displayname varchar(255),
    ADD COLUMN profile jsonb,
    ADD COLUMN preferences jsonb,
    ADD CONSTRAINT uq_accounts_user_username UNIQUE (username);

CREATE INDEX ix_accounts_user_displayname ON accounts_user (displayname);
-- migrate:downgrade
DROP INDEX ix_accounts_user_displayname;

ALTER TABLE accounts_user
    DROP CONSTRAINT uq_accounts_user_username,
    DROP COLUMN preferences,
    DROP COLUMN profile,
    DROP COLUMN displayname,
    DROP COLUMN username;
