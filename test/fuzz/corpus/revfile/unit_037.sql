-- migrate:revision abc123
-- migrate:down_revision none
-- migrate:upgrade
-- migrate:downgrade

-- migrate:downgrade
