CREATE TABLE ideas (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    description TEXT,
    need TEXT,
    kind TEXT NOT NULL,
    innovation_type TEXT NOT NULL,
    received_on DATE NOT NULL,
    source_organisation_id BIGINT REFERENCES organisations(id),
    project_manager_id BIGINT REFERENCES people(id),
    confidential BOOLEAN NOT NULL DEFAULT FALSE,
    stage TEXT NOT NULL,
    outcome TEXT,
    recipient_organisation_id BIGINT REFERENCES organisations(id),
    rights_decision TEXT,
    rights_decided_on DATE,
    rights_deadline DATE,
    expected_results TEXT,
    expected_savings_minor BIGINT,
    expected_savings_currency TEXT,
    expected_fte_centi BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX ideas_received_on ON ideas(received_on);
CREATE INDEX ideas_stage_outcome ON ideas(stage, outcome);
CREATE INDEX ideas_source_organisation ON ideas(source_organisation_id);
CREATE INDEX ideas_project_manager ON ideas(project_manager_id);
CREATE INDEX ideas_rights_deadline ON ideas(rights_deadline);

CREATE VIRTUAL TABLE ideas_fts USING fts5(
    title, description, need,
    content='ideas', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER ideas_fts_insert AFTER INSERT ON ideas BEGIN
    INSERT INTO ideas_fts(rowid, title, description, need) VALUES (new.id, new.title, new.description, new.need);
END;
CREATE TRIGGER ideas_fts_delete AFTER DELETE ON ideas BEGIN
    INSERT INTO ideas_fts(ideas_fts, rowid, title, description, need) VALUES ('delete', old.id, old.title, old.description, old.need);
END;
CREATE TRIGGER ideas_fts_update AFTER UPDATE OF title, description, need ON ideas BEGIN
    INSERT INTO ideas_fts(ideas_fts, rowid, title, description, need) VALUES ('delete', old.id, old.title, old.description, old.need);
    INSERT INTO ideas_fts(rowid, title, description, need) VALUES (new.id, new.title, new.description, new.need);
END;

CREATE TABLE idea_tags (
    idea_id BIGINT NOT NULL REFERENCES ideas(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (idea_id, tag)
);
CREATE INDEX idea_tags_tag ON idea_tags(tag);

CREATE TABLE idea_inventors (
    idea_id BIGINT NOT NULL REFERENCES ideas(id) ON DELETE CASCADE,
    person_id BIGINT NOT NULL REFERENCES people(id),
    share_units BIGINT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (idea_id, person_id)
);
CREATE INDEX idea_inventors_person ON idea_inventors(person_id);

CREATE TABLE idea_owners (
    idea_id BIGINT NOT NULL REFERENCES ideas(id) ON DELETE CASCADE,
    organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    share_units BIGINT NOT NULL,
    agreement_ref TEXT,
    position INTEGER NOT NULL,
    PRIMARY KEY (idea_id, organisation_id)
);
CREATE INDEX idea_owners_organisation ON idea_owners(organisation_id);

CREATE TABLE idea_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idea_id BIGINT NOT NULL REFERENCES ideas(id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    occurred_on DATE NOT NULL,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    from_stage TEXT,
    from_outcome TEXT,
    to_stage TEXT,
    to_outcome TEXT,
    reason TEXT,
    comment TEXT,
    override_reason TEXT,
    recipient_organisation_id BIGINT REFERENCES organisations(id)
);
CREATE INDEX idea_events_idea ON idea_events(idea_id, id);
CREATE INDEX idea_events_occurred ON idea_events(occurred_on);

CREATE TABLE checklist_answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idea_id BIGINT NOT NULL REFERENCES ideas(id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    criterion TEXT NOT NULL,
    answer TEXT NOT NULL,
    note TEXT,
    assessor_id BIGINT REFERENCES people(id),
    assessed_on DATE NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (idea_id, stage, criterion)
);
CREATE INDEX checklist_answers_assessor ON checklist_answers(assessor_id);

CREATE TABLE rights_extensions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idea_id BIGINT NOT NULL REFERENCES ideas(id) ON DELETE CASCADE,
    previous_deadline DATE NOT NULL,
    new_deadline DATE NOT NULL,
    agreed_on DATE NOT NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX rights_extensions_idea ON rights_extensions(idea_id);
