//! YAKE keyword extraction (Campos et al., "YAKE! Keyword extraction from
//! single documents using multiple local features", Information Sciences
//! 2020), written for short survey comments: one pass over the text, words
//! borrowed from it, one shared stop-word set.
//!
//! # Words, sentences and blocks
//!
//! The text is scanned once, char by char ([`tokenize`]):
//!
//! - a word is a run of letters and digits (combining accents stay with
//!   their letter); `'`, `’` and `-` between two letters or digits stay
//!   inside it ("don't", "half-baked"), and so do `.` and `,` between two
//!   digits ("3.5", "1,000");
//! - `.`, `!`, `?`, `…` and line breaks end a sentence (a run of them ends
//!   one); no abbreviation rules, no regular expressions;
//! - any other character that is neither a letter, a digit nor a space
//!   (`,`, `:`, `(`, an emoticon's `:)`, an emoji) is punctuation: like a
//!   sentence end it closes the current *block*. Candidates and
//!   co-occurrences never reach across a block boundary.
//!
//! # Terms and their features
//!
//! A *term* is a word lowercased, with a final `s` dropped from words of more
//! than three letters, so "Price" and "prices" are one term. It is a stop
//! word when its lowercase form or that singular is in the stop list, or
//! when it has fewer than three letters and digits. Each occurrence is
//! tagged ([`Tag`]): a number, unparsable (letters mixed with digits, or more
//! than one inner `'`/`-`), an acronym (no lowercase letter), a capitalised
//! word that does not open its sentence, or plain. For each term:
//!
//! - casing `max(TF_acronym, TF_capitalised) / (1 + ln TF)`;
//! - position `ln(ln(3 + median index of the sentences it is in))`;
//! - frequency `TF / (mean + standard deviation of the TFs of the terms
//!   that are not stop words)`;
//! - relatedness `1 + (DL + DR) · TF / max TF`, where DL is the number of
//!   different terms seen directly to its left (a window of one word, YAKE's
//!   default) over the number of times any was, DR the same to its right;
//!   numbers and unparsable words take no part in co-occurrence;
//! - different sentences: the share of the text's sentences it is in;
//!
//! and its weight `H = rel · pos / (casing + freq / rel + dif / rel)`: lower
//! is more important.
//!
//! # Candidates
//!
//! Candidates are the 1- to 3-word sequences inside a block that neither
//! start nor end with a stop word and hold no number or unparsable word;
//! occurrences are counted on their lowercase form. A candidate scores
//! `∏H / (TF · (1 + ΣH))` over its words; a stop word inside counts through
//! the probability `p` that it follows the word before it and precedes the
//! word after it (both from the co-occurrence counts): it multiplies the
//! product by `2 − p` and takes `1 − p` from the sum. Lower is better.
//! Walking the candidates best first, one whose lowercase form is more than
//! 90 % similar (Levenshtein ratio) to one already kept is skipped.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// The most words a candidate phrase may have.
pub const MAX_WORDS: usize = 3;

/// How many words to each side count as co-occurring (YAKE's default).
const WINDOW: usize = 1;

/// Candidates more similar than this (Levenshtein ratio) to a better one
/// are dropped.
pub const DEDUPLICATION_THRESHOLD: f64 = 0.9;

/// A set of lowercase stop words.
#[derive(Clone, Debug, Default)]
pub struct StopWords {
    set: HashSet<Box<str>>,
}

impl StopWords {
    /// YAKE's English stop-word list (575 words), as the `yake-rust` crate
    /// ships it.
    pub fn english() -> Self {
        let list = yake_rust::StopWords::predefined("en").expect("yake-rust has English stop words");
        Self::from_words(list.iter())
    }

    /// A set of the given words, lowercased (`’` read as `'`).
    pub fn from_words<I, S>(words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let set = words.into_iter().map(|w| w.as_ref().to_lowercase().replace('’', "'").into_boxed_str()).collect();
        StopWords { set }
    }

