-- Delegation and approval timeouts in the local VM request store (the etcd
-- store keeps them beside the requests; see vms/delegation.rs and
-- vms/escalation.rs). JSON records with the store revision they were written
-- at (compare-and-set, like the other vm_ tables).

-- An approver's delegation of one step for a date range (revoked: kept, marked).
CREATE TABLE vm_delegations (
    id        TEXT PRIMARY KEY,
    approver  TEXT NOT NULL,
    record    TEXT NOT NULL,
    revision  INTEGER NOT NULL
);

-- Per department: the approval timeout and the named escalation delegate.
CREATE TABLE vm_escalation_policies (
    department TEXT PRIMARY KEY,
    policy     TEXT NOT NULL
);

-- A step of a request escalated once per request revision: the primary key
-- makes two passes at once write one row (an edit of the request makes a
-- later revision, which may be escalated again).
CREATE TABLE vm_escalations (
    id                TEXT NOT NULL REFERENCES vm_requests (id) ON DELETE CASCADE,
    stage             TEXT NOT NULL CHECK (stage IN ('manager', 'admin')),
    record            TEXT NOT NULL,
    request_revision  INTEGER NOT NULL,
    revision          INTEGER NOT NULL,
    PRIMARY KEY (id, stage)
);
