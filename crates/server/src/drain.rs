//! Draining at shutdown without cutting a request off.
//!
//! hyper's graceful shutdown closes a keep-alive connection the moment it is
//! idle, and a client may already have sent its next request on it: that
//! request is lost with "connection closed before message completed" or a
//! reset. So on SIGTERM the listener is closed first (new connections are
//! refused; those the kernel already queued are taken in first), every open connection answers its next request with
//! `Connection: close` and is then closed by hyper after the response, and
//! only when no connection is left (or after [`DRAIN_GRACE`], for clients
//! that keep an idle connection open) does the graceful shutdown close the rest.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::CONNECTION;
use axum::middleware::Next;
use axum::response::Response;
use futures::FutureExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How long idle connections are given to send a last request.
pub const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Whether the node is draining, and how many connections are open.
#[derive(Clone)]
pub struct Drain {
    draining: watch::Sender<bool>,
    open: Arc<watch::Sender<usize>>,
}

impl Drain {
    pub fn new() -> Drain {
        Drain { draining: watch::Sender::new(false), open: Arc::new(watch::Sender::new(0)) }
    }

    /// Stops accepting connections; responses from now on close theirs.
    pub fn start(&self) {
        self.draining.send_replace(true);
    }

    fn is_draining(&self) -> bool {
        *self.draining.borrow()
    }

    /// Waits until every connection is closed, or `grace` passed.
    pub async fn closed(&self, grace: Duration) {
        let mut open = self.open.subscribe();
        let _ = tokio::time::timeout(grace, open.wait_for(|n| *n == 0)).await;
    }

    /// Wraps the listener: it counts connections and closes at [`Drain::start`].
    pub fn listener(&self, listener: TcpListener) -> DrainingListener {
        DrainingListener { inner: Some(listener), drain: self.clone() }
    }
}

impl Default for Drain {
    fn default() -> Self {
        Drain::new()
    }
}

/// Middleware: while draining, every response closes its connection.
pub async fn close_when_draining(State(drain): State<Drain>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if drain.is_draining() {
        response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A TCP listener that is dropped (so connections are refused) when draining starts.
pub struct DrainingListener {
    inner: Option<TcpListener>,
    drain: Drain,
}

impl axum::serve::Listener for DrainingListener {
    type Io = CountedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (CountedStream, SocketAddr) {
        let mut draining = self.drain.draining.subscribe();
        loop {
            let Some(listener) = &mut self.inner else {
                return std::future::pending().await;
            };
            tokio::select! {
                (stream, addr) = axum::serve::Listener::accept(listener) => {
                    self.drain.open.send_modify(|n| *n += 1);
                    return (CountedStream { stream, open: Arc::clone(&self.drain.open) }, addr);
                }
                _ = draining.wait_for(|d| *d) => {
                    // Connections the kernel already took in are served (each
                    // closes after its answer): closing the listener with
                    // them queued would reset them, requests and all.
                    if let Some((stream, addr)) = axum::serve::Listener::accept(listener).now_or_never() {
                        self.drain.open.send_modify(|n| *n += 1);
                        return (CountedStream { stream, open: Arc::clone(&self.drain.open) }, addr);
                    }
                    self.inner = None;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.inner {
            Some(listener) => listener.local_addr(),
            None => Err(io::Error::new(io::ErrorKind::NotConnected, "the listener is closed")),
        }
    }
}

/// A connection, counted while it is open.
pub struct CountedStream {
    stream: TcpStream,
    open: Arc<watch::Sender<usize>>,
}

impl Drop for CountedStream {
    fn drop(&mut self) {
        self.open.send_modify(|n| *n -= 1);
    }
}

impl AsyncRead for CountedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