    /// Whether `word` (already lowercase, with `'` for `’`) is a stop word.
    pub fn contains(&self, word: &str) -> bool {
        self.set.contains(word)
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// One word of a text, borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Word<'t> {
    pub text: &'t str,
    /// Its byte offset in the text.
    pub start: usize,
    /// The index of its sentence among the sentences that have a word.
    pub sentence: u32,
    /// Its block: words of one block have no punctuation between them.
    pub block: u32,
    /// Whether it is the first word of its sentence.
    pub opens_sentence: bool,
}

/// A text's words and how many sentences hold them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tokens<'t> {
    pub words: Vec<Word<'t>>,
    pub sentences: u32,
}

/// Splits a text into words, sentences and blocks (see the module
/// documentation).
pub fn tokenize(text: &str) -> Tokens<'_> {
    let mut words: Vec<Word<'_>> = Vec::with_capacity(text.len() / 5 + 1);
    let mut sentence = 0u32;
    let mut sentence_has_word = false;
    let mut block = 0u32;
    let mut block_has_word = false;
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_alphanumeric() {
            let mut end = start + c.len_utf8();
            let mut prev = c;
            while let Some(&(at, next)) = chars.peek() {
                if next.is_alphanumeric() || is_combining_mark(next) {
                    chars.next();
                    end = at + next.len_utf8();
                    prev = next;
                    continue;
                }
                let after = text[at + next.len_utf8()..].chars().next();
                let Some(after) = after else { break };
                let joins = match next {
                    '\'' | '’' | '-' | '‐' => prev.is_alphanumeric() && after.is_alphanumeric(),
                    '.' | ',' => prev.is_ascii_digit() && after.is_ascii_digit(),
                    _ => false,
                };
                if !joins {
                    break;
                }
                chars.next();
                end = at + next.len_utf8();
                prev = next;
            }
            words.push(Word { text: &text[start..end], start, sentence, block, opens_sentence: !sentence_has_word });
            sentence_has_word = true;
            block_has_word = true;
            continue;
        }
        let ends_sentence = matches!(c, '.' | '!' | '?' | '…' | '\n' | '\r' | '\u{2028}' | '\u{2029}');
        if ends_sentence || !c.is_whitespace() {
            if block_has_word {
                block += 1;
                block_has_word = false;
            }
            if ends_sentence && sentence_has_word {
                sentence += 1;
                sentence_has_word = false;
            }
        }
    }
    let sentences = sentence + u32::from(sentence_has_word);
    Tokens { words, sentences }
}

/// Combining accents (U+0300–U+036F and the other combining blocks), which
/// belong to the letter before them ("Zoe\u{308}").
fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

/// What a word occurrence looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    /// A number: digits with `.` or `,` between them.
    Digit,
    /// Letters mixed with digits, no letter at all, or more than one inner
    /// `'`/`-`: never part of a candidate.
    Unparsable,
    /// Every letter uppercase ("NPS", "LATE").
    Acronym,
    /// A capital first letter and no other, not opening its sentence.
    Capitalised,
    Plain,
}

impl Tag {
    /// The tag of `word`; `opens_sentence` when it is its sentence's first.
    pub fn of(word: &str, opens_sentence: bool) -> Tag {
        let (mut digits, mut letters, mut uppers, mut lowers, mut joiners, mut chars) = (0, 0, 0, 0, 0, 0);
        let mut separators = 0;
        let mut first_upper = false;
        for (i, c) in word.chars().enumerate() {
            chars += 1;
            if c.is_numeric() {
                digits += 1;
            } else if c.is_alphabetic() {
                letters += 1;
                if c.is_uppercase() {
                    uppers += 1;
                    first_upper |= i == 0;
                } else if c.is_lowercase() {
                    lowers += 1;
                }
            } else if matches!(c, '.' | ',') {
                separators += 1;
            } else if !is_combining_mark(c) {
                joiners += 1;
            }
        }
        if letters == 0 {
            return if digits > 0 && joiners == 0 { Tag::Digit } else { Tag::Unparsable };
        }
        if digits > 0 || separators > 0 || joiners > 1 {
            return Tag::Unparsable;
        }
        if lowers == 0 && uppers > 0 {
            return Tag::Acronym;
        }
        if first_upper && uppers == 1 && chars > 1 && !opens_sentence {
            return Tag::Capitalised;
        }
        Tag::Plain
    }

    /// Numbers and unparsable words take no part in candidates or
    /// co-occurrence.
    fn discarded(self) -> bool {
        matches!(self, Tag::Digit | Tag::Unparsable)
    }
}

