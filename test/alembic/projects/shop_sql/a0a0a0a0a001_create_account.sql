-- migrate:revision a0a0a0a0a001
-- migrate:down_revision none
-- migrate:message Create account.
-- migrate:upgrade
CREATE TABLE account (
    id SERIAL NOT NULL,
    name VARCHAR(100) NOT NULL,
    created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_account PRIMARY KEY (id)
);
-- migrate:downgrade
DROP TABLE account;
