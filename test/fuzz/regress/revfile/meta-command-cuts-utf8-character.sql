-- migrate:revision a
-- migrate:down_revision none
-- migrate:upgrade
\éééééééééééééééééééééééééééééé
