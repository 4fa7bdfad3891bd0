CREATE TABLE patent_families (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idea_id BIGINT NOT NULL REFERENCES ideas(id),
    title TEXT NOT NULL,
    internal_ref TEXT,
    status TEXT NOT NULL,
    responsible_id BIGINT REFERENCES people(id),
    agent_id BIGINT REFERENCES organisations(id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX patent_families_idea ON patent_families(idea_id);

CREATE TABLE patent_filings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    family_id BIGINT NOT NULL REFERENCES patent_families(id),
    kind TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    parent_id BIGINT REFERENCES patent_filings(id),
    application_number TEXT,
    filing_date DATE,
    priority_dates TEXT NOT NULL DEFAULT '',
    publication_number TEXT,
    publication_date DATE,
    grant_number TEXT,
    grant_date DATE,
    status TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX patent_filings_family ON patent_filings(family_id);
CREATE INDEX patent_filings_parent ON patent_filings(parent_id);

CREATE TABLE deadline_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_key TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE deadline_marks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    filing_id BIGINT NOT NULL REFERENCES patent_filings(id),
    rule_key TEXT NOT NULL,
    due_on DATE NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    actor TEXT NOT NULL,
    marked_at TIMESTAMP NOT NULL,
    UNIQUE (filing_id, rule_key, due_on)
);

CREATE TABLE patent_costs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    family_id BIGINT NOT NULL REFERENCES patent_families(id),
    filing_id BIGINT REFERENCES patent_filings(id),
    incurred_on DATE NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    category TEXT NOT NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX patent_costs_family ON patent_costs(family_id, incurred_on);

CREATE TABLE app_meta (
    meta_key TEXT PRIMARY KEY,
    meta_value TEXT NOT NULL
);
