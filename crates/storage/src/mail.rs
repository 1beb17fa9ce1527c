//! Mail: the SMTP and IMAP settings, the outbox every outgoing message
//! passes through, attachments, and taking in a message that arrived.

use std::collections::HashMap;

use rapport_domain::mail::{
    AttachmentInfo, AttachmentInput, Delivery, ImapSettings, ImapSettingsInput, InboundEmail, OutboxStatus, Received,
    SmtpSettings, SmtpSettingsInput, reply_subject, tokens_in,
};
use rapport_domain::records::{EmailEntry, PersonInput, now};
use rapport_domain::surveys::hide_survey_tokens;
use rapport_domain::text::Name;
use rapport_domain::tickets::{MessageKind, TicketChannel, TicketInput, TicketMessage, TicketStatus};
use rapport_domain::{Actor, AttachmentId, Email, MessageId, OutboxId, PersonId, TicketId};
use sea_orm::prelude::*;
use sea_orm::{ActiveModelTrait, ConnectionTrait, QueryOrder, QuerySelect, Set};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::common::{ByKey, from_json, parse_with, to_json};
use crate::entities::{
    contact_points, mail_received, mail_settings, outbox, people, ticket_attachments, ticket_messages, tickets,
};
use crate::jobs::{NewJob, enqueue_in};
use crate::records::tickets::{NewMessage, append_message, insert_ticket, message_from, visible};
use crate::{Result, StorageError, Store};

/// The job that sends one outbox message (payload `{"outbox_id": …}`).
pub const SEND_JOB: &str = "mail.send";
/// The recurring job that fetches new mail from the IMAP mailbox.
pub const FETCH_JOB: &str = "mail.fetch";
/// Tries before an outgoing message counts as failed: with the runner's
/// backoff (10 s doubling), about 40 minutes.
const SEND_ATTEMPTS: i32 = 9;
/// Earlier Message-IDs a reply lists in References.
const MAX_REFERENCES: usize = 20;
/// The longest text kept from one email; the rest is cut with a note.
const MAX_BODY_CHARS: usize = 200_000;

const SMTP: &str = "smtp";
const IMAP: &str = "imap";

/// An outgoing message as the sender reads it.
#[derive(Clone, Debug)]
pub struct OutboxMessage {
    pub id: OutboxId,
    pub to: Email,
    pub subject: String,
    pub body: String,
    /// Without angle brackets, like every Message-ID Rapport keeps.
    pub email_message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub status: OutboxStatus,
    pub attempts: i32,
    /// The reply's files, in the order they were added.
    pub attachments: Vec<AttachmentInput>,
}

async fn setting<T: DeserializeOwned, C: ConnectionTrait>(conn: &C, name: &str) -> Result<Option<T>> {
    match mail_settings::Entity::find_by_id(name).by_key(conn).await? {
        Some(row) => Ok(Some(from_json(row.value, "mail settings")?)),
        None => Ok(None),
    }
}

async fn put_setting<T: Serialize, C: ConnectionTrait>(conn: &C, name: &str, value: &T) -> Result<()> {
    let row =
        mail_settings::ActiveModel { name: Set(name.to_owned()), value: Set(to_json(value)), updated_at: Set(now()) };
    if mail_settings::Entity::find_by_id(name).by_key(conn).await?.is_some() {
        row.update(conn).await?;
    } else {
        row.insert(conn).await?;
    }
    Ok(())
}

