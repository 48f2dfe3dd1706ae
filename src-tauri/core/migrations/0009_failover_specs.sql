-- Failover (src/clusters/failover.rs): the last seen spec of each workload
-- marked for failover (label opsdeck.dev/failover=true), per source cluster
-- (context name and API server URL), so the workloads of a cluster that has
-- become unreachable can still be re-created elsewhere. Replaced as a whole
-- for a cluster each time its marked workloads are read; seen_at is RFC 3339.
CREATE TABLE failover_specs (
    server     TEXT NOT NULL,
    context    TEXT NOT NULL,
    namespace  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    spec_json  TEXT NOT NULL,
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (server, context, namespace, kind, name)
);
