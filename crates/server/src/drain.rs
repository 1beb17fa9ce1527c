//! Draining at shutdown without cutting a request off.
//!
//! hyper's graceful shutdown closes a keep-alive connection the moment it is
//! idle, and a client may already have sent its next request on it: that
//! request is lost with "connection closed before message completed" or a
//! reset. So on SIGTERM the listener is closed first (new connections are
//! refused; those the kernel already queued are taken in first), every open connection answers its next request with
//! `Connection: close` and is then closed by hyper after the response, and
//! only when the listener and every connection are closed (or after
//! [`DRAIN_GRACE`], for clients that keep an idle connection open) does the
//! graceful shutdown close the rest.

use std::collections::VecDeque;
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
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How long idle connections are given to send a last request.
pub const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Whether the node is draining, and how many connections (and listeners) are open.
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

    /// Waits until the listener and every connection are closed, or `grace` passed.
    pub async fn closed(&self, grace: Duration) {
        let mut open = self.open.subscribe();
        let _ = tokio::time::timeout(grace, open.wait_for(|n| *n == 0)).await;
    }

    /// Wraps the listener: it counts connections and closes at [`Drain::start`].
    pub fn listener(&self, listener: TcpListener) -> DrainingListener {
        // The listener counts as open until it has handed over what the
        // kernel queued: until then "no connection open" is not yet true.
        self.open.send_modify(|n| *n += 1);
        DrainingListener { inner: Some(listener), queued: VecDeque::new(), drain: self.clone() }
    }

    fn counted(&self, stream: TcpStream) -> CountedStream {
        self.open.send_modify(|n| *n += 1);
        CountedStream { stream, open: Arc::clone(&self.open) }
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
    /// Connections the kernel had queued when the listener closed, still to be served.
    queued: VecDeque<(CountedStream, SocketAddr)>,
    drain: Drain,
}

impl DrainingListener {
    /// Takes in what the kernel queued, then closes the listener.
    ///
    /// Asks the kernel itself until it has nothing left: tokio's accept
    /// answers from readiness the reactor may not have seen yet, and closing
    /// the listener resets every connection still queued, requests and all.
    fn close(&mut self) {
        let Some(listener) = self.inner.take() else { return };
        match listener.into_std() {
            Ok(listener) => loop {
                match listener.accept().and_then(|(stream, addr)| {
                    stream.set_nonblocking(true)?;
                    Ok((TcpStream::from_std(stream)?, addr))
                }) {
                    Ok((stream, addr)) => self.queued.push_back((self.drain.counted(stream), addr)),
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                    // The client gave up while queued: on to the next.
                    Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => continue,
                    Err(err) => {
                        tracing::warn!(error = %err, "taking in a queued connection at shutdown failed");
                        break;
                    }
                }
            },
            Err(err) => tracing::warn!(error = %err, "closing the listener at shutdown failed"),
        }
        self.drain.open.send_modify(|n| *n -= 1);
    }
}

impl axum::serve::Listener for DrainingListener {
    type Io = CountedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (CountedStream, SocketAddr) {
        let mut draining = self.drain.draining.subscribe();
        loop {
            if let Some(queued) = self.queued.pop_front() {
                return queued;
            }
            let Some(listener) = &mut self.inner else {
                return std::future::pending().await;
            };
            tokio::select! {
                (stream, addr) = axum::serve::Listener::accept(listener) => {
                    return (self.drain.counted(stream), addr);
                }
                _ = draining.wait_for(|d| *d) => self.close(),
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