/// A key phrase as the text wrote it (its first occurrence) and its YAKE
/// score: lower is more important.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Keyword<'t> {
    pub text: &'t str,
    pub score: f64,
}

/// YAKE over one stop-word list, built once and shared.
#[derive(Clone, Debug)]
pub struct Yake {
    stop_words: StopWords,
    max_words: usize,
}

/// What is known of one term while reading the text.
#[derive(Clone, Debug, Default)]
struct Term {
    tf: u32,
    tf_acronym: u32,
    tf_capitalised: u32,
    stop: bool,
    /// The distinct sentences it is in, ascending.
    sentences: Vec<u32>,
    left_distinct: u32,
    left_total: u32,
    right_distinct: u32,
    right_total: u32,
    h: f64,
}

/// A word occurrence with its term and lowercase form resolved.
#[derive(Clone, Copy, Debug)]
struct Occurrence {
    term: u32,
    lower: u32,
    tag: Tag,
}

/// A candidate n-gram: where it first occurs and how often it does.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    first: u32,
    len: u8,
    tf: u32,
    score: f64,
}

impl Yake {
    /// Candidates of up to `max_words` words (1 to [`MAX_WORDS`]).
    pub fn new(stop_words: StopWords, max_words: usize) -> Self {
        Yake { stop_words, max_words: max_words.clamp(1, MAX_WORDS) }
    }

    pub fn stop_words(&self) -> &StopWords {
        &self.stop_words
    }

