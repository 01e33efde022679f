-- The new care models programme office (crates/programme): care-model organisations,
-- vanguard applications and their peer reviews, selections, decommissioning milestones and
-- the fund's tranches, and flexibilities (procurement waivers, legal advice, conflicts of
-- interest). Lists are JSON text. {id} is the dialect's auto-increment key.
CREATE TABLE care_models (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    model TEXT NOT NULL,
    form TEXT NOT NULL,
    contract_form TEXT NOT NULL,
    terms TEXT,
    system_code TEXT,
    start_date TEXT NOT NULL,
    population DOUBLE PRECISION NOT NULL,
    members TEXT NOT NULL,
    practices TEXT NOT NULL
);
CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    lead_org_code TEXT NOT NULL,
    partners TEXT NOT NULL,
    system_code TEXT,
    region_code TEXT,
    population DOUBLE PRECISION NOT NULL,
    flows TEXT NOT NULL,
    decommissioning TEXT NOT NULL,
    benefits TEXT NOT NULL,
    status TEXT NOT NULL,
    refusals TEXT NOT NULL,
    submitted_at TEXT NOT NULL
);
CREATE TABLE reviews (
    id {id},
    application_id TEXT NOT NULL REFERENCES applications (id),
    reviewer_org_code TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    conflict BIGINT NOT NULL,
    comment TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE UNIQUE INDEX reviews_once ON reviews (application_id, reviewer_org_code);
CREATE TABLE selections (
    id {id},
    rules TEXT NOT NULL,
    result TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL
);
CREATE TABLE milestones (
    id {id},
    application_id TEXT NOT NULL REFERENCES applications (id),
    service TEXT NOT NULL,
    due TEXT NOT NULL,
    released DOUBLE PRECISION NOT NULL,
    met_on TEXT
);
CREATE TABLE tranches (
    id {id},
    application_id TEXT NOT NULL REFERENCES applications (id),
    milestone_id BIGINT NOT NULL REFERENCES milestones (id),
    amount DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL,
    released_on TEXT
);
CREATE TABLE flexibilities (
    id {id},
    care_model_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    adviser TEXT,
    on_date TEXT NOT NULL,
    at TEXT NOT NULL
);
