//! The HTTP/1.1 server: hyper driven directly (`axum::serve` runs it with no timer and no
//! limit), so that every connection has deadlines and their number a cap.
//!
//! - A connection must send a complete request head within the header-read timeout of being
//!   accepted, and of the first byte of each later request: a client trickling a header line
//!   a second, or sending nothing, is cut off.
//! - A keep-alive connection with no request for the idle timeout is closed.
//! - At most `max_connections` are served. Past that a small overflow lane of
//!   [`OVERFLOW_CONNECTIONS`] more connections answers `/health` and `/ready` as usual and
//!   everything else with a 503 in the dialect's error format, one request per connection, so
//!   probes keep answering when the service is full. When the lane is full too, a new
//!   connection takes the place of the oldest one there still waiting for its request (so
//!   idle connections cannot keep a probe out); when all are being answered, it is closed.
//!
//! A request being handled has no connection deadline: the request timeout bounds it.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// Connections served beyond `max_connections`, for health checks only.
pub const OVERFLOW_CONNECTIONS: usize = 32;

/// Deadlines and the cap; see the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// Serves `full` on up to `limits.max_connections` connections and `overflow` (answers probes,
/// refuses the rest) on the overflow lane, until `shutdown` completes; then stops
/// accepting, lets each connection finish the request it is on, and returns once all are closed.
pub async fn serve(
    listener: TcpListener,
    full: Router,
    overflow: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let overflow_lane = Mutex::new(VecDeque::new());
    let mut at_capacity = false;
    // Dropped to tell the connections to stop; each holds a `closed` receiver until it is done.
    let (stop_tx, stop_rx) = watch::channel(());
    let (closed_tx, closed_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_error(error).await;
                    continue;
                }
            },
            () = shutdown.as_mut() => break,
        };
        let clock = Arc::new(ConnectionClock::new(Instant::now()));
        let slot = slots.clone().try_acquire_owned().ok();
        if at_capacity != slot.is_none() {
            at_capacity = slot.is_none();
            if at_capacity {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection limit reached: new connections only answer /health and /ready \
                     until some close"
                );
            } else {
                tracing::info!("below the connection limit again");
            }
        }
        let (router, keep_alive, evicted) = match slot {
            Some(_) => (full.clone(), true, None),
            None => match join_overflow_lane(&overflow_lane, &clock) {
                Some(evicted) => (overflow.clone(), false, Some(evicted)),
                None => {
                    // Every overflow connection is answering a probe: closing at once
                    // frees the descriptor and tells the client.
                    drop(stream);
                    continue;
                }
            },
        };
        let stop = stop_rx.clone();
        let closed = closed_rx.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = serve_connection(stream, peer, router, keep_alive, limits, clock, stop) => {}
                () = async {
                    match &evicted {
                        Some(evicted) => evicted.notified().await,
                        None => std::future::pending().await,
                    }
                } => {
                    tracing::debug!("overflow connection evicted by a newer one");
                }
            }
            drop(slot);
            drop(closed);
        });
    }
    drop(listener);
    drop(stop_rx);
    drop(closed_rx);
    drop(stop_tx);
    closed_tx.closed().await;
    Ok(())
}

/// The overflow lane: its connections, oldest first, each with the clock of its one request
/// and the signal that closes it.
type OverflowLane = Mutex<VecDeque<(Weak<ConnectionClock>, Arc<Notify>)>>;

/// Admits a connection to the overflow lane, evicting the oldest one still waiting for its
/// request head when the lane is full: connections that sit there idle (the ones that filled
/// the service) cannot keep a health probe out. `None` when every one is being answered.
fn join_overflow_lane(lane: &OverflowLane, clock: &Arc<ConnectionClock>) -> Option<Arc<Notify>> {
    let mut lane = lane.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    lane.retain(|(clock, _)| clock.strong_count() > 0);
    if lane.len() >= OVERFLOW_CONNECTIONS {
        let waiting = lane.iter().position(|(clock, _)| {
            clock
                .upgrade()
                .is_some_and(|clock| clock.phase() == Phase::ReadingHead)
        })?;
        let (_, evict) = lane.remove(waiting).expect("a position in the lane");
        evict.notify_one();
    }
    let evict = Arc::new(Notify::new());
    lane.push_back((Arc::downgrade(clock), evict.clone()));
    Some(evict)
}

