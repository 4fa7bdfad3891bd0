-- The number of the last change event, in one row. A write transaction takes the row lock with
-- `UPDATE event_counter SET last_seq = last_seq + n RETURNING last_seq` and holds it until it
-- commits, so events are numbered without gaps in commit order, in one statement.
CREATE TABLE event_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT NOT NULL
);
INSERT INTO event_counter (id, last_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM events;
