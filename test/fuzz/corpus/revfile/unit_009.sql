-- migrate:revision abc123
-- migrate:down_revision none
-- migrate:message Créer la table « foo ».
-- migrate:upgrade
COMMENT ON TABLE t IS 'naïve ☃';
