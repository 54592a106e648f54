//! Which TCP sockets a process holds, read from `/proc`, and a check that
//! they only go where a Tor-mode node may go.
//!
//! Why `/proc` and not a packet capture: it needs no privileges and sees
//! every socket the process owns, including connections that never carry
//! a byte. Each `/proc/PID/fd/N` that is a socket links to `socket:[INODE]`;
//! the kernel's TCP tables (`/proc/PID/net/tcp`, `tcp6`: the process's
//! network namespace) list each socket's endpoints, state and inode. Joining
//! the two gives the process's connections.
//!
//! The check ([`LeakPolicy::violations`]) answers the issue's question "does
//! the node open any connection except to Tor?": every connected socket
//! must be either an outbound connection to an allowed Tor endpoint (relay
//! ORPorts for an embedded arti node, the SOCKS port of its own tor for an
//! external-tor node) or an inbound one on the node's own listeners, and
//! every listener must be one of the node's own, on loopback.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::fs;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// TCP states as the kernel numbers them (`include/net/tcp_states.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TcpState {
    /// 01
    Established,
    /// 02
    SynSent,
    /// 03
    SynRecv,
    /// 04
    FinWait1,
    /// 05
    FinWait2,
    /// 06
    TimeWait,
    /// 07
    Close,
    /// 08
    CloseWait,
    /// 09
    LastAck,
    /// 0A
    Listen,
    /// 0B
    Closing,
    /// 0C
    NewSynRecv,
}

impl TcpState {
    fn from_hex(s: &str) -> Option<Self> {
        Some(match u8::from_str_radix(s, 16).ok()? {
            0x01 => Self::Established,
            0x02 => Self::SynSent,
            0x03 => Self::SynRecv,
            0x04 => Self::FinWait1,
            0x05 => Self::FinWait2,
            0x06 => Self::TimeWait,
            0x07 => Self::Close,
            0x08 => Self::CloseWait,
            0x09 => Self::LastAck,
            0x0A => Self::Listen,
            0x0B => Self::Closing,
            0x0C => Self::NewSynRecv,
            _ => return None,
        })
    }
}

/// One row of `/proc/net/tcp` or `/proc/net/tcp6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TcpSocket {
    /// Local endpoint (IPv4-mapped IPv6 addresses are shown as IPv4).
    pub local: SocketAddr,
    /// Remote endpoint (`0.0.0.0:0` for a listener).
    pub remote: SocketAddr,
    /// Connection state.
    pub state: TcpState,
    /// Socket inode, what `/proc/PID/fd/N` links to.
    pub inode: u64,
}

impl fmt::Display for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {} {:?} (inode {})",
            self.local, self.remote, self.state, self.inode
        )
    }
}

/// A line of a TCP table that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number in the table text.
    pub line: usize,
    /// What was wrong.
    pub reason: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// Parses the text of `/proc/net/tcp` (IPv4) or `/proc/net/tcp6` (IPv6):
/// a header line, then one socket per line.
///
/// Addresses are printed by the kernel as native-endian 32-bit words of the
/// network-order address, so each word is turned back into bytes with
/// `to_ne_bytes`; ports are plain hex.
pub fn parse_tcp_table(text: &str) -> Result<Vec<TcpSocket>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() || fields[0] == "sl" {
            continue;
        }
        let err = |reason| ParseError {
            line: line_no,
            reason,
        };
        if fields.len() < 10 {
            return Err(err("fewer than 10 fields"));
        }
        let local = parse_endpoint(fields[1]).ok_or(err("bad local address"))?;
        let remote = parse_endpoint(fields[2]).ok_or(err("bad remote address"))?;
        let state = TcpState::from_hex(fields[3]).ok_or(err("bad state"))?;
        let inode = fields[9].parse().map_err(|_| err("bad inode"))?;
        out.push(TcpSocket {
            local,
            remote,
            state,
            inode,
        });
    }
    Ok(out)
}

