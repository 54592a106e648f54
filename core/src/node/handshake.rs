//! The three-message handshake (PROTOCOL.md §6): version and network
//! checks, exchange of verified records, and signatures over a transcript
//! that binds both identities and both fresh nonces, so that a replayed
//! record never authenticates a live connection.

use rand_core::Rng;

use crate::PROTOCOL_VERSION;
use crate::identity::{self, SignatureContext};
use crate::network::NetworkId;
use crate::onion::OnionAddress;
use crate::proto;
use crate::proto::frame::Kind;
use crate::record::SignedRecord;
use crate::table::{Admitted, Provenance, Rejected, Verified};

use super::conn::{ConnState, NONCE_LEN};
use super::{ConnectionId, Direction, Event, Node, Output, PeerStatus, Timestamp};

/// Label at the start of every transcript.
pub const TRANSCRIPT_LABEL: &[u8] = b"torpeer handshake v1\0";

/// Who signs a transcript; the last byte of the transcript, so neither
/// side's signature can be reflected as the other's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// The side that accepted the stream (signs `HelloAck`).
    Listener = 1,
    /// The side that dialled (signs `HelloFinish`).
    Dialler = 2,
}

/// The handshake transcript (PROTOCOL.md §6.2): signed with
/// [`SignatureContext::Handshake`].
///
/// ```text
/// "torpeer handshake v1\0" ‖ u32 BE version ‖ [32] network id
///   ‖ [32] dialler key ‖ [32] listener key
///   ‖ [32] dialler nonce ‖ [32] listener nonce ‖ u8 signer (1 listener, 2 dialler)
/// ```
pub fn transcript(
    network: &NetworkId,
    dialler: &OnionAddress,
    listener: &OnionAddress,
    dialler_nonce: &[u8; 32],
    listener_nonce: &[u8; 32],
    signer: Signer,
) -> Vec<u8> {
    let mut t = Vec::with_capacity(TRANSCRIPT_LABEL.len() + 4 + 32 * 5 + 1);
    t.extend_from_slice(TRANSCRIPT_LABEL);
    t.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    t.extend_from_slice(&network.0);
    t.extend_from_slice(dialler.public_key());
    t.extend_from_slice(listener.public_key());
    t.extend_from_slice(dialler_nonce);
    t.extend_from_slice(listener_nonce);
    t.push(signer as u8);
    t
}

/// A failed check: the error frame's code, the stable reason code, and a
/// message for humans.
type Refusal = (proto::ErrorCode, String, String);

impl Node {
    fn fresh_nonce(&mut self) -> [u8; NONCE_LEN] {
        let mut n = [0u8; NONCE_LEN];
        self.rng.fill_bytes(&mut n);
        n
    }

    /// Dialler, stream open: send `Hello`.
    pub(super) fn start_hello(&mut self, now: Timestamp, conn: ConnectionId) {
        let _ = now;
        let nonce = self.fresh_nonce();
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let target = c.target.map(|t| t.to_string()).unwrap_or_default();
        c.state = ConnState::AwaitAck { nonce };
        let hello = proto::Hello {
            version: PROTOCOL_VERSION,
            network: self.config.params.name.to_string(),
            record: Some(self.own_record.to_proto()),
            nonce: nonce.to_vec(),
            target,
        };
        self.send_frame(conn, Kind::Hello(hello));
    }

    /// Version and network, the checks both sides make first.
    fn check_version_network(&self, version: u32, network: &str) -> Result<(), Refusal> {
        if version != PROTOCOL_VERSION {
            return Err((
                proto::ErrorCode::VersionMismatch,
                "version_mismatch".into(),
                format!(
                    "protocol version mismatch: this node speaks version {PROTOCOL_VERSION}, the peer sent {version}"
                ),
            ));
        }
        if network != self.config.params.name.as_str() {
            return Err((
                proto::ErrorCode::WrongNetwork,
                "wrong_network".into(),
                format!(
                    "wrong network: this node is on network {:?}, the peer is on {network:?}",
                    self.config.params.name.as_str()
                ),
            ));
        }
        Ok(())
    }

    /// Parse and fully verify the peer's record (counted in the reject
    /// stats when refused).
    fn check_record(
        &mut self,
        now: Timestamp,
        record: Option<&proto::PeerRecord>,
    ) -> Result<Verified, Refusal> {
        let bad = |code: &str, msg: String| {
            (
                proto::ErrorCode::BadRecord,
                format!("bad_record:{code}"),
                msg,
            )
        };
        let Some(record) = record else {
            return Err(bad("missing", "handshake carries no record".into()));
        };
        let parsed = SignedRecord::from_proto(record).map_err(|e| {
            self.table.count_reject(e.code());
            bad(e.code(), format!("peer record refused: {e}"))
        })?;
        match self.table.check(now, parsed) {
            Ok(v) => Ok(v),
            Err(Rejected::OwnRecord) => Err((
                proto::ErrorCode::BadHandshake,
                "self_connection".into(),
                "refusing a connection to ourselves".into(),
            )),
            Err(e) => {
                self.table.count_reject(e.code());
                Err(bad(e.code(), format!("peer record refused: {e}")))
            }
        }
    }

