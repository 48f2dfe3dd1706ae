-- VMs workspace: the local request store (one operator, no etcd), quotas,
-- execution locks, and when each VM was first seen powered off.
-- Records are JSON (the same shapes the etcd store keeps); `revision` is a
-- store-wide counter used for compare-and-set, like etcd's mod_revision.
CREATE TABLE vm_revision (n INTEGER NOT NULL);
INSERT INTO vm_revision (n) VALUES (0);

CREATE TABLE vm_requests (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    record    TEXT NOT NULL,
    revision  INTEGER NOT NULL
);
CREATE INDEX vm_requests_name ON vm_requests (name);

CREATE TABLE vm_decisions (
    id        TEXT NOT NULL REFERENCES vm_requests (id) ON DELETE CASCADE,
    stage     TEXT NOT NULL CHECK (stage IN ('manager', 'admin')),
    record    TEXT NOT NULL,
    revision  INTEGER NOT NULL,
    PRIMARY KEY (id, stage)
);

CREATE TABLE vm_runs (
    id        TEXT PRIMARY KEY REFERENCES vm_requests (id) ON DELETE CASCADE,
    record    TEXT NOT NULL,
    revision  INTEGER NOT NULL
);

CREATE TABLE vm_quotas (
    department TEXT PRIMARY KEY,
    quota      TEXT NOT NULL
);

CREATE TABLE vm_locks (
    id        TEXT PRIMARY KEY,
    owner     TEXT NOT NULL,
    until_ms  INTEGER NOT NULL
);

CREATE TABLE vm_powered_off_seen (
    connection_id TEXT NOT NULL,
    vm_id         TEXT NOT NULL,
    since         TEXT NOT NULL,
    PRIMARY KEY (connection_id, vm_id)
);
