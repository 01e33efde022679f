-- The regime's register: organisations (copied from the dataset), regulators, system cases,
-- interventions, plans' commitments, the levers both pull, exit criteria, progress,
-- snapshots of what decisions were based on, and the append-only audit log.
-- {id} is the dialect's auto-increment key.
CREATE TABLE organisations (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    system_code TEXT
);
CREATE TABLE regulators (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    builtin BIGINT NOT NULL
);
CREATE TABLE cases (
    id {id},
    system_code TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    pack TEXT,
    period TEXT,
    reason TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT,
    close_reason TEXT,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX cases_by_trigger ON cases (system_code, pack, period) WHERE pack IS NOT NULL;
CREATE TABLE interventions (
    id {id},
    regulator TEXT NOT NULL REFERENCES regulators (id),
    target_kind TEXT NOT NULL,
    target_code TEXT NOT NULL,
    system_code TEXT,
    kind TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    actions TEXT NOT NULL,
    start_date TEXT NOT NULL,
    deadline TEXT,
    status TEXT NOT NULL,
    case_id BIGINT REFERENCES cases (id),
    opened_at TEXT NOT NULL,
    closed_at TEXT,
    close_reason TEXT,
    version BIGINT NOT NULL
);
CREATE TABLE commitments (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases (id),
    stakeholder TEXT NOT NULL,
    stakeholder_kind TEXT NOT NULL,
    care_model TEXT NOT NULL,
    description TEXT NOT NULL,
    due TEXT,
    done_at TEXT
);
CREATE TABLE levers (
    id {id},
    intervention_id BIGINT REFERENCES interventions (id),
    commitment_id BIGINT REFERENCES commitments (id),
    org_code TEXT NOT NULL,
    lever TEXT NOT NULL,
    amount DOUBLE PRECISION NOT NULL,
    to_org_code TEXT
);
CREATE TABLE exit_criteria (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases (id),
    text TEXT NOT NULL,
    met_at TEXT
);
CREATE TABLE progress (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases (id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE TABLE snapshots (
    id {id},
    case_id BIGINT REFERENCES cases (id),
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE audit (
    id {id},
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id BIGINT,
    before_state TEXT,
    after_state TEXT
);
INSERT INTO regulators (id, name, builtin) VALUES
    ('nhs_england', 'NHS England', 1),
    ('monitor', 'Monitor / NHS Improvement', 1),
    ('nhs_tda', 'NHS Trust Development Authority', 1),
    ('cqc', 'Care Quality Commission', 1),
    ('local_government', 'Local government', 1);
