//! Text search, made the same on every database: documents and queries are
//! folded into the same lower-case alphanumeric words before either full-text
//! engine sees them, and every query word matches as a prefix.
//!
//! Folding drops accents ("Zoë" is found by `zoe`), writes a name joined by
//! an apostrophe or hyphen also as one word ("O'Brien" is found by `obrien`
//! and `o'brien`), and keeps a phone number's digits together (`+44 20 7946`
//! finds "+442079460000").
//!
//! Results are ranked by a record's *key*, at the head of its document: its
//! names and emails, folded the way a query is. A key part equal to the query
//! is an exact match, one that starts with it a prefix match.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A query has at most this many words.
const MAX_TERMS: usize = 8;

/// Words this long or longer are also tried with one typo mended.
const TYPO_MIN: usize = 4;

/// Longer words are not mended: their variants would be too many.
const TYPO_MAX: usize = 24;

/// A phone number in a document or query counts from this many digits.
const PHONE_DIGITS: usize = 5;

/// Characters inside a name that join its parts: "O'Brien", "Jean-Luc".
fn is_joiner(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '‘' | '`' | '-' | '‐' | '‑')
}

/// One word folded: accents dropped, lower case, letters with no
/// decomposition spelled as people type them without their keyboard's
/// extra keys ("ø" as "o", "ß" as "ss"). Keeps letters and digits only.
fn fold(word: &str) -> String {
    let mut folded = String::with_capacity(word.len());
    for c in word.nfkd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase) {
        match c {
            'ß' => folded.push_str("ss"),
            'æ' => folded.push_str("ae"),
            'œ' => folded.push_str("oe"),
            'þ' => folded.push_str("th"),
            'ø' => folded.push('o'),
            'ł' => folded.push('l'),
            'đ' | 'ð' => folded.push('d'),
            'ħ' => folded.push('h'),
            'ı' => folded.push('i'),
            // Lowercasing may add marks ("İ" becomes "i" and a combining dot),
            // which neither engine indexes as part of a word.
            c if c.is_alphanumeric() => folded.push(c),
            _ => {}
        }
    }
    folded
}

/// The words of a text, folded, split at anything not a letter or digit.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).map(fold).filter(|w| !w.is_empty())
}

/// The words of a text as a query reads them: like [`words`], except that a
/// name joined by apostrophes or hyphens is one word ("o'brien" is `obrien`).
fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric() && !is_joiner(c))
        .map(|piece| piece.split(is_joiner).map(fold).collect::<String>())
        .filter(|w| !w.is_empty())
}

/// The digits of a text, when it has enough of them to be a phone number.
fn phone_digits(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= PHONE_DIGITS).then_some(digits)
}

/// The searchable document of a record: its ranking key (the `key` parts:
/// names and emails), then the words of every part, each word once.
///
/// The key comes first, each part folded as a query is and closed by `|` on
/// both sides: "|rosa larsen|larsen rosa| rosa larsen 4420…". Both engines
/// read `|` as a space; a database's `LIKE` finds a query's
/// [`SearchQuery::phrase`] between bars without escaping, since a document
/// holds only letters, digits, spaces and bars.
pub fn document<'a>(key: impl IntoIterator<Item = &'a str>, rest: impl IntoIterator<Item = &'a str>) -> String {
    let key: Vec<&str> = key.into_iter().collect();
    let mut doc = String::from("|");
    for part in &key {
        let phrase = tokens(part).collect::<Vec<_>>().join(" ");
        if !phrase.is_empty() {
            doc.push_str(&phrase);
            doc.push('|');
        }
    }
    let mut seen: Vec<String> = Vec::new();
    for part in key.into_iter().chain(rest) {
        let split: Vec<String> = words(part).collect();
        // "O'Brien" also as "obrien", so that it is found typed either way.
        let joined: Vec<String> = tokens(part).collect();
        for word in split.into_iter().chain(joined).chain(phone_digits(part)) {
            if !seen.contains(&word) {
                doc.push(' ');
                doc.push_str(&word);
                seen.push(word);
            }
        }
    }
    doc
}

