//! The feedback-text benchmark: VADER sentiment and key phrases over
//! 100,000 survey comments, then the themes over them, the goal being under
//! 10 seconds in all and at least 20× the Python `vaderSentiment` package on
//! the same comments (scripts/bench-feedback-text.sh runs both).
//!
//! - `feedback_text --out FILE`: generates the comments (deterministic for a
//!   seed), writes them to FILE one a line, and times sentiment alone (one
//!   thread, like Python), sentiment and key phrases (every core), and the
//!   themes (half the comments in the previous period).
//! - `feedback_text --compare FILE --scores SCORES`: reads the comments and
//!   the Python compound scores (one a line) and counts disagreements.
//!
//!     cargo run --release -p rapport-bench --bin feedback_text -- --out /tmp/comments.txt

use std::io::{BufRead, BufWriter, Write};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rapport_text::{CommentAnalysis, Language, Period, ThemeComment, pipeline, themes::themes};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(about = "Times sentiment, key phrases and themes over survey comments")]
struct Args {
    /// How many comments to generate.
    #[arg(long, default_value_t = 100_000)]
    count: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Write the generated comments here, one a line.
    #[arg(long)]
    out: Option<String>,
    /// Worker threads for sentiment and key phrases (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Compare the comments in this file ...
    #[arg(long, requires = "scores")]
    compare: Option<String>,
    /// ... with these compound scores (one a line).
    #[arg(long)]
    scores: Option<String>,
}

/// A topic customers write about: its nouns, and what they say of it.
struct Topic {
    nouns: &'static [&'static str],
    good: &'static [&'static str],
    bad: &'static [&'static str],
}

const TOPICS: &[Topic] = &[
    Topic {
        nouns: &["delivery", "deliveries", "shipping", "parcel", "courier"],
        good: &["fast", "quick", "early", "reliable"],
        bad: &["late", "slow", "delayed", "lost"],
    },
    Topic {
        nouns: &["support", "support team", "customer service", "helpdesk", "agent"],
        good: &["friendly", "helpful", "patient", "knowledgeable"],
        bad: &["rude", "unhelpful", "slow", "unreachable"],
    },
    Topic {
        nouns: &["price", "prices", "pricing", "subscription", "plan"],
        good: &["fair", "reasonable", "affordable", "competitive"],
        bad: &["high", "steep", "expensive", "confusing"],
    },
    Topic {
        nouns: &["app", "website", "checkout", "dashboard", "mobile app"],
        good: &["easy", "intuitive", "fast", "clean"],
        bad: &["confusing", "slow", "buggy", "clunky"],
    },
    Topic {
        nouns: &["quality", "product", "build quality", "material", "fabric"],
        good: &["excellent", "solid", "great", "durable"],
        bad: &["poor", "cheap", "flimsy", "disappointing"],
    },
    Topic {
        nouns: &["invoice", "billing", "refund", "payment"],
        good: &["clear", "quick", "simple", "accurate"],
        bad: &["wrong", "late", "slow", "confusing"],
    },
    Topic {
        nouns: &["packaging", "box", "wrapping"],
        good: &["nice", "recyclable", "careful", "sturdy"],
        bad: &["damaged", "excessive", "torn", "wasteful"],
    },
    Topic {
        nouns: &["onboarding", "setup", "installation", "documentation"],
        good: &["smooth", "simple", "thorough", "painless"],
        bad: &["painful", "confusing", "incomplete", "long"],
    },
];

const OPENERS: &[&str] = &["", "", "", "Honestly, ", "Overall ", "To be fair, ", "Well, ", "Hi, ", "So "];
const BOOSTERS: &[&str] = &["", "", "", "very ", "really ", "extremely ", "quite ", "a bit ", "kind of ", "so "];
const CLOSERS: &[&str] = &[
    "",
    "",
    "",
    " Thanks!",
    " Will order again.",
    " Not happy!",
    " :)",
    " Please fix this.",
    "!!!",
    " Would recommend to friends.",
    " Never again.",
    " Keep it up.",
    " Why???",
];

