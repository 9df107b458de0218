-- migrate:revision abc123
-- migrate:down_revision none
-- migrate:upgrade
CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$
SELECT '\x'
$body$;
