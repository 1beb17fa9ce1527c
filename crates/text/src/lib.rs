//! Customer-feedback text and statistics for Rapport's surveys. Pure
//! computation: no database, no I/O.
//!
//! - [`TextPipeline`]: the sentiment of a comment (VADER) and its key phrases
//!   (YAKE, then normalised so that phrases meet across comments), for one
//!   [`Language`]. [`pipeline`] hands out one shared pipeline per language.
//! - [`stats`]: NPS, means and proportions with 95 % intervals, and the
//!   two-proportion test behind a theme's trend.
//! - [`themes`]: key phrases grouped across comments into themes, with their
//!   mentions, share, sentiment, NPS and trend, under the admins' rules.
//!
//! # Models and their licences
//!
//! Sentiment is VADER (Hutto & Gilbert, "VADER: A Parsimonious Rule-based
//! Model for Sentiment Analysis of Social Media Text", ICWSM 2014): [`vader`]
//! ports the reference Python package `vaderSentiment` 3.3.2 and embeds its
//! lexicon and emoji descriptions, MIT licence, © 2016 C.J. Hutto
//! (`src/vader/LICENSE-vaderSentiment.txt`). Its scores agree with the Python
//! package on the sentences in `tests/data/vader_reference.json`
//! (`scripts/vader-reference.sh` makes that file); [`vader`] says why this is
//! a port rather than the `vader-sentimental` crate. Key phrases come from YAKE
//! (Campos et al., "YAKE! Keyword extraction from single documents using
//! multiple local features", Information Sciences 2020), which [`yake`]
//! implements from the paper; its English stop-word list is YAKE's, read
//! from the `yake-rust` crate (MIT), which is used for nothing else.

pub mod phrases;
pub mod stats;
pub mod themes;
pub mod vader;
pub mod yake;

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

pub use stats::Estimate;
pub use themes::{Period, Theme, ThemeComment, ThemeRule, Trend, TrendDirection};

/// The language a comment is written in. The text pipeline takes it as a
/// parameter so that other languages can follow English.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    English,
}

impl Language {
    /// Every language the pipeline knows.
    pub const ALL: [Language; 1] = [Language::English];

    /// The ISO 639-1 code: `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::English => "en",
        }
    }

    /// Reads an ISO 639-1 code (`en`, any case) or the English name.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "en" | "english" => Ok(Language::English),
            other => Err(format!("unknown language '{other}' (known: en)")),
        }
    }

    fn index(self) -> usize {
        match self {
            Language::English => 0,
        }
    }
}

/// VADER's three-way reading of a compound score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SentimentLabel {
    Positive,
    Neutral,
    Negative,
}

impl SentimentLabel {
    pub const ALL: [SentimentLabel; 3] = [SentimentLabel::Positive, SentimentLabel::Neutral, SentimentLabel::Negative];

    /// VADER's published thresholds: compound ≥ 0.05 is positive, ≤ −0.05
    /// negative, anything between neutral.
    pub fn of(compound: f64) -> SentimentLabel {
        if compound >= 0.05 {
            SentimentLabel::Positive
        } else if compound <= -0.05 {
            SentimentLabel::Negative
        } else {
            SentimentLabel::Neutral
        }
    }

    /// The stable form for storage, URLs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SentimentLabel::Positive => "positive",
            SentimentLabel::Neutral => "neutral",
            SentimentLabel::Negative => "negative",
        }
    }

    /// The form for people.
    pub fn label(self) -> &'static str {
        match self {
            SentimentLabel::Positive => "Positive",
            SentimentLabel::Neutral => "Neutral",
            SentimentLabel::Negative => "Negative",
        }
    }

    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "positive" => Ok(SentimentLabel::Positive),
            "neutral" => Ok(SentimentLabel::Neutral),
            "negative" => Ok(SentimentLabel::Negative),
            other => Err(format!("unknown sentiment '{other}' (known: positive, neutral, negative)")),
        }
    }
}

