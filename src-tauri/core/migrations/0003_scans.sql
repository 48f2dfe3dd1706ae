-- Images workspace: what each layer holds (parsed), keyed by its digest
-- (the image config's diff_id), so shared and rescanned layers are never
-- read again; and the history of scans.
CREATE TABLE layer_cache (
    digest      TEXT PRIMARY KEY NOT NULL,
    record_json TEXT NOT NULL,
    cached_at   TEXT NOT NULL
);

CREATE TABLE image_scans (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id TEXT,
    image         TEXT NOT NULL,
    image_id      TEXT NOT NULL,
    scanned_at    TEXT NOT NULL,
    decision      TEXT NOT NULL CHECK (decision IN ('BLOCK', 'WARN', 'ALLOW')),
    risk_score    INTEGER NOT NULL,
    report_json   TEXT NOT NULL
);
CREATE INDEX image_scans_by_image ON image_scans (image_id, scanned_at);
CREATE INDEX image_scans_by_time ON image_scans (scanned_at);
