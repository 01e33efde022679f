-- API access tokens: only the SHA-256 of each secret is kept.
CREATE TABLE tokens (
    id {id},
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    scope TEXT,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
