//! `rapport merge`: merging two people or two companies from the command
//! line, and undoing a merge.

use anyhow::{Context, Result, anyhow};
use clap::Subcommand;
use rapport_domain::merge::{FieldChoices, Side};
use rapport_domain::{CompanyId, PersonId};
use rapport_storage::{MergeVersions, Store};
use uuid::Uuid;

#[derive(Subcommand)]
pub enum MergeCommand {
    /// Merge OTHER into SURVIVOR: everything attached to OTHER moves, OTHER goes to the trash.
    People(MergeArgs),
    /// Merge company OTHER into SURVIVOR: its people, deals, activities and tasks move.
    Companies(MergeArgs),
    /// Undo a merge (ID as printed by the merge, or the trash entry of the merged record).
    Undo {
        id: String,
        /// Act as this user (default: the first admin).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}

#[derive(clap::Args)]
pub struct MergeArgs {
    survivor: String,
    other: String,
    /// Take a field from OTHER (`first_name`, `custom_fields.tier`); repeat for more.
    /// Fields not named keep the survivor's value, or OTHER's when the survivor has none.
    #[arg(long = "take", value_name = "FIELD=other")]
    take: Vec<String>,
    /// Act as this user (default: the first admin).
    #[arg(long = "as")]
    as_user: Option<String>,
}

fn id(raw: &str, what: &str) -> Result<Uuid> {
    raw.parse().map_err(|_| anyhow!("{what}: {raw:?} is not an id"))
}

/// `field=other` (or `field=survivor`) pairs into choices.
fn choices(take: &[String]) -> Result<FieldChoices> {
    take.iter()
        .map(|pair| {
            let (field, side) = pair.split_once('=').unwrap_or((pair.as_str(), "other"));
            let side = match side {
                "other" => Side::Other,
                "survivor" => Side::Survivor,
                _ => return Err(anyhow!("--take {pair}: the side is other or survivor")),
            };
            Ok((field.to_owned(), side))
        })
        .collect()
}

/// A refused merge names the field, as the API does.
fn refused(err: rapport_storage::StorageError) -> anyhow::Error {
    match err {
        rapport_storage::StorageError::Invalid(fields) => {
            let reasons: Vec<String> = fields.iter().map(|(field, message)| format!("{field}: {message}")).collect();
            anyhow!("the merge was refused: {}", reasons.join("; "))
        }
        other => anyhow!("the merge was refused: {other}"),
    }
}

pub async fn run(store: &Store, command: MergeCommand) -> Result<()> {
    match command {
        MergeCommand::People(args) => {
            let actor = crate::import::actor(store, args.as_user.as_deref()).await?;
            let (survivor, other) = (id(&args.survivor, "SURVIVOR")?, id(&args.other, "OTHER")?);
            let merged = store
                .merge_people(
                    &actor,
                    PersonId(survivor),
                    PersonId(other),
                    &choices(&args.take)?,
                    MergeVersions::default(),
                )
                .await
                .map_err(refused)?;
            println!(
                "Merged into {} ({survivor}). Undo with: rapport merge undo {}",
                merged.record.fields.full_name(),
                merged.merge_id
            );
            Ok(())
        }
        MergeCommand::Companies(args) => {
            let actor = crate::import::actor(store, args.as_user.as_deref()).await?;
            let (survivor, other) = (id(&args.survivor, "SURVIVOR")?, id(&args.other, "OTHER")?);
            let merged = store
                .merge_companies(
                    &actor,
                    CompanyId(survivor),
                    CompanyId(other),
                    &choices(&args.take)?,
                    MergeVersions::default(),
                )
                .await
                .map_err(refused)?;
            println!(
                "Merged into {} ({survivor}). Undo with: rapport merge undo {}",
                merged.record.fields.name, merged.merge_id
            );
            Ok(())
        }
        MergeCommand::Undo { id: raw, as_user } => {
            let merge_id = id(&raw, "ID")?;
            let actor = crate::import::actor(store, as_user.as_deref()).await?;
            let (kind, survivor, other) =
                store.undo_merge(&actor, merge_id).await.context("the merge was not undone")?;
            println!("Undone: {other} is back beside {survivor} ({}).", kind.as_str());
            Ok(())
        }
    }
}
