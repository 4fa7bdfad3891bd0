//! Innofolio: an innovation-portfolio tracker for hospital innovation units and
//! technology-transfer offices. See `docs/ARCHITECTURE.md` for the map of this crate.

pub mod api;
pub mod app;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod db;
pub mod delivery;
pub mod demo;
pub mod domain;
pub mod error;
pub mod import;
pub mod openapi;
pub mod read_cache;
pub mod telemetry;
