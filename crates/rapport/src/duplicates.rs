//! `rapport duplicates people|companies`: the likely duplicate pairs,
//! strongest first, as an aligned table or as JSON (the API's pairs).

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use rapport_domain::duplicates::{DuplicateKind, DuplicatePair, DuplicateRecord};
use rapport_storage::{DuplicateQuery, Store};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    People,
    Companies,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Args)]
pub struct DuplicatesArgs {
    /// Which records: people or companies.
    #[arg(value_enum)]
    kind: Kind,
    /// Only pairs scoring at least this (0–100).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    min_score: u8,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

pub async fn run(store: &Store, args: DuplicatesArgs) -> Result<String> {
    let kind = match args.kind {
        Kind::People => DuplicateKind::People,
        Kind::Companies => DuplicateKind::Companies,
    };
    let mut pairs = Vec::new();
    let mut query = DuplicateQuery { min_score: args.min_score, limit: Some(200), cursor: None };
    loop {
        let page = store.find_duplicates(kind, &query).await.context("cannot list the duplicates")?;
        pairs.extend(page.items);
        match page.next_cursor {
            Some(next) => query.cursor = Some(next),
            None => break,
        }
    }
    match args.format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&pairs).context("cannot write the pairs as JSON")?;
            text.push('\n');
            Ok(text)
        }
        Format::Table if pairs.is_empty() => Ok(format!("no likely duplicate {} found\n", kind.as_str())),
        Format::Table => Ok(table(&pairs)),
    }
}

fn describe(record: &DuplicateRecord) -> String {
    let mut parts = vec![record.name.clone()];
    parts.extend(record.emails.first().cloned());
    parts.extend(record.domain.clone());
    format!("{} ({})", parts.join(", "), record.id)
}

/// One block per pair: score and the two records, then each reason.
fn table(pairs: &[DuplicatePair]) -> String {
    let mut text = String::new();
    for pair in pairs {
        text.push_str(&format!("{:>3}  {}\n     {}\n", pair.score, describe(&pair.a), describe(&pair.b)));
        for reason in &pair.reasons {
            text.push_str(&format!("     - {}: {} ({})\n", reason.kind.label(), reason.detail, reason.score));
        }
    }
    text.push_str(&format!("{} pairs\n", pairs.len()));
    text
}
