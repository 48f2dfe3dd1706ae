-- Connection profiles. No secrets here: `secret_ref` names the OS keychain entry.
CREATE TABLE connections (
    id             TEXT PRIMARY KEY NOT NULL,
    name           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    kind           TEXT NOT NULL CHECK (kind IN ('vsphere', 'docker', 'kubernetes', 'etcd')),
    spec_json      TEXT NOT NULL,
    secret_ref     TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    last_test_json TEXT
);

-- Last known state per connection and scope ("inventory", "health", ...), shown at
-- start-up before the network answers.
CREATE TABLE inventory_snapshots (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    scope         TEXT NOT NULL,
    fetched_at    TEXT NOT NULL,
    payload_json  TEXT NOT NULL,
    PRIMARY KEY (connection_id, scope)
);

-- Append-only audit log of every change the app makes anywhere.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL,
    platform TEXT NOT NULL,
    target   TEXT NOT NULL,
    action   TEXT NOT NULL,
    result   TEXT NOT NULL CHECK (result IN ('ok', 'error')),
    detail   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_platform_at ON audit_log (platform, at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
