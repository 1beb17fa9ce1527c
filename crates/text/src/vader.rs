//! VADER sentiment (Hutto & Gilbert, ICWSM 2014), a line-by-line port of the
//! reference Python package `vaderSentiment` 3.3.2, with its lexicons.
//!
//! The lexicon (`vader/vader_lexicon.txt`, reduced to word and mean rating)
//! and the emoji descriptions (`vader/emoji_utf8_lexicon.txt`, the
//! single-character entries, the only ones the reference can match) come
//! from that package, MIT licence, © 2016 C.J. Hutto
//! (`vader/LICENSE-vaderSentiment.txt`).
//!
//! Why a port and not the `vader-sentimental` crate: that crate (0.1.3)
//! follows an older version of the Python code and disagrees with 3.3.2 on
//! ordinary comments. It drops one-letter words ("I", "a"), which moves the
//! three-word windows boosters and negations look through; it adds the
//! `?`/`!` emphasis to a sentence with no sentiment at all ("Why is it so
//! expensive???" scores −0.14 instead of 0); it matches booster phrases as
//! substrings of the previous three words; and it lacks 3.3.2's rules for
//! "no" and for boosters' sign. `tests/vader_reference.rs` checks this port
//! against the reference's scores.
//!
//! The reference's quirks are kept on purpose, so that scores agree: "but"
//! finds each sentiment by its first equal value, the emphasis of `!` and
//! `?` counts over the whole text, and the compound is rounded to four
//! decimals and the shares to three, as the reference returns them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;

const LEXICON: &str = include_str!("vader/vader_lexicon.txt");
const EMOJI_LEXICON: &str = include_str!("vader/emoji_utf8_lexicon.txt");

/// The reference's four numbers for one text.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PolarityScores {
    pub neg: f64,
    pub neu: f64,
    pub pos: f64,
    pub compound: f64,
}

/// A small multiplicative hasher for the lexicon's short keys (the
/// lexicon is fixed, so SipHash's protection is not needed).
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The VADER model: the lexicon and the emoji descriptions, loaded once.
pub struct Vader {
    lexicon: FastMap<&'static str, f64>,
    emojis: FastMap<char, &'static str>,
}

impl std::fmt::Debug for Vader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vader").field("lexicon", &self.lexicon.len()).finish_non_exhaustive()
    }
}

impl Default for Vader {
    fn default() -> Self {
        Self::new()
    }
}

