//! The web pages over HTTP, without a browser: a real server on port 0 over a
//! throwaway database, spoken to with a cookie jar and forms as a browser
//! would send them. Every test runs twice, as `sqlite::NAME` and
//! `postgres::NAME` (the latter when RAPPORT_TEST_POSTGRES is set).

#[macro_use]
extern crate rapport_testing;

mod common;

mod web {
    pub mod board;
    pub mod conflicts;
    pub mod csrf;
    pub mod customer_page;
    pub mod duplicates;
    pub mod external_ids;
    pub mod feedback;
    pub mod forms;
    pub mod headers;
    pub mod history;
    pub mod hostile;
    pub mod htmx;
    pub mod import_leave_out;
    pub mod imports;
    pub mod inline_edit;
    pub mod insights;
    pub mod jobs;
    pub mod list_bulk;
    pub mod list_count;
    pub mod list_filters;
    pub mod mail_settings;
    pub mod numbers;
    pub mod permissions;
    pub mod personal;
    pub mod sales;
    pub mod search;
    pub mod session;
    pub mod sla_report;
    pub mod style;
    pub mod style_feedback;
    pub mod style_goals;
    pub mod surveys;
    pub mod task_edit;
    pub mod ticket_bulk;
    pub mod tickets;
    pub mod views;
}
