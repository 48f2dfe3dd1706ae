-- Auto-approval rules per department in the local VM request store (the
-- etcd store keeps them under vms/rules/<department>/<name>/<generation>).
-- One row per generation of a rule name: replacing or removing a rule marks
-- its row removed and keeps it, so a request it approved can still be
-- checked against the rule as it was. `created_rev` and `revision` (the last
-- write: the removal, once removed) are vm_revision values.
CREATE TABLE vm_approval_rules (
    department   TEXT NOT NULL,
    name         TEXT NOT NULL,
    generation   INTEGER NOT NULL,
    record       TEXT NOT NULL,
    created_rev  INTEGER NOT NULL,
    revision     INTEGER NOT NULL,
    live         INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (department, name, generation)
);
-- At most one live generation of a name per department.
CREATE UNIQUE INDEX vm_approval_rules_live ON vm_approval_rules (department, name) WHERE live = 1;
