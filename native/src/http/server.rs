//! HTTP server: `GET /v1/peers`, `/v1/status`, `/metrics`, the dashboard at
//! `/`, and the application endpoints `POST /v1/messages` and
//! `GET /v1/events` ([`super::app_api`], token-guarded).
//!
//! Two faces:
//! - the **local API** (`--http`, default 127.0.0.1:8686): everything;
//! - the **public face** a router answers on its protocol port when a stream
//!   starts with `GET ` (see the driver's sniffing): `/v1/peers` only, so
//!   newcomers can bootstrap over Tor without reaching the local API.
//!
//! Every connection is bounded: header read timeout, header buffer size, a
//! connection cap; the public face also has a lifetime cap and never reads a
//! body (GET/HEAD/OPTIONS only). The one body the local face reads (a
//! message) is capped at the message limit.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prost::Message;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use torpeer_core::Role;
use torpeer_core::node::PeerFilter;

use super::PROTOBUF;
use super::app_api::{self, ApiToken};
use crate::driver::NodeHandle;

/// Time to receive a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a connection (keep-alive included) may live.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(120);
/// Header buffer (hyper's minimum is 8 KiB).
const MAX_HEADER_BUF: usize = 16 * 1024;
/// Most concurrent HTTP connections on the local API.
const MAX_CONNECTIONS: usize = 256;
/// Most entries a `?max=` may ask for.
const MAX_LIST: usize = 10_000;

/// Which routes a connection may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Face {
    Local,
    Public,
}

/// What the local face serves beyond the read-only API.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Token for `POST /v1/messages` and `GET /v1/events`; `None`: those
    /// endpoints answer 401 to everyone.
    pub token: Option<ApiToken>,
    /// Directory of the built dashboard (`web/dist`) served at `/`; `None`:
    /// a small placeholder page. `torpeer run` and `torpeer demo` take it
    /// from `--web-dir` / `web_dir` ([`crate::config::resolve_web_dir`]);
    /// the default is [`default_web_dir`].
    pub web_dir: Option<std::path::PathBuf>,
    /// Largest application message accepted by `POST /v1/messages`.
    pub max_message_len: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            token: None,
            web_dir: default_web_dir(),
            max_message_len: 1 << 20,
        }
    }
}

/// The dashboard built in the source tree this binary was compiled from
/// (`web/dist`), if it is still there: a fallback for development, absent
/// for an installed binary (which takes `--web-dir`).
pub fn default_web_dir() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/dist");
    dir.join("index.html").is_file().then_some(dir)
}

/// Say at start what `/` serves: the dashboard's directory, or that there
/// is none and how to give one.
pub fn log_web_dir(web_dir: Option<&std::path::Path>) {
    match web_dir {
        Some(dir) => tracing::info!(web_dir = %dir.display(), "dashboard served at /"),
        None => tracing::info!(
            "no dashboard found: / serves a placeholder page (give the built dashboard with --web-dir DIR or web_dir)"
        ),
    }
}

/// Serve the local API on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, handle: NodeHandle) {
    serve_with(listener, handle, ServeOptions::default()).await;
}

/// Serve the local API on `listener` with `options` until the task is dropped.
pub async fn serve_with(listener: TcpListener, handle: NodeHandle, options: ServeOptions) {
    let options = Arc::new(options);
    let limit = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "http accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "too many http connections; dropping");
            continue;
        };
        let handle = handle.clone();
        let options = options.clone();
        tokio::spawn(async move {
            serve_connection(stream, handle, Face::Local, options).await;
            drop(permit);
        });
    }
}

/// Bind `addr` and serve on it; returns the bound address and the task.
pub async fn bind(
    addr: SocketAddr,
    handle: NodeHandle,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    bind_with(addr, handle, ServeOptions::default()).await
}

/// [`bind`] with options (API token, dashboard directory).
pub async fn bind_with(
    addr: SocketAddr,
    handle: NodeHandle,
    options: ServeOptions,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((local, tokio::spawn(serve_with(listener, handle, options))))
}

/// Serve one sniffed stream on a router's protocol port (`/v1/peers` only).
pub async fn serve_public<S>(io: S, handle: NodeHandle)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let options = Arc::new(ServeOptions {
        token: None,
        web_dir: None,
        max_message_len: 0,
    });
    serve_connection(io, handle, Face::Public, options).await;
}

