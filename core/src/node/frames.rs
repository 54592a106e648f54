//! Bytes in and frames out: decoding, dispatch by frame kind, error frames,
//! and the bookkeeping when a connection goes away (PROTOCOL.md §5, §7).

use crate::codec::{FrameError, encode_frame};
use crate::proto;
use crate::proto::frame::Kind;
use crate::record::Role;

use super::conn::{Conn, ConnState};
use super::{ConnectionId, Direction, Event, FailureReason, Node, Output, PeerStatus, Timestamp};

impl Node {
    pub(super) fn on_opened(&mut self, now: Timestamp, conn: ConnectionId, direction: Direction) {
        if self.shut_down {
            self.outputs.push_back(Output::Close { conn });
            return;
        }
        match direction {
            Direction::Outbound => {
                let Some(c) = self.conns.get_mut(&conn) else {
                    // Not a dial of ours (or one we already gave up on).
                    self.outputs.push_back(Output::Close { conn });
                    return;
                };
                if !matches!(c.state, ConnState::Dialing) {
                    return;
                }
                c.handshake_deadline = now.plus_millis(self.config.handshake_timeout_ms);
                c.last_recv = now;
                self.start_hello(now, conn);
            }
            Direction::Inbound => {
                if self.conns.contains_key(&conn) {
                    return;
                }
                if self.conns.len() >= self.config.max_connections {
                    self.send_error(
                        conn,
                        proto::ErrorCode::Overloaded,
                        "too many connections, try another peer",
                    );
                    self.outputs.push_back(Output::Close { conn });
                    return;
                }
                let c = Conn::new(
                    Direction::Inbound,
                    ConnState::AwaitHello,
                    None,
                    now,
                    self.config.handshake_timeout_ms,
                    self.config.max_frame_len,
                    self.config.push_burst,
                );
                self.conns.insert(conn, c);
            }
        }
    }

    /// Encode and queue one frame; `false` if it would exceed the frame
    /// limit (nothing is sent then).
    pub(super) fn send_frame(&mut self, conn: ConnectionId, kind: Kind) -> bool {
        match encode_frame(kind, self.config.max_frame_len) {
            Ok(bytes) => {
                self.stats.frames_sent += 1;
                self.stats.bytes_sent += bytes.len() as u64;
                self.outputs.push_back(Output::Transmit { conn, bytes });
                true
            }
            Err(_) => false,
        }
    }

    pub(super) fn send_error(&mut self, conn: ConnectionId, code: proto::ErrorCode, message: &str) {
        self.send_frame(
            conn,
            Kind::Error(proto::Error {
                code: code as i32,
                message: message.to_owned(),
            }),
        );
    }

    /// Send an error frame, report the failure, close the stream.
    pub(super) fn fail(
        &mut self,
        now: Timestamp,
        conn: ConnectionId,
        code: proto::ErrorCode,
        reason: &str,
        message: String,
    ) {
        self.send_error(conn, code, &message);
        let peer = self.conns.get_mut(&conn).and_then(|c| {
            c.broken = true;
            c.peer.or(c.target)
        });
        self.outputs
            .push_back(Output::Event(Event::HandshakeFailed {
                conn,
                peer,
                reason: FailureReason {
                    code: reason.to_owned(),
                    message: message.clone(),
                },
            }));
        self.close_local(now, conn, Some(message));
    }

    /// Close a stream from our side.
    pub(super) fn close_local(&mut self, now: Timestamp, conn: ConnectionId, why: Option<String>) {
        if self.conns.contains_key(&conn) {
            self.outputs.push_back(Output::Close { conn });
            self.drop_conn(now, conn, why);
        }
    }

