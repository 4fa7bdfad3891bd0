CREATE TABLE obligations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agreement_id BIGINT NOT NULL REFERENCES agreements(id),
    description TEXT NOT NULL,
    due_on DATE NOT NULL,
    met_on DATE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX obligations_agreement ON obligations(agreement_id);
CREATE INDEX obligations_due ON obligations(met_on, due_on);

CREATE TABLE agreement_families (
    agreement_id BIGINT NOT NULL REFERENCES agreements(id),
    family_id BIGINT NOT NULL REFERENCES patent_families(id),
    PRIMARY KEY (agreement_id, family_id)
);
CREATE INDEX agreement_families_family ON agreement_families(family_id);
