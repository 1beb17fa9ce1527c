//! Email in and out: the mail settings, the outbox's states, a message as it
//! arrived, and the ticket token that lets a reply find its ticket.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::email::Email;
use crate::ids::{MessageId, PersonId, TicketId};
use crate::text::Name;
use crate::validation::FieldErrors;

text_enum!(
    /// How the connection to a mail server is protected.
    MailSecurity { None => "none" / "None (trusted network only)", StartTls => "starttls" / "STARTTLS", Tls => "tls" / "TLS" }
);
text_enum!(
    /// Where an outgoing message stands: waiting (perhaps retrying), accepted
    /// by the server, or given up on.
    OutboxStatus { Queued => "queued" / "Queued", Sent => "sent" / "Sent", Failed => "failed" / "Failed" }
);

/// A password: kept for the server, never printed, never returned by the API.
/// Spaces may belong to it, so it is not trimmed; control characters may not:
/// SMTP and IMAP logins cannot carry them, and PostgreSQL cannot store NUL.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Secret(String);

/// The longest password kept, in characters.
const SECRET_MAX: usize = 1_000;

crate::schema::schema_from!(Secret, {
    let mut schema = crate::schema::text(
        1,
        SECRET_MAX,
        "^[^\\u0000-\\u001F\\u007F-\\u009F]+$",
        "A password: up to 1,000 characters, kept as typed (spaces too), no control characters.",
    );
    schema.format = Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Password));
    schema
});

impl Secret {
    /// A password as typed; refused when empty, too long or holding a control character.
    pub fn parse(raw: impl Into<String>) -> Result<Self, String> {
        Secret::try_from(raw.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Secret {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("must not be empty".into());
        }
        if raw.chars().count() > SECRET_MAX {
            return Err(format!("must be at most {SECRET_MAX} characters"));
        }
        if raw.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Secret(raw))
    }
}

/// A password as stored, read back whatever it holds: settings saved before
/// passwords were checked must still load.
fn stored_secret<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
    String::deserialize(deserializer).map(Secret)
}

fn stored_optional_secret<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Secret>, D::Error> {
    Option::<String>::deserialize(deserializer).map(|raw| raw.map(Secret))
}

impl From<Secret> for String {
    fn from(secret: Secret) -> String {
        secret.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A mail server's host name or address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Host(String);

crate::schema::schema_from!(
    Host,
    crate::schema::text(
        1,
        253,
        "^[A-Za-z0-9.:\\[\\]-]+$",
        "A mail server's host name or address, like smtp.example.com: letters, digits, '.', '-', ':', '[' and ']'."
    )
);

impl Host {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Host {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        let host = raw.trim().to_ascii_lowercase();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
        if host.is_empty() || host.len() > 253 || !host.chars().all(allowed) {
            return Err("must be a host name or address, like smtp.example.com".into());
        }
        Ok(Host(host))
    }
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Host> for String {
    fn from(host: Host) -> String {
        host.0
    }
}

fn default_mailbox() -> Name {
    Name::try_from("INBOX").expect("a valid mailbox name")
}

/// How Rapport sends mail, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SmtpSettings {
    pub host: Host,
    pub port: u16,
    pub security: MailSecurity,
    pub username: Option<Name>,
    #[serde(deserialize_with = "stored_optional_secret")]
    pub password: Option<Secret>,
    /// The address replies come from, and customers write back to.
    pub from_address: Email,
    pub from_name: Option<Name>,
}

/// How Rapport fetches mail, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImapSettings {
    pub host: Host,
    pub port: u16,
    pub security: MailSecurity,
    pub username: Name,
    #[serde(deserialize_with = "stored_secret")]
    pub password: Secret,
    pub mailbox: Name,
    /// Fetched every minute while on.
    pub enabled: bool,
}

/// The outgoing mail settings as an admin sends them; a password left out
/// keeps the one already set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettingsInput {
    pub host: Host,
    /// 587 for STARTTLS, 465 for TLS, 25 for a relay on a trusted network.
    #[schema(minimum = 1, maximum = 65_535)]
    pub port: u16,
    pub security: MailSecurity,
    #[serde(default)]
    pub username: Option<Name>,
    #[serde(default)]
    pub password: Option<Secret>,
    pub from_address: Email,
    #[serde(default)]
    pub from_name: Option<Name>,
}

