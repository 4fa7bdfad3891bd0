DROP TABLE rights_extensions;
DROP TABLE checklist_answers;
DROP TABLE idea_events;
DROP TABLE idea_owners;
DROP TABLE idea_inventors;
DROP TABLE idea_tags;
DROP TABLE ideas;
