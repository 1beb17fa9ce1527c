//! Rapport's domain: the types every other crate speaks in, and the rules
//! that hold whatever the storage or transport. Nothing here does I/O.
//!
//! Input arrives as JSON (or CLI flags) and is parsed straight into these
//! types at the edge, so a handler or query never holds an unchecked string.

#[macro_use]
mod enums;

pub mod access;
pub mod bulk;
pub mod conditions;
pub mod custom_fields;
pub mod duplicates;
pub mod email;
pub mod goals;
pub mod history;
pub mod ids;
pub mod jobs;
pub mod mail;
pub mod merge;
pub mod money;
pub mod month;
pub mod personal;
pub mod records;
pub mod sales;
mod schema;
pub mod search;
pub mod segment;
pub mod sla;
pub mod sla_events;
pub mod style;
pub mod style_feedback;
pub mod surveys;
pub mod text;
pub mod tickets;
pub mod time_input;
pub mod timeline;
pub mod validation;
pub mod views;

pub use access::{Actor, Ownership, Role};
pub use email::Email;
pub use ids::*;
pub use money::{Currency, Money, MoneySum};
pub use month::CalendarMonth;
pub use segment::Segment;
pub use validation::FieldErrors;
