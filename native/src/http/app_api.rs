//! The local API for applications in other languages: `POST /v1/messages`
//! and `GET /v1/events` (Server-Sent Events).
//!
//! These two endpoints *act as the node* — they send with its identity and
//! read what peers send it — so they require `Authorization: Bearer
//! <token>`, where the token is random, made at first start and kept in the
//! data dir as `api.token`, readable only by its owner (the way tor's control
//! port uses a cookie file). Without it: 401 and nothing happens. The token
//! comparison takes the same time wherever the first difference is.
//!
//! Backpressure: each SSE subscriber gets a bounded queue; a consumer too
//! slow to keep up (its queue full, or the node's event broadcast lapping
//! it) is dropped with a logged reason rather than growing memory. It can
//! reconnect.

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use data_encoding::BASE64;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode};
use tokio::sync::{broadcast, mpsc};
use torpeer_core::OnionAddress;
use torpeer_core::node::{Event, SendError};

use super::server::{Resp, boxed, error, respond};
use crate::driver::{HandleError, NodeHandle};

/// File name of the token in the data dir.
pub const TOKEN_FILE: &str = "api.token";
/// Events queued per SSE subscriber before it counts as too slow.
const SSE_QUEUE: usize = 256;
/// Bytes of frames queued per SSE subscriber before it counts as too slow.
/// Messages are up to 1 MiB (1.4 MB as base64), so a frame count alone
/// would let one stalled consumer hold 256 of them: ~350 MB. This keeps it
/// to a few MB, while one largest message always fits.
const SSE_QUEUE_BYTES: usize = 4 * 1024 * 1024;
/// Comment line sent when nothing else happened, so proxies and clients
/// see the stream is alive.
const SSE_KEEPALIVE: Duration = Duration::from_secs(15);

/// The bearer token that guards the application endpoints.
#[derive(Clone)]
pub struct ApiToken(String);

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.write_str("ApiToken(..)")
    }
}

impl ApiToken {
    /// A fresh random token (32 bytes, hex).
    pub fn generate() -> std::io::Result<Self> {
        let mut raw = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut raw[..]).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Self(hex::encode(&raw[..])))
    }

    /// Read `<data_dir>/api.token`, creating it (mode 0600) on first start.
    /// A file that does not hold a well-formed token is replaced.
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<Self> {
        let path = data_dir.join(TOKEN_FILE);
        if let Ok(text) = std::fs::read_to_string(&path) {
            let text = text.trim();
            if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Ok(Self(text.to_owned()));
            }
            tracing::warn!(path = %path.display(), "api.token is malformed; replacing it");
        }
        let token = Self::generate()?;
        crate::hsdir_fs::write_atomic(&path, format!("{}\n", token.0).as_bytes())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(token)
    }

    /// The token text (to hand to a local application).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the request carries `Authorization: Bearer <this token>`.
    fn authorizes(&self, req: &Request<Incoming>) -> bool {
        let Some(given) = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return false;
        };
        constant_time_eq(given.trim().as_bytes(), self.0.as_bytes())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The answer to a request without the right token.
pub(super) fn unauthorized() -> Resp {
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "this endpoint needs Authorization: Bearer <token from the data dir's api.token>",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"torpeer\""),
    );
    r
}

