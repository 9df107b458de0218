-- migrate:revision abc123
-- migrate:down_revision none
-- migrate:upgrade
SELECT x1$y$z;
