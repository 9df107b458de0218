-- A small Invenio-shaped history: invenio_db's base revision, one labelled
-- branch per module, a module depending on another module's table, and a
-- merge point.  Registered, checked and upgraded in one go.
\set ON_ERROR_STOP on
\pset footer off
CREATE EXTENSION IF NOT EXISTS migrations;

BEGIN;
\o /dev/null
SELECT migrate_register('dbbase', '{}', 'SELECT 1;', 'SELECT 1;',
                        'Create the invenio_db base.', '{invenio_db}');
SELECT migrate_register('e12419831262', '{dbbase}',
                        'CREATE TABLE accounts_user (id int CONSTRAINT pk_accounts_user PRIMARY KEY, email varchar(255) NOT NULL);',
                        'DROP TABLE accounts_user;', 'Create accounts tables.', '{invenio_accounts}');
SELECT migrate_register('862037093962', '{dbbase}',
                        'CREATE TABLE records_metadata (id uuid CONSTRAINT pk_records_metadata PRIMARY KEY, json jsonb NOT NULL);',
                        'DROP TABLE records_metadata;', 'Create records tables.', '{invenio_records}');
SELECT migrate_register('bf8a6e0fe6f4', '{862037093962}',
                        'ALTER TABLE records_metadata ADD COLUMN version_id int NOT NULL DEFAULT 1;',
                        'ALTER TABLE records_metadata DROP COLUMN version_id;', 'Add version_id to records.');
SELECT migrate_register('4abd2ae1a6b8', '{dbbase}',
                        'CREATE TABLE rdm_records (id uuid CONSTRAINT pk_rdm_records PRIMARY KEY CONSTRAINT fk_rdm_records_metadata REFERENCES records_metadata (id));',
                        'DROP TABLE rdm_records;', 'Create RDM records tables.',
                        '{invenio_rdm_records}', '{862037093962}');
SELECT migrate_register('3f1c0a2b7d44', '{e12419831262,4abd2ae1a6b8}',
                        'CREATE TABLE rdm_records_owners (record_id uuid CONSTRAINT fk_owner_record REFERENCES rdm_records (id), user_id int CONSTRAINT fk_owner_user REFERENCES accounts_user (id));',
                        'DROP TABLE rdm_records_owners;', 'Merge accounts and RDM records: record owners.');
\o
SELECT migrate_check();
COMMIT;

\echo
\echo '== SELECT * FROM migrate_upgrade(''heads'');'
SELECT * FROM migrate_upgrade('heads');
\echo '== SELECT * FROM migrate_heads();'
SELECT * FROM migrate_heads();
\echo '== SELECT * FROM migrate_current();'
SELECT revision, branch_labels, in_version_table FROM migrate_current();
\echo '== SELECT line FROM migrate_history();'
SELECT line FROM migrate_history();
\echo '== SELECT * FROM migrate_upgrade(''heads'');   -- again: nothing to do'
SELECT * FROM migrate_upgrade('heads');
