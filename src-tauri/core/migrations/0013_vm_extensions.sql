-- Lease extensions in the local VM request store (the etcd store keeps them
-- beside the request): the requester's record and the manager's decision on
-- it, each with the store revision it was written at (compare-and-set, like
-- the other vm_ tables). A decision is written once: of two approvers, one.
CREATE TABLE vm_extensions (
    id                 TEXT NOT NULL REFERENCES vm_requests (id) ON DELETE CASCADE,
    n                  INTEGER NOT NULL,
    record             TEXT NOT NULL,
    revision           INTEGER NOT NULL,
    decision           TEXT,
    decision_revision  INTEGER,
    PRIMARY KEY (id, n)
);
