CREATE TABLE agreements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    counterparty_id BIGINT NOT NULL REFERENCES organisations(id),
    status TEXT NOT NULL,
    signed_on DATE,
    effective_on DATE,
    expires_on DATE,
    ended_on DATE,
    end_reason TEXT,
    territory TEXT,
    field_of_use TEXT,
    terms TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX agreements_counterparty ON agreements(counterparty_id);

CREATE TABLE agreement_ideas (
    agreement_id BIGINT NOT NULL REFERENCES agreements(id),
    idea_id BIGINT NOT NULL REFERENCES ideas(id),
    PRIMARY KEY (agreement_id, idea_id)
);
CREATE INDEX agreement_ideas_idea ON agreement_ideas(idea_id);

CREATE TABLE income (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agreement_id BIGINT REFERENCES agreements(id),
    idea_id BIGINT NOT NULL REFERENCES ideas(id),
    kind TEXT NOT NULL,
    received_on DATE NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX income_idea ON income(idea_id, received_on);
CREATE INDEX income_agreement ON income(agreement_id);

CREATE TABLE distribution_policies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    basis TEXT NOT NULL,
    inventors_weight BIGINT NOT NULL,
    department_weight BIGINT NOT NULL,
    institution_weight BIGINT NOT NULL,
    institution_id BIGINT REFERENCES organisations(id),
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE distributions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    income_id BIGINT NOT NULL REFERENCES income(id),
    live_income_id BIGINT UNIQUE,
    policy_id BIGINT NOT NULL REFERENCES distribution_policies(id),
    reverses_id BIGINT UNIQUE REFERENCES distributions(id),
    gross_minor BIGINT NOT NULL,
    costs_deducted_minor BIGINT NOT NULL,
    distributable_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX distributions_income ON distributions(income_id);

CREATE TABLE payout_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    distribution_id BIGINT NOT NULL REFERENCES distributions(id),
    recipient_kind TEXT NOT NULL,
    person_id BIGINT REFERENCES people(id),
    organisation_id BIGINT REFERENCES organisations(id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    basis TEXT NOT NULL
);
CREATE INDEX payout_lines_distribution ON payout_lines(distribution_id);
CREATE INDEX payout_lines_person ON payout_lines(person_id);
