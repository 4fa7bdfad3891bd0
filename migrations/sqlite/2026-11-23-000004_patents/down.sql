DROP TABLE app_meta;
DROP TABLE patent_costs;
DROP TABLE deadline_marks;
DROP TABLE deadline_rules;
DROP TABLE patent_filings;
DROP TABLE patent_families;
