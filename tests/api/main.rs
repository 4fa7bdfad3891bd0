//! Integration tests: the real application over HTTP, on SQLite by default and on PostgreSQL
//! when `TEST_DATABASE_URL` is set.

mod auth;
mod browser;
mod cli;
mod conventions;
mod deals;
mod helpers;
mod hostile;
mod idea_records;
mod ideas;
mod imports;
mod integration;
mod kpis;
mod openapi;
mod operations;
mod organisations;
mod patents;
mod people;
mod security;