async fn serve_connection<S>(io: S, handle: NodeHandle, face: Face, options: Arc<ServeOptions>)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let service = service_fn(move |req| {
        let handle = handle.clone();
        let options = options.clone();
        async move { Ok::<_, Infallible>(route(req, &handle, face, &options).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEADER_BUF)
        .serve_connection(TokioIo::new(io), service);
    // The local face carries long-lived event streams; it is bounded by the
    // connection cap instead of a lifetime.
    let result = match face {
        Face::Public => match tokio::time::timeout(CONNECTION_LIFETIME, conn).await {
            Ok(r) => r,
            Err(_) => {
                tracing::debug!("http connection lifetime reached");
                return;
            }
        },
        Face::Local => conn.await,
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "http connection error");
    }
}

pub(super) type Resp = Response<BoxBody<Bytes, Infallible>>;

/// Box any infallible body into the one response body type.
pub(super) fn boxed<B>(body: B) -> BoxBody<Bytes, Infallible>
where
    B: hyper::body::Body<Data = Bytes, Error = Infallible> + Send + Sync + 'static,
{
    body.boxed()
}

pub(super) fn respond(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(boxed(Full::new(body.into())));
    *r.status_mut() = status;
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    // Read-only API: any origin may GET (the dashboard, other tools).
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Accept, Authorization, Content-Type"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `{"error": code, "message": text}` with a 4xx/5xx status.
pub(super) fn error(status: StatusCode, code: &str, message: &str) -> Resp {
    // `code` is the stable field; `error` repeats it for older clients.
    let body = serde_json::json!({ "code": code, "error": code, "message": message });
    respond(status, "application/json", body.to_string())
}

async fn route(
    req: Request<Incoming>,
    handle: &NodeHandle,
    face: Face,
    options: &ServeOptions,
) -> Resp {
    let path = req.uri().path().to_owned();
    if req.method() == Method::OPTIONS {
        return respond(StatusCode::NO_CONTENT, "text/plain", Bytes::new());
    }
    if face == Face::Local && path == "/v1/messages" {
        if req.method() != Method::POST {
            return error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "use POST",
            );
        }
        if !app_api::authorized(&req, options.token.as_ref()) {
            return app_api::unauthorized();
        }
        return app_api::post_message(req, handle, options.max_message_len)
            .await
            .unwrap_or_else(|e| e);
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "only GET, HEAD and OPTIONS are served here",
        );
    }
    let result = match (face, path.as_str()) {
        (_, "/v1/peers") => peers(&req, handle).await,
        (Face::Local, "/v1/status") => status(handle).await,
        (Face::Local, "/metrics") => metrics(handle).await,
        (Face::Local, "/v1/events") => {
            if app_api::authorized(&req, options.token.as_ref()) {
                Ok(app_api::events(handle))
            } else {
                Err(app_api::unauthorized())
            }
        }
        (Face::Local, p) if !p.starts_with("/v1/") => Ok(static_file(options, p)),
        _ => Err(error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such resource",
        )),
    };
    result.unwrap_or_else(|e| e)
}

/// A file of the built dashboard, or the placeholder page when none is
/// configured. Only plain relative paths inside the directory are served.
fn static_file(options: &ServeOptions, path: &str) -> Resp {
    let Some(dir) = &options.web_dir else {
        return if path == "/" {
            respond(StatusCode::OK, "text/html; charset=utf-8", INDEX)
        } else {
            error(StatusCode::NOT_FOUND, "not_found", "no such resource")
        };
    };
    let rel = path.trim_start_matches('/');
    let rel = if rel.is_empty() { "index.html" } else { rel };
    let safe = rel
        .split('/')
        .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && !seg.contains('\\'));
    if !safe {
        return error(StatusCode::NOT_FOUND, "not_found", "no such resource");
    }
    let file = dir.join(rel);
    let content_type = match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    match std::fs::read(&file) {
        Ok(bytes) => respond(StatusCode::OK, content_type, bytes),
        Err(_) => error(StatusCode::NOT_FOUND, "not_found", "no such resource"),
    }
}

const INDEX: &str = "<!doctype html><meta charset=utf-8><title>TorPeer node</title>\
<h1>TorPeer node</h1><p>No dashboard is configured: build it (<code>npm run build</code> \
in <code>web/</code>) and start the node with <code>--web-dir web/dist</code> (or \
<code>web_dir</code> in its config). API: \
<a href=/v1/status>/v1/status</a>, <a href=/v1/peers>/v1/peers</a>, \
<a href=/metrics>/metrics</a>.</p>\n";

