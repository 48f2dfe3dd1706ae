-- Registry connections (issue 15 item 2): a container registry speaking the
-- Distribution (v2) API that the Images workspace browses and scans from.
-- Kept apart from `connections` (the four platform kinds) so the platform
-- code that matches on those kinds is unchanged. No secret here: the
-- password lives in the OS keychain under `secret_ref`.
CREATE TABLE registry_connections (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    spec_json  TEXT NOT NULL,
    secret_ref TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
