//! Choosing loopback ports for one network.
//!
//! Ports stay below 32768: above it they collide with the kernel's ephemeral
//! range (32768–60999) once several networks or many connections run, and a
//! relay then fails to bind. A block is chosen starting from a per-process
//! seed (so two concurrent runs start in different places) and is only taken
//! if every port in it can be bound right now.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use crate::TorNetError;

const LOWEST: u16 = 10_000;
const HIGHEST: u16 = 32_000;

/// A block of loopback ports handed out one by one.
#[derive(Debug)]
pub(crate) struct PortBlock {
    next: u16,
    end: u16,
}

impl PortBlock {
    /// Finds `len` consecutive free ports, trying blocks from one derived
    /// from `seed`.
    pub(crate) fn reserve(len: u16, seed: u64) -> Result<Self, TorNetError> {
        if len == 0 || len > HIGHEST - LOWEST {
            return Err(TorNetError::NoPorts { needed: len });
        }
        let blocks = u64::from((HIGHEST - LOWEST) / len);
        let first = seed % blocks;
        for i in 0..blocks {
            let index = (first + i) % blocks;
            // index < blocks, so base + len <= HIGHEST fits in u16.
            let base = LOWEST + u16::try_from(index).unwrap_or(0) * len;
            if (base..base + len).all(port_is_free) {
                return Ok(PortBlock {
                    next: base,
                    end: base + len,
                });
            }
        }
        Err(TorNetError::NoPorts { needed: len })
    }

    /// The next port of the block that can still be bound.
    pub(crate) fn take(&mut self) -> Result<u16, TorNetError> {
        while self.next < self.end {
            let port = self.next;
            self.next += 1;
            if port_is_free(port) {
                return Ok(port);
            }
        }
        Err(TorNetError::NoPorts { needed: 1 })
    }
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).is_ok()
}

/// The loopback address with `port`.
pub(crate) fn local(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_ports_are_distinct_and_in_range() {
        let mut block = PortBlock::reserve(10, 7).unwrap();
        let ports: Vec<u16> = (0..10).map(|_| block.take().unwrap()).collect();
        let mut sorted = ports.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), 10);
        assert!(ports.iter().all(|p| (LOWEST..HIGHEST).contains(p)));
        assert!(
            block.take().is_err(),
            "block must be exhausted after len ports"
        );
    }

    #[test]
    fn busy_port_is_skipped() {
        let mut block = PortBlock::reserve(4, 11).unwrap();
        let first = block.take().unwrap();
        let _hold = TcpListener::bind(local(first + 1)).unwrap();
        assert_eq!(block.take().unwrap(), first + 2);
    }

    #[test]
    fn zero_length_is_refused() {
        assert!(PortBlock::reserve(0, 1).is_err());
    }
}
