CREATE TABLE disclosures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idea_id BIGINT NOT NULL REFERENCES ideas(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    disclosed_on DATE NOT NULL,
    venue TEXT NOT NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX disclosures_idea ON disclosures(idea_id, disclosed_on);

CREATE TABLE milestones (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idea_id BIGINT NOT NULL REFERENCES ideas(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    due_on DATE NOT NULL,
    done_on DATE,
    owner_id BIGINT REFERENCES people(id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX milestones_idea ON milestones(idea_id);
CREATE INDEX milestones_due ON milestones(done_on, due_on);
CREATE INDEX milestones_owner ON milestones(owner_id);

CREATE TABLE follow_ups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idea_id BIGINT NOT NULL REFERENCES ideas(id) ON DELETE CASCADE,
    due_on DATE NOT NULL,
    done_on DATE,
    note TEXT,
    result TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX follow_ups_idea ON follow_ups(idea_id);
CREATE INDEX follow_ups_due ON follow_ups(done_on, due_on);

CREATE TABLE impacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idea_id BIGINT NOT NULL REFERENCES ideas(id) ON DELETE CASCADE,
    recorded_on DATE NOT NULL,
    savings_minor BIGINT,
    savings_currency TEXT,
    fte_centi BIGINT,
    adverse_events_avoided BIGINT,
    evidence TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX impacts_idea ON impacts(idea_id, recorded_on);
