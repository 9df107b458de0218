-- migrate:revision abc123
-- migrate:down_revision none
-- migrate:downgrade
DROP TABLE t;
-- migrate:upgrade
CREATE TABLE t ();