fn clause(rng: &mut StdRng, topic: &Topic, positive: bool) -> String {
    let noun = *topic.nouns.choose(rng).unwrap();
    let adjective = *(if positive { topic.good } else { topic.bad }).choose(rng).unwrap();
    let opposite = *(if positive { topic.bad } else { topic.good }).choose(rng).unwrap();
    let booster = *BOOSTERS.choose(rng).unwrap();
    let verb = if noun.ends_with('s') && !noun.ends_with("ss") { "were" } else { "was" };
    let shout = rng.random_bool(0.05);
    let adjective = if shout { adjective.to_uppercase() } else { adjective.to_owned() };
    match rng.random_range(0..7) {
        0 => format!("{booster}{adjective} {noun}"),
        1 => format!("the {noun} {verb} {booster}{adjective}"),
        2 => format!("the {noun} {verb} not {opposite}"),
        3 => format!("{adjective} {noun} as always"),
        4 => format!("I found the {noun} {booster}{adjective}"),
        5 => {
            let feeling = if positive { ["love", "like", "appreciate"] } else { ["hate", "dislike", "can't stand"] };
            format!("I {} the {booster}{adjective} {noun}", feeling.choose(rng).unwrap())
        }
        _ => format!("{noun}: {adjective}"),
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One comment and the NPS score its author gave.
fn comment(rng: &mut StdRng, previous: bool) -> (String, u8) {
    // Late delivery grows from the previous period to the current one.
    let mood: f64 = rng.random();
    let clauses = rng.random_range(1..=3);
    let mut parts = Vec::new();
    let mut good = 0;
    for i in 0..clauses {
        let topic = if !previous && i == 0 && rng.random_bool(0.15) { &TOPICS[0] } else { TOPICS.choose(rng).unwrap() };
        let positive = rng.random_bool(if i == 0 { mood } else { 1.0 - mood * 0.5 });
        good += usize::from(positive);
        parts.push(clause(rng, topic, positive));
    }
    let joined = match parts.len() {
        1 => parts[0].clone(),
        2 => format!("{}, but {}", parts[0], parts[1]),
        _ => format!("{}. {}, and {}", parts[0], capitalise(&parts[1]), parts[2]),
    };
    let opener = *OPENERS.choose(rng).unwrap();
    let body = if opener.is_empty() { capitalise(&joined) } else { format!("{opener}{joined}") };
    let text = format!("{body}.{}", CLOSERS.choose(rng).unwrap());
    let share = good as f64 / clauses as f64;
    let score = (share * 8.0 + rng.random_range(0.0..3.0)).round().min(10.0) as u8;
    (text, score)
}

fn generate(count: usize, seed: u64) -> Vec<(String, u8, Period)> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|i| {
            let previous = i < count / 2;
            let (text, score) = comment(&mut rng, previous);
            (text, score, if previous { Period::Previous } else { Period::Current })
        })
        .collect()
}

fn compare(comments: &str, scores: &str) -> Result<()> {
    let texts: Vec<String> =
        std::io::BufReader::new(std::fs::File::open(comments)?).lines().collect::<Result<_, _>>()?;
    let scores: Vec<f64> = std::fs::read_to_string(scores)?
        .lines()
        .map(|l| l.trim().parse::<f64>().context("a score"))
        .collect::<Result<_>>()?;
    if texts.len() != scores.len() {
        bail!("{} comments but {} scores", texts.len(), scores.len());
    }
    let p = pipeline(Language::English);
    let mut worst = 0.0f64;
    let mut disagreements = 0;
    for (text, expected) in texts.iter().zip(&scores) {
        let diff = (p.sentiment(text).compound - expected).abs();
        if diff > 0.001 {
            disagreements += 1;
            if disagreements <= 5 {
                println!("disagrees: {text:?}: python {expected}, rust {}", p.sentiment(text).compound);
            }
        }
        worst = worst.max(diff);
    }
    println!("COMPARED={} DISAGREEMENTS={disagreements} LARGEST_DIFFERENCE={worst}", texts.len());
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let (Some(comments), Some(scores)) = (&args.compare, &args.scores) {
        return compare(comments, scores);
    }
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));

    let started = Instant::now();
    let comments = generate(args.count, args.seed);
    println!("generated {} comments in {:.2} s", comments.len(), started.elapsed().as_secs_f64());
    if let Some(out) = &args.out {
        let mut file = BufWriter::new(std::fs::File::create(out)?);
        for (text, _, _) in &comments {
            writeln!(file, "{text}")?;
        }
        file.flush()?;
    }

    let started = Instant::now();
    let p = pipeline(Language::English);
    let load = started.elapsed().as_secs_f64();

    // Sentiment alone on one thread: what Python does.
    let started = Instant::now();
    let sum: f64 = comments.iter().map(|(text, _, _)| p.sentiment(text).compound).sum();
    let sentiment_one = started.elapsed().as_secs_f64();

    // Sentiment and key phrases, on every core.
    let started = Instant::now();
    let chunk = comments.len().div_ceil(threads.max(1)).max(1);
    let analyses: Vec<CommentAnalysis> = std::thread::scope(|scope| {
        let handles: Vec<_> = comments
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|(text, _, _)| p.analyse(text)).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a worker")).collect()
    });
    let analyse = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let found = themes(
        analyses.iter().zip(&comments).map(|(a, (_, score, period))| ThemeComment {
            phrases: &a.phrases,
            sentiment: a.sentiment.compound,
            nps: Some(*score),
            period: *period,
        }),
        &[],
        20,
    );
    let theme_seconds = started.elapsed().as_secs_f64();

    let phrases: usize = analyses.iter().map(|a| a.phrases.len()).sum();
    println!("{} comments, {threads} threads, {phrases} key phrases, {} themes", comments.len(), found.len());
    println!("top themes (mentions now / before, share, mean sentiment, NPS, trend):");
    for t in found.iter().take(12) {
        println!(
            "  {:<28} {:>6} / {:<6} {:>5.1} % {:>6.3} {:>7} {}",
            t.name,
            t.mentions,
            t.previous_mentions,
            t.share * 100.0,
            t.mean_sentiment,
            t.nps.map_or("-".to_string(), |e| format!("{:.0}", e.value)),
            t.trend.direction.as_str()
        );
    }
    println!("RUST_LOAD_SECONDS={load:.4}");
    println!("RUST_SENTIMENT_1_THREAD_SECONDS={sentiment_one:.4}");
    println!("RUST_ANALYSE_SECONDS={analyse:.4}");
    println!("RUST_THEMES_SECONDS={theme_seconds:.4}");
    println!("RUST_TOTAL_SECONDS={:.4}", load + analyse + theme_seconds);
    println!("RUST_COMPOUND_SUM={sum:.4}");
    Ok(())
}
