//! Key phrases and themes on a small fixed corpus, the admins' rules, and
//! trends.

use rapport_text::{Language, Period, Theme, ThemeComment, ThemeRule, TrendDirection, pipeline, themes::themes};

/// Comments about late delivery (5), friendly support (3) and price (4),
/// with the NPS score given with each.
const CORPUS: &[(&str, u8)] = &[
    ("The delivery was late again and nobody told me why.", 3),
    ("Late delivery, the parcel came a week after the promised date.", 5),
    ("My delivery was three days late.", 6),
    ("Another late delivery. Very disappointing.", 2),
    ("Deliveries are always late, please fix this.", 4),
    ("Friendly support, they solved my problem in minutes.", 10),
    ("Very friendly support staff, thank you Anna!", 9),
    ("Support was friendly and patient with me.", 9),
    ("The price is too high for what you get.", 6),
    ("Prices went up again this year.", 7),
    ("Good product but the price is steep.", 8),
    ("Fair price for the quality.", 9),
    ("Great!", 10),
];

fn analysed() -> Vec<(Vec<String>, f64, u8)> {
    let p = pipeline(Language::English);
    CORPUS
        .iter()
        .map(|(text, nps)| {
            let a = p.analyse(text);
            (a.phrases, a.sentiment.compound, *nps)
        })
        .collect()
}

fn corpus_themes(rules: &[ThemeRule], min_mentions: u64) -> Vec<Theme> {
    let rows = analysed();
    themes(
        rows.iter().map(|(phrases, sentiment, nps)| ThemeComment {
            phrases,
            sentiment: *sentiment,
            nps: Some(*nps),
            period: Period::Current,
        }),
        rules,
        min_mentions,
    )
}

fn rule(phrase: &str, theme: &str, pinned: bool) -> ThemeRule {
    ThemeRule { phrase: phrase.into(), theme: theme.into(), pinned }
}

fn summary(themes: &[Theme]) -> Vec<(&str, u64)> {
    themes.iter().map(|t| (t.name.as_str(), t.mentions)).collect()
}

#[test]
fn key_phrases_are_normalised() {
    let p = pipeline(Language::English);
    assert_eq!(p.key_phrases("The delivery was late again and nobody told me why.")[0], "delivery late");
    assert_eq!(p.key_phrases("Another late delivery. Very disappointing."), ["late delivery"]);
    assert_eq!(p.key_phrases("Prices went up again this year."), ["price"]);
    assert!(p.key_phrases("Great!").is_empty(), "a feeling alone is not a theme");
    assert!(p.key_phrases("").is_empty());
    assert!(p.key_phrases("!!! 123").is_empty());
    for text in CORPUS.iter().map(|(t, _)| t) {
        let phrases = p.key_phrases(text);
        assert!(phrases.len() <= rapport_text::phrases::MAX_PHRASES);
        for phrase in phrases {
            assert_eq!(phrase, phrase.to_lowercase());
            assert!(phrase.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '\''), "{phrase}");
        }
    }
}

#[test]
fn the_corpus_gives_late_delivery_price_and_friendly_support() {
    let found = corpus_themes(&[], 2);
    assert_eq!(summary(&found), [("late delivery", 5), ("price", 4), ("friendly support", 3)]);

    let late = &found[0];
    assert_eq!(late.key, "delivery late");
    assert!((late.share - 5.0 / 13.0).abs() < 1e-12);
    // Scores 3, 5, 6, 2, 4: all detractors.
    assert_eq!(late.nps.unwrap().value, -100.0);
    assert!(!late.pinned);

    let support = &found[2];
    assert_eq!(support.phrases[0], "friendly support");
    assert!(support.phrases.contains(&"friendly support staff".to_string()));
    // Scores 10, 9, 9: all promoters.
    assert_eq!(support.nps.unwrap().value, 100.0);
    assert!(support.mean_sentiment > 0.5, "{}", support.mean_sentiment);
    assert!(support.mean_sentiment > late.mean_sentiment);

    let price = &found[1];
    assert!(price.phrases.iter().any(|p| p == "fair price"), "{:?}", price.phrases);
    assert!(price.phrases.iter().any(|p| p == "price steep"), "{:?}", price.phrases);
    // Scores 6, 7, 8, 9: one promoter, two passives, one detractor.
    assert_eq!(price.nps.unwrap().value, 0.0);

    // No earlier period: no trend.
    for theme in &found {
        assert_eq!(theme.previous_mentions, 0);
        assert_eq!(theme.trend.direction, TrendDirection::Steady);
    }
}