    /// The `n` best key phrases of `text`, best (lowest score) first.
    pub fn keywords<'t>(&self, text: &'t str, n: usize) -> Vec<Keyword<'t>> {
        if n == 0 {
            return Vec::new();
        }
        let Tokens { words, sentences } = tokenize(text);
        if words.is_empty() {
            return Vec::new();
        }

        // Terms and lowercase forms, each looked up once per distinct form.
        let mut lower_ids: HashMap<Cow<'t, str>, (u32, u32)> = HashMap::with_capacity(words.len());
        let mut term_ids: HashMap<Cow<'t, str>, u32> = HashMap::with_capacity(words.len());
        let mut terms: Vec<Term> = Vec::with_capacity(words.len());
        let mut occurrences: Vec<Occurrence> = Vec::with_capacity(words.len());
        for word in &words {
            let tag = Tag::of(word.text, word.opens_sentence);
            let lower = lowercase(word.text);
            let next_lower = lower_ids.len() as u32;
            let (lower_id, term_id) = match lower_ids.get(lower.as_ref()) {
                Some(&ids) => ids,
                None => {
                    let (lower, term_id) = self.term_id(lower, &mut term_ids, &mut terms);
                    lower_ids.insert(lower, (next_lower, term_id));
                    (next_lower, term_id)
                }
            };
            let term = &mut terms[term_id as usize];
            term.tf += 1;
            match tag {
                Tag::Acronym => term.tf_acronym += 1,
                Tag::Capitalised => term.tf_capitalised += 1,
                _ => {}
            }
            if term.sentences.last() != Some(&word.sentence) {
                term.sentences.push(word.sentence);
            }
            occurrences.push(Occurrence { term: term_id, lower: lower_id, tag });
        }

        // Co-occurrence within the window, inside a block.
        let mut edges: HashMap<(u32, u32), u32> = HashMap::with_capacity(words.len());
        for (i, occurrence) in occurrences.iter().enumerate() {
            if occurrence.tag.discarded() {
                continue;
            }
            for j in i.saturating_sub(WINDOW)..i {
                if words[j].block != words[i].block || occurrences[j].tag.discarded() {
                    continue;
                }
                let (left, right) = (occurrences[j].term, occurrence.term);
                let count = edges.entry((left, right)).or_insert(0);
                *count += 1;
                let new = *count == 1;
                let l = &mut terms[left as usize];
                l.right_total += 1;
                l.right_distinct += u32::from(new);
                let r = &mut terms[right as usize];
                r.left_total += 1;
                r.left_distinct += u32::from(new);
            }
        }

        // Term weights.
        let (mut count, mut sum, mut sum_sq) = (0.0f64, 0.0f64, 0.0f64);
        let mut max_tf = 0u32;
        for term in &terms {
            max_tf = max_tf.max(term.tf);
            if !term.stop {
                let tf = f64::from(term.tf);
                count += 1.0;
                sum += tf;
                sum_sq += tf * tf;
            }
        }
        if count == 0.0 {
            return Vec::new();
        }
        let mean = sum / count;
        let std = (sum_sq / count - mean * mean).max(0.0).sqrt();
        let max_tf = f64::from(max_tf);
        let sentences = f64::from(sentences.max(1));
        for term in &mut terms {
            let tf = f64::from(term.tf);
            let dl = if term.left_total > 0 { f64::from(term.left_distinct) / f64::from(term.left_total) } else { 0.0 };
            let dr =
                if term.right_total > 0 { f64::from(term.right_distinct) / f64::from(term.right_total) } else { 0.0 };
            let rel = 1.0 + (dl + dr) * tf / max_tf;
            let pos = (3.0 + median(&term.sentences)).ln().ln();
            let freq = tf / (mean + std);
            let dif = term.sentences.len() as f64 / sentences;
            let casing = f64::from(term.tf_acronym.max(term.tf_capitalised)) / (1.0 + tf.ln());
            term.h = rel * pos / (casing + freq / rel + dif / rel);
        }

        // Candidates, counted on their lowercase form.
        let mut candidate_ids: HashMap<[u32; MAX_WORDS], u32> = HashMap::with_capacity(words.len() * 2);
        let mut candidates: Vec<Candidate> = Vec::with_capacity(words.len() * 2);
        for first in 0..words.len() {
            if occurrences[first].tag.discarded() || terms[occurrences[first].term as usize].stop {
                continue;
            }
            let mut key = [u32::MAX; MAX_WORDS];
            for len in 1..=self.max_words {
                let last = first + len - 1;
                if last >= words.len() || words[last].block != words[first].block || occurrences[last].tag.discarded() {
                    break;
                }
                key[len - 1] = occurrences[last].lower;
                if terms[occurrences[last].term as usize].stop {
                    continue;
                }
                let next = candidates.len() as u32;
                let id = *candidate_ids.entry(key).or_insert(next);
                if id == next {
                    candidates.push(Candidate { first: first as u32, len: len as u8, tf: 0, score: 0.0 });
                }
                candidates[id as usize].tf += 1;
            }
        }

        for candidate in &mut candidates {
            let ids = &occurrences[candidate.first as usize..][..usize::from(candidate.len)];
            let (mut product, mut sum) = (1.0f64, 0.0f64);
            for (k, occurrence) in ids.iter().enumerate() {
                let term = &terms[occurrence.term as usize];
                if !term.stop {
                    product *= term.h;
                    sum += term.h;
                    continue;
                }
                // Inside: a stop word is never first or last.
                let (before, after) = (ids[k - 1].term, ids[k + 1].term);
                let followed = edges.get(&(before, occurrence.term)).copied().unwrap_or(0);
                let precedes = edges.get(&(occurrence.term, after)).copied().unwrap_or(0);
                let p = f64::from(followed) / f64::from(terms[before as usize].tf)
                    * (f64::from(precedes) / f64::from(terms[after as usize].tf));
                product *= 2.0 - p;
                sum -= 1.0 - p;
            }
            candidate.score = product / ((1.0 + sum) * f64::from(candidate.tf));
        }

        // Best first (ties: first seen first), near-duplicates skipped.
        candidates.sort_by(|a, b| a.score.total_cmp(&b.score).then(a.first.cmp(&b.first)));
        let mut kept: Vec<(Keyword<'t>, String)> = Vec::with_capacity(n.min(candidates.len()));
        for candidate in &candidates {
            let span = &words[candidate.first as usize..][..usize::from(candidate.len)];
            let mut lower = String::with_capacity(span.iter().map(|w| w.text.len() + 1).sum());
            for (k, word) in span.iter().enumerate() {
                if k > 0 {
                    lower.push(' ');
                }
                lower.push_str(&lowercase(word.text));
            }
            if kept.iter().any(|(_, other)| near_duplicates(other, &lower)) {
                continue;
            }
            let last = span[span.len() - 1];
            let raw = &text[span[0].start..last.start + last.text.len()];
            kept.push((Keyword { text: raw, score: candidate.score }, lower));
            if kept.len() == n {
                break;
            }
        }
        kept.into_iter().map(|(keyword, _)| keyword).collect()
    }

    /// The id of the term of a lowercase word, made on first sight; hands
    /// the word back.
    fn term_id<'t>(
        &self,
        lower: Cow<'t, str>,
        ids: &mut HashMap<Cow<'t, str>, u32>,
        terms: &mut Vec<Term>,
    ) -> (Cow<'t, str>, u32) {
        let folds = lower.ends_with('s') && lower.chars().count() > 3;
        let singular: Cow<'t, str> = match &lower {
            Cow::Borrowed(s) if folds => Cow::Borrowed(&s[..s.len() - 1]),
            Cow::Owned(s) if folds => Cow::Owned(s[..s.len() - 1].to_owned()),
            Cow::Borrowed(s) => Cow::Borrowed(s),
            Cow::Owned(s) => Cow::Owned(s.clone()),
        };
        if let Some(&id) = ids.get(singular.as_ref()) {
            return (lower, id);
        }
        let stop = self.stop_words.contains(&lower)
            || self.stop_words.contains(&singular)
            || singular.chars().filter(|c| c.is_alphanumeric()).count() < 3;
        let id = terms.len() as u32;
        terms.push(Term { stop, ..Term::default() });
        ids.insert(singular, id);
        (lower, id)
    }
}

