DROP TABLE impacts;
DROP TABLE follow_ups;
DROP TABLE milestones;
DROP TABLE disclosures;
