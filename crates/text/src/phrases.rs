//! Key phrases of a comment, normalised so that the same idea written by
//! different customers gets the same phrase.
//!
//! YAKE ([`crate::yake`], our own implementation of Campos et al. 2020, with
//! YAKE's English stop words and up to three words a phrase) proposes a
//! comment's candidate phrases, best first. Each candidate is then
//! normalised:
//!
//! 1. lowercase; punctuation trimmed from each word (inner `-` and `'` stay);
//!    a word ending in `n't` becomes `not`;
//! 2. stop words are dropped, inside the phrase too ("delivery was late" →
//!    "delivery late"), except the negations `not`, `no`, `never`, which keep
//!    "not friendly" apart from "friendly"; words without a letter go too;
//! 3. simple plurals fold to the singular (see [`singular`]): "deliveries" →
//!    "delivery", "prices" → "price", "boxes" → "box";
//! 4. a phrase left with no word but negations, or a single word that only
//!    says how the customer feels ("great", "thanks", see [`is_filler`]), is
//!    dropped: it is sentiment, not a theme;
//! 5. within a comment a phrase whose words all appear in another of its
//!    phrases is dropped, so "delivery" and "late" give way to
//!    "delivery late"; at most [`MAX_PHRASES`] phrases are kept.
//!
//! A phrase keeps the comment's word order; [`phrase_key`] sorts its words so
//! that "late delivery" and "delivery late" meet in [`crate::themes`].

use crate::Language;
use crate::yake::{StopWords, Yake};

/// The most key phrases kept for one comment.
pub const MAX_PHRASES: usize = 5;

/// How many candidates YAKE is asked for before normalising.
const CANDIDATES: usize = 10;

/// Words kept even though the stop-word list has them: they turn a phrase's
/// meaning around.
const NEGATIONS: [&str; 3] = ["not", "no", "never"];

/// Single words that carry only a feeling or politeness, never a topic.
const FILLERS: &[&str] = &[
    "honestly",
    "actually",
    "fair",
    "hi",
    "hello",
    "found",
    "amazing",
    "awesome",
    "awful",
    "bad",
    "best",
    "better",
    "brilliant",
    "disappointed",
    "disappointing",
    "excellent",
    "fantastic",
    "fine",
    "glad",
    "good",
    "great",
    "happy",
    "horrible",
    "lovely",
    "nice",
    "ok",
    "okay",
    "perfect",
    "pleased",
    "poor",
    "sad",
    "satisfied",
    "superb",
    "terrible",
    "thank",
    "thanks",
    "unhappy",
    "wonderful",
    "worse",
    "worst",
    "love",
    "loved",
    "like",
    "liked",
    "hate",
    "hated",
    "everything",
    "nothing",
    "thing",
    "lot",
    "overall",
    "recommend",
    "recommended",
    "keep",
    "job",
    "work",
    "guys",
    "team",
    "bit",
    "time",
    "day",
    "week",
    "month",
    "year",
];

/// Key-phrase extraction for one language.
#[derive(Clone, Debug)]
pub struct Extractor {
    yake: Yake,
}

impl Extractor {
    /// Loads the language's stop words, once.
    pub fn new(language: Language) -> Self {
        let stop_words = match language {
            Language::English => StopWords::english(),
        };
        Extractor { yake: Yake::new(stop_words, 3) }
    }

    /// The comment's normalised key phrases, best first.
    pub fn key_phrases(&self, text: &str) -> Vec<String> {
        if !text.chars().any(char::is_alphabetic) {
            return Vec::new();
        }
        let candidates = self.yake.keywords(text, CANDIDATES);
        let mut kept: Vec<(String, Vec<String>)> = Vec::new();
        for candidate in candidates {
            let Some(phrase) = self.normalise(candidate.text) else { continue };
            let mut words: Vec<String> = phrase.split(' ').map(str::to_owned).collect();
            words.sort_unstable();
            words.dedup();
            if kept.iter().any(|(_, other)| is_subset(&words, other)) {
                continue;
            }
            kept.retain(|(_, other)| !is_subset(other, &words));
            kept.push((phrase, words));
        }
        kept.truncate(MAX_PHRASES);
        kept.into_iter().map(|(phrase, _)| phrase).collect()
    }

