-- migrate:revision abc123
-- migrate:down_revision none
-- migrate:upgrade
DO $$
BEGIN
  RAISE NOTICE '%', E'\t';
END
$$;
