//! Connection tasks: one per stream, a reader half and a writer half running
//! concurrently, talking to the node task over bounded channels.
//!
//! The reader forwards whatever bytes arrive (the core reassembles frames);
//! the writer drains a queue of whole frames. When the node drops its sender
//! (after `Output::Close`), the writer writes what is queued, shuts the
//! stream down and the task reports `Closed`.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use torpeer_core::node::{ConnectionId, Direction};

use crate::transport::BoxStream;

/// Frames queued for one stream before the node considers the peer too slow
/// and closes it.
pub const WRITE_QUEUE: usize = 256;
/// Read buffer per stream.
const READ_CHUNK: usize = 16 * 1024;
/// A single write stalled this long ends the connection (a peer that stops
/// reading must not pin memory forever).
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// What connection tasks tell the node task.
#[derive(Debug)]
pub enum ConnEvent {
    /// A stream is open; frames for it go to `writer`.
    Opened {
        /// The stream.
        conn: ConnectionId,
        /// Who opened it.
        direction: Direction,
        /// Queue of bytes to write.
        writer: mpsc::Sender<Vec<u8>>,
    },
    /// A dial failed.
    DialFailed {
        /// The stream that was to be.
        conn: ConnectionId,
        /// Why.
        reason: String,
    },
    /// Bytes arrived.
    Received {
        /// The stream.
        conn: ConnectionId,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// The stream ended.
    Closed {
        /// The stream.
        conn: ConnectionId,
    },
}

/// Run one stream until it ends. `first` holds bytes already read from it
/// (protocol sniffing) and is delivered before anything else.
pub async fn run(
    conn: ConnectionId,
    direction: Direction,
    stream: BoxStream,
    events: mpsc::Sender<ConnEvent>,
    first: Option<Vec<u8>>,
) {
    let (wtx, mut wrx) = mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
    if events
        .send(ConnEvent::Opened {
            conn,
            direction,
            writer: wtx,
        })
        .await
        .is_err()
    {
        return;
    }
    if let Some(bytes) = first.filter(|b| !b.is_empty())
        && events
            .send(ConnEvent::Received { conn, bytes })
            .await
            .is_err()
    {
        return;
    }
    let (mut r, mut w) = tokio::io::split(stream);
    let reader = async {
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let bytes = buf[..n].to_vec();
                    if events
                        .send(ConnEvent::Received { conn, bytes })
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    };
    let writer = async {
        while let Some(bytes) = wrx.recv().await {
            let write = async {
                w.write_all(&bytes).await?;
                // Some streams buffer until flushed (arti packs bytes into
                // relay cells): flush once the queue is drained, or the
                // last frame of a burst could wait forever.
                if wrx.is_empty() {
                    w.flush().await?;
                }
                Ok::<(), std::io::Error>(())
            };
            match tokio::time::timeout(WRITE_TIMEOUT, write).await {
                Ok(Ok(())) => {}
                _ => return,
            }
        }
        // The node closed the stream: flush and send FIN.
        let _ = tokio::time::timeout(WRITE_TIMEOUT, w.shutdown()).await;
    };
    tokio::select! {
        () = reader => {}
        () = writer => {}
    }
    let _ = events.send(ConnEvent::Closed { conn }).await;
}
