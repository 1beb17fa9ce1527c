//! Likely duplicates: how two records' names, phones and domains are
//! compared, and how the reasons two records look alike add up to a score.
//! Storage finds the candidates (records sharing a blocking key); this module
//! decides how alike they are.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Names at least this alike (Jaro-Winkler, after normalizing) are "similar".
pub const SIMILAR_NAME: f64 = 0.9;

/// Phone numbers match on this many trailing digits, so a number typed with
/// and without its country code (`+44 20 7946 0958`, `020 7946 0958`) is one.
pub const PHONE_MATCH_DIGITS: usize = 9;

/// Which records to look for duplicates among.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateKind {
    People,
    Companies,
}

impl DuplicateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DuplicateKind::People => "people",
            DuplicateKind::Companies => "companies",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "people" => Ok(DuplicateKind::People),
            "companies" => Ok(DuplicateKind::Companies),
            _ => Err("must be people or companies".into()),
        }
    }
}

/// Why two records look like one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    SameEmail,
    SamePhone,
    SimilarName,
    SameDomain,
}

impl ReasonKind {
    pub fn label(self) -> &'static str {
        match self {
            ReasonKind::SameEmail => "Same email",
            ReasonKind::SamePhone => "Same phone",
            ReasonKind::SimilarName => "Similar name",
            ReasonKind::SameDomain => "Same domain",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reason {
    pub kind: ReasonKind,
    /// What they share: the address, the number, both names, both domains.
    pub detail: String,
    /// How much this reason alone says, 0–100.
    pub score: u8,
}

impl Reason {
    pub fn same_email(address: &str) -> Self {
        Reason { kind: ReasonKind::SameEmail, detail: address.to_owned(), score: 90 }
    }

    pub fn same_phone(a: &str, b: &str) -> Self {
        let detail = if a == b { a.to_owned() } else { format!("{a} / {b}") };
        Reason { kind: ReasonKind::SamePhone, detail, score: 80 }
    }

    /// Two people's names; alike names weigh more at the same company.
    pub fn similar_person_name(a: &str, b: &str, similarity: f64, company: Option<&str>) -> Self {
        let (base, detail) = match company {
            Some(company) => (50.0, format!("{a} / {b} at {company}")),
            None => (30.0, format!("{a} / {b}")),
        };
        Reason { kind: ReasonKind::SimilarName, detail, score: scale(base, 20.0, similarity) }
    }

    pub fn similar_company_name(a: &str, b: &str, similarity: f64) -> Self {
        Reason { kind: ReasonKind::SimilarName, detail: format!("{a} / {b}"), score: scale(60.0, 30.0, similarity) }
    }

    pub fn same_domain(a: &str, b: &str) -> Self {
        let detail = if a == b { a.to_owned() } else { format!("{a} / {b}") };
        Reason { kind: ReasonKind::SameDomain, detail, score: 85 }
    }
}

/// `base` at the similarity threshold, rising by `range` to an exact match.
fn scale(base: f64, range: f64, similarity: f64) -> u8 {
    let above = ((similarity - SIMILAR_NAME) / (1.0 - SIMILAR_NAME)).clamp(0.0, 1.0);
    (base + range * above).round() as u8
}

/// The score of several reasons together: each is read as the chance the
/// pair is one record, and the pair is one unless every reason is wrong.
pub fn combined_score(reasons: &[Reason]) -> u8 {
    let all_wrong: f64 = reasons.iter().map(|r| 1.0 - f64::from(r.score.min(100)) / 100.0).product();
    ((1.0 - all_wrong) * 100.0).round() as u8
}

/// One side of a likely duplicate, with the fields a reader compares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DuplicateRecord {
    pub id: Uuid,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    /// A person's company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// A company's domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// Two records that look like one, strongest reason first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DuplicatePair {
    /// The older record (ids sort by creation time).
    pub a: DuplicateRecord,
    pub b: DuplicateRecord,
    pub score: u8,
    pub reasons: Vec<Reason>,
}

/// Lower-case, accents folded, anything but letters and digits turned into
/// single spaces: "  Zoë  O'Brien " and "zoe o brien" are the same.
pub fn normalize_name(name: &str) -> String {
    crate::search::words(name).collect::<Vec<_>>().join(" ")
}

/// Endings that say what kind of company it is, not which one.
const LEGAL_SUFFIXES: &[&str] = &[
    "ab",
    "ag",
    "as",
    "bv",
    "co",
    "company",
    "corp",
    "corporation",
    "gmbh",
    "inc",
    "incorporated",
    "kg",
    "lda",
    "limited",
    "llc",
    "llp",
    "ltd",
    "nv",
    "oy",
    "plc",
    "pte",
    "pty",
    "sa",
    "sarl",
    "sas",
    "spa",
    "srl",
];

/// A company name without case, accents, punctuation or its legal form:
/// "ACME, Inc." and "Acme Inc" are both "acme". A name that is nothing but
/// a legal form keeps it.
pub fn company_name_key(name: &str) -> String {
    // Dots go first, so "S.A." is the one word "sa".
    let normalized = normalize_name(&name.replace('.', ""));
    let mut words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    while words.len() > 1 && words.last().is_some_and(|w| LEGAL_SUFFIXES.contains(w)) {
        words.pop();
    }
    words.join(" ")
}

/// How alike two names are once normalized, from 0 to 1.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    strsim::jaro_winkler(a, b)
}