#[test]
fn rules_rename_merge_and_pin() {
    // Rename: a rule from the theme's key to a new name.
    let found = corpus_themes(&[rule("delivery late", "Late deliveries", false)], 2);
    assert_eq!(summary(&found), [("Late deliveries", 5), ("price", 4), ("friendly support", 3)]);
    assert_eq!(found[0].key, "delivery late");
    // The rule's phrase is normalised as a key: any word order.
    let found = corpus_themes(&[rule("Late  Delivery", "Late deliveries", false)], 2);
    assert_eq!(found[0].name, "Late deliveries");

    // Merge: every phrase of "friendly support" sent to "late delivery"'s name.
    let support = corpus_themes(&[], 2).into_iter().find(|t| t.name == "friendly support").unwrap();
    let rules: Vec<ThemeRule> = support.phrases.iter().map(|p| rule(p, "late delivery", false)).collect();
    let found = corpus_themes(&rules, 2);
    assert_eq!(summary(&found), [("late delivery", 8), ("price", 4)]);
    assert_eq!(found[0].key, "delivery late");

    // Merge into a new name; a comment with both phrases counts once.
    let found = corpus_themes(&[rule("price", "Value", false), rule("quality", "Value", false)], 2);
    assert_eq!(summary(&found), [("late delivery", 5), ("Value", 4), ("friendly support", 3)]);
    assert!(found[1].phrases.contains(&"quality".to_string()));

    // Pin: shown with one mention under min_mentions 2, and with none.
    let found = corpus_themes(&[rule("told", "Communication", true), rule("refund", "Refunds", true)], 2);
    let communication = found.iter().find(|t| t.name == "Communication").unwrap();
    assert_eq!((communication.mentions, communication.pinned), (1, true));
    let refunds = found.iter().find(|t| t.name == "Refunds").unwrap();
    assert_eq!((refunds.mentions, refunds.pinned, refunds.nps), (0, true, None));
    assert_eq!(found.last().unwrap().name, "Refunds");
}

fn period_comments(period: Period, late: usize, price: usize) -> Vec<(Vec<String>, Period)> {
    (0..100)
        .map(|i| {
            let mut phrases = Vec::new();
            if i < late {
                phrases.push("late delivery".to_string());
            }
            if i >= 50 && i < 50 + price {
                phrases.push("price".to_string());
            }
            (phrases, period)
        })
        .collect()
}

#[test]
fn trends_rise_only_beyond_noise() {
    let mut rows = period_comments(Period::Previous, 5, 10);
    rows.extend(period_comments(Period::Current, 30, 11));
    let found = themes(
        rows.iter().map(|(phrases, period)| ThemeComment { phrases, sentiment: 0.0, nps: None, period: *period }),
        &[],
        1,
    );
    assert_eq!(summary(&found), [("late delivery", 30), ("price", 11)]);

    // 5/100 → 30/100: pooled share 35/200 = 0.175, standard error
    // √(0.175 · 0.825 · (1/100 + 1/100)) = 0.053735, z = 0.25 / 0.053735 =
    // 4.6524, two-sided p = 3.28e-6.
    let late = &found[0];
    assert_eq!((late.previous_mentions, late.previous_share, late.share), (5, 0.05, 0.30));
    assert!((late.trend.change - 0.25).abs() < 1e-12);
    assert!((late.trend.p_value - 3.2806e-6).abs() < 1e-9, "{}", late.trend.p_value);
    assert_eq!(late.trend.direction, TrendDirection::Rising);
    assert_eq!(late.nps, None);

    // 10/100 → 11/100: z = 0.2307, p = 0.818: noise.
    let price = &found[1];
    assert!((price.trend.change - 0.01).abs() < 1e-12);
    assert!((price.trend.p_value - 0.8176).abs() < 1e-3, "{}", price.trend.p_value);
    assert_eq!(price.trend.direction, TrendDirection::Steady);

    // And back down: 30/100 → 5/100 falls.
    let mut rows = period_comments(Period::Previous, 30, 0);
    rows.extend(period_comments(Period::Current, 5, 0));
    let found = themes(
        rows.iter().map(|(phrases, period)| ThemeComment { phrases, sentiment: 0.0, nps: None, period: *period }),
        &[],
        10,
    );
    assert_eq!(summary(&found), [("late delivery", 5)], "shown: 30 mentions in the previous period");
    assert_eq!(found[0].trend.direction, TrendDirection::Falling);
}

#[test]
fn a_comment_counts_once_per_theme_and_longer_phrases_fold_in() {
    let rows: Vec<Vec<String>> = vec![
        vec!["late delivery".into(), "delivery late".into()],
        vec!["late delivery".into()],
        vec!["late delivery again".into()],
        vec!["fast delivery".into()],
        vec!["fast delivery".into()],
    ];
    let found = themes(
        rows.iter().map(|phrases| ThemeComment { phrases, sentiment: -0.5, nps: Some(3), period: Period::Current }),
        &[],
        2,
    );
    assert_eq!(summary(&found), [("late delivery", 3), ("fast delivery", 2)]);
    assert_eq!(found[0].phrases, ["late delivery", "late delivery again"]);
    assert!((found[0].mean_sentiment + 0.5).abs() < 1e-12);
    assert!(themes(std::iter::empty(), &[], 1).is_empty());
}

#[test]
fn themes_serialise_as_json() {
    let found = corpus_themes(&[], 2);
    let json = serde_json::to_value(&found[0]).unwrap();
    assert_eq!(json["name"], "late delivery");
    assert_eq!(json["trend"]["direction"], "steady");
    let back: Theme = serde_json::from_value(json).unwrap();
    assert_eq!(back, found[0]);
}
