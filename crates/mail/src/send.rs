//! Sending over SMTP with lettre: an outbox message, threaded into the
//! customer's conversation, or a test message for the settings page.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MessageBuilder};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rapport_domain::Email;
use rapport_domain::mail::{MailSecurity, SmtpSettings};
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

/// Sends one outbox message with its threading headers.
pub async fn send_outbox(settings: &SmtpSettings, message: &OutboxMessage) -> Result<String, SendError> {
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
    let email = builder
        .header(ContentType::TEXT_PLAIN)
        .body(message.body.clone())
        .map_err(|e| SendError::Build(e.to_string()))?;
    deliver(settings, email).await
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
