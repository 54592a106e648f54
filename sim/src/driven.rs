//! The slice of the sans-IO node API the simulator drives, as a trait.
//!
//! The simulator runs the real [`torpeer_core::Node`]; the trait exists so
//! that the simulator's own machinery (links, loss, churn, partitions,
//! measurement) can also be tested against a tiny reference node whose
//! behaviour is known, independently of the real node's evolution.

use std::net::SocketAddr;

use torpeer_core::identity::Identity;
use torpeer_core::node::{NodeConfig, NodeStats, PeerInfo};
use torpeer_core::{Input, Node, OnionAddress, Output, SignedRecord, Timestamp, proto};

/// A sans-IO node the simulator can drive. Method meanings are those of
/// [`torpeer_core::Node`].
pub trait SimNode: Sized + std::fmt::Debug {
    /// Construct; `None` if the node refuses its configuration.
    fn create(
        identity: Identity,
        config: NodeConfig,
        seed: [u8; 32],
        now: Timestamp,
    ) -> Option<Self>;
    /// See [`Node::handle_input`].
    fn handle_input(&mut self, now: Timestamp, input: Input<'_>);
    /// See [`Node::handle_timeout`].
    fn handle_timeout(&mut self, now: Timestamp);
    /// See [`Node::handle_peer_list`].
    fn handle_peer_list(
        &mut self,
        now: Timestamp,
        list: &proto::PeerList,
        source: Option<OnionAddress>,
    ) -> usize;
    /// See [`Node::add_bootstrap`].
    fn add_bootstrap(&mut self, now: Timestamp, onion: OnionAddress, tcp: Option<SocketAddr>);
    /// See [`Node::poll_output`].
    fn poll_output(&mut self) -> Option<Output>;
    /// See [`Node::poll_timeout`].
    fn poll_timeout(&self) -> Option<Timestamp>;
    /// See [`Node::own_record`].
    fn own_record(&self) -> &SignedRecord;
    /// See [`Node::peers`].
    fn peers(&self) -> Vec<PeerInfo>;
    /// See [`Node::stats`].
    fn stats(&self) -> NodeStats;
}

impl SimNode for Node {
    fn create(
        identity: Identity,
        config: NodeConfig,
        seed: [u8; 32],
        now: Timestamp,
    ) -> Option<Self> {
        Node::new(identity, config, seed, now).ok()
    }
    fn handle_input(&mut self, now: Timestamp, input: Input<'_>) {
        Node::handle_input(self, now, input);
    }
    fn handle_timeout(&mut self, now: Timestamp) {
        Node::handle_timeout(self, now);
    }
    fn handle_peer_list(
        &mut self,
        now: Timestamp,
        list: &proto::PeerList,
        source: Option<OnionAddress>,
    ) -> usize {
        Node::handle_peer_list(self, now, list, source)
    }
    fn add_bootstrap(&mut self, now: Timestamp, onion: OnionAddress, tcp: Option<SocketAddr>) {
        Node::add_bootstrap(self, now, onion, tcp);
    }
    fn poll_output(&mut self) -> Option<Output> {
        Node::poll_output(self)
    }
    fn poll_timeout(&self) -> Option<Timestamp> {
        Node::poll_timeout(self)
    }
    fn own_record(&self) -> &SignedRecord {
        Node::own_record(self)
    }
    fn peers(&self) -> Vec<PeerInfo> {
        Node::peers(self)
    }
    fn stats(&self) -> NodeStats {
        Node::stats(self)
    }
}
