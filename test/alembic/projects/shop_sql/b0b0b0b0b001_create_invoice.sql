-- migrate:revision b0b0b0b0b001
-- migrate:down_revision a0a0a0a0a001
-- migrate:branch_labels billing
-- migrate:message Create invoice.
-- migrate:upgrade
CREATE TABLE invoice (
    id SERIAL NOT NULL,
    account_id INTEGER NOT NULL,
    amount NUMERIC(10, 2) NOT NULL,
    CONSTRAINT pk_invoice PRIMARY KEY (id),
    CONSTRAINT fk_invoice_account FOREIGN KEY(account_id) REFERENCES account (id)
);
CREATE INDEX ix_invoice_account ON invoice (account_id);
-- migrate:downgrade
DROP INDEX ix_invoice_account;
DROP TABLE invoice;
