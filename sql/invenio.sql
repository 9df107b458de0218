--
-- A history shaped like Invenio's: invenio_db's base revision, one
-- labelled branch per module rooted on it, a module depending on another
-- module's table, and a merge point.  Steps and rows compared with
-- Alembic 1.8 (test/alembic/fixtures/invenio_sql.hist records the same
-- graph and commands).
--
SELECT reset_migrations();
\set VERBOSITY default

SELECT migrate_register('dbbase', '{}', 'SELECT 1;', 'SELECT 1;',
                        'Create alembic_version table.', '{invenio_db}');
SELECT migrate_register('e12419831262', '{dbbase}', 'SELECT 1;', 'SELECT 1;',
                        'Create accounts branch.', '{invenio_accounts}');
SELECT migrate_register('9848d0149abd', '{e12419831262}',
                        'CREATE TABLE accounts_user (id int CONSTRAINT pk_accounts_user PRIMARY KEY, email varchar(255));',
                        'DROP TABLE accounts_user;', 'Create accounts tables.');
SELECT migrate_register('e2ba14c4cc2d', '{9848d0149abd}',
                        'ALTER TABLE accounts_user ALTER COLUMN email TYPE varchar(320);',
                        'ALTER TABLE accounts_user ALTER COLUMN email TYPE varchar(255);',
                        'Change AccountsUser.email length.');
SELECT migrate_register('862037093962', '{dbbase}', 'SELECT 1;', 'SELECT 1;',
                        'Create records branch.', '{invenio_records}');
SELECT migrate_register('07fb52561c5c', '{862037093962}',
                        'CREATE TABLE records_metadata (id uuid CONSTRAINT pk_records_metadata PRIMARY KEY, json jsonb);',
                        'DROP TABLE records_metadata;', 'Create records tables.');
SELECT migrate_register('bf8a6e0fe6f4', '{07fb52561c5c}',
                        'ALTER TABLE records_metadata ADD COLUMN version_id int NOT NULL DEFAULT 1;',
                        'ALTER TABLE records_metadata DROP COLUMN version_id;', 'Add version_id to records.');
SELECT migrate_register('a26f133d42a9', '{bf8a6e0fe6f4}',
                        'CREATE INDEX ix_records_metadata_json ON records_metadata USING gin (json);',
                        'DROP INDEX ix_records_metadata_json;', 'Add index on records metadata.');
SELECT migrate_register('4abd2ae1a6b8', '{dbbase}', 'SELECT 1;', 'SELECT 1;',
                        'Create RDM records branch.', '{invenio_rdm_records}');
SELECT migrate_register('88d4d0c6c6f1', '{4abd2ae1a6b8}',
                        'CREATE TABLE rdm_records (id uuid CONSTRAINT pk_rdm_records PRIMARY KEY CONSTRAINT fk_rdm_records_metadata REFERENCES records_metadata (id));',
                        'DROP TABLE rdm_records;', 'Create RDM records tables.', '{}', '{07fb52561c5c}');
SELECT migrate_register('9e0ac518b9df', '{88d4d0c6c6f1}',
                        'ALTER TABLE rdm_records ADD COLUMN parent_id uuid;',
                        'ALTER TABLE rdm_records DROP COLUMN parent_id;', 'Add RDM parent records.',
                        '{}', '{bf8a6e0fe6f4}');
SELECT migrate_register('3f1c0a2b7d44', '{e2ba14c4cc2d,9e0ac518b9df}', 'SELECT 1;', 'SELECT 1;',
                        'Merge accounts and rdm records.');
SELECT migrate_register('5c2d9e8f1a03', '{3f1c0a2b7d44}',
                        'CREATE TABLE rdm_records_owners (record_id uuid CONSTRAINT fk_owner_record REFERENCES rdm_records (id), user_id int CONSTRAINT fk_owner_user REFERENCES accounts_user (id));',
                        'DROP TABLE rdm_records_owners;', 'Add RDM record owners.');
SELECT migrate_check();

SELECT revision, branch_labels, is_effective_head FROM migrate_heads();

-- a module's branch: its dependency on records comes along
SELECT revision, message FROM migrate_upgrade('invenio_rdm_records@88d4d0c6c6f1');
SELECT revision FROM migrate_version ORDER BY 1;

-- everything
SELECT revision, message FROM migrate_upgrade('heads');
SELECT revision FROM migrate_version ORDER BY 1;
SELECT conname FROM pg_constraint
 WHERE conrelid IN ('accounts_user'::regclass, 'records_metadata'::regclass,
                    'rdm_records'::regclass, 'rdm_records_owners'::regclass)
 ORDER BY 1;
SELECT line FROM migrate_history();

-- taking the records module down takes down what depends on it
SELECT revision FROM migrate_downgrade('invenio_records@dbbase');
SELECT revision FROM migrate_version ORDER BY 1;
SELECT to_regclass('rdm_records') AS rdm, to_regclass('accounts_user') AS accounts;

-- and back up
SELECT count(*) AS steps FROM migrate_upgrade('heads');
SELECT revision FROM migrate_version ORDER BY 1;
SELECT revision FROM migrate_downgrade('base') ORDER BY 1;
SELECT count(*) AS version_rows FROM migrate_version;