impl Vader {
    pub fn new() -> Self {
        let mut lexicon = FastMap::default();
        for line in LEXICON.lines().filter(|l| !l.is_empty()) {
            let mut parts = line.trim().split('\t');
            let (Some(word), Some(measure)) = (parts.next(), parts.next()) else { continue };
            lexicon.insert(word, measure.parse().expect("the VADER lexicon holds numbers"));
        }
        let mut emojis = FastMap::default();
        for line in EMOJI_LEXICON.lines().filter(|l| !l.is_empty()) {
            let mut parts = line.split('\t');
            let (Some(emoji), Some(description)) = (parts.next(), parts.next()) else { continue };
            let mut chars = emoji.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                emojis.insert(c, description);
            }
        }
        Vader { lexicon, emojis }
    }

    fn in_lexicon(&self, word: &str) -> bool {
        self.lexicon.contains_key(word)
    }

    /// The reference's `polarity_scores`.
    pub fn polarity_scores(&self, text: &str) -> PolarityScores {
        // Emoji become their descriptions, set off by spaces.
        let text: Cow<str> = if text.is_ascii() || !text.chars().any(|c| self.emojis.contains_key(&c)) {
            Cow::Borrowed(text)
        } else {
            let mut out = String::with_capacity(text.len() + 32);
            let mut prev_space = true;
            for c in text.chars() {
                if let Some(description) = self.emojis.get(&c) {
                    if !prev_space {
                        out.push(' ');
                    }
                    out.push_str(description);
                    prev_space = false;
                } else {
                    out.push(c);
                    prev_space = c == ' ';
                }
            }
            Cow::Owned(out)
        };
        let text = text.trim();

        // Words and emoticons: split on white space, punctuation stripped
        // from both ends unless that leaves two characters or fewer.
        let originals: Vec<&str> = text
            .split_whitespace()
            .map(|token| {
                let stripped = token.trim_matches(|c: char| c.is_ascii_punctuation());
                if stripped.chars().count() <= 2 { token } else { stripped }
            })
            .collect();
        let words: Vec<Cow<str>> = originals.iter().map(|w| lower(w)).collect();
        let n = words.len();
        let caps = originals.iter().filter(|w| is_upper(w)).count();
        let is_cap_diff = caps > 0 && caps < n;

        let mut sentiments: Vec<f64> = Vec::with_capacity(n);
        for i in 0..n {
            let item = &*words[i];
            if booster(item).is_some() || (i + 1 < n && item == "kind" && words[i + 1] == "of") {
                sentiments.push(0.0);
                continue;
            }
            sentiments.push(self.sentiment_valence(&originals, &words, is_cap_diff, i));
        }
        but_check(&words, &mut sentiments);
        score_valence(&sentiments, text)
    }

    fn sentiment_valence(&self, originals: &[&str], words: &[Cow<str>], is_cap_diff: bool, i: usize) -> f64 {
        let item = &*words[i];
        let Some(&rating) = self.lexicon.get(item) else { return 0.0 };
        let n = words.len();
        let mut valence = rating;
        // "no" before a lexicon word negates it rather than counting itself.
        if item == "no" && i != n - 1 && self.in_lexicon(&words[i + 1]) {
            valence = 0.0;
        }
        if (i > 0 && words[i - 1] == "no")
            || (i > 1 && words[i - 2] == "no")
            || (i > 2 && words[i - 3] == "no" && (words[i - 1] == "or" || words[i - 1] == "nor"))
        {
            valence = rating * N_SCALAR;
        }
        if is_upper(originals[i]) && is_cap_diff {
            if valence > 0.0 {
                valence += C_INCR;
            } else {
                valence -= C_INCR;
            }
        }
        for start_i in 0..3 {
            if i > start_i && !self.in_lexicon(&words[i - (start_i + 1)]) {
                let mut s =
                    scalar_inc_dec(originals[i - (start_i + 1)], &words[i - (start_i + 1)], valence, is_cap_diff);
                if start_i == 1 && s != 0.0 {
                    s *= 0.95;
                }
                if start_i == 2 && s != 0.0 {
                    s *= 0.9;
                }
                valence += s;
                valence = negation_check(valence, words, start_i, i);
                if start_i == 2 {
                    valence = special_idioms_check(valence, words, i);
                }
            }
        }
        self.least_check(valence, words, i)
    }

    fn least_check(&self, valence: f64, words: &[Cow<str>], i: usize) -> f64 {
        if i > 1 && !self.in_lexicon(&words[i - 1]) && words[i - 1] == "least" {
            if words[i - 2] != "at" && words[i - 2] != "very" {
                return valence * N_SCALAR;
            }
        } else if i > 0 && !self.in_lexicon(&words[i - 1]) && words[i - 1] == "least" {
            return valence * N_SCALAR;
        }
        valence
    }
}

/// Python's `str.lower()`, without allocating for words already lowercase.
fn lower(word: &str) -> Cow<'_, str> {
    if word.is_ascii() {
        if word.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(word.to_ascii_lowercase())
        } else {
            Cow::Borrowed(word)
        }
    } else if word.chars().any(char::is_uppercase) {
        Cow::Owned(word.to_lowercase())
    } else {
        Cow::Borrowed(word)
    }
}

