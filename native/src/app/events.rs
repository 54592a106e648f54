//! The stream of typed events an application sees: peers coming and going,
//! records updated, messages received.
//!
//! Built on the driver's broadcast channel: every [`Events`] has its own
//! cursor, and one that falls more than the channel's capacity behind does
//! not slow the node down or grow memory — it skips ahead and is told how
//! many events it missed ([`Event::Lagged`]).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::broadcast;
use torpeer_core::OnionAddress;
use torpeer_core::node::Event as CoreEvent;

/// Something that happened at the node.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A new peer entered the table with a verified record.
    PeerDiscovered {
        /// The peer.
        onion: OnionAddress,
        /// Who told us (`None`: we met it directly or it was a bootstrap).
        learned_from: Option<OnionAddress>,
    },
    /// A peer has an authenticated live connection with us.
    PeerOnline {
        /// The peer.
        onion: OnionAddress,
    },
    /// A peer is now considered offline.
    PeerOffline {
        /// The peer.
        onion: OnionAddress,
    },
    /// A known peer published a newer record.
    RecordUpdated {
        /// The peer.
        onion: OnionAddress,
        /// Its new sequence number.
        sequence: u64,
    },
    /// Application data from a participant. `from` is the authenticated
    /// peer of the connection it came on, not a claim inside the message.
    Message {
        /// The sender.
        from: OnionAddress,
        /// The bytes it sent.
        data: Vec<u8>,
    },
    /// This stream fell behind and `missed` events were dropped for it
    /// (messages among them, possibly). The stream goes on with the next.
    Lagged {
        /// How many events were skipped.
        missed: u64,
    },
}

impl Event {
    /// The application-facing form of a core event (`None` for internal
    /// ones such as handshake failures, which are logged instead).
    pub(crate) fn from_core(ev: CoreEvent) -> Option<Self> {
        Some(match ev {
            CoreEvent::PeerDiscovered {
                onion,
                learned_from,
            } => Self::PeerDiscovered {
                onion,
                learned_from,
            },
            CoreEvent::PeerOnline { onion } => Self::PeerOnline { onion },
            CoreEvent::PeerOffline { onion } => Self::PeerOffline { onion },
            CoreEvent::RecordUpdated { onion, sequence } => Self::RecordUpdated { onion, sequence },
            CoreEvent::Message { from, data } => Self::Message { from, data },
            CoreEvent::HandshakeFailed { .. } | CoreEvent::PeerError { .. } => return None,
        })
    }
}

type Recv = Pin<
    Box<
        dyn Future<
                Output = (
                    Result<CoreEvent, broadcast::error::RecvError>,
                    broadcast::Receiver<CoreEvent>,
                ),
            > + Send,
    >,
>;

fn recv_next(mut rx: broadcast::Receiver<CoreEvent>) -> Recv {
    Box::pin(async move {
        let r = rx.recv().await;
        (r, rx)
    })
}

/// Events from the moment it was made ([`TorPeer::events`](super::TorPeer::events)),
/// as a [`futures_core::Stream`] or through [`Events::recv`]. Ends when the
/// node has shut down.
pub struct Events {
    next: Option<Recv>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("ended", &self.next.is_none())
            .finish()
    }
}

impl Events {
    pub(crate) fn new(rx: broadcast::Receiver<CoreEvent>) -> Self {
        Self {
            next: Some(recv_next(rx)),
        }
    }

    /// The next event; `None` once the node has shut down. Same as
    /// `StreamExt::next` without needing the `futures` crate.
    pub async fn recv(&mut self) -> Option<Event> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        loop {
            let Some(fut) = self.next.as_mut() else {
                return Poll::Ready(None);
            };
            let (result, rx) = std::task::ready!(fut.as_mut().poll(cx));
            match result {
                Ok(ev) => {
                    self.next = Some(recv_next(rx));
                    if let Some(ev) = Event::from_core(ev) {
                        return Poll::Ready(Some(ev));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    self.next = Some(recv_next(rx));
                    return Poll::Ready(Some(Event::Lagged { missed }));
                }
                Err(broadcast::error::RecvError::Closed) => {
                    self.next = None;
                    return Poll::Ready(None);
                }
            }
        }
    }
}

impl futures_core::Stream for Events {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.get_mut().poll_event(cx)
    }
}
