-- migrate:revision 1975ea83b712
-- migrate:down_revision ae1027a6acf2, 55af2cb1c267
-- migrate:branch_labels invenio_foo,other
-- migrate:depends_on 55af2cb1c267
-- migrate:message Create foo tables.
-- migrate:transactional false
-- migrate:upgrade

CREATE TABLE foo (id int PRIMARY KEY);

CREATE INDEX ON foo (id);


-- migrate:downgrade
DROP TABLE foo;
