DROP TABLE payout_lines;
DROP TABLE distributions;
DROP TABLE distribution_policies;
DROP TABLE income;
DROP TABLE agreement_ideas;
DROP TABLE agreements;
