-- mod_eas schema, migration 001: the schema and its version table.
-- Every migration runs in one transaction and records itself last.
CREATE SCHEMA IF NOT EXISTS eas;

CREATE TABLE eas.schema_version (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO eas.schema_version (version, name) VALUES (1, 'schema_version');