/// The incoming mail settings as an admin sends them; a password left out
/// keeps the one already set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapSettingsInput {
    pub host: Host,
    /// 993 for TLS, 143 for STARTTLS.
    #[schema(minimum = 1, maximum = 65_535)]
    pub port: u16,
    pub security: MailSecurity,
    pub username: Name,
    #[serde(default)]
    pub password: Option<Secret>,
    /// The folder to fetch from.
    #[serde(default = "default_mailbox")]
    pub mailbox: Name,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

fn check_port(port: u16, errors: &mut FieldErrors) {
    if port == 0 {
        errors.add("port", "must be between 1 and 65535");
    }
}

impl SmtpSettingsInput {
    /// The settings to store, keeping the current password when none was sent.
    pub fn into_settings(self, current: Option<&SmtpSettings>) -> Result<SmtpSettings, FieldErrors> {
        let mut errors = FieldErrors::new();
        check_port(self.port, &mut errors);
        let password = self.password.or_else(|| current.and_then(|c| c.password.clone()));
        if self.username.is_some() && password.is_none() {
            errors.add("password", "is required with a username");
        }
        errors.into_result()?;
        Ok(SmtpSettings {
            host: self.host,
            port: self.port,
            security: self.security,
            username: self.username,
            password,
            from_address: self.from_address,
            from_name: self.from_name,
        })
    }
}

impl ImapSettingsInput {
    /// The settings to store, keeping the current password when none was sent.
    pub fn into_settings(self, current: Option<&ImapSettings>) -> Result<ImapSettings, FieldErrors> {
        let mut errors = FieldErrors::new();
        check_port(self.port, &mut errors);
        let password = self.password.or_else(|| current.map(|c| c.password.clone()));
        if password.is_none() {
            errors.add("password", "is required");
        }
        errors.into_result()?;
        Ok(ImapSettings {
            host: self.host,
            port: self.port,
            security: self.security,
            username: self.username,
            password: password.expect("checked above"),
            mailbox: self.mailbox,
            enabled: self.enabled,
        })
    }
}

/// Outgoing mail settings as the API shows them: the password never leaves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SmtpSettingsView {
    pub host: Host,
    pub port: u16,
    pub security: MailSecurity,
    pub username: Option<Name>,
    pub password_set: bool,
    pub from_address: Email,
    pub from_name: Option<Name>,
}

/// Incoming mail settings as the API shows them: the password never leaves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImapSettingsView {
    pub host: Host,
    pub port: u16,
    pub security: MailSecurity,
    pub username: Name,
    pub mailbox: Name,
    pub enabled: bool,
}

/// Both directions; absent when not set up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MailSettingsView {
    pub smtp: Option<SmtpSettingsView>,
    pub imap: Option<ImapSettingsView>,
}

impl From<&SmtpSettings> for SmtpSettingsView {
    fn from(s: &SmtpSettings) -> Self {
        SmtpSettingsView {
            host: s.host.clone(),
            port: s.port,
            security: s.security,
            username: s.username.clone(),
            password_set: s.password.is_some(),
            from_address: s.from_address.clone(),
            from_name: s.from_name.clone(),
        }
    }
}

impl From<&ImapSettings> for ImapSettingsView {
    fn from(s: &ImapSettings) -> Self {
        ImapSettingsView {
            host: s.host.clone(),
            port: s.port,
            security: s.security,
            username: s.username.clone(),
            mailbox: s.mailbox.clone(),
            enabled: s.enabled,
        }
    }
}

/// How an outgoing message fared, as a ticket shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    pub status: OutboxStatus,
    pub to: Email,
    pub attempts: i32,
    /// The server's answer: its acceptance, or why it refused.
    pub server_reply: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
}

/// A stored attachment, without its content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttachmentInfo {
    pub id: crate::ids::AttachmentId,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

/// The largest attachment kept; larger ones are named in the message and dropped.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// A file that came with a message.
#[derive(Clone, Debug, PartialEq)]
pub struct InboundAttachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// The most files staff may send with one message.
pub const MAX_MESSAGE_ATTACHMENTS: usize = 10;
/// The most bytes one message's files may come to together: larger mail
/// is refused by many servers (25 MB is a common ceiling).
pub const MAX_MESSAGE_ATTACHMENT_BYTES: usize = 25 * 1024 * 1024;
/// The longest file name or media type an attachment keeps.
pub const MAX_ATTACHMENT_NAME_CHARS: usize = 200;
/// The media type of a file that does not say what it is.
pub const OCTET_STREAM: &str = "application/octet-stream";

