-- migrate:revision e0e0e0e0e001
-- migrate:down_revision d0d0d0d0d001
-- migrate:message Add invoice status.
-- migrate:upgrade
CREATE TYPE invoice_status AS ENUM ('open', 'paid', 'void');
ALTER TABLE invoice ADD COLUMN status invoice_status DEFAULT 'open' NOT NULL;
ALTER TABLE account ALTER COLUMN name TYPE VARCHAR(200);
-- migrate:downgrade
ALTER TABLE account ALTER COLUMN name TYPE VARCHAR(100);
ALTER TABLE invoice DROP COLUMN status;
DROP TYPE invoice_status;