/// A word lowercased, `’` read as `'`; borrowed when nothing changes.
fn lowercase(word: &str) -> Cow<'_, str> {
    if word.is_ascii() {
        if word.bytes().any(|b| b.is_ascii_uppercase()) {
            return Cow::Owned(word.to_ascii_lowercase());
        }
        return Cow::Borrowed(word);
    }
    if word.chars().any(|c| c.is_uppercase() || c == '’') {
        return Cow::Owned(word.to_lowercase().replace('’', "'"));
    }
    Cow::Borrowed(word)
}

/// The median of an ascending, non-empty list.
fn median(sorted: &[u32]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 { f64::from(sorted[n / 2]) } else { (f64::from(sorted[n / 2 - 1]) + f64::from(sorted[n / 2])) / 2.0 }
}

/// Whether two lowercase phrases are more than
/// [`DEDUPLICATION_THRESHOLD`] similar.
fn near_duplicates(a: &str, b: &str) -> bool {
    let (la, lb) = (a.chars().count(), b.chars().count());
    let longest = la.max(lb);
    // The distance is at least the difference in length.
    if longest == 0 || 1.0 - la.abs_diff(lb) as f64 / longest as f64 <= DEDUPLICATION_THRESHOLD {
        return longest == 0;
    }
    levenshtein_ratio(a, b) > DEDUPLICATION_THRESHOLD
}