fn octet_stream() -> String {
    OCTET_STREAM.to_owned()
}

/// A file staff send with a message: a reply emails it to the customer, a
/// note keeps it inside. Stored like a customer's attachments.
#[derive(Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentInput {
    /// The file's name as the customer sees it: 1 to 200 characters, no
    /// folders (`/` or `\`), no control characters.
    #[schema(min_length = 1, max_length = 200)]
    pub filename: String,
    /// Its media type, such as `application/pdf` or `text/plain; charset=utf-8`;
    /// left out, `application/octet-stream`.
    #[serde(default = "octet_stream")]
    #[schema(default = "application/octet-stream", max_length = 200)]
    pub content_type: String,
    /// The file's bytes in base64 (RFC 4648, standard alphabet, with
    /// padding; line breaks are ignored): 1 byte to 10 MiB once decoded.
    #[serde(with = "base64_data")]
    #[schema(value_type = String, format = Byte)]
    pub data: Vec<u8>,
}

impl std::fmt::Debug for AttachmentInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentInput")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("size", &self.data.len())
            .finish()
    }
}

/// A media type as a mail header carries it: `type/subtype` (RFC 2045
/// tokens), then any parameters, in printable ASCII.
fn is_media_type(value: &str) -> bool {
    let token =
        |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    let essence = value.split(';').next().unwrap_or_default().trim();
    let printable = value.bytes().all(|b| (0x20..0x7f).contains(&b));
    printable && essence.split_once('/').is_some_and(|(kind, sub)| token(kind) && token(sub))
}

impl AttachmentInput {
    /// What is wrong with this file, field by field (`filename`,
    /// `content_type`, `data`); empty when it may be kept and sent.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let name = self.filename.trim();
        if name.is_empty() {
            problems.push(("filename", "is required".to_owned()));
        } else if name.chars().count() > MAX_ATTACHMENT_NAME_CHARS {
            problems.push(("filename", format!("must be at most {MAX_ATTACHMENT_NAME_CHARS} characters")));
        } else if name.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
            problems.push(("filename", "must be a file name, without folders or control characters".to_owned()));
        }
        if self.content_type.chars().count() > MAX_ATTACHMENT_NAME_CHARS || !is_media_type(&self.content_type) {
            problems.push(("content_type", "is not a media type such as application/pdf".to_owned()));
        }
        if self.data.is_empty() {
            problems.push(("data", "is empty".to_owned()));
        } else if self.data.len() > MAX_ATTACHMENT_BYTES {
            problems
                .push(("data", format!("is larger than {} MB, the limit for one file", MAX_ATTACHMENT_BYTES >> 20)));
        }
        problems
    }

    /// Checks one message's files: how many, how large together, and each
    /// one, named as JSON paths (`attachments`, `attachments[1].data`).
    pub fn check_all(files: &[AttachmentInput]) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if files.len() > MAX_MESSAGE_ATTACHMENTS {
            errors.add("attachments", format!("must be at most {MAX_MESSAGE_ATTACHMENTS} files"));
        }
        if files.iter().map(|f| f.data.len()).sum::<usize>() > MAX_MESSAGE_ATTACHMENT_BYTES {
            errors.add(
                "attachments",
                format!(
                    "come to more than {} MB together, the limit for one message",
                    MAX_MESSAGE_ATTACHMENT_BYTES >> 20
                ),
            );
        }
        for (index, file) in files.iter().enumerate() {
            for (field, message) in file.problems() {
                errors.add(format!("attachments[{index}].{field}"), message);
            }
        }
        errors.into_result()
    }
}

/// Bytes as base64 text in JSON.
mod base64_data {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(data: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(data))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        let decoded = if text.bytes().any(|b| b.is_ascii_whitespace()) {
            let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
            STANDARD.decode(compact)
        } else {
            STANDARD.decode(text.as_bytes())
        };
        decoded.map_err(|e| de::Error::custom(format!("is not valid base64 (standard alphabet, padded): {e}")))
    }
}

