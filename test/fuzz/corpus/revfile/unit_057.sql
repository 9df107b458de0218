-- migrate:revision abc123
-- migrate:down_revision none
-- migrate:upgrade
SELECT 1;
DO $$ BEGIN
-- migrate:downgrade
END $;
