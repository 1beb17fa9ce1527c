//! Rapport's API, end to end: a real server on port 0 over a throwaway
//! database, spoken to over HTTP. Every test runs twice, as `sqlite::NAME`
//! and `postgres::NAME` (the latter when RAPPORT_TEST_POSTGRES is set).

#[macro_use]
extern crate rapport_testing;

mod common;

mod api {
    pub mod auth;
    pub mod concurrency;
    pub mod crud;
    pub mod custom_fields;
    pub mod dates;
    pub mod duplicates;
    pub mod errors;
    pub mod export;
    pub mod external_ids;
    pub mod feedback;
    pub mod health;
    pub mod history;
    pub mod hostile;
    pub mod imports;
    pub mod insights;
    pub mod jobs;
    pub mod list_bulk;
    pub mod list_filters;
    pub mod lists;
    pub mod mail;
    pub mod merge;
    pub mod permissions;
    pub mod personal;
    pub mod sales;
    pub mod sla_report;
    pub mod strict;
    pub mod style;
    pub mod style_feedback;
    pub mod style_goals;
    pub mod ticket_bulk;
    pub mod tickets;
    pub mod timeline;
    pub mod uniqueness;
    pub mod views;
}