text_enum!(
    /// Why a message is not taken as a customer's question.
    AutomaticKind { AutoReply => "auto_reply" / "Automatic reply", Bounce => "bounce" / "Delivery report", Bulk => "bulk" / "Bulk or list mail" }
);

/// An email as it arrived, already parsed and made safe (HTML sanitised).
#[derive(Clone, Debug, PartialEq)]
pub struct InboundEmail {
    /// What makes it the same message if it comes again: its Message-ID,
    /// or a digest of its bytes when it has none.
    pub key: String,
    pub message_id: Option<String>,
    /// The Message-IDs it answers (In-Reply-To, then References).
    pub answers: Vec<String>,
    pub from: Email,
    pub from_name: Option<String>,
    /// Every recipient address (To and Cc), where a ticket token may sit.
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<InboundAttachment>,
    /// Attachments over the limit: name and size, recorded but not kept.
    pub too_large: Vec<(String, usize)>,
    pub automatic: Option<AutomaticKind>,
}

/// What became of an incoming message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Received {
    /// A new ticket; `new_person` when the sender was unknown and became a lead.
    Opened { ticket_id: TicketId, message_id: MessageId, person_id: PersonId, new_person: bool },
    /// Joined the ticket it answers.
    Joined { ticket_id: TicketId, message_id: MessageId, person_id: PersonId },
    /// Taken before (the same Message-ID): nothing changed.
    Duplicate,
    /// An automatic message (auto-reply, bounce, list mail): no ticket, no answer.
    Ignored { reason: AutomaticKind },
}

/// The short token that names a ticket in subjects: the random tail of its id.
pub fn ticket_token(id: TicketId) -> String {
    let hex = id.0.simple().to_string();
    hex[hex.len() - TOKEN_LEN..].to_owned()
}

const TOKEN_LEN: usize = 12;

/// A reply's subject: the ticket's, marked as an answer and carrying its token.
pub fn reply_subject(subject: &str, id: TicketId) -> String {
    let token = ticket_token(id);
    let base = subject.trim();
    let base = if base.to_ascii_lowercase().starts_with("re:") { base.to_owned() } else { format!("Re: {base}") };
    if base.contains(&format!("[#{token}]")) { base } else { format!("{base} [#{token}]") }
}

/// The ticket tokens in a subject (`[#0123456789ab]`) or addresses (`support+t0123456789ab@…`).
pub fn tokens_in(text: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    for (marker, end) in [("[#", Some(']')), ("+t", Some('@'))] {
        let mut rest = lower.as_str();
        while let Some(at) = rest.find(marker) {
            let after = &rest[at + marker.len()..];
            let candidate: String = after.chars().take(TOKEN_LEN).collect();
            let closes = end.is_none_or(|end| after[candidate.len()..].starts_with(end));
            if candidate.len() == TOKEN_LEN && candidate.chars().all(|c| c.is_ascii_hexdigit()) && closes {
                found.push(candidate);
            }
            rest = after;
        }
    }
    found
}

