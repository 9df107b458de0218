-- migrate:revision abc123
-- migrate:down_revision none
-- migrate:upgrade
/* comment \i /* nested */ still \q */ SELECT 1;