/// The part of a phone number's digits two ways of typing it share.
pub fn phone_key(digits: &str) -> &str {
    &digits[digits.len().saturating_sub(PHONE_MATCH_DIGITS)..]
}

/// Second-level labels under which names are registered (`acme.co.uk`).
const SECOND_LEVEL: &[&str] = &["ac", "co", "com", "edu", "gov", "net", "or", "org"];

/// The name a domain was registered under: `acme` for `acme.com`,
/// `shop.acme.de` and `acme.co.uk`.
pub fn domain_name(domain: &str) -> &str {
    let labels: Vec<&str> = domain.split('.').collect();
    let mut end = labels.len().saturating_sub(1);
    if end >= 2 && labels[end].len() == 2 && SECOND_LEVEL.contains(&labels[end - 1]) {
        end -= 1;
    }
    labels.get(end.saturating_sub(1)).copied().unwrap_or(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalize_without_case_accents_or_punctuation() {
        assert_eq!(normalize_name("  Zoë  O'Brien "), "zoe o brien");
        assert_eq!(normalize_name("JOSÉ Ángel"), "jose angel");
        assert_eq!(normalize_name("---"), "");
    }

    #[test]
    fn company_names_lose_their_legal_form() {
        for name in ["ACME Inc.", "Acme Inc", "Acme, Inc", "acme", "Ácme GmbH", "Acme S.A.", "ACME Ltd"] {
            assert_eq!(company_name_key(name), "acme", "{name}");
        }
        assert_eq!(company_name_key("Acme Tools Co Ltd"), "acme tools");
        assert_eq!(company_name_key("Limited"), "limited");
        assert_eq!(company_name_key("Acme Incubator"), "acme incubator");
    }

    #[test]
    fn similar_names_pass_the_threshold_and_different_ones_do_not() {
        let alike = name_similarity(&normalize_name("Ana Lima"), &normalize_name("Ana Lyma"));
        assert!(alike >= SIMILAR_NAME, "{alike}");
        let accents = name_similarity(&normalize_name("José Silva"), &normalize_name("Jose Silva"));
        assert_eq!(accents, 1.0);
        let different = name_similarity(&normalize_name("Ana Lima"), &normalize_name("Bruno Costa"));
        assert!(different < SIMILAR_NAME, "{different}");
    }

    #[test]
    fn phones_match_on_their_last_digits() {
        assert_eq!(phone_key("442079460958"), phone_key("02079460958"));
        assert_ne!(phone_key("442079460958"), phone_key("442079460959"));
        assert_eq!(phone_key("55501"), "55501");
    }

    #[test]
    fn domains_reduce_to_the_registered_name() {
        assert_eq!(domain_name("acme.com"), "acme");
        assert_eq!(domain_name("shop.acme.de"), "acme");
        assert_eq!(domain_name("acme.co.uk"), "acme");
        assert_eq!(domain_name("mail.example.org"), "example");
        assert_eq!(domain_name("localhost"), "localhost");
    }

    #[test]
    fn scores_grow_with_each_reason_and_stay_within_100() {
        let email = Reason::same_email("ana@example.com");
        let phone = Reason::same_phone("+1 555 0100", "5550100");
        assert_eq!(combined_score(std::slice::from_ref(&email)), 90);
        assert_eq!(combined_score(&[email.clone(), phone.clone()]), 98);
        assert_eq!(combined_score(&[email.clone(), email.clone(), email]), 100);
        assert_eq!(combined_score(&[]), 0);
        let exact = Reason::similar_company_name("Acme Inc", "ACME Inc.", 1.0);
        let barely = Reason::similar_company_name("Acme", "Acmo", SIMILAR_NAME);
        assert_eq!((exact.score, barely.score), (90, 60));
        let at_company = Reason::similar_person_name("Ana", "Ana", 1.0, Some("Acme"));
        let elsewhere = Reason::similar_person_name("Ana", "Ana", 1.0, None);
        assert!(at_company.score > elsewhere.score);
    }
}
