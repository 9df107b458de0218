-- migrate:revision abc123
-- migrate:down_revision none
-- migrate:upgrade
DO $f$ BEGIN
END $f$;
\echo hi
