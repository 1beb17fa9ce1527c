//! What the report commands (`rapport feedback`, `rapport style`) share:
//! aligned text or CSV tables, and their day flags.

use anyhow::{Result, anyhow};
use clap::ValueEnum;
use time::{Date, OffsetDateTime, Time};

/// How a report command prints.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// A `--from`/`--to` day, `YYYY-MM-DD`.
pub fn day(raw: Option<&str>, flag: &str) -> Result<Option<Date>> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    raw.map(|raw| Date::parse(raw.trim(), format).map_err(|_| anyhow!("{flag}: {raw:?} is not a date; use YYYY-MM-DD")))
        .transpose()
}

/// The start of a day, UTC.
pub fn midnight(day: Date) -> OffsetDateTime {
    day.with_time(Time::MIDNIGHT).assume_utc()
}

/// Rows printed as aligned text or as CSV.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table { headers: headers.iter().map(|h| (*h).to_owned()).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn text(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(cell, &w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
                .collect();
            padded.join("  ").trim_end().to_owned() + "\n"
        };
        let mut out = line(&self.headers);
        out.push_str(&line(&widths.iter().map(|&w| "-".repeat(w)).collect::<Vec<_>>()));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }

    pub fn csv(&self) -> Result<String> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&self.headers)?;
        for row in &self.rows {
            writer.write_record(row)?;
        }
        Ok(String::from_utf8(writer.into_inner().map_err(|e| anyhow!("writing CSV: {e}"))?)?)
    }
}
