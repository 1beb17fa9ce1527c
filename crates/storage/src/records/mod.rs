//! One module per record type: create, read, list, update, delete.

pub mod activities;
mod batch;
pub mod companies;
pub mod custom_fields;
pub mod deals;
pub mod people;
pub mod pipelines;
pub mod purchases;
pub mod tasks;
pub mod timeline;
pub mod users;