    /// Forget a stream (closed by either side or a failed dial) and update
    /// the peer's state: a failed dial counts against the target, a lost
    /// authenticated connection schedules one redial, a goodbye marks the
    /// peer offline.
    pub(super) fn drop_conn(&mut self, now: Timestamp, conn: ConnectionId, why: Option<String>) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        if let Some(target) = c.target
            && self.dialing.get(&target) == Some(&conn)
        {
            self.dialing.remove(&target);
        }
        if !c.is_established() {
            if let Some(target) = c.target {
                self.dial_failed(now, target, why.as_deref().unwrap_or("dial failed"));
            }
            self.schedule_dial_check(now);
            return;
        }
        let Some(peer) = c.peer else { return };
        if self.by_peer.get(&peer) != Some(&conn) {
            // A duplicate we closed; the kept connection carries on.
            return;
        }
        self.by_peer.remove(&peer);
        if let Some(e) = self.table.get_mut(&peer) {
            e.conn = None;
            e.last_seen = Some(now);
        }
        if c.rotated_out {
            // A rotation: the peer is fine, we just stop talking to it.
        } else if c.said_goodbye {
            self.mark_offline(now, peer);
        } else if c.broken {
            // It broke the protocol: no immediate redial, back off.
            let failures = self.table.get(&peer).map_or(1, |e| e.failures + 1);
            let delay = self.backoff(failures);
            if let Some(e) = self.table.get_mut(&peer) {
                e.failures = failures;
                e.next_retry = now.plus_millis(delay);
            }
        } else if !self.shut_down {
            if let Some(e) = self.table.get_mut(&peer) {
                e.next_retry = now;
            }
            self.redial.insert(peer);
        }
        self.schedule_dial_check(now);
    }

    /// Status → offline, with an event and a push to subscribers.
    pub(super) fn mark_offline(&mut self, now: Timestamp, peer: crate::onion::OnionAddress) {
        let Some(e) = self.table.get_mut(&peer) else {
            return;
        };
        if e.status == PeerStatus::Offline {
            return;
        }
        e.status = PeerStatus::Offline;
        self.outputs
            .push_back(Output::Event(Event::PeerOffline { onion: peer }));
        self.push_event(now, proto::peer_event::Kind::Offline, &peer, None);
    }

    pub(super) fn on_received(&mut self, now: Timestamp, conn: ConnectionId, bytes: &[u8]) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        self.stats.bytes_received += bytes.len() as u64;
        c.decoder.push(bytes);
        loop {
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            match c.decoder.next_frame() {
                Ok(None) => return,
                Ok(Some(kind)) => {
                    c.last_recv = now;
                    self.stats.frames_received += 1;
                    self.dispatch(now, conn, kind);
                }
                Err(FrameError::UnknownKind) => {
                    c.last_recv = now;
                    self.stats.frames_received += 1;
                    self.send_error(
                        conn,
                        proto::ErrorCode::UnknownMessage,
                        "unknown frame kind (newer protocol?)",
                    );
                }
                Err(e) => {
                    let code = match e {
                        FrameError::TooLarge { .. } => proto::ErrorCode::FrameTooLarge,
                        _ => proto::ErrorCode::ProtocolViolation,
                    };
                    self.fail(now, conn, code, e.code(), e.to_string());
                    return;
                }
            }
        }
    }

    fn dispatch(&mut self, now: Timestamp, conn: ConnectionId, kind: Kind) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let established = c.is_established();
        match kind {
            Kind::Hello(h) => self.on_hello(now, conn, h),
            Kind::HelloAck(a) => self.on_hello_ack(now, conn, a),
            Kind::HelloFinish(f) => self.on_hello_finish(now, conn, f),
            Kind::Error(e) => self.on_error_frame(now, conn, e),
            _ if !established => self.fail(
                now,
                conn,
                proto::ErrorCode::ProtocolViolation,
                "protocol_violation",
                "session frame before the handshake completed".into(),
            ),
            Kind::GetPeers(g) => self.on_get_peers(now, conn, g),
            Kind::Peers(p) => self.on_peers(now, conn, p),
            Kind::Subscribe(s) => c.subscribed = s.enabled,
            Kind::PeerEvent(e) => self.on_peer_event(now, conn, e),
            Kind::Ping(p) => {
                self.send_frame(conn, Kind::Pong(proto::Pong { nonce: p.nonce }));
            }
            Kind::Pong(_) => {}
            Kind::Goodbye(g) => {
                if g.rotating {
                    c.rotated_out = true;
                } else {
                    c.said_goodbye = true;
                }
                self.close_local(now, conn, Some("peer said goodbye".into()));
            }
            Kind::AppData(d) => self.on_app_data(conn, d),
        }
    }

    fn on_error_frame(&mut self, now: Timestamp, conn: ConnectionId, e: proto::Error) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let code = proto::ErrorCode::try_from(e.code).unwrap_or(proto::ErrorCode::Unspecified);
        match (c.is_established(), c.peer) {
            (true, Some(peer)) => {
                self.outputs.push_back(Output::Event(Event::PeerError {
                    peer,
                    code,
                    message: e.message,
                }));
            }
            _ => {
                let peer = c.target;
                self.outputs
                    .push_back(Output::Event(Event::HandshakeFailed {
                        conn,
                        peer,
                        reason: FailureReason {
                            code: format!("peer_error:{}", code.as_str_name().to_ascii_lowercase()),
                            message: e.message.clone(),
                        },
                    }));
                self.close_local(now, conn, Some(e.message));
            }
        }
    }

    fn on_app_data(&mut self, conn: ConnectionId, d: proto::AppData) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let (Some(from), peer_role) = (c.peer, c.peer_role) else {
            return;
        };
        if self.config.role == Role::Router {
            self.send_error(
                conn,
                proto::ErrorCode::RouterRefusesAppData,
                "this node is a router: it does peering only and refuses application data",
            );
        } else if peer_role == Some(Role::Router) {
            self.send_error(
                conn,
                proto::ErrorCode::ProtocolViolation,
                "routers do not send application data",
            );
        } else if d.data.len() > self.config.max_message_len {
            self.send_error(
                conn,
                proto::ErrorCode::FrameTooLarge,
                "application message larger than this node accepts",
            );
        } else {
            self.outputs
                .push_back(Output::Event(Event::Message { from, data: d.data }));
        }
    }
}
