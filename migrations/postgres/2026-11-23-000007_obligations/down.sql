DROP TABLE agreement_families;
DROP TABLE obligations;