    /// Normalises one candidate phrase (steps 1 to 4 of the module
    /// documentation); `None` when nothing worth a theme is left.
    pub fn normalise(&self, phrase: &str) -> Option<String> {
        let mut words: Vec<String> = Vec::new();
        for raw in phrase.split_whitespace() {
            let lower = raw.to_lowercase().replace('’', "'");
            let word = lower.trim_matches(|c: char| !c.is_alphanumeric());
            if word.ends_with("n't") {
                words.push("not".to_owned());
                continue;
            }
            if NEGATIONS.contains(&word) {
                words.push(word.to_owned());
                continue;
            }
            if word.chars().count() < 2
                || !word.chars().any(char::is_alphabetic)
                || self.yake.stop_words().contains(word)
            {
                continue;
            }
            words.push(singular(word));
        }
        let content = words.iter().filter(|w| !NEGATIONS.contains(&w.as_str())).count();
        if content == 0 || (words.len() == 1 && is_filler(&words[0])) {
            return None;
        }
        words.dedup();
        Some(words.join(" "))
    }
}

/// Whether a single word only says how the customer feels.
pub fn is_filler(word: &str) -> bool {
    FILLERS.contains(&word)
}

/// English plurals folded by simple suffix rules, enough for phrases to meet:
/// `-ies` → `-y` (deliveries), `-sses` / `-ches` / `-shes` / `-xes` /
/// `-zes` lose `-es` (classes, watches, boxes), other words ending in `-s`
/// lose it unless they end in `-ss`, `-us` or `-is` (status, analysis).
/// Words of three letters or fewer stay as they are.
pub fn singular(word: &str) -> String {
    const KEEP: [&str; 4] = ["series", "species", "news", "always"];
    if word.len() <= 3 || KEEP.contains(&word) || !word.is_ascii() {
        return word.to_owned();
    }
    if let Some(stem) = word.strip_suffix("ies") {
        if stem.len() >= 2 {
            return format!("{stem}y");
        }
        return word.to_owned();
    }
    for suffix in ["sses", "ches", "shes", "xes", "zes"] {
        if word.ends_with(suffix) {
            return word[..word.len() - 2].to_owned();
        }
    }
    if word.ends_with('s') && !(word.ends_with("ss") || word.ends_with("us") || word.ends_with("is")) {
        return word[..word.len() - 1].to_owned();
    }
    word.to_owned()
}

/// The grouping key of a normalised phrase: its distinct words, sorted, joined
/// by one space ("late delivery" and "delivery late" → "delivery late").
pub fn phrase_key(phrase: &str) -> String {
    let lower = phrase.to_lowercase();
    let mut words: Vec<&str> = lower.split_whitespace().collect();
    words.sort_unstable();
    words.dedup();
    words.join(" ")
}

/// Whether every word of `small` (sorted, distinct) is in `big` (sorted,
/// distinct).
pub(crate) fn is_subset<A: AsRef<str>, B: AsRef<str>>(small: &[A], big: &[B]) -> bool {
    if small.len() > big.len() {
        return false;
    }
    let mut it = big.iter();
    'outer: for word in small {
        for other in it.by_ref() {
            match other.as_ref().cmp(word.as_ref()) {
                std::cmp::Ordering::Less => continue,
                std::cmp::Ordering::Equal => continue 'outer,
                std::cmp::Ordering::Greater => return false,
            }
        }
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_fold() {
        for (plural, single) in [
            ("deliveries", "delivery"),
            ("prices", "price"),
            ("boxes", "box"),
            ("classes", "class"),
            ("watches", "watch"),
            ("issues", "issue"),
            ("status", "status"),
            ("analysis", "analysis"),
            ("access", "access"),
            ("bus", "bus"),
            ("delivery", "delivery"),
        ] {
            assert_eq!(singular(plural), single, "{plural}");
        }
    }

    #[test]
    fn phrases_normalise_and_key() {
        let e = Extractor::new(Language::English);
        assert_eq!(e.normalise("delivery was late").as_deref(), Some("delivery late"));
        assert_eq!(e.normalise("Deliveries, LATE!").as_deref(), Some("delivery late"));
        assert_eq!(e.normalise("support wasn't friendly").as_deref(), Some("support not friendly"));
        assert_eq!(e.normalise("the and of"), None);
        assert_eq!(e.normalise("not"), None);
        assert_eq!(e.normalise("great"), None);
        assert_eq!(e.normalise("great support").as_deref(), Some("great support"));
        assert_eq!(phrase_key("late delivery"), phrase_key("delivery late"));
        assert_eq!(phrase_key("Late  Delivery late"), "delivery late");
    }

    #[test]
    fn subsets() {
        assert!(is_subset(&["a", "c"], &["a", "b", "c"]));
        assert!(!is_subset(&["a", "d"], &["a", "b", "c"]));
        assert!(is_subset::<&str, &str>(&[], &["a"]));
        assert!(!is_subset(&["a", "b"], &["a"]));
    }
}