    fn nonce_of(bytes: &[u8]) -> Result<[u8; NONCE_LEN], Refusal> {
        <[u8; NONCE_LEN]>::try_from(bytes).map_err(|_| {
            (
                proto::ErrorCode::BadHandshake,
                "bad_nonce".into(),
                format!("handshake nonce must be {NONCE_LEN} bytes"),
            )
        })
    }

    fn refuse(&mut self, now: Timestamp, conn: ConnectionId, r: Refusal) {
        self.fail(now, conn, r.0, &r.1, r.2);
    }

    fn out_of_order(&mut self, now: Timestamp, conn: ConnectionId, what: &str) {
        self.fail(
            now,
            conn,
            proto::ErrorCode::ProtocolViolation,
            "protocol_violation",
            format!("unexpected {what} at this point of the handshake"),
        );
    }

    /// Listener: the dialler's `Hello`.
    pub(super) fn on_hello(&mut self, now: Timestamp, conn: ConnectionId, h: proto::Hello) {
        if !matches!(
            self.conns.get(&conn).map(|c| &c.state),
            Some(ConnState::AwaitHello)
        ) {
            return self.out_of_order(now, conn, "Hello");
        }
        match self.hello_checks(now, &h) {
            Ok((verified, dialler_nonce)) => {
                let nonce = self.fresh_nonce();
                let dialler = verified.record().body.address;
                let t = transcript(
                    &self.config.params.name.id(),
                    &dialler,
                    &self.address(),
                    &dialler_nonce,
                    &nonce,
                    Signer::Listener,
                );
                let signature = self.identity.sign(SignatureContext::Handshake, &t);
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.state = ConnState::AwaitFinish {
                        record: Box::new(verified),
                        dialler_nonce,
                        nonce,
                    };
                }
                let ack = proto::HelloAck {
                    version: PROTOCOL_VERSION,
                    network: self.config.params.name.to_string(),
                    record: Some(self.own_record.to_proto()),
                    nonce: nonce.to_vec(),
                    signature: signature.to_vec(),
                };
                self.send_frame(conn, Kind::HelloAck(ack));
            }
            Err(r) => self.refuse(now, conn, r),
        }
    }

    fn hello_checks(
        &mut self,
        now: Timestamp,
        h: &proto::Hello,
    ) -> Result<(Verified, [u8; NONCE_LEN]), Refusal> {
        self.check_version_network(h.version, &h.network)?;
        let nonce = Self::nonce_of(&h.nonce)?;
        let me = self.address();
        if OnionAddress::parse(&h.target).ok() != Some(me) {
            return Err((
                proto::ErrorCode::BadHandshake,
                "wrong_target".into(),
                format!("this is {me}, the dialler meant to reach {:?}", h.target),
            ));
        }
        let verified = self.check_record(now, h.record.as_ref())?;
        Ok((verified, nonce))
    }

    /// Dialler: the listener's `HelloAck`.
    pub(super) fn on_hello_ack(&mut self, now: Timestamp, conn: ConnectionId, a: proto::HelloAck) {
        let (nonce, target) = match self.conns.get(&conn) {
            Some(c) => match (&c.state, c.target) {
                (ConnState::AwaitAck { nonce }, Some(target)) => (*nonce, target),
                _ => return self.out_of_order(now, conn, "HelloAck"),
            },
            None => return,
        };
        match self.ack_checks(now, &a, &nonce, &target) {
            Ok(verified) => {
                let Ok(listener_nonce) = Self::nonce_of(&a.nonce) else {
                    return;
                };
                let t = transcript(
                    &self.config.params.name.id(),
                    &self.address(),
                    &target,
                    &nonce,
                    &listener_nonce,
                    Signer::Dialler,
                );
                let signature = self.identity.sign(SignatureContext::Handshake, &t);
                self.send_frame(
                    conn,
                    Kind::HelloFinish(proto::HelloFinish {
                        signature: signature.to_vec(),
                    }),
                );
                self.established(now, conn, verified);
            }
            Err(r) => self.refuse(now, conn, r),
        }
    }

    fn ack_checks(
        &mut self,
        now: Timestamp,
        a: &proto::HelloAck,
        nonce: &[u8; NONCE_LEN],
        target: &OnionAddress,
    ) -> Result<Verified, Refusal> {
        self.check_version_network(a.version, &a.network)?;
        let listener_nonce = Self::nonce_of(&a.nonce)?;
        if let Some(r) = &a.record
            && OnionAddress::parse(&r.onion).ok() != Some(*target)
        {
            return Err((
                proto::ErrorCode::BadHandshake,
                "wrong_onion".into(),
                format!(
                    "dialled {target} but the listener presented a record for {:?}",
                    r.onion
                ),
            ));
        }
        let verified = self.check_record(now, a.record.as_ref())?;
        let t = transcript(
            &self.config.params.name.id(),
            &self.address(),
            target,
            nonce,
            &listener_nonce,
            Signer::Listener,
        );
        if !identity::verify(target, SignatureContext::Handshake, &t, &a.signature) {
            return Err((
                proto::ErrorCode::BadHandshake,
                "bad_signature".into(),
                "listener's handshake signature does not verify".into(),
            ));
        }
        Ok(verified)
    }

    /// Listener: the dialler's `HelloFinish`.
    pub(super) fn on_hello_finish(
        &mut self,
        now: Timestamp,
        conn: ConnectionId,
        f: proto::HelloFinish,
    ) {
        let (verified, dialler_nonce, nonce) = match self.conns.get(&conn).map(|c| &c.state) {
            Some(ConnState::AwaitFinish {
                record,
                dialler_nonce,
                nonce,
            }) => ((**record).clone(), *dialler_nonce, *nonce),
            Some(_) => return self.out_of_order(now, conn, "HelloFinish"),
            None => return,
        };
        let dialler = verified.record().body.address;
        let t = transcript(
            &self.config.params.name.id(),
            &dialler,
            &self.address(),
            &dialler_nonce,
            &nonce,
            Signer::Dialler,
        );
        if !identity::verify(&dialler, SignatureContext::Handshake, &t, &f.signature) {
            return self.refuse(
                now,
                conn,
                (
                    proto::ErrorCode::BadHandshake,
                    "bad_signature".into(),
                    "dialler's handshake signature does not verify: the record is not proven live"
                        .into(),
                ),
            );
        }
        self.established(now, conn, verified);
    }

    /// Both sides authenticated: keep one connection per peer, update the
    /// table, start gossip, flush queued messages.
    fn established(&mut self, now: Timestamp, conn: ConnectionId, verified: Verified) {
        let peer = verified.record().body.address;
        let role = verified.record().body.role;
        let me = self.address();
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.state = ConnState::Established;
        c.peer = Some(peer);
        c.peer_role = Some(role);
        c.last_recv = now;
        c.last_ping = now;
        let dialler_of = |d: Direction| if d == Direction::Outbound { me } else { peer };
        let new_dialler = dialler_of(c.direction);
        if self.dialing.get(&peer) == Some(&conn) {
            self.dialing.remove(&peer);
        }
        if let Some(b) = self.bootstrap.get_mut(&peer) {
            b.failures = 0;
        }
        match self
            .table
            .insert_verified(now, verified, Provenance::Direct)
        {
            Ok(Admitted::New) => {
                self.outputs.push_back(Output::Event(Event::PeerDiscovered {
                    onion: peer,
                    learned_from: None,
                }));
                self.push_event(now, proto::peer_event::Kind::Joined, &peer, Some(conn));
            }
            Ok(Admitted::Updated) => {
                let sequence = self
                    .table
                    .get(&peer)
                    .map_or(0, |e| e.record().body.sequence);
                self.outputs.push_back(Output::Event(Event::RecordUpdated {
                    onion: peer,
                    sequence,
                }));
                self.push_event(now, proto::peer_event::Kind::Updated, &peer, Some(conn));
            }
            Ok(Admitted::Unchanged) | Err(_) => {}
        }
        // One connection per peer: keep the one dialled by the lower key
        // (both sides decide the same), or the newer one if the same side
        // dialled both.
        let mut was_connected = false;
        if let Some(&old) = self.by_peer.get(&peer)
            && old != conn
        {
            was_connected = true;
            let old_dialler = self
                .conns
                .get(&old)
                .map_or(new_dialler, |c| dialler_of(c.direction));
            let keep_new = new_dialler <= old_dialler;
            if keep_new {
                self.by_peer.insert(peer, conn);
                self.close_local(now, old, Some("duplicate connection".into()));
            } else {
                self.close_local(now, conn, Some("duplicate connection".into()));
                return;
            }
        }
        self.by_peer.insert(peer, conn);
        self.redial.remove(&peer);
        if let Some(e) = self.table.get_mut(&peer) {
            e.status = PeerStatus::Online;
            e.last_seen = Some(now);
            e.failures = 0;
            e.next_retry = now;
            e.conn = Some(conn);
        }
        if !was_connected {
            self.outputs
                .push_back(Output::Event(Event::PeerOnline { onion: peer }));
        }
        self.request_peers(conn, super::gossip::MAX_ANSWER as u32, true);
        self.send_frame(conn, Kind::Subscribe(proto::Subscribe { enabled: true }));
        self.finish_rotation(now, conn);
        if let Some(queue) = self.queues.remove(&peer) {
            if role == crate::record::Role::Router {
                return;
            }
            for data in queue {
                self.send_frame(conn, Kind::AppData(proto::AppData { data }));
            }
        }
    }
}