/// Python's `str.isupper()`: some cased letter, none lowercase.
fn is_upper(word: &str) -> bool {
    let mut cased = false;
    for c in word.chars() {
        if c.is_lowercase() {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// The reference's `BOOSTER_DICT`.
fn booster(word: &str) -> Option<f64> {
    Some(match word {
        "absolutely" | "amazingly" | "awfully" | "completely" | "considerable" | "considerably" | "decidedly"
        | "deeply" | "effing" | "enormous" | "enormously" | "entirely" | "especially" | "exceptional"
        | "exceptionally" | "extreme" | "extremely" | "fabulously" | "flipping" | "flippin" | "frackin"
        | "fracking" | "fricking" | "frickin" | "frigging" | "friggin" | "fully" | "fuckin" | "fucking" | "fuggin"
        | "fugging" | "greatly" | "hella" | "highly" | "hugely" | "incredible" | "incredibly" | "intensely"
        | "major" | "majorly" | "more" | "most" | "particularly" | "purely" | "quite" | "really" | "remarkably"
        | "so" | "substantially" | "thoroughly" | "total" | "totally" | "tremendous" | "tremendously" | "uber"
        | "unbelievably" | "unusually" | "utter" | "utterly" | "very" => B_INCR,
        "almost" | "barely" | "hardly" | "just enough" | "kind of" | "kinda" | "kindof" | "kind-of" | "less"
        | "little" | "marginal" | "marginally" | "occasional" | "occasionally" | "partly" | "scarce" | "scarcely"
        | "slight" | "slightly" | "somewhat" | "sort of" | "sorta" | "sortof" | "sort-of" => B_DECR,
        _ => return None,
    })
}

/// The reference's `NEGATE` list, and any word containing "n't".
fn negated(word: &str) -> bool {
    matches!(
        word,
        "aint"
            | "arent"
            | "cannot"
            | "cant"
            | "couldnt"
            | "darent"
            | "didnt"
            | "doesnt"
            | "ain't"
            | "aren't"
            | "can't"
            | "couldn't"
            | "daren't"
            | "didn't"
            | "doesn't"
            | "dont"
            | "hadnt"
            | "hasnt"
            | "havent"
            | "isnt"
            | "mightnt"
            | "mustnt"
            | "neither"
            | "don't"
            | "hadn't"
            | "hasn't"
            | "haven't"
            | "isn't"
            | "mightn't"
            | "mustn't"
            | "neednt"
            | "needn't"
            | "never"
            | "none"
            | "nope"
            | "nor"
            | "not"
            | "nothing"
            | "nowhere"
            | "oughtnt"
            | "shant"
            | "shouldnt"
            | "uhuh"
            | "wasnt"
            | "werent"
            | "oughtn't"
            | "shan't"
            | "shouldn't"
            | "uh-uh"
            | "wasn't"
            | "weren't"
            | "without"
            | "wont"
            | "wouldnt"
            | "won't"
            | "wouldn't"
            | "rarely"
            | "seldom"
            | "despite"
    ) || word.contains("n't")
}

/// The reference's `SPECIAL_CASES` as word sequences ("badass" is a single
/// word and can never equal a sequence of words, as in the reference).
const SPECIAL_CASES: [(&[&str], f64); 8] = [
    (&["the", "shit"], 3.0),
    (&["the", "bomb"], 3.0),
    (&["bad", "ass"], 1.5),
    (&["bus", "stop"], 0.0),
    (&["yeah", "right"], -2.0),
    (&["kiss", "of", "death"], -1.5),
    (&["to", "die", "for"], 3.0),
    (&["beating", "heart"], 3.5),
];

fn special_case(seq: &[&str]) -> Option<f64> {
    SPECIAL_CASES.iter().find(|(words, _)| *words == seq).map(|&(_, value)| value)
}

/// The booster phrases of two words.
fn booster_pair(a: &str, b: &str) -> Option<f64> {
    match (a, b) {
        ("just", "enough") | ("kind", "of") | ("sort", "of") => Some(B_DECR),
        _ => None,
    }
}

fn scalar_inc_dec(original: &str, lower: &str, valence: f64, is_cap_diff: bool) -> f64 {
    let Some(mut scalar) = booster(lower) else { return 0.0 };
    if valence < 0.0 {
        scalar *= -1.0;
    }
    if is_upper(original) && is_cap_diff {
        if valence > 0.0 {
            scalar += C_INCR;
        } else {
            scalar -= C_INCR;
        }
    }
    scalar
}

fn negation_check(valence: f64, words: &[Cow<str>], start_i: usize, i: usize) -> f64 {
    let w = |k: usize| -> &str { &words[k] };
    match start_i {
        0 => {
            if negated(w(i - 1)) {
                return valence * N_SCALAR;
            }
        }
        1 => {
            if w(i - 2) == "never" && (w(i - 1) == "so" || w(i - 1) == "this") {
                return valence * 1.25;
            } else if w(i - 2) == "without" && w(i - 1) == "doubt" {
                return valence;
            } else if negated(w(i - 2)) {
                return valence * N_SCALAR;
            }
        }
        _ => {
            if (w(i - 3) == "never" && (w(i - 2) == "so" || w(i - 2) == "this"))
                || (w(i - 1) == "so" || w(i - 1) == "this")
            {
                return valence * 1.25;
            } else if w(i - 3) == "without" && (w(i - 2) == "doubt" || w(i - 1) == "doubt") {
                return valence;
            } else if negated(w(i - 3)) {
                return valence * N_SCALAR;
            }
        }
    }
    valence
}

fn special_idioms_check(mut valence: f64, words: &[Cow<str>], i: usize) -> f64 {
    let w = |k: usize| -> &str { &words[k] };
    let n = words.len();
    let sequences: [&[&str]; 5] = [
        &[w(i - 1), w(i)],
        &[w(i - 2), w(i - 1), w(i)],
        &[w(i - 2), w(i - 1)],
        &[w(i - 3), w(i - 2), w(i - 1)],
        &[w(i - 3), w(i - 2)],
    ];
    for seq in sequences {
        if let Some(value) = special_case(seq) {
            valence = value;
            break;
        }
    }
    if n - 1 > i
        && let Some(value) = special_case(&[w(i), w(i + 1)])
    {
        valence = value;
    }
    if n - 1 > i + 1
        && let Some(value) = special_case(&[w(i), w(i + 1), w(i + 2)])
    {
        valence = value;
    }
    // Booster phrases: three words (none has three), then two.
    if let Some(value) = booster_pair(w(i - 3), w(i - 2)) {
        valence += value;
    }
    if let Some(value) = booster_pair(w(i - 2), w(i - 1)) {
        valence += value;
    }
    valence
}

/// The reference's `_but_check`, quirk included: each sentiment is found
/// again by the first position holding an equal value.
fn but_check(words: &[Cow<str>], sentiments: &mut [f64]) {
    let Some(bi) = words.iter().position(|w| w == "but") else { return };
    for k in 0..sentiments.len() {
        let sentiment = sentiments[k];
        let si = sentiments.iter().position(|&s| s == sentiment).unwrap_or(k);
        if si < bi {
            sentiments[si] = sentiment * 0.5;
        } else if si > bi {
            sentiments[si] = sentiment * 1.5;
        }
    }
}

fn punctuation_emphasis(text: &str) -> f64 {
    let (mut ep, mut qm) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'!' => ep += 1,
            b'?' => qm += 1,
            _ => {}
        }
    }
    let ep_amplifier = ep.min(4) as f64 * 0.292;
    let qm_amplifier = match qm {
        0 | 1 => 0.0,
        2 | 3 => qm as f64 * 0.18,
        _ => 0.96,
    };
    ep_amplifier + qm_amplifier
}

fn normalize(score: f64) -> f64 {
    (score / (score * score + 15.0).sqrt()).clamp(-1.0, 1.0)
}

fn round_to(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round_ties_even() / scale
}

fn score_valence(sentiments: &[f64], text: &str) -> PolarityScores {
    if sentiments.is_empty() {
        return PolarityScores::default();
    }
    let mut sum: f64 = sentiments.iter().sum();
    let amplifier = punctuation_emphasis(text);
    if sum > 0.0 {
        sum += amplifier;
    } else if sum < 0.0 {
        sum -= amplifier;
    }
    let compound = normalize(sum);
    let (mut pos_sum, mut neg_sum, mut neu_count) = (0.0, 0.0, 0usize);
    for &s in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu_count += 1;
        }
    }
    if pos_sum > f64::abs(neg_sum) {
        pos_sum += amplifier;
    } else if pos_sum < f64::abs(neg_sum) {
        neg_sum -= amplifier;
    }
    let total = pos_sum + f64::abs(neg_sum) + neu_count as f64;
    PolarityScores {
        neg: round_to((neg_sum / total).abs(), 3),
        neu: round_to((neu_count as f64 / total).abs(), 3),
        pos: round_to((pos_sum / total).abs(), 3),
        compound: round_to(compound, 4),
    }
}
