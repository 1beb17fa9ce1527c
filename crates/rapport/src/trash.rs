//! `rapport history` and `rapport trash`: what happened to a record, and
//! what was deleted, from the command line.

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use rapport_domain::history::{FieldChange, HistoryEntry, RecordKind, TrashEntry};
use rapport_storage::Store;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

#[derive(Subcommand)]
pub enum TrashCommand {
    /// What is in the trash, newest first.
    List {
        /// Only people, companies, deals, activities, tasks, purchases or tickets.
        #[arg(long = "type")]
        kind: Option<String>,
        /// How many entries.
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Put a deleted record back, with everything deleted with it.
    Restore {
        /// The trash entry's id (the first column of `rapport trash list`).
        id: String,
        /// Act as this user (default: the first admin).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Remove for good what was deleted more than N days ago (default: the trash_days setting).
    Purge {
        #[arg(long)]
        older_than_days: Option<u32>,
    },
}

fn kind_arg(raw: &str) -> Result<RecordKind> {
    RecordKind::parse(raw).map_err(|e| anyhow::anyhow!("the record type {e}"))
}

fn time(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

pub async fn trash(store: &Store, command: TrashCommand, retention: time::Duration) -> Result<()> {
    match command {
        TrashCommand::List { kind, limit } => {
            let kind = kind.as_deref().map(kind_arg).transpose()?;
            if !(1..=10_000).contains(&limit) {
                bail!("--limit must be between 1 and 10000");
            }
            let entries = store.list_trash(kind, retention, None, limit).await?;
            if entries.is_empty() {
                println!("The trash is empty.");
            }
            for entry in &entries {
                println!("{}", trash_line(entry));
            }
            Ok(())
        }
        TrashCommand::Restore { id, as_user } => {
            let id: Uuid = id.parse().with_context(|| format!("{id:?} is not a trash entry id"))?;
            let actor = crate::import::actor(store, as_user.as_deref()).await?;
            let (kind, record) = store.restore_from_trash(&actor, id).await?;
            println!("Restored {} {record}.", kind.singular());
            Ok(())
        }
        TrashCommand::Purge { older_than_days } => {
            let retention = match older_than_days {
                Some(days) => time::Duration::days(days.into()),
                None => retention,
            };
            let purged = store.purge_trash(OffsetDateTime::now_utc() - retention).await?;
            println!("Purged {purged} trash entries.");
            Ok(())
        }
    }
}

fn trash_line(entry: &TrashEntry) -> String {
    let by = entry.deleted_by_name.as_deref().unwrap_or("-");
    let attached = match entry.attached {
        0 => String::new(),
        n => format!(" (+{n} attached rows)"),
    };
    format!(
        "{}  {:<10} {}{attached}  {} by {by}, purged after {}",
        entry.id,
        entry.record_type.singular(),
        entry.label,
        time(entry.deleted_at),
        time(entry.purge_after),
    )
}

/// `rapport history TYPE ID`: newest first, one block per entry.
pub async fn history(store: &Store, kind: &str, id: &str, json: bool) -> Result<()> {
    let kind = kind_arg(kind)?;
    let id: Uuid = id.parse().with_context(|| format!("{id:?} is not a record id"))?;
    let entries = store.history(kind, id).await?;
    if entries.is_empty() {
        bail!("no history for {} {id}", kind.singular());
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(());
    }
    for entry in &entries {
        print!("{}", history_block(entry));
    }
    Ok(())
}

fn history_block(entry: &HistoryEntry) -> String {
    let who = entry.actor_name.as_deref().unwrap_or("system");
    let related = entry.related_id.map(|r| format!(" ({r})")).unwrap_or_default();
    let mut out = format!("{}  {}{related} by {who}\n", time(entry.at), entry.action.as_str());
    for FieldChange { field, old, new } in &entry.changes {
        out.push_str(&format!("    {field}: {old} → {new}\n"));
    }
    out
}
