-- Copyright notice

-- migrate:revision abc123
--migrate:down_revision None
-- migrate:message  Spaces  around  
-- migrate:upgrade
SELECT 1;
SELECT 2;
