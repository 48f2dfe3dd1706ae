-- Cluster health history (src/clusters/history.rs): one row per change of a
-- cluster's verdict, never one per check, written by the app (live view and
-- checks) and by `opsdeck health`. A cluster is its context name and API
-- server URL. from_verdict is NULL for the first verdict ever seen. The
-- findings at that moment, and those that appeared / cleared since the
-- previous row, are JSON arrays of findings. at_ms (Unix milliseconds) is
-- for comparisons and retention; at is RFC 3339 for display.
CREATE TABLE cluster_health_history (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    context       TEXT NOT NULL,
    server        TEXT NOT NULL,
    at            TEXT NOT NULL,
    at_ms         INTEGER NOT NULL,
    from_verdict  TEXT,
    to_verdict    TEXT NOT NULL,
    source        TEXT NOT NULL,
    origin        TEXT NOT NULL,
    findings_json TEXT NOT NULL,
    appeared_json TEXT NOT NULL,
    cleared_json  TEXT NOT NULL
);
CREATE INDEX cluster_health_history_cluster ON cluster_health_history (context, server, id);
CREATE INDEX cluster_health_history_at ON cluster_health_history (at_ms);