/// Whether the request carries the node's token (never, when the node has
/// no token configured: then nobody may act as it).
pub(super) fn authorized(req: &Request<Incoming>, token: Option<&ApiToken>) -> bool {
    token.is_some_and(|t| t.authorizes(req))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageRequest {
    to: String,
    data: String,
}

/// Largest request body for a message of `max_message_len` bytes: its
/// base64 form plus room for the JSON around it.
fn body_limit(max_message_len: usize) -> usize {
    max_message_len.div_ceil(3) * 4 + 1024
}

/// `POST /v1/messages` with `{"to": "<onion>", "data": "<base64>"}`:
/// 202 when queued.
pub(super) async fn post_message(
    req: Request<Incoming>,
    handle: &NodeHandle,
    max_message_len: usize,
) -> Result<Resp, Resp> {
    let limit = body_limit(max_message_len);
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            &format!("messages are limited to {max_message_len} bytes"),
        )
    };
    if req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > limit as u64)
    {
        return Err(too_large());
    }
    let body = http_body_util::Limited::new(req.into_body(), limit)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                too_large()
            } else {
                error(StatusCode::BAD_REQUEST, "bad_body", &e.to_string())
            }
        })?
        .to_bytes();
    let msg: MessageRequest = serde_json::from_slice(&body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "bad_json",
            &format!("expected {{\"to\": \"<onion>\", \"data\": \"<base64>\"}}: {e}"),
        )
    })?;
    let to = OnionAddress::parse(&msg.to)
        .map_err(|e| error(StatusCode::BAD_REQUEST, "bad_address", &e.to_string()))?;
    let data = BASE64
        .decode(msg.data.as_bytes())
        .map_err(|e| error(StatusCode::BAD_REQUEST, "bad_base64", &e.to_string()))?;
    if data.len() > max_message_len {
        return Err(too_large());
    }
    match handle.send(to, data).await {
        Ok(()) => Ok(respond(
            StatusCode::ACCEPTED,
            "application/json",
            serde_json::json!({ "queued": true, "to": to.to_string() }).to_string(),
        )),
        Err(e) => Err(send_error(&e)),
    }
}

fn send_error(e: &HandleError) -> Resp {
    let status = match e {
        HandleError::Stopped | HandleError::Send(SendError::ShutDown) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        HandleError::Send(s) => match s {
            SendError::UnknownPeer => StatusCode::NOT_FOUND,
            SendError::PeerOffline => StatusCode::CONFLICT,
            SendError::RouterRefuses | SendError::LocalIsRouter => StatusCode::FORBIDDEN,
            SendError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            SendError::QueueFull => StatusCode::TOO_MANY_REQUESTS,
            SendError::ShutDown => StatusCode::SERVICE_UNAVAILABLE,
        },
    };
    error(status, e.code(), &e.to_string())
}

/// One SSE event for an application, if this node event is one.
fn sse_frame(event: &Event) -> Option<String> {
    let (kind, data) = match event {
        Event::Message { from, data } => (
            "message",
            serde_json::json!({ "from": from.to_string(), "data": BASE64.encode(data) }),
        ),
        Event::PeerDiscovered {
            onion,
            learned_from,
        } => (
            "peer",
            serde_json::json!({
                "onion": onion.to_string(),
                "status": "discovered",
                "learned_from": learned_from.map(|o| o.to_string()),
            }),
        ),
        Event::PeerOnline { onion } => (
            "peer",
            serde_json::json!({ "onion": onion.to_string(), "status": "online" }),
        ),
        Event::PeerOffline { onion } => (
            "peer",
            serde_json::json!({ "onion": onion.to_string(), "status": "offline" }),
        ),
        Event::RecordUpdated { onion, sequence } => (
            "peer",
            serde_json::json!({
                "onion": onion.to_string(),
                "status": "updated",
                "sequence": sequence.to_string(),
            }),
        ),
        Event::HandshakeFailed { .. } | Event::PeerError { .. } => return None,
    };
    Some(format!("event: {kind}\ndata: {data}\n\n"))
}

/// A response body fed from a channel; ends when the sender is dropped.
/// `queued` counts the bytes sent into the channel and not yet taken out
/// by hyper, so the producer can bound them.
struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
    queued: Arc<AtomicUsize>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.rx.poll_recv(cx).map(|b| {
            b.map(|b| {
                self.queued.fetch_sub(b.len(), Ordering::Relaxed);
                Ok(Frame::data(b))
            })
        })
    }
}

