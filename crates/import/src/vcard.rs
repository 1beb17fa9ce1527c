//! People from vCard 2.1 (Android and WhatsApp exports), 3.0 (Apple,
//! Google) and 4.0 files, read card by card as a stream. The versions
//! differ, for what a CRM keeps, in how parameters and phone numbers are
//! written (`TEL;HOME:`, `TYPE=cell` or `TYPE="cell"`, `+1 555` or
//! `tel:+1-555`) and in 2.1's quoted-printable values (`=C3=A9`, with `=` at
//! a line's end continuing it), so one small reader serves all three.

use std::io::BufRead;

use rapport_domain::records::{Birthday, Language, Phone, PostalAddress, PostalCode, TimeZone};
use rapport_domain::text::{LongText, Name, Tag};
use rapport_domain::{Email, FieldErrors};
use rapport_storage::{PersonImport, Rejection};

use crate::ImportError;

/// One property: `NAME;PARAMS:VALUE`, the value still escaped.
struct Property {
    name: String,
    /// `NAME;PARAMS` as written, for [`parameters`].
    head: String,
    value: String,
}

/// A card's properties and the line its `BEGIN:VCARD` is on.
pub(crate) struct Card {
    line: u64,
    properties: Vec<Property>,
    /// Lines of the card that could not be read: the card is rejected with
    /// them, and the cards after it are still read.
    unreadable: Vec<(u64, String)>,
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

    /// The next unfolded line with the line it starts on. A folded line
    /// continues on lines that start with a space or tab; a quoted-printable
    /// value (vCard 2.1) on the line after one that ends with `=`.
    fn logical_line(&mut self) -> Result<Option<(u64, String)>, ImportError> {
        let mut current = match self.ahead.take() {
            Some(line) => line,
            None => match self.physical_line()? {
                Some(text) => (self.line, text),
                None => return Ok(None),
            },
        };
        let quoted_printable = is_quoted_printable(&current.1);
        while let Some(next) = self.physical_line()? {
            if quoted_printable && current.1.ends_with('=') {
                current.1.pop();
                current.1.push_str(&next);
                continue;
            }
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
                let reason = format!("{text:?} is not a vCard property");
                match &mut card {
                    Some(card) => {
                        card.unreadable.push((line, reason));
                        continue;
                    }
                    None => return Err(ImportError::MalformedVcard { line, reason }),
                }
            };
            // Apple writes `item1.EMAIL`: the group does not matter here.
            let name = head.split(';').next().unwrap_or_default();
            let name = name.rsplit('.').next().unwrap_or_default().to_ascii_uppercase();
            match (name.as_str(), &mut card) {
                ("BEGIN", None) if value.eq_ignore_ascii_case("VCARD") => {
                    card = Some(Card { line, properties: Vec::new(), unreadable: Vec::new() })
                }
                ("END", Some(_)) if value.eq_ignore_ascii_case("VCARD") => return Ok(card),
                (_, Some(card)) => match decoded(head, value) {
                    Ok(value) => card.properties.push(Property { name, head: head.to_owned(), value }),
                    Err(reason) => card.unreadable.push((line, format!("{name}: {reason}"))),
                },
                (_, None) => {
                    return Err(ImportError::MalformedVcard { line, reason: "expected BEGIN:VCARD".into() });
                }
            }
        }
        match card {
            Some(card) => {
                Err(ImportError::MalformedVcard { line: card.line, reason: "the card has no END:VCARD".into() })
            }
            None => Ok(None),
        }
    }
}

/// A property's parameters: `TYPE=cell`, or 2.1's bare `HOME`.
fn parameters(head: &str) -> impl Iterator<Item = (&str, &str)> {
    head.split(';').skip(1).map(|p| p.split_once('=').unwrap_or(("", p)))
}

