-- migrate:revision abc123
-- migrate:down_revision none
-- migrate:upgrade
SELECT U&'d\0061t\+000061';
