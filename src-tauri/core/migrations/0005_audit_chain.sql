-- The local audit log becomes a hash chain (see src/team/chain.rs): each
-- entry from now on carries its position, the hash of the entry before it
-- and its own. Entries written before this migration have no position and
-- stay outside the chain. audit_head is moved in the same transaction as
-- each append; its UPDATE takes SQLite's write lock first, so two processes
-- appending at once are serialised.
ALTER TABLE audit_log ADD COLUMN seq INTEGER;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq) WHERE seq IS NOT NULL;

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
