//! Email in and out for the support desk.
//!
//! - [`send`]: an outbox message (queued by `rapport-storage` in the
//!   reply's transaction, sent by the `mail.send` job) or a test message,
//!   over SMTP with lettre.
//! - [`parse`]: an RFC 822 message into a sanitised `InboundEmail`, which
//!   `Store::receive_email` files as a new ticket or an answer to one.
//! - [`fetch`]: an IMAP mailbox's unseen messages, taken in one by one (the
//!   `mail.fetch` job).
//!
//! `rapport mail receive` (an MTA pipe) runs [`receive`] on stdin.

pub mod fetch;
pub mod parse;
pub mod send;

use rapport_domain::mail::Received;
use rapport_storage::{StorageError, Store};

/// Why a raw message was not taken in.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error(transparent)]
    Parse(#[from] parse::ParseError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Parses one raw message and files it.
pub async fn receive(store: &Store, raw: &[u8]) -> Result<Received, ReceiveError> {
    let mail = parse::parse(raw)?;
    Ok(store.receive_email(mail).await?)
}
