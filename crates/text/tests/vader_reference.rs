//! The crate's sentiment against the reference Python VADER implementation
//! (`vaderSentiment`), on the sentences `scripts/vader-reference.sh` scored.

use rapport_text::{Language, SentimentLabel, pipeline};
use serde_json::Value;

#[test]
fn compound_scores_agree_with_python_vader() {
    let data: Value = serde_json::from_str(include_str!("data/vader_reference.json")).unwrap();
    let sentences = data["sentences"].as_array().unwrap();
    assert!(sentences.len() >= 40, "the reference set has {} sentences", sentences.len());
    let pipeline = pipeline(Language::English);
    let mut disagreements = Vec::new();
    for sentence in sentences {
        let text = sentence["text"].as_str().unwrap();
        let expected = sentence["compound"].as_f64().unwrap();
        let got = pipeline.sentiment(text);
        if (got.compound - expected).abs() > 0.001 {
            disagreements.push(format!("{text:?}: python {expected}, rust {:.4}", got.compound));
        }
        if got.label != SentimentLabel::of(expected) {
            disagreements.push(format!(
                "{text:?}: label python {:?}, rust {:?}",
                SentimentLabel::of(expected),
                got.label
            ));
        }
        let scores = pipeline.polarity_scores(text);
        for (name, value) in [("pos", scores.pos), ("neu", scores.neu), ("neg", scores.neg)] {
            let expected = sentence[name].as_f64().unwrap();
            if (value - expected).abs() > 0.001 {
                disagreements.push(format!("{text:?}: {name} python {expected}, rust {value:.4}"));
            }
        }
    }
    assert!(disagreements.is_empty(), "{} disagreements:\n{}", disagreements.len(), disagreements.join("\n"));
}