/// Queues a staff reply for the customer, in the reply's transaction: when
/// outgoing mail is set up and the requester has an address. The reply
/// carries a Message-ID and answers the conversation's latest one, so it
/// threads in the customer's mail program.
pub(crate) async fn queue_reply<C: ConnectionTrait>(
    conn: &C,
    ticket: &tickets::Model,
    message: &ticket_messages::Model,
) -> Result<Option<OutboxId>> {
    let Some(smtp) = setting::<SmtpSettings, _>(conn, SMTP).await? else { return Ok(None) };
    let Some(person) = people::Entity::find_by_id(ticket.requester_id).by_key(conn).await? else { return Ok(None) };
    let emails: Vec<EmailEntry> = from_json(person.emails, "emails")?;
    let Some(to) = mail_address(&emails) else { return Ok(None) };
    let earlier: Vec<Option<String>> = ticket_messages::Entity::find()
        .select_only()
        .column(ticket_messages::Column::EmailMessageId)
        .filter(ticket_messages::Column::TicketId.eq(ticket.id))
        .filter(ticket_messages::Column::EmailMessageId.is_not_null())
        .filter(ticket_messages::Column::Id.ne(message.id))
        .order_by_asc(ticket_messages::Column::CreatedAt)
        .order_by_asc(ticket_messages::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let mut references: Vec<String> = earlier.into_iter().flatten().collect();
    if references.len() > MAX_REFERENCES {
        references.drain(..references.len() - MAX_REFERENCES);
    }
    let email_message_id = format!("{}@{}", message.id.simple(), smtp.from_address.domain());
    let id = queue_outgoing(
        conn,
        OutgoingMail {
            ticket_id: Some(ticket.id),
            message_id: Some(message.id),
            to,
            subject: reply_subject(&ticket.subject, TicketId(ticket.id)),
            body: message.body.clone(),
            email_message_id: email_message_id.clone(),
            in_reply_to: references.last().cloned(),
            references: (!references.is_empty()).then(|| references.join(" ")),
        },
    )
    .await?;
    let mut sent: ticket_messages::ActiveModel = message.clone().into();
    sent.email_message_id = Set(Some(email_message_id));
    sent.update(conn).await?;
    Ok(Some(id))
}

/// The address mail to a person goes to: their primary one, else their first.
pub(crate) fn mail_address(emails: &[EmailEntry]) -> Option<Email> {
    emails.iter().find(|e| e.primary).or(emails.first()).map(|e| e.address.clone())
}

/// An outgoing message as the outbox keeps it.
pub(crate) struct OutgoingMail {
    pub ticket_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    pub to: Email,
    pub subject: String,
    pub body: String,
    pub email_message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Option<String>,
}

/// Puts a message in the outbox and queues its `mail.send` job, in the
/// caller's transaction (a staff reply's, a survey invitation's).
pub(crate) async fn queue_outgoing<C: ConnectionTrait>(conn: &C, mail: OutgoingMail) -> Result<OutboxId> {
    let id = OutboxId::new();
    let at = now();
    outbox::ActiveModel {
        id: Set(id.0),
        ticket_id: Set(mail.ticket_id),
        message_id: Set(mail.message_id),
        to_address: Set(mail.to.as_str().to_owned()),
        subject: Set(mail.subject),
        body: Set(mail.body),
        email_message_id: Set(mail.email_message_id),
        in_reply_to: Set(mail.in_reply_to),
        references: Set(mail.references),
        status: Set(OutboxStatus::Queued.as_str().to_owned()),
        attempts: Set(0),
        server_reply: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        sent_at: Set(None),
    }
    .insert(conn)
    .await?;
    enqueue_send(conn, id).await?;
    Ok(id)
}

/// Keeps a file of a message, in the message's transaction.
pub(crate) async fn insert_attachment<C: ConnectionTrait>(
    conn: &C,
    message: &ticket_messages::Model,
    filename: &str,
    content_type: &str,
    data: Vec<u8>,
) -> Result<AttachmentId> {
    let id = AttachmentId::new();
    ticket_attachments::ActiveModel {
        id: Set(id.0),
        ticket_id: Set(message.ticket_id),
        message_id: Set(message.id),
        filename: Set(truncate(filename.trim(), 200)),
        content_type: Set(truncate(content_type.trim(), 200)),
        size: Set(data.len() as i64),
        data: Set(data),
        created_at: Set(message.created_at),
    }
    .insert(conn)
    .await?;
    Ok(id)
}

/// Queues the `mail.send` job of an outbox message, in the caller's
/// transaction (a reply's, or a restored ticket's).
pub(crate) async fn enqueue_send<C: ConnectionTrait>(conn: &C, outbox_id: OutboxId) -> Result<()> {
    let mut job = NewJob::new(SEND_JOB, serde_json::json!({ "outbox_id": outbox_id }));
    job.max_attempts = SEND_ATTEMPTS;
    enqueue_in(conn, job).await?;
    Ok(())
}

/// Messages with their attachments (names and sizes) and how sending them went.
pub(crate) async fn with_mail<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<ticket_messages::Model>,
) -> Result<Vec<TicketMessage>> {
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let mut attachments: HashMap<Uuid, Vec<AttachmentInfo>> = HashMap::new();
    let mut deliveries: HashMap<Uuid, Delivery> = HashMap::new();
    if !ids.is_empty() {
        let listed: Vec<(Uuid, Uuid, String, String, i64)> = ticket_attachments::Entity::find()
            .select_only()
            .columns([
                ticket_attachments::Column::Id,
                ticket_attachments::Column::MessageId,
                ticket_attachments::Column::Filename,
                ticket_attachments::Column::ContentType,
                ticket_attachments::Column::Size,
            ])
            .filter(ticket_attachments::Column::MessageId.is_in(ids.clone()))
            .order_by_asc(ticket_attachments::Column::Id)
            .into_tuple()
            .all(conn)
            .await?;
        for (id, message, filename, content_type, size) in listed {
            let info = AttachmentInfo { id: AttachmentId(id), filename, content_type, size };
            attachments.entry(message).or_default().push(info);
        }
        for row in outbox::Entity::find().filter(outbox::Column::MessageId.is_in(ids)).all(conn).await? {
            let Some(message) = row.message_id else { continue };
            deliveries.insert(message, delivery_from(&row)?);
        }
    }
    rows.into_iter()
        .map(|row| {
            let id = row.id;
            let mut message = message_from(row)?;
            message.attachments = attachments.remove(&id).unwrap_or_default();
            message.delivery = deliveries.remove(&id);
            Ok(message)
        })
        .collect()
}