/// The sentiment of one comment: VADER's compound score in −1..1 and its label.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sentiment {
    pub compound: f64,
    pub label: SentimentLabel,
}

impl Sentiment {
    pub fn from_compound(compound: f64) -> Sentiment {
        Sentiment { compound, label: SentimentLabel::of(compound) }
    }
}

/// What the pipeline reads in one comment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommentAnalysis {
    pub sentiment: Sentiment,
    /// The comment's normalised key phrases (see [`phrases`]), best first, at
    /// most [`phrases::MAX_PHRASES`].
    pub phrases: Vec<String>,
}

/// Sentiment and key phrases for one language. Building one loads the
/// lexicon and the stop words; share it through [`pipeline`].
pub struct TextPipeline {
    language: Language,
    vader: vader::Vader,
    extractor: phrases::Extractor,
}

impl std::fmt::Debug for TextPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextPipeline").field("language", &self.language).finish_non_exhaustive()
    }
}

impl TextPipeline {
    pub fn new(language: Language) -> Self {
        let vader = match language {
            Language::English => vader::Vader::new(),
        };
        TextPipeline { language, vader, extractor: phrases::Extractor::new(language) }
    }

    pub fn language(&self) -> Language {
        self.language
    }

    /// Sentiment and key phrases of one comment.
    pub fn analyse(&self, text: &str) -> CommentAnalysis {
        CommentAnalysis { sentiment: self.sentiment(text), phrases: self.key_phrases(text) }
    }

    /// VADER's compound score and its label.
    pub fn sentiment(&self, text: &str) -> Sentiment {
        if text.trim().is_empty() {
            return Sentiment::from_compound(0.0);
        }
        Sentiment::from_compound(self.vader.polarity_scores(text).compound)
    }

    /// VADER's full reading: the shares of positive, neutral and negative
    /// words and the compound score, as the reference package returns them.
    pub fn polarity_scores(&self, text: &str) -> vader::PolarityScores {
        self.vader.polarity_scores(text)
    }

    /// The comment's normalised key phrases, best first.
    pub fn key_phrases(&self, text: &str) -> Vec<String> {
        self.extractor.key_phrases(text)
    }
}

/// The shared pipeline for a language, built on first use.
pub fn pipeline(language: Language) -> &'static TextPipeline {
    static PIPELINES: [OnceLock<TextPipeline>; Language::ALL.len()] = [const { OnceLock::new() }; Language::ALL.len()];
    PIPELINES[language.index()].get_or_init(|| TextPipeline::new(language))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_vaders_thresholds() {
        assert_eq!(SentimentLabel::of(0.05), SentimentLabel::Positive);
        assert_eq!(SentimentLabel::of(0.0499), SentimentLabel::Neutral);
        assert_eq!(SentimentLabel::of(-0.0499), SentimentLabel::Neutral);
        assert_eq!(SentimentLabel::of(-0.05), SentimentLabel::Negative);
        for label in SentimentLabel::ALL {
            assert_eq!(SentimentLabel::parse(label.as_str()), Ok(label));
            assert_eq!(serde_json::to_value(label).unwrap(), label.as_str());
        }
        assert!(SentimentLabel::parse("happy").is_err());
    }

    #[test]
    fn languages_parse() {
        assert_eq!(Language::parse("en"), Ok(Language::English));
        assert_eq!(Language::parse(" EN "), Ok(Language::English));
        assert_eq!(Language::English.as_str(), "en");
        assert!(Language::parse("fr").is_err());
    }

    #[test]
    fn the_shared_pipeline_is_built_once() {
        let a = pipeline(Language::English) as *const TextPipeline;
        let b = pipeline(Language::English) as *const TextPipeline;
        assert_eq!(a, b);
        let analysis = pipeline(Language::English).analyse("The support team was very friendly!");
        assert_eq!(analysis.sentiment.label, SentimentLabel::Positive);
        assert_eq!(
            pipeline(Language::English).sentiment("   "),
            Sentiment { compound: 0.0, label: SentimentLabel::Neutral }
        );
    }
}