/// Parse `role=`, `online=`, `max=` from the query string.
fn filter_from_query(query: Option<&str>) -> Result<PeerFilter, &'static str> {
    let mut filter = PeerFilter::default();
    let bad = |m: &'static str| m;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "role" => {
                filter.role = Some(
                    v.parse::<Role>()
                        .map_err(|_| bad("role must be participant or router"))?,
                );
            }
            "online" => {
                filter.online_only = match v {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    _ => return Err(bad("online must be true or false")),
                };
            }
            "max" => {
                let n: usize = v.parse().map_err(|_| bad("max must be a number"))?;
                filter.max = n.min(MAX_LIST);
            }
            _ => return Err(bad("unknown query parameter")),
        }
    }
    Ok(filter)
}

async fn peers(req: &Request<Incoming>, handle: &NodeHandle) -> Result<Resp, Resp> {
    let filter = filter_from_query(req.uri().query())
        .map_err(|m| error(StatusCode::BAD_REQUEST, "bad_query", m))?;
    let list = handle.peer_list(filter).await.map_err(unavailable)?;
    let wants_protobuf = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(PROTOBUF));
    if wants_protobuf {
        return Ok(respond(StatusCode::OK, PROTOBUF, list.encode_to_vec()));
    }
    let json = serde_json::to_vec(&list)
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, "encode", &e.to_string()))?;
    Ok(respond(StatusCode::OK, "application/json", json))
}

fn unavailable(e: crate::driver::HandleError) -> Resp {
    error(StatusCode::SERVICE_UNAVAILABLE, e.code(), &e.to_string())
}

async fn status(handle: &NodeHandle) -> Result<Resp, Resp> {
    let s = handle.status().await.map_err(unavailable)?;
    let json = serde_json::to_vec(&s)
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, "encode", &e.to_string()))?;
    Ok(respond(StatusCode::OK, "application/json", json))
}

async fn metrics(handle: &NodeHandle) -> Result<Resp, Resp> {
    use std::fmt::Write;
    let s = handle.status().await.map_err(unavailable)?;
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, kind: &str, v: u64| {
        let _ = writeln!(
            out,
            "# HELP torpeer_{name} {help}\n# TYPE torpeer_{name} {kind}\ntorpeer_{name} {v}"
        );
    };
    let as_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    gauge(
        "connections",
        "Authenticated peer connections.",
        "gauge",
        as_u64(s.connections),
    );
    gauge(
        "streams",
        "Open streams, handshakes included.",
        "gauge",
        as_u64(s.streams),
    );
    gauge(
        "known_peers",
        "Peer-table entries.",
        "gauge",
        as_u64(s.known_peers),
    );
    gauge(
        "uptime_seconds",
        "Seconds since start.",
        "gauge",
        s.uptime_s,
    );
    gauge(
        "record_sequence",
        "Sequence of our current record.",
        "gauge",
        s.record_sequence,
    );
    gauge(
        "frames_sent_total",
        "Frames sent.",
        "counter",
        s.stats.frames_sent,
    );
    gauge(
        "frames_received_total",
        "Frames received.",
        "counter",
        s.stats.frames_received,
    );
    gauge(
        "bytes_sent_total",
        "Protocol bytes sent.",
        "counter",
        s.stats.bytes_sent,
    );
    gauge(
        "bytes_received_total",
        "Protocol bytes received.",
        "counter",
        s.stats.bytes_received,
    );
    gauge(
        "messages_received_total",
        "Application messages received.",
        "counter",
        s.messages_received,
    );
    if let Some(svc) = &s.onion_service {
        gauge(
            "onion_service_restarts_total",
            "Times the in-process onion service was dropped and relaunched.",
            "counter",
            svc.restarts,
        );
    }
    let _ = writeln!(
        out,
        "# HELP torpeer_records_rejected_total Records refused, by reason.\n# TYPE torpeer_records_rejected_total counter"
    );
    for (code, n) in &s.stats.records_rejected {
        let code: String = code
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "torpeer_records_rejected_total{{reason=\"{code}\"}} {n}"
        );
    }
    Ok(respond(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        out,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_filters_parse_and_refuse_garbage() {
        let f = filter_from_query(Some("role=router&online=true&max=5")).unwrap();
        assert_eq!(f.role, Some(Role::Router));
        assert!(f.online_only);
        assert_eq!(f.max, 5);
        assert_eq!(
            filter_from_query(Some("max=999999999")).unwrap().max,
            MAX_LIST
        );
        for bad in ["role=king", "online=maybe", "max=-1", "x=1"] {
            assert!(filter_from_query(Some(bad)).is_err(), "{bad}");
        }
    }
}
