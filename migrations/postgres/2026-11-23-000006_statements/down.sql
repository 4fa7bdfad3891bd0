DROP TABLE royalty_statements;
