-- The reporting regime as a live calendar: what each organisation and system reports at
-- (from a sync's day, to the day a new outcome replaced it), and the returns recorded as
-- submitted.
CREATE TABLE reporting (
    id {id},
    entity_kind TEXT NOT NULL,
    entity_code TEXT NOT NULL,
    pack TEXT NOT NULL,
    outcome TEXT NOT NULL,
    frequency TEXT NOT NULL,
    support TEXT NOT NULL,
    from_date TEXT NOT NULL,
    to_date TEXT
);
CREATE INDEX reporting_entity ON reporting (entity_code, pack);
CREATE TABLE returns (
    id {id},
    entity_code TEXT NOT NULL,
    pack TEXT NOT NULL,
    period TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    note TEXT,
    UNIQUE (entity_code, pack, period)
);