/// `1 − Levenshtein distance / the longer length`, over chars: 1 for equal
/// strings, 0 for nothing in common.
pub fn levenshtein_ratio(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    if a.is_ascii() && b.is_ascii() {
        return ratio(a.as_bytes(), b.as_bytes());
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    ratio(&a, &b)
}

fn ratio<T: PartialEq>(a: &[T], b: &[T]) -> f64 {
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb)).min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    1.0 - row[b.len()] as f64 / longest as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        tokenize(text).words.iter().map(|w| w.text).collect()
    }

    fn yake() -> Yake {
        Yake::new(StopWords::english(), MAX_WORDS)
    }

    /// Every key phrase of `text`, best first.
    fn all(text: &str) -> Vec<Keyword<'_>> {
        yake().keywords(text, usize::MAX)
    }

    #[test]
    fn words_keep_contractions_hyphens_numbers_and_accents() {
        assert_eq!(
            words("I don't like the half-baked app, it isn’t Zoë's fault!"),
            ["I", "don't", "like", "the", "half-baked", "app", "it", "isn’t", "Zoë's", "fault"]
        );
        assert_eq!(
            words("Paid 3.5 EUR for 1,000 items on 12.03."),
            ["Paid", "3.5", "EUR", "for", "1,000", "items", "on", "12.03"]
        );
        // Joiners only between letters or digits.
        assert_eq!(
            words("'quoted' -dash- end- 'tis rock-'n'-roll"),
            ["quoted", "dash", "end", "tis", "rock", "n", "roll"]
        );
        // A combining accent stays with its letter.
        assert_eq!(words("Zoe\u{308} said"), ["Zoe\u{308}", "said"]);
        assert_eq!(words("naïve café, Ελληνικά и русский"), ["naïve", "café", "Ελληνικά", "и", "русский"]);
    }

    #[test]
    fn punctuation_and_emoticons_break_blocks_and_sentences() {
        let tokens = tokenize("Great support :) Fast delivery!!! Why??? fine\nthanks");
        let got: Vec<(&str, u32, u32, bool)> =
            tokens.words.iter().map(|w| (w.text, w.sentence, w.block, w.opens_sentence)).collect();
        assert_eq!(
            got,
            [
                ("Great", 0, 0, true),
                ("support", 0, 0, false),
                // ":)" closes a block but not the sentence.
                ("Fast", 0, 1, false),
                ("delivery", 0, 1, false),
                // "!!!" is one sentence end.
                ("Why", 1, 2, true),
                ("fine", 2, 3, true),
                ("thanks", 3, 4, true),
            ]
        );
        assert_eq!(tokens.sentences, 4);
    }

    #[test]
    fn empty_and_wordless_texts_give_nothing() {
        for text in ["", "   ", "\n\t\r\n", "!!!", ":) :( ;-)", "... ??? !!!", "—–-", "😀🎉", "'''", "’"] {
            let tokens = tokenize(text);
            assert!(tokens.words.is_empty(), "{text:?}");
            assert_eq!(tokens.sentences, 0, "{text:?}");
            assert!(all(text).is_empty(), "{text:?}");
        }
        assert!(yake().keywords("Friendly support staff", 0).is_empty());
    }

    #[test]
    fn tags() {
        assert_eq!(Tag::of("3.5", false), Tag::Digit);
        assert_eq!(Tag::of("1,000", false), Tag::Digit);
        assert_eq!(Tag::of("42", true), Tag::Digit);
        assert_eq!(Tag::of("mp3", false), Tag::Unparsable);
        assert_eq!(Tag::of("4K", false), Tag::Unparsable);
        assert_eq!(Tag::of("state-of-the-art", false), Tag::Unparsable);
        assert_eq!(Tag::of("3-4", false), Tag::Unparsable);
        assert_eq!(Tag::of("NPS", false), Tag::Acronym);
        assert_eq!(Tag::of("LATE", true), Tag::Acronym);
        assert_eq!(Tag::of("Anna", false), Tag::Capitalised);
        assert_eq!(Tag::of("Zoë", false), Tag::Capitalised);
        assert_eq!(Tag::of("Anna", true), Tag::Plain, "a sentence's first word");
        assert_eq!(Tag::of("PayPal", false), Tag::Plain, "one capital only");
        assert_eq!(Tag::of("don't", false), Tag::Plain);
        assert_eq!(Tag::of("half-baked", false), Tag::Plain);
    }

    #[test]
    fn candidates_never_start_or_end_with_a_stop_word() {
        let stop = StopWords::english();
        let texts = [
            "The delivery was late again and nobody told me why.",
            "I found the quality of the product very good, but the price of the plan is too high for us.",
            "Support was friendly and patient with me. Thank you for all of your help!",
            "We don't use the mobile app because the app isn't working on my phone.",
        ];
        let mut inner_stop_word = false;
        for text in texts {
            let found = all(text);
            assert!(!found.is_empty(), "{text}");
            for keyword in found {
                let lower: Vec<String> = keyword.text.split_whitespace().map(|w| lowercase(w).into_owned()).collect();
                assert!(lower.len() <= MAX_WORDS, "{keyword:?}");
                assert!(!stop.contains(&lower[0]), "{keyword:?}");
                assert!(!stop.contains(lower.last().unwrap()), "{keyword:?}");
                inner_stop_word |= lower.len() == 3 && stop.contains(&lower[1]);
            }
        }
        assert!(inner_stop_word, "a stop word may sit inside a phrase");
        assert!(all("quality of the product").iter().all(|k| k.text != "quality of the"));
        assert!(all("the quality of service matters").iter().any(|k| k.text == "quality of service"));
    }

    #[test]
    fn numbers_and_punctuation_stay_out_of_phrases() {
        for keyword in all("Paid 30 EUR for mp3 files: slow download, broken player (again).") {
            assert!(!keyword.text.contains(|c: char| c.is_ascii_digit() || ",:()".contains(c)), "{keyword:?}");
        }
    }

    #[test]
    fn a_repeated_capitalised_term_beats_a_one_off_common_word() {
        let text = "I moved our whole team to Rapport last spring. The import into Rapport took an afternoon. \
                    Billing was confusing at first. Since then Rapport has been reliable and the reports are useful.";
        let found = all(text);
        let rank =
            |phrase: &str| found.iter().position(|k| k.text == phrase).unwrap_or_else(|| panic!("{phrase}: {found:?}"));
        assert_eq!(found[0].text, "Rapport", "{found:?}");
        for common in ["spring", "afternoon", "reliable", "reports"] {
            assert!(rank("Rapport") < rank(common), "{common}: {found:?}");
        }
        // Scores ascend, best first.
        assert!(found.windows(2).all(|w| w[0].score <= w[1].score), "{found:?}");
    }

    #[test]
    fn near_duplicates_are_dropped() {
        assert!((levenshtein_ratio("kitten", "sitting") - (1.0 - 3.0 / 7.0)).abs() < 1e-12);
        assert_eq!(levenshtein_ratio("", ""), 1.0);
        assert_eq!(levenshtein_ratio("abc", ""), 0.0);
        assert!((levenshtein_ratio("zoë", "zoe") - (1.0 - 1.0 / 3.0)).abs() < 1e-12);
        assert!(near_duplicates("customer service team", "customer-service team"));
        assert!(!near_duplicates("late delivery", "fast delivery"));
        let found = all("Customer service was slow. Customer-service never called back.");
        let texts: Vec<&str> = found.iter().map(|k| k.text).collect();
        assert_eq!(
            texts.iter().filter(|t| t.eq_ignore_ascii_case("customer service") || **t == "Customer-service").count(),
            1,
            "{texts:?}"
        );
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let long_word = "a".repeat(10_000);
        let mut long_comment = String::new();
        let pieces = [
            "The Delivery was LATE again!!! ",
            "support :) was great, ",
            "price 3.5 EUR - too high? ",
            "Zoë's café\nwas naïve… ",
            "don't-care state-of-the-art 4K mp3 ",
            "😀 — ",
        ];
        let mut i = 0;
        while long_comment.len() < 10_000 {
            long_comment.push_str(pieces[i % pieces.len()]);
            i += 1;
        }
        let texts = [
            long_word.as_str(),
            long_comment.as_str(),
            "the and of it is was to be or not",
            "THE AND OF",
            "a- -a a-b 'a' a’ ’a x.y.z 1.2.3. .5 5. ,,, 1,,2",
            "s ss sss ssss sssss",
            "\u{308}\u{301} e\u{301}",
            "ÀÉÎÕÜ àéîõü ǅ ǲ İstanbul ß ẞ",
            "word\u{2028}word\u{2029}word\r\nword",
            "x",
            "Ab",
            "Price prices PRICE Prices price's",
        ];
        let y = yake();
        for text in texts {
            for n in [1, 10, usize::MAX] {
                let found = y.keywords(text, n);
                assert!(found.len() <= n);
                for keyword in &found {
                    assert!(text.contains(keyword.text));
                    assert!(keyword.score.is_finite() && keyword.score >= 0.0, "{text:?}: {keyword:?}");
                }
                assert!(found.windows(2).all(|w| w[0].score <= w[1].score));
            }
        }
        assert!(y.keywords("the and of it is was to be or not", usize::MAX).is_empty(), "only stop words");
        assert!(y.keywords(&long_word, 10).len() == 1);
        assert!(!y.keywords(&long_comment, 10).is_empty());
    }

    #[test]
    fn the_english_list_is_loaded() {
        let stop = StopWords::english();
        assert!(stop.len() > 500, "{}", stop.len());
        for word in ["the", "was", "don't", "wasn't", "not", "very"] {
            assert!(stop.contains(word), "{word}");
        }
        assert!(!stop.contains("delivery"));
        assert!(StopWords::from_words(["Don’t"]).contains("don't"));
    }
}
