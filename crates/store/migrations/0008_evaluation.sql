-- Real-time evaluation (crates/evaluation): pre-registered protocols, stored with their hash
-- before any result, and every run of one (the month of data it saw, the answer as JSON), so a
-- monthly re-run shows how an estimate moves as data arrive under the same protocol.
CREATE TABLE evaluation_protocols (
    hash TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    body TEXT NOT NULL,
    registered_at TEXT NOT NULL
);
CREATE TABLE evaluation_runs (
    protocol_hash TEXT NOT NULL REFERENCES evaluation_protocols (hash),
    as_of TEXT NOT NULL,
    result TEXT NOT NULL,
    run_at TEXT NOT NULL,
    PRIMARY KEY (protocol_hash, as_of)
);
