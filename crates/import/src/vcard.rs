//! People from vCard 3.0 (Apple, Google) and 4.0 files, read card by card as
//! a stream. The two versions differ, for what a CRM keeps, only in how
//! parameters and phone numbers are written (`TYPE=cell` or `TYPE="cell"`,
//! `+1 555` or `tel:+1-555`), so one small reader serves both.

use std::io::BufRead;

use rapport_domain::records::Phone;
use rapport_domain::text::{Name, Tag};
use rapport_domain::{Email, FieldErrors};
use rapport_storage::{PersonImport, Rejection};

use crate::ImportError;

/// One property: `NAME;PARAMS:VALUE`, the value still escaped.
struct Property {
    name: String,
    value: String,
}

/// A card's properties and the line its `BEGIN:VCARD` is on.
pub(crate) struct Card {
    line: u64,
    properties: Vec<Property>,
}

/// Reads cards one at a time, unfolding continued lines.
pub(crate) struct Cards<R> {
    input: R,
    line: u64,
    /// A logical line read ahead: a folded line ends only when the next does not continue it.
    ahead: Option<(u64, String)>,
}

impl<R: BufRead> Cards<R> {
    pub fn new(input: R) -> Self {
        Cards { input, line: 0, ahead: None }
    }

    fn physical_line(&mut self) -> Result<Option<String>, ImportError> {
        let mut raw = Vec::new();
        let n = self.input.read_until(b'\n', &mut raw).map_err(|err| ImportError::Unreadable(err.to_string()))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut text = String::from_utf8(raw).map_err(|_| ImportError::NotUtf8 { line: self.line })?;
        if self.line == 1
            && let Some(rest) = text.strip_prefix('\u{feff}')
        {
            text = rest.to_owned();
        }
        while text.ends_with(['\n', '\r']) {
            text.pop();
        }
        Ok(Some(text))
    }

    /// The next unfolded line with the line it starts on.
    fn logical_line(&mut self) -> Result<Option<(u64, String)>, ImportError> {
        let mut current = match self.ahead.take() {
            Some(line) => line,
            None => match self.physical_line()? {
                Some(text) => (self.line, text),
                None => return Ok(None),
            },
        };
        while let Some(next) = self.physical_line()? {
            match next.strip_prefix([' ', '\t']) {
                Some(continued) => current.1.push_str(continued),
                None => {
                    self.ahead = Some((self.line, next));
                    break;
                }
            }
        }
        Ok(Some(current))
    }

    pub fn next_card(&mut self) -> Result<Option<Card>, ImportError> {
        let mut card: Option<Card> = None;
        while let Some((line, text)) = self.logical_line()? {
            if text.trim().is_empty() {
                continue;
            }
            let Some((head, value)) = text.split_once(':') else {
                return Err(ImportError::Malformed { line, reason: format!("{text:?} is not a vCard property") });
            };
            // Apple writes `item1.EMAIL`: the group does not matter here.
            let name = head.split(';').next().unwrap_or_default();
            let name = name.rsplit('.').next().unwrap_or_default().to_ascii_uppercase();
            match (name.as_str(), &mut card) {
                ("BEGIN", None) if value.eq_ignore_ascii_case("VCARD") => {
                    card = Some(Card { line, properties: Vec::new() })
                }
                ("END", Some(_)) if value.eq_ignore_ascii_case("VCARD") => return Ok(card),
                (_, Some(card)) => card.properties.push(Property { name, value: value.to_owned() }),
                (_, None) => {
                    return Err(ImportError::Malformed { line, reason: "expected BEGIN:VCARD".into() });
                }
            }
        }
        match card {
            Some(card) => Err(ImportError::Malformed { line: card.line, reason: "the card has no END:VCARD".into() }),
            None => Ok(None),
        }
    }
}

/// A value's components, split on unescaped `sep` and unescaped.
fn components(value: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => parts.last_mut().expect("one part").push('\n'),
                Some(other) => parts.last_mut().expect("one part").push(other),
                None => {}
            },
            c if c == sep => parts.push(String::new()),
            c => parts.last_mut().expect("one part").push(c),
        }
    }
    parts.into_iter().map(|p| p.trim().to_owned()).collect()
}

