//! Fetching a bootstrap list: `http://HOST[:PORT]/PATH` over the node's
//! transport (so on Tor transports it goes through Tor), asking for binary
//! protobuf and accepting proto3 JSON too. Bodies are size-limited.
//! `https` is not supported: onion services are already end-to-end
//! encrypted, and loopback needs no TLS.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::Request;
use hyper::header;
use hyper_util::rt::TokioIo;
use prost::Message;
use torpeer_core::proto;

use super::PROTOBUF;
use crate::transport::{BoxStream, Transport, TransportError};

/// Largest bootstrap list accepted (10,000 records fit in ~4 MB of JSON).
pub const MAX_BODY: usize = 8 << 20;
/// Whole fetch, connect included (Tor can be slow).
const FETCH_TIMEOUT: Duration = Duration::from_secs(90);

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not an `http://host[:port]/path` URL.
    #[error("bad url: {0}")]
    BadUrl(String),
    /// Could not open a stream.
    #[error("connect: {0}")]
    Connect(#[from] TransportError),
    /// HTTP-level failure.
    #[error("http: {0}")]
    Http(String),
    /// Non-2xx answer.
    #[error("server answered {0}")]
    Status(u16),
    /// Body is not a PeerList.
    #[error("body is not a peer list: {0}")]
    Decode(String),
    /// Took too long.
    #[error("timed out")]
    Timeout,
}

impl FetchError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUrl(_) => "bad_url",
            Self::Connect(e) => e.code(),
            Self::Http(_) => "http",
            Self::Status(_) => "http_status",
            Self::Decode(_) => "decode",
            Self::Timeout => "timeout",
        }
    }
}

/// A parsed `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// Host name or IP literal (brackets stripped).
    pub host: String,
    /// Port (80 when absent).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl HttpUrl {
    /// Parse `http://host[:port][/path]`.
    pub fn parse(url: &str) -> Result<Self, FetchError> {
        let bad = || FetchError::BadUrl(url.to_owned());
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| FetchError::BadUrl(format!("{url} (only http:// is supported)")))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, tail) = v6.split_once(']').ok_or_else(bad)?;
            let port = match tail.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad())?,
                None if tail.is_empty() => 80,
                None => return Err(bad()),
            };
            (h, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, p.parse().map_err(|_| bad())?),
                None => (authority, 80),
            }
        };
        if host.is_empty() || authority.contains('@') {
            return Err(bad());
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }
}

/// Fetch and decode a `PeerList` (records are *not* verified here: the node
/// or the caller does that).
pub async fn fetch_peer_list(
    transport: &dyn Transport,
    url: &str,
) -> Result<proto::PeerList, FetchError> {
    let url = HttpUrl::parse(url)?;
    tokio::time::timeout(FETCH_TIMEOUT, async {
        let stream = transport.connect_host(&url.host, url.port).await?;
        fetch(stream, &url).await
    })
    .await
    .map_err(|_| FetchError::Timeout)?
}

/// Fetch over an already open stream to `url`'s host.
pub async fn fetch_over(stream: BoxStream, url: &HttpUrl) -> Result<proto::PeerList, FetchError> {
    tokio::time::timeout(FETCH_TIMEOUT, fetch(stream, url))
        .await
        .map_err(|_| FetchError::Timeout)?
}

async fn fetch(stream: BoxStream, url: &HttpUrl) -> Result<proto::PeerList, FetchError> {
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| FetchError::Http(e.to_string()))?;
    let driver = tokio::spawn(conn);
    let host = if url.port == 80 {
        url.host.clone()
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let req = Request::get(url.path.as_str())
        .header(header::HOST, host)
        .header(
            header::ACCEPT,
            format!("{PROTOBUF}, application/json;q=0.5"),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|e| FetchError::BadUrl(e.to_string()))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| FetchError::Http(e.to_string()))?;
    if !resp.status().is_success() {
        driver.abort();
        return Err(FetchError::Status(resp.status().as_u16()));
    }
    let is_protobuf = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROTOBUF));
    let body = Limited::new(resp.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| FetchError::Http(e.to_string()))?
        .to_bytes();
    driver.abort();
    if is_protobuf {
        proto::PeerList::decode(body).map_err(|e| FetchError::Decode(e.to_string()))
    } else {
        serde_json::from_slice(&body).map_err(|e| FetchError::Decode(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = HttpUrl::parse("http://127.0.0.1:8686/v1/peers").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 8686, "/v1/peers")
        );
        let u = HttpUrl::parse("http://abc.onion").unwrap();
        assert_eq!((u.port, u.path.as_str()), (80, "/"));
        let u = HttpUrl::parse("http://[::1]:9/x?y=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 9, "/x?y=1")
        );
        for bad in [
            "https://x/",
            "ftp://x",
            "http://:80/",
            "http://x:port/",
            "http://u@x/",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
