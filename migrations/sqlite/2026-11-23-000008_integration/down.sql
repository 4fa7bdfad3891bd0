DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE integration_refs;
DROP TABLE collaboration_requests;
DROP TABLE funding_payments;
DROP TABLE funding_applications;
DROP TABLE events;
