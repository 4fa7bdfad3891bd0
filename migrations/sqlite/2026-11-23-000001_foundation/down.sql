DROP TABLE idempotency_keys;
DROP TABLE audit_log;
DROP TABLE people;
DROP TABLE organisations;
DROP TABLE api_keys;