/// Whether a subscriber with `queued` bytes waiting may take `frame` more:
/// within [`SSE_QUEUE_BYTES`], or anything when nothing waits (so a single
/// frame larger than the budget still goes to a consumer that keeps up).
fn sse_has_room(queued: usize, frame: usize) -> bool {
    queued == 0 || queued.saturating_add(frame) <= SSE_QUEUE_BYTES
}

/// `GET /v1/events`: the node's events as Server-Sent Events.
pub(super) fn events(handle: &NodeHandle) -> Resp {
    let mut events = handle.subscribe();
    let (tx, rx) = mpsc::channel::<Bytes>(SSE_QUEUE);
    let queued = Arc::new(AtomicUsize::new(0));
    let body = ChannelBody {
        rx,
        queued: queued.clone(),
    };
    tokio::spawn(async move {
        // Tell the client it is connected. Counted like every frame:
        // `poll_frame` subtracts whatever it hands out.
        let hello = Bytes::from_static(b": connected\n\n");
        queued.fetch_add(hello.len(), Ordering::Relaxed);
        if tx.send(hello).await.is_err() {
            return;
        }
        let mut keepalive = tokio::time::interval(SSE_KEEPALIVE);
        keepalive.tick().await;
        loop {
            let frame = tokio::select! {
                ev = events.recv() => match ev {
                    Ok(ev) => match sse_frame(&ev) {
                        Some(f) => Bytes::from(f),
                        None => continue,
                    },
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "dropping slow SSE consumer: it fell behind the node's events");
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = keepalive.tick() => Bytes::from_static(b": keepalive\n\n"),
                () = tx.closed() => return,
            };
            let waiting = queued.load(Ordering::Relaxed);
            if !sse_has_room(waiting, frame.len()) {
                tracing::warn!(
                    queued_bytes = waiting,
                    limit = SSE_QUEUE_BYTES,
                    "dropping slow SSE consumer: its queue is full"
                );
                return;
            }
            let len = frame.len();
            queued.fetch_add(len, Ordering::Relaxed);
            match tx.try_send(frame) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    queued.fetch_sub(len, Ordering::Relaxed);
                    tracing::warn!(
                        queued = SSE_QUEUE,
                        "dropping slow SSE consumer: its queue is full"
                    );
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return,
            }
        }
    });
    let mut r = hyper::Response::new(boxed(body));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let a = ApiToken::load_or_create(dir.path()).unwrap();
        let b = ApiToken::load_or_create(dir.path()).unwrap();
        assert_eq!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(TOKEN_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join(TOKEN_FILE), "short").unwrap();
        let c = ApiToken::load_or_create(dir.path()).unwrap();
        assert_ne!(c.expose(), a.expose());
        assert!(format!("{c:?}").contains(".."));
    }

    #[test]
    fn comparison_needs_the_whole_token() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"", b"abc"));
    }

    #[test]
    fn the_sse_byte_budget_bounds_a_queue_but_always_takes_one_frame() {
        assert!(sse_has_room(0, 10 * SSE_QUEUE_BYTES));
        assert!(sse_has_room(1, SSE_QUEUE_BYTES - 1));
        assert!(!sse_has_room(1, SSE_QUEUE_BYTES));
        assert!(!sse_has_room(SSE_QUEUE_BYTES, 1));
        assert!(!sse_has_room(usize::MAX, usize::MAX));
    }

    #[test]
    fn events_map_to_sse_frames() {
        let onion = torpeer_core::Identity::from_seed(&[1; 32])
            .unwrap()
            .address();
        let msg = sse_frame(&Event::Message {
            from: onion,
            data: b"hi".to_vec(),
        })
        .unwrap();
        assert!(msg.starts_with("event: message\ndata: {"));
        assert!(msg.contains("\"data\":\"aGk=\""));
        assert!(msg.ends_with("\n\n"));
        let off = sse_frame(&Event::PeerOffline { onion }).unwrap();
        assert!(off.contains("\"status\":\"offline\""));
        assert_eq!(body_limit(3), 1028);
    }
}