/// `HEXADDR:HEXPORT` as printed in the TCP tables.
fn parse_endpoint(s: &str) -> Option<SocketAddr> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(addr)?.to_ne_bytes())),
        32 => {
            let mut bytes = [0u8; 16];
            for (k, chunk) in bytes.chunks_exact_mut(4).enumerate() {
                chunk.copy_from_slice(&word(addr.get(8 * k..8 * k + 8)?)?.to_ne_bytes());
            }
            let v6 = Ipv6Addr::from(bytes);
            match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            }
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

fn word(hex: &str) -> Option<u32> {
    if hex.len() != 8 {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

/// The inode of a `/proc/PID/fd/N` link target `socket:[INODE]`, `None`
/// for anything else (files, pipes, `anon_inode:…`).
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The socket inodes among `pid`'s open file descriptors. A descriptor
/// closed while the directory is read is skipped.
pub fn socket_inodes(pid: u32) -> io::Result<BTreeSet<u64>> {
    let mut out = BTreeSet::new();
    for entry in fs::read_dir(format!("/proc/{pid}/fd"))? {
        let Ok(entry) = entry else { continue };
        let Ok(target) = fs::read_link(entry.path()) else {
            continue;
        };
        if let Some(inode) = target.to_str().and_then(socket_inode) {
            out.insert(inode);
        }
    }
    Ok(out)
}

/// Every TCP socket (IPv4 and IPv6) that `pid` holds open right now.
/// Sockets that are not TCP (Unix, UDP, netlink) are not returned; see
/// [`udp_sockets`] for UDP.
pub fn tcp_sockets(pid: u32) -> io::Result<Vec<TcpSocket>> {
    sockets_in_tables(pid, &["tcp", "tcp6"])
}

/// Every UDP socket `pid` holds (same row layout as TCP; a UDP socket's
/// "state" is 07 unconnected or 01 connected).
pub fn udp_sockets(pid: u32) -> io::Result<Vec<TcpSocket>> {
    sockets_in_tables(pid, &["udp", "udp6"])
}

fn sockets_in_tables(pid: u32, tables: &[&str]) -> io::Result<Vec<TcpSocket>> {
    let inodes = socket_inodes(pid)?;
    let mut by_inode: HashMap<u64, TcpSocket> = HashMap::new();
    for table in tables {
        let path = format!("/proc/{pid}/net/{table}");
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            // No IPv6 in this kernel: no tcp6 table.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let rows = parse_tcp_table(&text)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{path}: {e}")))?;
        for row in rows {
            by_inode.insert(row.inode, row);
        }
    }
    let mut out: Vec<TcpSocket> = inodes
        .iter()
        .filter_map(|i| by_inode.get(i).copied())
        .collect();
    out.sort();
    Ok(out)
}

/// Where a Tor-mode node's sockets may go.
#[derive(Debug, Clone, Default)]
pub struct LeakPolicy {
    /// Ports the node itself listens on (protocol listener, HTTP API).
    /// Listeners must be among them, and inbound connections arrive on them.
    pub own_ports: BTreeSet<u16>,
    /// The only endpoints the node may connect out to.
    pub allowed_remotes: BTreeSet<SocketAddr>,
    /// Endpoints that must never be reached (other peers' listeners and
    /// HTTP APIs). Implied by `allowed_remotes`; listed so a violation says
    /// which peer was reached directly.
    pub forbidden_remotes: BTreeMap<SocketAddr, String>,
}

/// A socket the policy does not allow, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The socket.
    pub socket: TcpSocket,
    /// Why it is not allowed.
    pub reason: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.socket, self.reason)
    }
}

