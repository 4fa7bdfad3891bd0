-- Result contracts: indicators with targets for a period.
CREATE TABLE result_contracts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    status TEXT NOT NULL,
    organisation_id BIGINT REFERENCES organisations(id),
    notes TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX result_contracts_period ON result_contracts(period_start, period_end);

CREATE TABLE contract_targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contract_id BIGINT NOT NULL REFERENCES result_contracts(id),
    position BIGINT NOT NULL,
    kpi_key TEXT NOT NULL,
    target_value DOUBLE PRECISION NOT NULL,
    direction TEXT NOT NULL,
    at_risk_threshold DOUBLE PRECISION,
    UNIQUE (contract_id, kpi_key)
);

-- Indexes so that every KPI is an index range scan over its period (covering where it sums).
CREATE INDEX kpi_ideas_received ON ideas(received_on, kind, source_organisation_id);
CREATE INDEX kpi_ideas_decided ON ideas(rights_decided_on);
-- Covers every period query on the funnel history (no table lookups); replaces the plain
-- occurred_on index.
DROP INDEX idea_events_occurred;
CREATE INDEX kpi_idea_events_period ON idea_events(occurred_on, event, from_stage, from_outcome, to_stage, to_outcome, idea_id, id);
CREATE INDEX kpi_idea_events_idea ON idea_events(idea_id, to_stage, id, occurred_on, event, to_outcome, from_stage, from_outcome);
CREATE INDEX kpi_ideas_active ON ideas(outcome, received_on, source_organisation_id);
CREATE INDEX kpi_filings_filed ON patent_filings(filing_date, kind);
CREATE INDEX kpi_filings_granted ON patent_filings(grant_date);
CREATE INDEX kpi_costs_incurred ON patent_costs(incurred_on, currency, amount_minor);
CREATE INDEX kpi_agreements_signed ON agreements(signed_on, kind);
CREATE INDEX kpi_income_received ON income(received_on, currency, kind, amount_minor);
CREATE INDEX kpi_distributions_created ON distributions(created_at);
CREATE INDEX kpi_impacts_recorded ON impacts(recorded_on);
CREATE INDEX kpi_funding_submitted ON funding_applications(submitted_on);
CREATE INDEX kpi_funding_decided ON funding_applications(decided_on, status);
CREATE INDEX kpi_collaborations_closed ON collaboration_requests(closed_on, status);
