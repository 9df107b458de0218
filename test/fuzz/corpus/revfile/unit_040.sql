-- migrate:revision abc123
-- migrate:down_revision none
CREATE TABLE t ();
-- migrate:upgrade
