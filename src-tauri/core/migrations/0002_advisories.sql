-- Local advisory database imported from OSV records. One row per advisory,
-- one per (advisory, affected package in an ecosystem family and release);
-- matching a package is one indexed lookup on (family, package).
CREATE TABLE advisories (
    id           TEXT PRIMARY KEY NOT NULL,
    modified     TEXT NOT NULL,
    aliases_json TEXT NOT NULL,
    summary      TEXT NOT NULL,
    severity     TEXT NOT NULL
);

CREATE TABLE advisory_affected (
    advisory_id   TEXT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    family        TEXT NOT NULL,
    -- '' = every release of the family
    release       TEXT NOT NULL,
    package       TEXT NOT NULL,
    -- [{"introduced": "0", "fixed": "1.2-1", "last_affected": null}, ...]
    ranges_json   TEXT NOT NULL,
    versions_json TEXT NOT NULL
);
CREATE INDEX advisory_affected_lookup ON advisory_affected (family, package);
CREATE INDEX advisory_affected_by_advisory ON advisory_affected (advisory_id);

CREATE TABLE advisory_imports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    source      TEXT NOT NULL,
    records     INTEGER NOT NULL,
    skipped     INTEGER NOT NULL,
    malformed   INTEGER NOT NULL
);
