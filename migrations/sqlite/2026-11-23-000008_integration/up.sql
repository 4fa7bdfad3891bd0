-- Change feed: one row per domain event, numbered without gaps in commit order.
CREATE TABLE events (
    seq BIGINT PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL,
    event_type TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    data_json TEXT NOT NULL,
    request_id TEXT
);
CREATE INDEX events_type ON events(event_type, seq);

CREATE TABLE funding_applications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    funder_id BIGINT NOT NULL REFERENCES organisations(id),
    programme TEXT NOT NULL,
    programme_kind TEXT NOT NULL,
    idea_id BIGINT REFERENCES ideas(id),
    currency TEXT NOT NULL,
    amount_applied_minor BIGINT NOT NULL,
    own_cofinancing_minor BIGINT,
    grant_rate_bp BIGINT,
    amount_awarded_minor BIGINT,
    status TEXT NOT NULL,
    submitted_on DATE,
    decided_on DATE,
    withdrawn_on DATE,
    project_start DATE,
    project_end DATE,
    funder_reference TEXT,
    notes TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX funding_applications_funder ON funding_applications(funder_id);
CREATE INDEX funding_applications_idea ON funding_applications(idea_id);
CREATE INDEX funding_applications_status ON funding_applications(status, submitted_on);

CREATE TABLE funding_payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id BIGINT NOT NULL REFERENCES funding_applications(id),
    received_on DATE NOT NULL,
    amount_minor BIGINT NOT NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX funding_payments_application ON funding_payments(application_id);

CREATE TABLE collaboration_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT NOT NULL REFERENCES organisations(id),
    department_id BIGINT REFERENCES organisations(id),
    received_on DATE NOT NULL,
    topic TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    agreement_id BIGINT REFERENCES agreements(id),
    closed_on DATE,
    notes TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX collaboration_requests_company ON collaboration_requests(company_id);
CREATE INDEX collaboration_requests_received ON collaboration_requests(received_on);

-- What an external system calls our records: one row per (system, resource, its reference).
CREATE TABLE integration_refs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    system TEXT NOT NULL,
    resource TEXT NOT NULL,
    external_ref TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    source_updated_at TIMESTAMP NOT NULL,
    payload_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (system, resource, external_ref)
);
CREATE INDEX integration_refs_entity ON integration_refs(resource, entity_id);

CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    description TEXT,
    event_types TEXT NOT NULL,
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id BIGINT NOT NULL REFERENCES webhooks(id),
    event_seq BIGINT NOT NULL REFERENCES events(seq),
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_status_code BIGINT,
    last_error TEXT,
    delivered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, id);

CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries(id),
    attempted_at TIMESTAMP NOT NULL,
    duration_ms BIGINT NOT NULL,
    status_code BIGINT,
    error TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id);
