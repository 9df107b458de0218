-- migrate:revision abc123
-- migrate:down_revision none
-- migrate:upgrade
-- comment \i file
SELECT 1;