/// How well a record's key matches a query: the lower, the better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// A name or email is the query.
    Exact = 0,
    /// A name or email starts with the query.
    Prefix = 1,
    /// Every query word starts a word of the record.
    Other = 2,
}

impl Rank {
    pub fn digit(self) -> char {
        match self {
            Rank::Exact => '0',
            Rank::Prefix => '1',
            Rank::Other => '2',
        }
    }
}

/// A search as typed, folded into what the engines match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    /// Every one of these must start a word of the document.
    pub terms: Vec<String>,
    /// Or, for a query that looks like a phone number, its digits must start one.
    pub digits: Option<String>,
}

impl SearchQuery {
    /// `None` for a query with no letters or digits.
    pub fn parse(q: &str) -> Option<Self> {
        let terms: Vec<String> = tokens(q).take(MAX_TERMS).collect();
        if terms.is_empty() {
            return None;
        }
        let looks_like_phone = q.chars().all(|c| c.is_ascii_digit() || " +-().,/".contains(c));
        // One group of digits is a term already.
        let digits = phone_digits(q).filter(|_| looks_like_phone && terms.len() > 1);
        Some(SearchQuery { terms, digits })
    }

    /// Each term with the spellings that mend one typo in it: a letter too
    /// many ("larssen" as `larsen`), one missing (`larsn` matches "Larsen"
    /// as `lars`), or two swapped (`lasren` as `larsen`). Every term keeps
    /// matching as a prefix; short words and numbers stay as typed. `None`
    /// when no term is long enough to mend.
    pub fn typo_variants(&self) -> Option<Vec<Vec<String>>> {
        let mendable = |term: &str| {
            let length = term.chars().count();
            (TYPO_MIN..=TYPO_MAX).contains(&length) && !term.chars().all(|c| c.is_ascii_digit())
        };
        if !self.terms.iter().any(|term| mendable(term)) {
            return None;
        }
        let variants = self
            .terms
            .iter()
            .map(|term| {
                let mut spellings = vec![term.clone()];
                if mendable(term) {
                    let chars: Vec<char> = term.chars().collect();
                    let mut add = |spelling: String| {
                        if !spellings.contains(&spelling) {
                            spellings.push(spelling);
                        }
                    };
                    for skip in 0..chars.len() {
                        add(chars.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, c)| c).collect());
                    }
                    for at in 0..chars.len() - 1 {
                        let mut swapped = chars.clone();
                        swapped.swap(at, at + 1);
                        add(swapped.into_iter().collect());
                    }
                }
                spellings
            })
            .collect();
        Some(variants)
    }

    /// The query's words as one phrase, as a [`document`]'s key holds names.
    pub fn phrase(&self) -> String {
        self.terms.join(" ")
    }

    /// The `LIKE` patterns that find an exact and a prefix match in a
    /// [`document`], as [`SearchQuery::rank`] does.
    pub fn like_patterns(&self) -> (String, String) {
        let phrase = self.phrase();
        (format!("%|{phrase}|%"), format!("%|{phrase}%"))
    }

    /// How well a record with this [`document`] matches.
    pub fn rank(&self, document: &str) -> Rank {
        let phrase = self.phrase();
        if document.contains(&format!("|{phrase}|")) {
            Rank::Exact
        } else if document.contains(&format!("|{phrase}")) {
            Rank::Prefix
        } else {
            Rank::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(q: &str) -> Vec<String> {
        SearchQuery::parse(q).map(|q| q.terms).unwrap_or_default()
    }

    fn words_of(text: &str) -> String {
        document([], [text]).trim_start_matches("| ").to_owned()
    }

    #[test]
    fn documents_and_queries_share_words() {
        let doc = document(["Ana Lima", "ana.lima@example.com"], ["+1 (555) 010-2030"]);
        assert_eq!(doc, "|ana lima|ana lima example com| ana lima example com 1 555 010 2030 0102030 15550102030");
        assert_eq!(terms("Lima, ANA!"), vec!["lima", "ana"]);
        assert!(SearchQuery::parse(" -- ").is_none());
        assert_eq!(document([], []), "|");
    }

    #[test]
    fn accents_fold_away() {
        assert_eq!(words_of("Zoë Ærøskøbing-Łódź"), "zoe aeroskobing lodz aeroskobinglodz");
        assert_eq!(terms("ZOË straße"), vec!["zoe", "strasse"]);
        assert_eq!(terms("İstanbul"), vec!["istanbul"]);
    }

    #[test]
    fn joined_names_are_one_word_too() {
        assert_eq!(words_of("Mary O'Brien"), "mary o brien obrien");
        assert_eq!(terms("o'brien"), vec!["obrien"]);
        assert_eq!(terms("O’Brien"), vec!["obrien"]);
        assert_eq!(terms("obrien"), vec!["obrien"]);
        assert_eq!(terms("jean-luc picard"), vec!["jeanluc", "picard"]);
    }

    #[test]
    fn a_phone_number_is_also_its_digits() {
        assert_eq!(words_of("+442079460000"), "442079460000");
        let query = SearchQuery::parse("+44 20 7946").unwrap();
        assert_eq!(query.terms, vec!["44", "20", "7946"]);
        assert_eq!(query.digits.as_deref(), Some("44207946"));
        // Words with digits are not a phone number, nor is one group of digits.
        assert_eq!(SearchQuery::parse("flat 12 3456").unwrap().digits, None);
        assert_eq!(SearchQuery::parse("4420794").unwrap().digits, None);
    }

    #[test]
    fn typos_are_mended_one_at_a_time() {
        let variants = SearchQuery::parse("larsn ana").unwrap().typo_variants().unwrap();
        assert!(variants[0].contains(&"lars".to_owned()), "a letter missing: {variants:?}");
        assert_eq!(variants[1], ["ana"], "short words stay as typed");
        let swapped = SearchQuery::parse("lasren").unwrap().typo_variants().unwrap();
        assert!(swapped[0].contains(&"larsen".to_owned()), "two letters swapped: {swapped:?}");
        let doubled = SearchQuery::parse("larssen").unwrap().typo_variants().unwrap();
        assert!(doubled[0].contains(&"larsen".to_owned()), "a letter too many: {doubled:?}");
        assert_eq!(doubled[0].iter().filter(|s| *s == "larsen").count(), 1, "each spelling once");
        assert!(SearchQuery::parse("ana li").unwrap().typo_variants().is_none(), "nothing to mend");
        assert!(SearchQuery::parse("44207946").unwrap().typo_variants().is_none(), "numbers stay");
    }

    #[test]
    fn documents_rank_exact_then_prefix_then_the_rest() {
        let doc = document(["Rosa Larsen", "Larsen Rosa", "rosa.larsen@example.com", ""], ["Acme"]);
        assert_eq!(doc, "|rosa larsen|larsen rosa|rosa larsen example com| rosa larsen example com acme");
        let rank = |q: &str| SearchQuery::parse(q).unwrap().rank(&doc);
        assert_eq!(rank("Rosa Larsen"), Rank::Exact);
        assert_eq!(rank("larsen, rosa"), Rank::Exact);
        assert_eq!(rank("rosa.larsen@example.com"), Rank::Exact);
        assert_eq!(rank("ros"), Rank::Prefix);
        assert_eq!(rank("lars"), Rank::Prefix);
        assert_eq!(rank("rosa.lar"), Rank::Prefix);
        assert_eq!(rank("example"), Rank::Other);
        assert_eq!(rank("acme"), Rank::Other);
        assert_eq!(rank("arsen"), Rank::Other);
        let (exact, prefix) = SearchQuery::parse("Rosa").unwrap().like_patterns();
        assert_eq!((exact.as_str(), prefix.as_str()), ("%|rosa|%", "%|rosa%"));
    }
}
