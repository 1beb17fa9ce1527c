//! Sending over SMTP with lettre: an outbox message, threaded into the
//! customer's conversation (with its files, as multipart/mixed), or a test
//! message for the settings page.

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MessageBuilder, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rapport_domain::Email;
use rapport_domain::mail::{MailSecurity, OCTET_STREAM, SmtpSettings};
use rapport_storage::OutboxMessage;

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The message itself could not be made (an address lettre refuses).
    #[error("the message could not be built: {0}")]
    Build(String),
    /// The server refused for good (a 5xx answer): retrying changes nothing.
    #[error("the mail server refused: {0}")]
    Refused(String),
    /// The server could not be reached or answered "try later" (4xx).
    #[error("{0}")]
    Unavailable(String),
}

impl SendError {
    /// Whether another attempt could succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, SendError::Unavailable(_))
    }
}

fn transport(settings: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    let host = settings.host.as_str();
    let unavailable = |e: lettre::transport::smtp::Error| SendError::Unavailable(e.to_string());
    let builder = match settings.security {
        MailSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(unavailable)?,
        MailSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(unavailable)?,
        MailSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
    };
    let mut builder = builder.port(settings.port).timeout(Some(SMTP_TIMEOUT));
    if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
        builder = builder.credentials(Credentials::new(user.to_string(), password.expose().to_owned()));
    }
    Ok(builder.build())
}

fn mailbox(name: Option<&str>, address: &Email) -> Result<Mailbox, SendError> {
    let address = address.as_str().parse().map_err(|e| SendError::Build(format!("{address}: {e}")))?;
    Ok(Mailbox::new(name.map(str::to_owned), address))
}

fn from(settings: &SmtpSettings) -> Result<MessageBuilder, SendError> {
    let from = mailbox(settings.from_name.as_ref().map(|n| n.as_str()), &settings.from_address)?;
    Ok(Message::builder().from(from))
}

/// Sends and returns the server's answer ("250 2.0.0 Ok: queued as …").
async fn deliver(settings: &SmtpSettings, message: Message) -> Result<String, SendError> {
    match transport(settings)?.send(message).await {
        Ok(response) => Ok(format!("{} {}", response.code(), response.message().collect::<Vec<_>>().join(" "))),
        Err(e) if e.is_permanent() => Err(SendError::Refused(e.to_string())),
        Err(e) => Err(SendError::Unavailable(e.to_string())),
    }
}

/// The email of an outbox message: its threading headers, and the text
/// alone, or the text then each file (multipart/mixed) when it has files.
pub fn outbox_email(settings: &SmtpSettings, message: &OutboxMessage) -> Result<Message, SendError> {
    let mut builder = from(settings)?
        .to(mailbox(None, &message.to)?)
        .subject(message.subject.clone())
        .message_id(Some(format!("<{}>", message.email_message_id)));
    if let Some(answers) = &message.in_reply_to {
        builder = builder.in_reply_to(format!("<{answers}>"));
    }
    if !message.references.is_empty() {
        let references: Vec<String> = message.references.iter().map(|id| format!("<{id}>")).collect();
        builder = builder.references(references.join(" "));
    }
    let email = if message.attachments.is_empty() {
        builder.header(ContentType::TEXT_PLAIN).body(message.body.clone())
    } else {
        let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(message.body.clone()));
        for file in &message.attachments {
            // Checked when the file was added; a type lettre cannot read goes as plain bytes.
            let content_type = ContentType::parse(&file.content_type)
                .unwrap_or_else(|_| ContentType::parse(OCTET_STREAM).expect("a valid media type"));
            // Base64 whatever the file: text sent as text would have its line endings changed.
            let body = Body::new_with_encoding(file.data.clone(), ContentTransferEncoding::Base64)
                .map_err(|_| SendError::Build(format!("{} could not be encoded", file.filename)))?;
            parts = parts.singlepart(Attachment::new(file.filename.clone()).body(body, content_type));
        }
        builder.multipart(parts)
    };
    email.map_err(|e| SendError::Build(e.to_string()))
}

/// Sends one outbox message, with its threading headers and files.
pub async fn send_outbox(settings: &SmtpSettings, message: &OutboxMessage) -> Result<String, SendError> {
    deliver(settings, outbox_email(settings, message)?).await
}

/// Sends a short test message, to check the settings.
pub async fn send_test(settings: &SmtpSettings, to: &Email) -> Result<String, SendError> {
    let email = from(settings)?
        .to(mailbox(None, to)?)
        .subject("Rapport test message")
        .header(ContentType::TEXT_PLAIN)
        .body(format!(
            "This message was sent by Rapport to check its outgoing mail settings ({}:{}, {}).\n",
            settings.host.as_str(),
            settings.port,
            settings.security.label()
        ))
        .map_err(|e| SendError::Build(e.to_string()))?;
    deliver(settings, email).await
}

#[cfg(test)]
mod tests {
    use rapport_domain::OutboxId;
    use rapport_domain::mail::{AttachmentInput, Host, OutboxStatus};

    use super::*;

    fn settings() -> SmtpSettings {
        SmtpSettings {
            host: Host::try_from("127.0.0.1".to_owned()).unwrap(),
            port: 25,
            security: MailSecurity::None,
            username: None,
            password: None,
            from_address: Email::parse("help@shop.example").unwrap(),
            from_name: None,
        }
    }

    fn reply(attachments: Vec<AttachmentInput>) -> OutboxMessage {
        OutboxMessage {
            id: OutboxId::new(),
            to: Email::parse("grace@navy.example").unwrap(),
            subject: "Re: Logs".into(),
            body: "Here is the fix.".into(),
            email_message_id: "r1@shop.example".into(),
            in_reply_to: Some("q1@navy.example".into()),
            references: vec!["q1@navy.example".into()],
            status: OutboxStatus::Queued,
            attempts: 0,
            attachments,
        }
    }

    #[test]
    fn files_go_as_multipart_mixed_and_read_back_intact() {
        let binary: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let files = vec![
            AttachmentInput {
                filename: "Übersicht 1.pdf".into(),
                content_type: "application/pdf".into(),
                data: binary,
            },
            AttachmentInput {
                filename: "notes.txt".into(),
                content_type: "text/plain".into(),
                data: b"a\nb\r\n".to_vec(),
            },
        ];
        let raw = outbox_email(&settings(), &reply(files.clone())).unwrap().formatted();
        let text = String::from_utf8_lossy(&raw);
        assert!(text.contains("Content-Type: multipart/mixed"), "{text}");
        assert!(text.contains("In-Reply-To: <q1@navy.example>") && text.contains("Message-ID: <r1@shop.example>"));
        let parsed = crate::parse::parse(&raw).expect("it parses");
        assert_eq!(parsed.text.trim(), "Here is the fix.");
        assert_eq!(parsed.attachments.len(), 2);
        for (sent, got) in files.iter().zip(&parsed.attachments) {
            assert_eq!((&got.filename, &got.content_type, &got.data), (&sent.filename, &sent.content_type, &sent.data));
        }

        let plain = outbox_email(&settings(), &reply(Vec::new())).unwrap().formatted();
        assert!(String::from_utf8_lossy(&plain).contains("Content-Type: text/plain"), "no files, no multipart");
    }
}
