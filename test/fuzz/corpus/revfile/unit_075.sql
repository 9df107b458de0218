-- migrate:revision abc123
-- migrate:down_revision none
-- migrate:upgrade
SELECT 'multi
line \ string';
