-- migrate:revision abc123
-- migrate:down_revision none
-- only comments

