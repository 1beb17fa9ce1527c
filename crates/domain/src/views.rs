//! Saved views: a staff member's named filter, sort and column choice for one
//! of the lists, kept as the list's own query string.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{UserId, ViewId};
use crate::text::Name;

/// The lists a view can be saved for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    People,
    Companies,
    Deals,
    Tasks,
    Tickets,
    Purchases,
}

impl ListKind {
    pub const ALL: [ListKind; 6] = [
        ListKind::People,
        ListKind::Companies,
        ListKind::Deals,
        ListKind::Tasks,
        ListKind::Tickets,
        ListKind::Purchases,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::People => "people",
            ListKind::Companies => "companies",
            ListKind::Deals => "deals",
            ListKind::Tasks => "tasks",
            ListKind::Tickets => "tickets",
            ListKind::Purchases => "purchases",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw)
            .ok_or_else(|| "must be one of people, companies, deals, tasks, tickets, purchases".to_string())
    }
}

/// A list's query string as saved: at most 2,000 characters, without a
/// cursor (a view starts on the first page) and without control characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ViewQuery(String);

crate::schema::schema_from!(
    ViewQuery,
    crate::schema::text(
        0,
        2000,
        "^[^\\u0000-\\u001F\\u007F-\\u009F]*$",
        "A list's query string, such as stage=won&sort=-amount: at most 2,000 characters, no control characters."
    )
);

impl ViewQuery {
    pub const MAX_LEN: usize = 2000;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim().trim_start_matches('?');
        if raw.chars().count() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        if raw.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        let kept: Vec<String> =
            raw.split('&').filter(|pair| !pair.is_empty() && !pair.starts_with("cursor=")).map(str::to_owned).collect();
        Ok(ViewQuery(kept.join("&")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ViewQuery {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        ViewQuery::parse(&raw)
    }
}

impl From<ViewQuery> for String {
    fn from(query: ViewQuery) -> String {
        query.0
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SavedViewInput {
    pub list: ListKind,
    pub name: Name,
    pub query: ViewQuery,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SavedView {
    pub id: ViewId,
    pub user_id: UserId,
    #[serde(flatten)]
    pub fields: SavedViewInput,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_query_drops_the_cursor_and_the_question_mark() {
        let query = ViewQuery::parse("?q=ana&cursor=abc&sort=-updated_at&cols=name,email").unwrap();
        assert_eq!(query.as_str(), "q=ana&sort=-updated_at&cols=name,email");
        assert!(ViewQuery::parse(&"a".repeat(2001)).is_err());
        assert!(ViewQuery::parse("q=\u{7}").is_err());
        assert_eq!(ListKind::parse("deals"), Ok(ListKind::Deals));
        assert_eq!(ListKind::parse("tickets"), Ok(ListKind::Tickets));
        assert!(ListKind::parse("cats").is_err());
    }
}
