//! Any text at all goes through the domain parsers without a panic, and
//! what they accept reads back as itself.

use proptest::prelude::*;
use rapport_domain::records::{Domain, Language, Phone, TimeZone};
use rapport_domain::text::{LongText, Name, Tag};
use rapport_domain::{Currency, Email};

/// Parses, and when accepted, checks that the stored form parses to the same value.
fn stable<T, E>(
    raw: &str,
    parse: impl Fn(&str) -> Result<T, E>,
    show: impl Fn(&T) -> String,
) -> Result<(), TestCaseError>
where
    T: PartialEq + std::fmt::Debug,
    E: std::fmt::Debug,
{
    if let Ok(value) = parse(raw) {
        let again = parse(&show(&value));
        prop_assert!(
            again.as_ref().is_ok_and(|v| *v == value),
            "{raw:?} became {:?}, which reads back as {again:?}",
            show(&value)
        );
    }
    Ok(())
}

proptest! {
    #[test]
    fn parsers_never_panic_and_are_stable(raw in "\\PC{0,80}|[a-zA-Z0-9.@+\\-/ _()x]{0,40}") {
        stable(&raw, Email::parse, |e| e.to_string())?;
        stable(&raw, Currency::parse, |c| c.to_string())?;
        stable(&raw, |s| Name::try_from(s.to_string()), |n| n.to_string())?;
        stable(&raw, |s| LongText::try_from(s.to_string()), |n| n.to_string())?;
        stable(&raw, |s| Tag::try_from(s.to_string()), |t| t.as_str().to_string())?;
        stable(&raw, |s| Phone::try_from(s.to_string()), |p| p.as_str().to_string())?;
        stable(&raw, |s| Domain::try_from(s.to_string()), |d| d.as_str().to_string())?;
        stable(&raw, |s| Language::try_from(s.to_string()), |l| String::from(l.clone()))?;
        stable(&raw, |s| TimeZone::try_from(s.to_string()), |z| String::from(z.clone()))?;
    }

    #[test]
    fn search_words_are_what_both_engines_can_index(raw in "\\PC{0,80}") {
        for word in rapport_domain::search::SearchQuery::parse(&raw).map(|q| q.terms).unwrap_or_default() {
            prop_assert!(!word.is_empty() && word.chars().all(char::is_alphanumeric), "{word:?}");
        }
        let document = rapport_domain::search::document([raw.as_str()], [raw.as_str()]);
        prop_assert!(document.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '|'), "{document:?}");
    }
}
