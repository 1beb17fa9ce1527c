//! The web pages, end to end, in real headless Chromium driven through
//! chromedriver: each scenario starts Rapport in-process over a throwaway
//! SQLite database, clicks and types as a person would, and checks both the
//! page and the store. Two scenarios run at a time. Screenshots of the key
//! pages land in target/screenshots/ (desktop 1280×900 and phone 390×844).
//!
//! Needs Debian's `chromium` and `chromium-driver` packages; without them the
//! scenarios are skipped with a note, except under CI=true, where they fail.
//!
//! Run: `cargo test -p rapport-server --test browser` (add `-- --test-threads=1`
//! for one browser at a time).

mod browser {
    pub mod harness;

    pub mod accessibility;
    pub mod auth;
    pub mod board;
    pub mod conflicts;
    pub mod customer_page;
    pub mod import_leave_out;
    pub mod imports;
    pub mod inline_edit;
    pub mod inline_edit_records;
    pub mod insights;
    pub mod jobs;
    pub mod list_bulk;
    pub mod list_filters;
    pub mod mail;
    pub mod people;
    pub mod personal;
    pub mod phone;
    pub mod sales;
    pub mod search;
    pub mod style_feedback;
    pub mod surveys;
    pub mod task_edit;
    pub mod task_undo;
    pub mod ticket_bulk;
    pub mod tickets;
    pub mod tour;
    pub mod trash;
    pub mod viewer;
}
