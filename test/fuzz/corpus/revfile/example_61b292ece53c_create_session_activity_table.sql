-- migrate:revision 61b292ece53c
-- migrate:down_revision e7ae7b675731
-- migrate:message Create session activity table.
-- migrate:upgrade
CREATE TABLE accounts_user_session_activity (
    sid_s varchar(255) NOT NULL,
    user_id integer,
    ip varchar(80),
    country varchar(3),
    browser varchar(80),
    browser_version varchar(30),
    os varchar(80),
    device varchar(80),
    created timestamp without time zone NOT NULL DEFAULT now(),
    updated timestamp without time zone NOT NULL DEFAULT now(),
    CONSTRAINT pk_accounts_user_session_activity PRIMARY KEY (sid_s),
    CONSTRAINT fk_accounts_session_activity_user_id_accounts_user
        FOREIGN KEY (user_id) REFERENCES accounts_user (id) ON DELETE CASCADE
);

CREATE INDEX ix_accounts_user_session_activity_user_id
    ON accounts_user_session_activity (user_id);
-- migrate:downgrade
DROP INDEX ix_accounts_user_session_activity_user_id;
DROP TABLE accounts_user_session_activity;
