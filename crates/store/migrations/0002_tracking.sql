-- Delivery tracking: indicator trajectories a case's plan commits to.
CREATE TABLE trajectories (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases (id),
    indicator TEXT NOT NULL,
    grain TEXT NOT NULL,
    period TEXT NOT NULL,
    target DOUBLE PRECISION NOT NULL,
    direction TEXT NOT NULL
);