impl LeakPolicy {
    /// The sockets that break the policy (empty: no leak).
    ///
    /// - a listener must be on loopback and on one of `own_ports`;
    /// - a connection whose local port is one of `own_ports` was accepted
    ///   by the node and must come from loopback (tor, or the test's own
    ///   HTTP client);
    /// - any other connection is outbound and must go to one of
    ///   `allowed_remotes`.
    pub fn violations(&self, sockets: &[TcpSocket]) -> Vec<Violation> {
        let mut out = Vec::new();
        for s in sockets {
            let bad = |reason: String| Violation { socket: *s, reason };
            if s.state == TcpState::Listen {
                if !s.local.ip().is_loopback() {
                    out.push(bad("listens on a non-loopback address".into()));
                } else if !self.own_ports.contains(&s.local.port()) {
                    out.push(bad(format!(
                        "listens on port {}, not one of the node's own {:?}",
                        s.local.port(),
                        self.own_ports
                    )));
                }
                continue;
            }
            if let Some(peer) = self.forbidden_remotes.get(&s.remote) {
                out.push(bad(format!("connects directly to {peer}")));
                continue;
            }
            if self.own_ports.contains(&s.local.port()) && s.local.ip().is_loopback() {
                if !s.remote.ip().is_loopback() {
                    out.push(bad("inbound connection from a non-loopback address".into()));
                }
                continue;
            }
            if !self.allowed_remotes.contains(&s.remote) {
                out.push(bad(format!(
                    "outbound to {}, which is not a Tor endpoint of this node",
                    s.remote
                )));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// Captured from a little-endian machine: a listener on 127.0.0.1:8080,
    /// an established connection 127.0.0.1:43210 -> 127.0.0.1:15100, one in
    /// SYN_SENT to 10.1.2.3:443.
    const TCP4: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1077 1 00000000b7f1b8d4 100 0 0 10 0
   1: 0100007F:A8CA 0100007F:3B1C 01 00000000:00000000 00:00000000 00000000     0        0 18714 1 00000000fcea6180 20 4 1 117 -1
   2: 0100007F:A8CB 0302010A:01BB 02 00000000:00000000 01:00000064 00000000     0        0 18715 2 00000000ae6c11bc 20 4 1 41 146
";

    /// `::1` port 8686 listening, and an IPv4-mapped ::ffff:127.0.0.1:9050
    /// connection.
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:21EE 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2001 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:C000 0000000000000000FFFF00000100007F:235A 01 00000000:00000000 00:00000000 00000000     0        0 2002 1 0000000000000000 20 4 30 10 -1
";

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn ipv4_table_rows_parse() {
        let rows = parse_tcp_table(TCP4).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].local, sa("127.0.0.1:8080"));
        assert_eq!(rows[0].remote, sa("0.0.0.0:0"));
        assert_eq!(rows[0].state, TcpState::Listen);
        assert_eq!(rows[0].inode, 1077);
        assert_eq!(rows[1].local, sa("127.0.0.1:43210"));
        assert_eq!(rows[1].remote, sa("127.0.0.1:15132"));
        assert_eq!(rows[1].state, TcpState::Established);
        assert_eq!(rows[2].remote, sa("10.1.2.3:443"));
        assert_eq!(rows[2].state, TcpState::SynSent);
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn ipv6_table_rows_parse_and_mapped_v4_reads_as_v4() {
        let rows = parse_tcp_table(TCP6).unwrap();
        assert_eq!(rows[0].local, sa("[::1]:8686"));
        assert_eq!(rows[0].state, TcpState::Listen);
        assert_eq!(rows[1].local, sa("127.0.0.1:49152"));
        assert_eq!(rows[1].remote, sa("127.0.0.1:9050"));
    }

    #[test]
    fn malformed_rows_are_typed_errors() {
        let header = "  sl  local_address rem_address   st\n";
        for (row, reason) in [
            (
                "   0: 0100007F:1F90 00000000:0000 0A",
                "fewer than 10 fields",
            ),
            (
                "   0: 0100007F 00000000:0000 0A 0:0 0:0 0 0 0 1",
                "bad local address",
            ),
            (
                "   0: 0100007F:1F90 0000:0000 0A 0:0 0:0 0 0 0 1",
                "bad remote address",
            ),
            (
                "   0: 0100007F:1F90 00000000:0000 ZZ 0:0 0:0 0 0 0 1",
                "bad state",
            ),
            (
                "   0: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 x",
                "bad inode",
            ),
            (
                "   0: 0100007F:FFFFF 00000000:0000 0A 0:0 0:0 0 0 0 1",
                "bad local address",
            ),
        ] {
            let err = parse_tcp_table(&format!("{header}{row}\n")).unwrap_err();
            assert_eq!(err, ParseError { line: 2, reason }, "{row}");
        }
        assert_eq!(parse_tcp_table("").unwrap(), vec![]);
    }

    #[test]
    fn socket_links_give_inodes_and_nothing_else() {
        assert_eq!(socket_inode("socket:[18714]"), Some(18714));
        assert_eq!(socket_inode("pipe:[18714]"), None);
        assert_eq!(socket_inode("anon_inode:[eventfd]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
        assert_eq!(socket_inode("socket:[x]"), None);
    }

    fn sock(local: &str, remote: &str, state: TcpState) -> TcpSocket {
        TcpSocket {
            local: sa(local),
            remote: sa(remote),
            state,
            inode: 1,
        }
    }

    fn policy() -> LeakPolicy {
        LeakPolicy {
            own_ports: [8686, 7447].into(),
            allowed_remotes: [sa("127.0.0.1:15100"), sa("127.0.0.1:15102")].into(),
            forbidden_remotes: [(sa("127.0.0.1:8700"), "peer p1's HTTP API".to_owned())].into(),
        }
    }

    #[test]
    fn tor_only_sockets_pass() {
        let ok = [
            sock("127.0.0.1:8686", "0.0.0.0:0", TcpState::Listen),
            sock("127.0.0.1:7447", "0.0.0.0:0", TcpState::Listen),
            sock("127.0.0.1:40000", "127.0.0.1:15100", TcpState::Established),
            sock("127.0.0.1:40001", "127.0.0.1:15102", TcpState::SynSent),
            // Inbound on own listeners: tor's forwarded stream, the test's HTTP.
            sock("127.0.0.1:7447", "127.0.0.1:50000", TcpState::Established),
            sock("127.0.0.1:8686", "127.0.0.1:50001", TcpState::CloseWait),
        ];
        assert_eq!(policy().violations(&ok), vec![]);
    }

    #[test]
    fn leaks_are_reported_with_a_reason() {
        let p = policy();
        let cases = [
            (
                sock("127.0.0.1:40002", "10.1.2.3:443", TcpState::SynSent),
                "not a Tor endpoint",
            ),
            (
                sock("127.0.0.1:40003", "127.0.0.1:8700", TcpState::Established),
                "connects directly to peer p1's HTTP API",
            ),
            (
                sock("0.0.0.0:7447", "0.0.0.0:0", TcpState::Listen),
                "non-loopback",
            ),
            (
                sock("127.0.0.1:9999", "0.0.0.0:0", TcpState::Listen),
                "not one of the node's own",
            ),
            (
                sock("127.0.0.1:7447", "192.168.1.5:50000", TcpState::Established),
                "inbound connection from a non-loopback",
            ),
        ];
        for (s, why) in cases {
            let v = p.violations(&[s]);
            assert_eq!(v.len(), 1, "{s}");
            assert!(v[0].reason.contains(why), "{s}: {}", v[0].reason);
        }
    }

    /// The live half: this process's own listener and connection show up
    /// with the right endpoints and states.
    #[test]
    fn own_process_sockets_are_found() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::net::TcpStream::connect(addr).unwrap();
        let (_server, _) = listener.accept().unwrap();
        let socks = tcp_sockets(std::process::id()).unwrap();
        assert!(
            socks
                .iter()
                .any(|s| s.local == addr && s.state == TcpState::Listen),
            "{socks:?}"
        );
        let out = client.local_addr().unwrap();
        assert!(
            socks
                .iter()
                .any(|s| s.local == out && s.remote == addr && s.state == TcpState::Established),
            "{socks:?}"
        );
    }
}
