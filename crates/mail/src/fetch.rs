//! Fetching an IMAP mailbox: the unseen messages, each taken in and then
//! marked seen. A message taken in but not yet marked (a crash between the
//! two) is recognised by its Message-ID next time and only marked.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_imap::Client;
use futures::TryStreamExt;
use rapport_domain::mail::{ImapSettings, MailSecurity, Received};
use rapport_storage::Store;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, pki_types::ServerName};

use crate::parse::parse;

/// The most messages one fetch takes; the rest wait for the next.
const BATCH: usize = 200;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a fetch stopped.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("could not reach {0}: {1}")]
    Connect(String, String),
    #[error("TLS with {0} failed: {1}")]
    Tls(String, String),
    #[error("the IMAP server refused the sign-in: {0}")]
    Login(String),
    #[error("IMAP: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error(transparent)]
    Storage(#[from] rapport_storage::StorageError),
}

/// What one fetch did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FetchReport {
    /// New tickets.
    pub opened: usize,
    /// Answers added to tickets.
    pub joined: usize,
    /// Auto-replies, bounces and list mail.
    pub ignored: usize,
    /// Taken before (marked seen now).
    pub duplicates: usize,
    /// Not an email message, or without a sender: marked seen and logged.
    pub unreadable: usize,
}

impl FetchReport {
    fn count(&mut self, received: &Received) {
        match received {
            Received::Opened { .. } => self.opened += 1,
            Received::Joined { .. } => self.joined += 1,
            Received::Ignored { .. } => self.ignored += 1,
            Received::Duplicate => self.duplicates += 1,
        }
    }
}

fn tls_connector() -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

async fn tls<S: AsyncRead + AsyncWrite + Unpin>(
    host: &str,
    stream: S,
) -> Result<tokio_rustls::client::TlsStream<S>, FetchError> {
    let name = ServerName::try_from(host.to_owned()).map_err(|e| FetchError::Tls(host.to_owned(), e.to_string()))?;
    tls_connector().connect(name, stream).await.map_err(|e| FetchError::Tls(host.to_owned(), e.to_string()))
}

/// Takes in the mailbox's unseen messages.
pub async fn fetch(store: &Store, settings: &ImapSettings) -> Result<FetchReport, FetchError> {
    let host = settings.host.as_str();
    let address = format!("{host}:{}", settings.port);
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&address))
        .await
        .map_err(|_| FetchError::Connect(address.clone(), "timed out".into()))?
        .map_err(|e| FetchError::Connect(address.clone(), e.to_string()))?;
    match settings.security {
        MailSecurity::None => session(store, settings, greeted(Client::new(tcp)).await?).await,
        MailSecurity::Tls => session(store, settings, greeted(Client::new(tls(host, tcp).await?)).await?).await,
        MailSecurity::StartTls => {
            let mut client = greeted(Client::new(tcp)).await?;
            client.run_command_and_check_ok("STARTTLS", None).await?;
            // No greeting follows STARTTLS.
            session(store, settings, Client::new(tls(host, client.into_inner()).await?)).await
        }
    }
}

async fn greeted<T: AsyncRead + AsyncWrite + Unpin + Debug + Send>(
    mut client: Client<T>,
) -> Result<Client<T>, FetchError> {
    client
        .read_response()
        .await
        .map_err(async_imap::error::Error::Io)?
        .ok_or(async_imap::error::Error::ConnectionLost)?;
    Ok(client)
}

async fn session<T: AsyncRead + AsyncWrite + Unpin + Debug + Send>(
    store: &Store,
    settings: &ImapSettings,
    client: Client<T>,
) -> Result<FetchReport, FetchError> {
    let mut session = client
        .login(settings.username.as_str(), settings.password.expose())
        .await
        .map_err(|(e, _)| FetchError::Login(e.to_string()))?;
    session.select(settings.mailbox.as_str()).await?;
    let mut unseen: Vec<u32> = session.uid_search("UNSEEN").await?.into_iter().collect();
    unseen.sort_unstable();
    unseen.truncate(BATCH);
    let mut report = FetchReport::default();
    for uid in unseen {
        // PEEK: the message stays unseen until it is safely taken in.
        let fetched: Vec<async_imap::types::Fetch> =
            session.uid_fetch(uid.to_string(), "BODY.PEEK[]").await?.try_collect().await?;
        for message in fetched {
            let Some(raw) = message.body() else { continue };
            match parse(raw) {
                Ok(mail) => report.count(&store.receive_email(mail).await?),
                Err(err) => {
                    tracing::warn!(uid, error = %err, "an unreadable message in the mailbox was skipped");
                    report.unreadable += 1;
                }
            }
        }
        let _: Vec<_> = session.uid_store(uid.to_string(), "+FLAGS (\\Seen)").await?.try_collect().await?;
    }
    session.logout().await?;
    Ok(report)
}
