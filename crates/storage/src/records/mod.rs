//! One module per record type: create, read, list, update, delete.

pub mod activities;
pub mod answers;
pub mod companies;
mod create;
pub mod custom_fields;
pub mod customer_insights;
pub mod deals;
pub mod duplicates;
pub mod export;
pub mod import;
pub mod insights_feed;
pub mod insights_snapshots;
pub mod merge;
pub mod overview;
pub mod people;
pub mod pipelines;
pub mod purchases;
pub mod sla;
pub mod sla_events;
pub mod surveys;
pub mod tasks;
mod theme_rules;
mod ticket_bulk;
pub mod tickets;
pub mod timeline;
pub mod users;
pub mod views;