/// `support@example.com` with the ticket's token: where a customer's answer finds its ticket.
pub fn reply_address(from: &Email, id: TicketId) -> String {
    let (local, domain) = from.as_str().rsplit_once('@').unwrap_or((from.as_str(), ""));
    format!("{local}+t{}@{domain}", ticket_token(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_through_subjects_and_addresses() {
        let id = TicketId::new();
        let token = ticket_token(id);
        assert_eq!(token.len(), 12);
        let subject = reply_subject("Printer on fire", id);
        assert_eq!(subject, format!("Re: Printer on fire [#{token}]"));
        assert_eq!(reply_subject(&subject, id), subject, "no second token or Re:");
        assert_eq!(tokens_in(&format!("RE: {subject}")), vec![token.clone()]);
        let from = Email::parse("help@example.com").unwrap();
        assert_eq!(tokens_in(&reply_address(&from, id)), vec![token]);
        assert!(tokens_in("[#xyz] [#0123456789abcdef]").is_empty(), "wrong length or not hex");
    }

    #[test]
    fn attachments_come_as_base64_and_are_checked_by_name() {
        let file: AttachmentInput =
            serde_json::from_value(serde_json::json!({ "filename": "a.txt", "data": "aGVs\nbG8=" })).unwrap();
        assert_eq!((file.content_type.as_str(), file.data.as_slice()), (OCTET_STREAM, b"hello".as_slice()));
        assert!(file.problems().is_empty());
        assert_eq!(serde_json::to_value(&file).unwrap()["data"], "aGVsbG8=");
        assert!(!format!("{file:?}").contains("hello"), "the bytes are not printed");
        let bad = serde_json::from_value::<AttachmentInput>(serde_json::json!({ "filename": "a", "data": "no!" }));
        assert!(bad.unwrap_err().to_string().contains("is not valid base64"));

        let with = |filename: &str, content_type: &str, size: usize| AttachmentInput {
            filename: filename.into(),
            content_type: content_type.into(),
            data: vec![b'x'; size],
        };
        assert!(with("report.pdf", "text/plain; charset=utf-8", 1).problems().is_empty());
        let fields = |file: AttachmentInput| file.problems().into_iter().map(|(f, _)| f).collect::<Vec<_>>();
        assert_eq!(fields(with(" ", "text/plain", 1)), ["filename"]);
        assert_eq!(fields(with("../etc/passwd", "text/plain", 1)), ["filename"]);
        assert_eq!(fields(with("a\r\nb", "text/plain", 1)), ["filename"]);
        assert_eq!(fields(with("a", "text/plain\r\nBcc: x@y", 1)), ["content_type"]);
        assert_eq!(fields(with("a", "pdf", 1)), ["content_type"]);
        assert_eq!(fields(with("a", "text/plain", 0)), ["data"]);
        assert_eq!(fields(with("a", "text/plain", MAX_ATTACHMENT_BYTES)), Vec::<&str>::new());
        assert_eq!(fields(with("a", "text/plain", MAX_ATTACHMENT_BYTES + 1)), ["data"]);

        let many: Vec<_> = (0..=MAX_MESSAGE_ATTACHMENTS).map(|_| with("a", "text/plain", 1)).collect();
        assert!(AttachmentInput::check_all(&many).unwrap_err().get("attachments").is_some());
        let heavy: Vec<_> = (0..3).map(|_| with("a", "text/plain", MAX_ATTACHMENT_BYTES)).collect();
        assert!(AttachmentInput::check_all(&heavy).unwrap_err().get("attachments").is_some());
        let errors = AttachmentInput::check_all(&[with("a", "text/plain", 1), with("", "text/plain", 1)]).unwrap_err();
        assert!(errors.get("attachments[1].filename").is_some(), "{errors}");
    }

    #[test]
    fn secrets_do_not_print() {
        let secret = Secret::parse("hunter2").unwrap();
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn a_password_is_kept_as_typed_without_control_characters() {
        assert_eq!(Secret::parse(" two words ").unwrap().expose(), " two words ");
        assert!(Secret::parse("").is_err());
        assert!(Secret::parse("nul\0inside").is_err());
        assert!(Secret::parse("line\nbreak").is_err());
        assert!(Secret::parse("x".repeat(SECRET_MAX)).is_ok());
        assert!(Secret::parse("x".repeat(SECRET_MAX + 1)).is_err());
        let refused = serde_json::from_str::<Secret>("\"a\\u0000b\"").unwrap_err();
        assert!(refused.to_string().contains("control characters"), "{refused}");
    }

    #[test]
    fn a_stored_password_loads_whatever_it_holds() {
        let stored = r#"{"host":"imap.example.com","port":993,"security":"tls","username":"rapport",
            "password":"","mailbox":"INBOX","enabled":true}"#;
        let settings: ImapSettings = serde_json::from_str(stored).unwrap();
        assert_eq!(settings.password.expose(), "");
    }

    #[test]
    fn a_password_left_out_keeps_the_current_one() {
        let input = |password: Option<&str>| SmtpSettingsInput {
            host: Host::try_from("smtp.example.com".to_owned()).unwrap(),
            port: 587,
            security: MailSecurity::StartTls,
            username: Some(Name::try_from("rapport").unwrap()),
            password: password.map(|p| Secret::parse(p).unwrap()),
            from_address: Email::parse("help@example.com").unwrap(),
            from_name: None,
        };
        let first = input(Some("one")).into_settings(None).unwrap();
        let kept = input(None).into_settings(Some(&first)).unwrap();
        assert_eq!(kept.password, Some(Secret::parse("one").unwrap()));
        assert!(input(None).into_settings(None).is_err(), "a username needs a password");
    }
}
