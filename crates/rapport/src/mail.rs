//! `rapport mail receive` (one message on stdin: what an MTA pipes in) and
//! `rapport mail test --to ADDR` (checks the outgoing settings).

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use rapport_domain::Email;
use rapport_domain::mail::Received;
use rapport_storage::Store;
use std::io::Read;

/// The largest message read from stdin: the attachment limit, with room for encoding.
const MAX_MESSAGE_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Subcommand)]
pub enum MailCommand {
    /// Take in one RFC 822 message from stdin (for an MTA pipe, e.g. a
    /// Postfix alias `support: "|rapport mail receive"`): it joins the
    /// ticket it answers or opens one. Exits 0 for automatic mail and
    /// duplicates too, so the MTA does not bounce them.
    Receive,
    /// Send a test message with the saved outgoing settings.
    Test {
        /// Where to send it.
        #[arg(long)]
        to: String,
    },
}

pub async fn run(store: &Store, command: MailCommand) -> Result<String> {
    match command {
        MailCommand::Receive => {
            // Read as the process starts, with nothing else to wait for:
            // tokio's stdin would start a thread to do the same.
            let mut raw = Vec::new();
            std::io::stdin().lock().take(MAX_MESSAGE_BYTES + 1).read_to_end(&mut raw).context("reading stdin")?;
            if raw.len() as u64 > MAX_MESSAGE_BYTES {
                bail!("the message is larger than {} MB", MAX_MESSAGE_BYTES / 1024 / 1024);
            }
            let received = rapport_mail::receive(store, &raw).await?;
            Ok(match received {
                Received::Opened { ticket_id, person_id, new_person, .. } => {
                    let who = if new_person { "a new lead" } else { "a known person" };
                    format!("opened ticket {ticket_id} for {who} ({person_id})\n")
                }
                Received::Joined { ticket_id, .. } => format!("added to ticket {ticket_id}\n"),
                Received::Duplicate => "already received: nothing changed\n".to_owned(),
                Received::Ignored { reason } => format!("ignored: {}\n", reason.label().to_lowercase()),
            })
        }
        MailCommand::Test { to } => {
            let to = Email::parse(&to).map_err(|e| anyhow::anyhow!("--to: {to:?} {e}"))?;
            let Some(settings) = store.smtp_settings().await? else {
                bail!("outgoing mail is not set up: set it in Settings → Mail or PUT /api/v1/mail/settings/smtp");
            };
            let reply = rapport_mail::send::send_test(&settings, &to).await?;
            Ok(format!("sent to {to}: the server answered {reply}\n"))
        }
    }
}