/// Accept errors are about one connection (reset before accept) or the process (out of file
/// descriptors); for the latter, waiting a moment beats spinning.
async fn accept_error(error: io::Error) {
    use io::ErrorKind::*;
    if matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept a connection; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn serve_connection(
    stream: TcpStream,
    peer: std::net::SocketAddr,
    router: Router,
    keep_alive: bool,
    limits: Limits,
    clock: Arc<ConnectionClock>,
    mut stop: watch::Receiver<()>,
) {
    let io = TokioIo::new(Watched {
        inner: stream,
        clock: clock.clone(),
    });
    let service_clock = clock.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let clock = service_clock.clone();
        clock.set(Phase::Handling, Instant::now());
        // The peer's address, as `axum::serve` gives it (the operator API admits loopback peers).
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let call = router.clone().oneshot(request.map(Body::new));
        async move {
            let response = call.await;
            clock.set(Phase::Idle, Instant::now());
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The deadlines are kept here (the watchdog below), not by hyper's header-read timer: that
    // one starts when the connection waits for a request, so it would also cap idle time.
    builder.keep_alive(keep_alive).header_read_timeout(None);
    let mut connection = pin!(builder.serve_connection(io, service));
    let mut stopping = false;
    loop {
        let deadline = clock.deadline(&limits);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(deadline.unwrap_or_else(|| Instant::now() + limits.idle_timeout)) => {
                if let Some(phase) = clock.expired(&limits, Instant::now()) {
                    tracing::debug!(?phase, "closing a connection past its deadline");
                    return;
                }
            }
        }
    }
}

/// Where a connection is, as far as its deadlines are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for (the rest of) a request head: the header-read timeout applies.
    ReadingHead,
    /// A request is being handled: the request timeout applies, not the connection's.
    Handling,
    /// Between requests, no byte of the next one seen yet: the idle timeout applies.
    Idle,
}

struct ConnectionClock(Mutex<(Phase, Instant)>);

impl ConnectionClock {
    fn new(now: Instant) -> Self {
        Self(Mutex::new((Phase::ReadingHead, now)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Phase, Instant)> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn phase(&self) -> Phase {
        self.lock().0
    }

    fn set(&self, phase: Phase, now: Instant) {
        *self.lock() = (phase, now);
    }

    /// Bytes arrived: on an idle connection, a request head has started.
    fn bytes_read(&self, now: Instant) {
        let mut state = self.lock();
        if state.0 == Phase::Idle {
            *state = (Phase::ReadingHead, now);
        }
    }

    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        let (phase, since) = *self.lock();
        match phase {
            Phase::ReadingHead => Some(since + limits.header_read_timeout),
            Phase::Idle => Some(since + limits.idle_timeout),
            Phase::Handling => None,
        }
    }

    /// The phase whose deadline has passed, if any.
    fn expired(&self, limits: &Limits, now: Instant) -> Option<Phase> {
        let phase = self.lock().0;
        self.deadline(limits)
            .filter(|deadline| *deadline <= now)
            .map(|_| phase)
    }
}

/// A TCP stream that tells the clock when bytes arrive.
struct Watched {
    inner: TcpStream,
    clock: Arc<ConnectionClock>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.clock.bytes_read(Instant::now());
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The soft limit on open file descriptors, where the system says (Linux).
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1,
        }
    }

    #[test]
    fn each_phase_has_its_deadline() {
        let secs = Duration::from_secs;
        let accepted = Instant::now();
        let clock = ConnectionClock::new(accepted);
        assert_eq!(clock.deadline(&limits()), Some(accepted + secs(10)));
        assert_eq!(clock.expired(&limits(), accepted + secs(9)), None);
        assert_eq!(
            clock.expired(&limits(), accepted + secs(10)),
            Some(Phase::ReadingHead),
            "a connection that sends nothing is cut off at the header-read timeout"
        );
        clock.set(Phase::Handling, accepted + secs(1));
        assert_eq!(clock.deadline(&limits()), None);
        assert_eq!(
            clock.expired(&limits(), accepted + secs(100)),
            None,
            "handling has no connection deadline"
        );
        let idle_since = accepted + secs(100);
        clock.set(Phase::Idle, idle_since);
        assert_eq!(clock.deadline(&limits()), Some(idle_since + secs(60)));
        clock.bytes_read(idle_since + secs(30));
        assert_eq!(
            clock.deadline(&limits()),
            Some(idle_since + secs(40)),
            "the first byte of a request starts the header-read clock"
        );
        clock.bytes_read(idle_since + secs(35));
        assert_eq!(
            clock.deadline(&limits()),
            Some(idle_since + secs(40)),
            "more bytes of the same head do not restart it"
        );
        assert_eq!(
            clock.expired(&limits(), idle_since + secs(40)),
            Some(Phase::ReadingHead)
        );
    }
}
