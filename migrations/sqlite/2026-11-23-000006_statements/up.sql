CREATE TABLE royalty_statements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agreement_id BIGINT NOT NULL REFERENCES agreements(id),
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    currency TEXT NOT NULL,
    net_sales_minor BIGINT NOT NULL,
    royalty_minor BIGINT NOT NULL,
    true_up_minor BIGINT NOT NULL,
    due_minor BIGINT NOT NULL,
    invoiced_minor BIGINT,
    received_minor BIGINT NOT NULL DEFAULT 0,
    last_received_on DATE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (agreement_id, period_start)
);
CREATE INDEX royalty_statements_agreement ON royalty_statements(agreement_id, period_end);