fn delivery_from(row: &outbox::Model) -> Result<Delivery> {
    Ok(Delivery {
        status: parse_with(&row.status, "outbox status", OutboxStatus::parse)?,
        to: parse_with(&row.to_address, "outbox address", Email::parse)?,
        attempts: row.attempts,
        server_reply: row.server_reply.clone(),
        sent_at: row.sent_at,
    })
}

/// The first part of a display name as first name, the rest as last name;
/// the address's local part when there is no name.
fn lead_name(mail: &InboundEmail) -> (Name, Option<Name>) {
    let display = mail.from_name.as_deref().map(str::trim).filter(|n| !n.is_empty() && !n.contains('@'));
    if let Some(display) = display {
        let mut words = display.splitn(2, char::is_whitespace);
        let first = words.next().and_then(|w| Name::try_from(truncate(w, Name::MAX_CHARS)).ok());
        let last = words.next().and_then(|w| Name::try_from(truncate(w, Name::MAX_CHARS)).ok());
        if let Some(first) = first {
            return (first, last);
        }
    }
    let local = mail.from.as_str().split('@').next().unwrap_or("customer");
    (
        Name::try_from(truncate(local, Name::MAX_CHARS)).unwrap_or_else(|_| Name::try_from("Customer").expect("valid")),
        None,
    )
}