/// Whether a property line's value is quoted-printable (vCard 2.1 writes
/// `ENCODING=QUOTED-PRINTABLE`, or the bare `QUOTED-PRINTABLE`).
fn is_quoted_printable(line: &str) -> bool {
    let head = line.split_once(':').map_or("", |(head, _)| head);
    parameters(head).any(|(name, value)| {
        (name.is_empty() || name.eq_ignore_ascii_case("ENCODING")) && value.eq_ignore_ascii_case("QUOTED-PRINTABLE")
    })
}

/// The value as text: quoted-printable decoded, in its `CHARSET` (UTF-8
/// unless it names ISO-8859-1 or Windows-1252, read as Latin-1).
fn decoded(head: &str, value: &str) -> Result<String, String> {
    if !is_quoted_printable(&format!("{head}:")) {
        return Ok(value.to_owned());
    }
    let bytes = quoted_printable::decode(value.as_bytes(), quoted_printable::ParseMode::Robust)
        .map_err(|err| format!("the quoted-printable value cannot be read: {err}"))?;
    let charset = parameters(head).find(|(name, _)| name.eq_ignore_ascii_case("CHARSET")).map(|(_, value)| value);
    match charset.map(str::to_ascii_uppercase).as_deref() {
        None | Some("UTF-8" | "UTF8" | "US-ASCII") => {
            String::from_utf8(bytes).map_err(|_| "the value is not UTF-8 text, as its CHARSET says".to_owned())
        }
        Some("ISO-8859-1" | "LATIN1" | "WINDOWS-1252" | "CP1252") => Ok(bytes.iter().map(|b| char::from(*b)).collect()),
        Some(other) => Err(format!("the character set {other} is not supported: use UTF-8")),
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

/// A card's TZ as a time zone name: a name as it is (4.0, and most 3.0
/// writers), or a UTC offset (`-05:00`, `-0500`, `Z`) as the `Etc` zone of
/// that offset. An offset of part of an hour (`+05:30`) names no zone
/// without a place, so the card keeps no time zone.
fn time_zone(value: &str) -> Result<Option<TimeZone>, String> {
    if let Ok(zone) = TimeZone::try_from(value.to_owned()) {
        return Ok(Some(zone));
    }
    let not_a_zone = || format!("{value:?} is neither a time zone name such as Europe/Lisbon nor a UTC offset");
    if value.eq_ignore_ascii_case("Z") {
        return Ok(Some(TimeZone::try_from("UTC".to_owned())?));
    }
    let (sign, digits) = match value.split_at_checked(1) {
        Some(("+", rest)) => (1, rest.replace(':', "")),
        Some(("-", rest)) => (-1, rest.replace(':', "")),
        _ => return Err(not_a_zone()),
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_a_zone());
    }
    let hours: i32 = digits[..2].parse().map_err(|_| not_a_zone())?;
    let minutes: i32 = digits[2..].parse().map_err(|_| not_a_zone())?;
    let offset = sign * hours;
    Ok(match (offset, minutes) {
        (0, 0) => Some(TimeZone::try_from("UTC".to_owned())?),
        // The Etc zones' signs are POSIX's: UTC-05:00 is Etc/GMT+5.
        (-12..=14, 0) => Some(TimeZone::try_from(format!("Etc/GMT{:+}", -offset))?),
        (-12..=14, 1..=59) => None,
        _ => return Err(not_a_zone()),
    })
}

/// A property's types, lower-case: 3.0 and 4.0's `TYPE=home,pref` or
/// `TYPE="home,pref"` (also written as several `TYPE`s), 2.1's bare `HOME`.
fn types(head: &str) -> Vec<String> {
    parameters(head)
        .filter(|(name, _)| name.is_empty() || name.eq_ignore_ascii_case("TYPE"))
        .flat_map(|(_, value)| value.trim_matches('"').split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect()
}

/// Whether a property is the preferred one of its kind: 4.0's `PREF=1`,
/// 3.0's `TYPE=pref`, 2.1's bare `PREF`.
fn preferred(head: &str) -> bool {
    parameters(head).any(|(name, _)| name.eq_ignore_ascii_case("PREF")) || types(head).iter().any(|t| t == "pref")
}

/// A BDAY: `None` for one the card gives as text (`VALUE=text`, "circa
/// 1800"), which is no day of birth; an error for a date that cannot be read.
fn birthday(head: &str, value: &str) -> Result<Option<Birthday>, String> {
    let text_value =
        parameters(head).any(|(name, v)| name.eq_ignore_ascii_case("VALUE") && v.eq_ignore_ascii_case("text"));
    if text_value {
        return Ok(None);
    }
    Birthday::read(value).map(Some)
}

/// An ADR (`post office box;extended address;street;locality;region;postal
/// code;country`) as an address: the extended address (a flat, a building)
/// and the post office box become lines of the street; `TYPE=home` or
/// `work` its label. `None` for an ADR with nothing in it.
fn address(head: &str, value: &str) -> Result<Option<PostalAddress>, String> {
    let parts = components(value, ';');
    let part = |i: usize| parts.get(i).map(String::as_str).filter(|p| !p.is_empty());
    let name = |i: usize| part(i).map(Name::try_from).transpose();
    let street_lines: Vec<String> =
        [part(2).map(str::to_owned), part(1).map(str::to_owned), part(0).map(|b| format!("PO Box {b}"))]
            .into_iter()
            .flatten()
            .collect();
    let street = (!street_lines.is_empty()).then(|| Name::try_from(street_lines.join("\n"))).transpose()?;
    let postal_code =
        part(5).map(|code| PostalCode::try_from(code.to_owned()).map_err(|e| format!("{code:?} {e}"))).transpose()?;
    let label = types(head).into_iter().find(|t| t == "home" || t == "work").map(Name::try_from).transpose()?;
    let address = PostalAddress {
        label,
        primary: preferred(head),
        street,
        locality: name(3)?,
        region: name(4)?,
        postal_code,
        country: name(6)?,
    };
    Ok((!address.is_empty()).then_some(address))
}

impl Card {
    /// The card as a person's values, or every reason it cannot be.
    pub fn person(&self) -> Result<PersonImport, Rejection> {
        let mut row = PersonImport { line: self.line, ..Default::default() };
        let mut errors = FieldErrors::new();
        for (line, reason) in &self.unreadable {
            errors.add("vCard", format!("line {line}: {reason}"));
        }
        let mut full_name = None;
        // With several variants of a name (4.0's ALTID), the first counts.
        let mut named = false;
        for property in &self.properties {
            let result: Result<(), String> = (|| {
                let text = || components(&property.value, '\u{0}').remove(0);
                match property.name.as_str() {
                    "FN" => {
                        full_name.get_or_insert_with(text);
                    }
                    "N" if !named => {
                        named = true;
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
                    // Of several (a card should have one), the first.
                    "BDAY" if row.birthday.is_none() => row.birthday = birthday(&property.head, &text())?,
                    "ADR" => {
                        if let Some(mut address) = address(&property.head, &property.value)? {
                            // Only the first address marked preferred is the primary one.
                            address.primary &= !row.addresses.iter().any(|a| a.primary);
                            row.addresses.push(address);
                        }
                    }
                    // Of several (4.0 allows them, ranked by PREF), the first.
                    "LANG" if row.language.is_none() => row.language = Some(Language::try_from(text())?),
                    "TZ" if row.time_zone.is_none() => row.time_zone = time_zone(&text())?,
                    "NOTE" => {
                        let note = match row.note.take() {
                            Some(earlier) => format!("{earlier}\n\n{}", text()),
                            None => text(),
                        };
                        row.note = Some(LongText::try_from(note)?);
                    }
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
    fn version_2_1_as_android_exports_it() {
        let text = include_str!("../tests/fixtures/android-2.1.vcf");
        let people = cards(text);
        assert_eq!(people.len(), 3, "a card that cannot be read does not stop the others");
        let jorg = people[0].as_ref().unwrap();
        assert_eq!(jorg.first_name.as_ref().unwrap().as_str(), "Jörg");
        assert_eq!(jorg.last_name.as_ref().unwrap().as_str(), "Müller");
        let phones: Vec<&str> = jorg.phones.iter().map(|p| p.as_str()).collect();
        assert_eq!(phones, ["+49 30 901820", "+49 30 1234567"], "bare TEL;CELL and TEL;HOME");
        assert_eq!(jorg.emails[0].as_str(), "joerg@example.de");
        assert_eq!(
            jorg.company_name.as_ref().unwrap().as_str(),
            "Bäckerei Müller und Söhne GmbH",
            "a soft line break joins the value"
        );
        assert_eq!(jorg.job_title.as_ref().unwrap().as_str(), "Geschäftsführer", "bare QUOTED-PRINTABLE");

        let broken = people[1].as_ref().unwrap_err();
        assert_eq!(broken.line, 12, "reported by the card's first line");
        let reason = broken.errors.get("vCard").expect("why");
        assert!(reason.contains("line 15") && reason.contains("not a vCard property"), "{reason}");

        let francois = people[2].as_ref().unwrap();
        assert_eq!(francois.first_name.as_ref().unwrap().as_str(), "François", "Latin-1 as its CHARSET says");
        assert_eq!(francois.last_name.as_ref().unwrap().as_str(), "Garçon");
    }

    #[test]
    fn of_several_variants_of_a_name_the_first_counts() {
        let people = cards(include_str!("../tests/fixtures/altid-4.0.vcf"));
        let kate = people[0].as_ref().unwrap();
        assert_eq!(kate.first_name.as_ref().unwrap().as_str(), "Kate");
        assert_eq!(kate.last_name.as_ref().unwrap().as_str(), "Smith");
    }

    #[test]
    fn a_value_in_an_unknown_character_set_rejects_its_card_only() {
        let text = "BEGIN:VCARD\nN;CHARSET=KOI8-R;ENCODING=QUOTED-PRINTABLE:=F0=D2;=C9;;;\nEND:VCARD\nBEGIN:VCARD\nFN:Ada Lovelace\nEND:VCARD\n";
        let people = cards(text);
        let reason = people[0].as_ref().unwrap_err().errors.get("vCard").unwrap().to_owned();
        assert!(reason.contains("KOI8-R is not supported"), "{reason}");
        assert_eq!(people[1].as_ref().unwrap().first_name.as_ref().unwrap().as_str(), "Ada");
    }

    #[test]
    fn a_line_outside_any_card_names_the_format() {
        let mut cards = Cards::new("BEGIN:VCARD\nFN:Ada\nEND:VCARD\nstray text\n".as_bytes());
        assert!(cards.next_card().unwrap().is_some());
        let error = cards.next_card().err().expect("an error").to_string();
        assert!(error.starts_with("line 4 is not valid vCard"), "{error}");
    }

    #[test]
    fn language_time_zone_and_notes_are_kept() {
        let text = "BEGIN:VCARD\nVERSION:4.0\nFN:Ada Lovelace\nLANG;PREF=1:en-GB\nLANG;PREF=2:fr\n\
                    TZ;VALUE=text:Europe/London\nNOTE:Met at the\\, Analytical Society.\\nLikes tea.\n\
                    NOTE:Second note\nEND:VCARD\n";
        let ada = cards(text).remove(0).unwrap();
        assert_eq!(ada.language.unwrap().as_str(), "en-GB", "the first LANG");
        assert_eq!(ada.time_zone.unwrap().as_str(), "Europe/London");
        assert_eq!(ada.note.unwrap().as_str(), "Met at the, Analytical Society.\nLikes tea.\n\nSecond note");
    }

    #[test]
    fn a_utc_offset_becomes_the_zone_of_that_offset() {
        let zone = |value: &str| time_zone(value).map(|zone| zone.map(|z| z.as_str().to_owned()));
        assert_eq!(zone("-05:00"), Ok(Some("Etc/GMT+5".into())), "POSIX signs");
        assert_eq!(zone("+0100"), Ok(Some("Etc/GMT-1".into())));
        assert_eq!(zone("+00:00"), Ok(Some("UTC".into())));
        assert_eq!(zone("Z"), Ok(Some("UTC".into())));
        assert_eq!(zone("+05:30"), Ok(None), "no zone name holds a part-hour offset alone");
        assert!(zone("+25:00").is_err());
        assert!(zone("Eastern Time").unwrap_err().contains("neither a time zone name"));
    }

    #[test]
    fn birthdays_and_addresses_of_every_version() {
        let people = cards(include_str!("../tests/fixtures/birthdays-addresses.vcf"));
        assert_eq!(people.len(), 5);
        let jorg = people[0].as_ref().unwrap();
        assert_eq!(jorg.birthday.map(String::from).as_deref(), Some("1970-03-01"), "2.1's basic form");
        let home = &jorg.addresses[0];
        assert_eq!(home.street.as_ref().unwrap().as_str(), "Hauptstraße 5", "quoted-printable, in UTF-8");
        assert_eq!(home.locality.as_ref().unwrap().as_str(), "München");
        assert_eq!(home.region.as_ref().unwrap().as_str(), "Bayern");
        assert_eq!(home.postal_code.as_ref().unwrap().as_str(), "80331");
        assert_eq!(home.country.as_ref().unwrap().as_str(), "Deutschland", "a soft line break joins the value");
        assert_eq!(home.label.as_ref().unwrap().as_str(), "home", "2.1's bare HOME");

        let ada = people[1].as_ref().unwrap();
        assert_eq!(ada.birthday.map(String::from).as_deref(), Some("1985-04-15"));
        let labels: Vec<&str> = ada.addresses.iter().map(|a| a.label.as_ref().unwrap().as_str()).collect();
        assert_eq!(labels, ["home", "work"]);
        assert_eq!(ada.addresses[0].street.as_ref().unwrap().as_str(), "12 St James's Square");
        assert!(!ada.addresses[0].primary && ada.addresses[1].primary, "3.0's TYPE=PREF");
        assert_eq!(ada.addresses[1].street.as_ref().unwrap().as_str(), "1 Analytical Way\nFloor 3", "extended address");

        let grace = people[2].as_ref().unwrap();
        assert_eq!(grace.birthday.map(String::from).as_deref(), Some("--12-09"), "4.0 without the year");
        let arlington = &grace.addresses[0];
        assert!(arlington.primary, "TYPE=\"home,pref\"");
        assert_eq!(arlington.label.as_ref().unwrap().as_str(), "home");
        assert_eq!(arlington.region.as_ref().unwrap().as_str(), "VA");

        let old = people[3].as_ref().unwrap();
        assert_eq!(old.birthday, None, "VALUE=text is no day of birth: left out");
        assert_eq!(old.emails[0].as_str(), "old.soul@example.org", "and the card is imported");

        let bad = people[4].as_ref().unwrap_err();
        assert_eq!(bad.line, 31, "reported by its card's line");
        assert!(bad.errors.get("BDAY").is_some_and(|m| m.contains("February has no day 30")), "{bad:?}");
    }

    #[test]
    fn an_empty_address_is_none_and_a_bad_postal_code_rejects_the_card() {
        let text =
            "BEGIN:VCARD\nFN:Ada\nADR:;;;;;;\nEND:VCARD\nBEGIN:VCARD\nFN:Bea\nADR:;;1 Road;Town;;#12;\nEND:VCARD\n";
        let people = cards(text);
        assert!(people[0].as_ref().unwrap().addresses.is_empty());
        let reason = people[1].as_ref().unwrap_err().errors.get("ADR").unwrap().to_owned();
        assert!(reason.contains("\"#12\" is not a postal code"), "{reason}");
    }

    #[test]
    fn a_card_without_its_end_is_an_error() {
        let mut cards = Cards::new("BEGIN:VCARD\nFN:Ada\n".as_bytes());
        assert!(matches!(cards.next_card(), Err(ImportError::MalformedVcard { line: 1, .. })));
    }
}
