-- migrate:revision d0d0d0d0d001
-- migrate:down_revision b0b0b0b0b001, c0c0c0c0c001
-- migrate:message Merge billing and email.
-- migrate:upgrade
CREATE VIEW account_invoices AS SELECT a.id, a.email, i.amount FROM account AS a JOIN invoice AS i ON i.account_id = a.id;
-- migrate:downgrade
DROP VIEW account_invoices;