impl Card {
    /// The card as a person's values, or every reason it cannot be.
    pub fn person(&self) -> Result<PersonImport, Rejection> {
        let mut row = PersonImport { line: self.line, ..Default::default() };
        let mut errors = FieldErrors::new();
        let mut full_name = None;
        for property in &self.properties {
            let result: Result<(), String> = (|| {
                let text = || components(&property.value, '\u{0}').remove(0);
                match property.name.as_str() {
                    "FN" => full_name = Some(text()),
                    "N" => {
                        let parts = components(&property.value, ';');
                        let family = parts.first().filter(|p| !p.is_empty());
                        let given = parts.get(1).filter(|p| !p.is_empty());
                        if let Some(given) = given {
                            row.first_name = Some(Name::try_from(given.as_str())?);
                        }
                        if let Some(family) = family {
                            row.last_name = Some(Name::try_from(family.as_str())?);
                        }
                    }
                    "EMAIL" => {
                        let address = text();
                        row.emails.push(Email::parse(&address).map_err(|e| format!("{address:?} {e}"))?);
                    }
                    "TEL" => {
                        let number = text();
                        let number = number.strip_prefix("tel:").unwrap_or(&number).replace('-', " ");
                        row.phones.push(Phone::try_from(number.clone()).map_err(|e| format!("{number:?} is {e}"))?);
                    }
                    "ORG" => {
                        let organisation = components(&property.value, ';').remove(0);
                        if !organisation.is_empty() {
                            row.company_name = Some(Name::try_from(organisation.as_str())?);
                        }
                    }
                    "TITLE" => row.job_title = Some(Name::try_from(text().as_str())?),
                    "CATEGORIES" => {
                        for tag in components(&property.value, ',').into_iter().filter(|t| !t.is_empty()) {
                            row.tags.push(Tag::try_from(tag)?);
                        }
                    }
                    _ => {}
                }
                Ok(())
            })();
            if let Err(reason) = result {
                errors.add(property.name.clone(), reason);
            }
        }
        // No structured name: the formatted one, split at its last space.
        if row.first_name.is_none()
            && let Some(full) = full_name.filter(|f| !f.is_empty())
        {
            let (first, last) = match full.rsplit_once(' ') {
                Some((first, last)) if row.last_name.is_none() => (first.trim(), Some(last)),
                _ => (full.as_str(), None),
            };
            match Name::try_from(first) {
                Ok(first) => row.first_name = Some(first),
                Err(reason) => errors.add("FN", reason),
            }
            if let Some(last) = last {
                row.last_name = Name::try_from(last).ok();
            }
        }
        errors.into_result().map(|()| row).map_err(|errors| Rejection { line: self.line, errors })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cards(text: &str) -> Vec<Result<PersonImport, Rejection>> {
        let mut cards = Cards::new(text.as_bytes());
        std::iter::from_fn(|| cards.next_card().unwrap()).map(|card| card.person()).collect()
    }

    #[test]
    fn version_3_as_apple_writes_it() {
        let text = include_str!("../tests/fixtures/apple-3.0.vcf");
        let people = cards(text);
        assert_eq!(people.len(), 2);
        let ada = people[0].as_ref().unwrap();
        assert_eq!(ada.first_name.as_ref().unwrap().as_str(), "Ada");
        assert_eq!(ada.last_name.as_ref().unwrap().as_str(), "Lovelace");
        let emails: Vec<&str> = ada.emails.iter().map(|e| e.as_str()).collect();
        assert_eq!(emails, ["ada@example.com", "ada@work.example"]);
        assert_eq!(ada.phones[0].as_str(), "+44 20 7946 0958");
        assert_eq!(ada.company_name.as_ref().unwrap().as_str(), "Analytical Engines, Ltd.");
        assert_eq!(ada.job_title.as_ref().unwrap().as_str(), "Programmer");
        let tags: Vec<&str> = ada.tags.iter().map(|t| t.as_str()).collect();
        assert_eq!(tags, ["vip", "math"], "tags are kept lower-case");
        let bad = people[1].as_ref().unwrap_err();
        assert_eq!(bad.line, 14);
        assert!(bad.errors.get("EMAIL").is_some(), "{bad:?}");
    }

    #[test]
    fn version_4_with_uris_and_quoted_parameters() {
        let text = include_str!("../tests/fixtures/google-4.0.vcf");
        let people = cards(text);
        assert_eq!(people.len(), 1);
        let grace = people[0].as_ref().unwrap();
        assert_eq!(grace.first_name.as_ref().unwrap().as_str(), "Grace");
        assert_eq!(grace.last_name.as_ref().unwrap().as_str(), "Hopper");
        assert_eq!(grace.emails[0].as_str(), "grace@navy.example");
        assert_eq!(grace.phones[0].as_str(), "+1 202 555 0143");
        assert_eq!(grace.company_name.as_ref().unwrap().as_str(), "US Navy");
        assert_eq!(grace.job_title.as_ref().unwrap().as_str(), "Rear Admiral; Computer Scientist");
    }

    #[test]
    fn a_card_without_its_end_is_an_error() {
        let mut cards = Cards::new("BEGIN:VCARD\nFN:Ada\n".as_bytes());
        assert!(matches!(cards.next_card(), Err(ImportError::Malformed { line: 1, .. })));
    }
}