fn truncate(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

/// The person an address belongs to (the earliest, if several share it).
async fn person_by_email<C: ConnectionTrait>(conn: &C, email: &Email) -> Result<Option<Uuid>> {
    Ok(contact_points::Entity::find()
        .select_only()
        .column(contact_points::Column::PersonId)
        .filter(contact_points::Column::Kind.eq("email"))
        .filter(contact_points::Column::Value.eq(email.as_str()))
        .order_by_asc(contact_points::Column::PersonId)
        .into_tuple()
        .one(conn)
        .await?)
}

/// The open ticket this message answers, if its sender is that ticket's
/// requester: by the Message-IDs it answers, then by a token in its subject
/// or addresses. A forged reference to someone else's ticket finds nothing.
async fn answered_ticket<C: ConnectionTrait>(
    conn: &C,
    mail: &InboundEmail,
    sender: Option<Uuid>,
) -> Result<Option<tickets::Model>> {
    let Some(sender) = sender else { return Ok(None) };
    let mut candidates: Vec<Uuid> = Vec::new();
    if !mail.answers.is_empty() {
        let by_id: Vec<Uuid> = ticket_messages::Entity::find()
            .select_only()
            .column(ticket_messages::Column::TicketId)
            .filter(ticket_messages::Column::EmailMessageId.is_in(mail.answers.iter().map(String::as_str)))
            .into_tuple()
            .all(conn)
            .await?;
        candidates.extend(by_id);
    }
    let mut tokens = tokens_in(&mail.subject);
    for address in &mail.to {
        tokens.extend(tokens_in(address));
    }
    if !tokens.is_empty() {
        let by_token: Vec<Uuid> = tickets::Entity::find()
            .select_only()
            .column(tickets::Column::Id)
            .filter(tickets::Column::MailToken.is_in(tokens))
            .into_tuple()
            .all(conn)
            .await?;
        candidates.extend(by_token);
    }
    for id in candidates {
        let Some(ticket) = tickets::Entity::find_by_id(id).by_key(conn).await? else { continue };
        if ticket.requester_id == sender && ticket.status != TicketStatus::Closed.as_str() {
            return Ok(Some(ticket));
        }
    }
    Ok(None)
}

impl Store {
    pub async fn smtp_settings(&self) -> Result<Option<SmtpSettings>> {
        setting(self.conn(), SMTP).await
    }

    pub async fn imap_settings(&self) -> Result<Option<ImapSettings>> {
        setting(self.conn(), IMAP).await
    }

    /// Sets how mail goes out (admins only).
    pub async fn set_smtp_settings(&self, actor: &Actor, input: SmtpSettingsInput) -> Result<SmtpSettings> {
        actor.ensure_admin()?;
        let w = self.begin_write().await?;
        let current = setting::<SmtpSettings, _>(&*w, SMTP).await?;
        let settings = input.into_settings(current.as_ref())?;
        put_setting(&*w, SMTP, &settings).await?;
        w.commit().await?;
        Ok(settings)
    }

    /// Sets where mail is fetched from (admins only).
    pub async fn set_imap_settings(&self, actor: &Actor, input: ImapSettingsInput) -> Result<ImapSettings> {
        actor.ensure_admin()?;
        let w = self.begin_write().await?;
        let current = setting::<ImapSettings, _>(&*w, IMAP).await?;
        let settings = input.into_settings(current.as_ref())?;
        put_setting(&*w, IMAP, &settings).await?;
        w.commit().await?;
        Ok(settings)
    }

    /// Turns outgoing (`smtp`) or incoming (`imap`) mail off (admins only).
    pub async fn clear_mail_settings(&self, actor: &Actor, outgoing: bool) -> Result<()> {
        actor.ensure_admin()?;
        let w = self.begin_write().await?;
        mail_settings::Entity::delete_by_id(if outgoing { SMTP } else { IMAP }).exec(&*w).await?;
        w.commit().await?;
        Ok(())
    }

    /// An outgoing message with its files, for the sender.
    pub async fn outbox_message(&self, id: OutboxId) -> Result<OutboxMessage> {
        let row =
            outbox::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("message"))?;
        let attachments = match row.message_id {
            Some(message) => ticket_attachments::Entity::find()
                .filter(ticket_attachments::Column::MessageId.eq(message))
                .order_by_asc(ticket_attachments::Column::Id)
                .all(self.conn())
                .await?
                .into_iter()
                .map(|file| AttachmentInput {
                    filename: file.filename,
                    content_type: file.content_type,
                    data: file.data,
                })
                .collect(),
            None => Vec::new(),
        };
        Ok(OutboxMessage {
            id,
            to: parse_with(&row.to_address, "outbox address", Email::parse)?,
            subject: row.subject,
            body: row.body,
            email_message_id: row.email_message_id,
            in_reply_to: row.in_reply_to,
            references: row.references.map(|r| r.split_whitespace().map(str::to_owned).collect()).unwrap_or_default(),
            status: parse_with(&row.status, "outbox status", OutboxStatus::parse)?,
            attempts: row.attempts,
            attachments,
        })
    }

    /// Records one attempt to send: accepted (`sent`), refused for good
    /// (`failed`), or to be tried again (`queued`), with the server's answer.
    pub async fn record_send_attempt(&self, id: OutboxId, status: OutboxStatus, server_reply: &str) -> Result<()> {
        let w = self.begin_write().await?;
        let row = outbox::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("message"))?;
        let (attempts, ticket_id, body) = (row.attempts, row.ticket_id, row.body.clone());
        let mut active: outbox::ActiveModel = row.into();
        let at = now();
        active.status = Set(status.as_str().to_owned());
        active.attempts = Set(attempts + 1);
        active.server_reply = Set(Some(truncate(server_reply, 2000)));
        active.updated_at = Set(at);
        if status == OutboxStatus::Sent {
            active.sent_at = Set(Some(at));
        }
        // A message of no ticket is a survey invitation (or a test): once it
        // is out for good, its personal link has no reason to stay readable.
        if status != OutboxStatus::Queued && ticket_id.is_none() {
            active.body = Set(hide_survey_tokens(&body));
        }
        active.update(&*w).await?;
        w.commit().await?;
        Ok(())
    }

    /// Outgoing messages waiting to be sent: what the metrics report as the backlog.
    pub async fn outbox_backlog(&self) -> Result<u64> {
        Ok(outbox::Entity::find()
            .filter(outbox::Column::Status.eq(OutboxStatus::Queued.as_str()))
            .count(self.conn())
            .await?)
    }

    /// Whether a message with this key was taken in already.
    pub async fn mail_received(&self, key: &str) -> Result<bool> {
        Ok(mail_received::Entity::find_by_id(key).by_key(self.conn()).await?.is_some())
    }

    /// Takes in one email, all or nothing: it joins the open ticket it
    /// answers (its sender must be that ticket's requester), or opens a new
    /// ticket, making an unknown sender a lead. Automatic mail (auto-replies,
    /// bounces, list mail) opens nothing; a message taken before changes nothing.
    pub async fn receive_email(&self, mail: InboundEmail) -> Result<Received> {
        self.receive_email_at(mail, now()).await
    }

    /// `receive_email` as of `at` (the demo's history).
    pub async fn receive_email_at(&self, mail: InboundEmail, at: OffsetDateTime) -> Result<Received> {
        let w = self.begin_write().await?;
        if mail_received::Entity::find_by_id(mail.key.as_str()).by_key(&*w).await?.is_some() {
            return Ok(Received::Duplicate);
        }
        let record = |outcome: &str, ticket: Option<Uuid>| mail_received::ActiveModel {
            key: Set(mail.key.clone()),
            outcome: Set(outcome.to_owned()),
            ticket_id: Set(ticket),
            received_at: Set(at),
        };
        if let Some(reason) = mail.automatic {
            record("ignored", None).insert(&*w).await?;
            w.commit().await?;
            return Ok(Received::Ignored { reason });
        }
        let sender = person_by_email(&*w, &mail.from).await?;
        let joined = answered_ticket(&*w, &mail, sender).await?;
        let (ticket, person, new_person) = match (joined.clone(), sender) {
            (Some(ticket), Some(person)) => (ticket, person, false),
            _ => {
                let (person, new_person) = match sender {
                    Some(person) => (person, false),
                    None => {
                        let (first_name, last_name) = lead_name(&mail);
                        let source = Name::try_from("email").ok();
                        let input = PersonInput::lead(first_name, last_name, mail.from.clone(), source);
                        let person = crate::records::people::insert_person(&*w, &Actor::system(), input).await?;
                        (person.id.0, true)
                    }
                };
                let subject = truncate(mail.subject.trim(), Name::MAX_CHARS);
                let subject =
                    Name::try_from(subject).unwrap_or_else(|_| Name::try_from("(no subject)").expect("valid"));
                let input = TicketInput::new(PersonId(person), subject, TicketChannel::Email);
                (insert_ticket(&*w, &Actor::system(), input, at).await?, person, new_person)
            }
        };
        let mut body = truncate(&mail.text, MAX_BODY_CHARS);
        if mail.text.chars().count() > MAX_BODY_CHARS {
            body.push_str("\n\n[The rest of this message was too long to keep.]");
        }
        for (name, size) in &mail.too_large {
            body.push_str(&format!(
                "\n\n[Attachment {name} ({:.1} MB) was over the {} MB limit and was not kept.]",
                *size as f64 / 1_048_576.0,
                rapport_domain::mail::MAX_ATTACHMENT_BYTES / 1_048_576
            ));
        }
        let message = NewMessage {
            kind: MessageKind::Customer,
            body,
            status: None,
            author_id: None,
            person_id: Some(person),
            html: mail.html.clone(),
            email_message_id: mail.message_id.clone(),
            from_address: Some(mail.from.as_str().to_owned()),
        };
        let (ticket, message) = append_message(&*w, &Actor::system(), ticket, message, at).await?;
        for attachment in mail.attachments {
            insert_attachment(&*w, &message, &attachment.filename, &attachment.content_type, attachment.data).await?;
        }
        let outcome = if joined.is_some() { "joined" } else { "opened" };
        record(outcome, Some(ticket.id)).insert(&*w).await?;
        w.commit().await?;
        let (ticket_id, message_id, person_id) = (TicketId(ticket.id), MessageId(message.id), PersonId(person));
        Ok(if joined.is_some() {
            Received::Joined { ticket_id, message_id, person_id }
        } else {
            Received::Opened { ticket_id, message_id, person_id, new_person }
        })
    }

    /// An attachment and its bytes, if `actor` may see its ticket.
    pub async fn attachment(&self, actor: &Actor, id: AttachmentId) -> Result<(AttachmentInfo, Vec<u8>)> {
        let row = ticket_attachments::Entity::find_by_id(id.0)
            .by_key(self.conn())
            .await?
            .ok_or(StorageError::NotFound("attachment"))?;
        let ticket = tickets::Entity::find_by_id(row.ticket_id)
            .by_key(self.conn())
            .await?
            .ok_or(StorageError::NotFound("attachment"))?;
        visible(actor, ticket).map_err(|_| StorageError::NotFound("attachment"))?;
        let info = AttachmentInfo { id, filename: row.filename, content_type: row.content_type, size: row.size };
        Ok((info, row.data))
    }
}
