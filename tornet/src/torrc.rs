//! torrc files for authorities, relays, clients and onion services.
//!
//! The options follow chutney's templates with the changes that made a
//! private network on a loaded 2-core machine fast and reliable (see
//! `/work/shared/notes/arti.md` §4.4): short aligned voting, measured
//! bandwidths so the first consensus weights everyone, guards ≠ exits, and
//! small, quiet processes.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;

/// `V3AuthVotingInterval`. With `TestingTorNetwork` an onion time period is
/// 24 intervals; 15 s gives 6 minutes, a whole number ≥ 5 that arti accepts
/// as `hsdir_interval` (10 s would give 4, which arti silently raises to 5,
/// and then arti and C tor compute different blinded keys).
pub(crate) const VOTING_INTERVAL_SECS: u32 = 15;
/// The first votes, before any consensus exists, come this often.
pub(crate) const INITIAL_VOTING_INTERVAL_SECS: u64 = 5;
/// Vote and distribution delay: tor's minimum.
const DELAY_SECS: u32 = 2;

/// Onion time period in minutes matching [`VOTING_INTERVAL_SECS`].
pub(crate) const fn hsdir_interval_minutes() -> u32 {
    24 * VOTING_INTERVAL_SECS / 60
}

/// What every node of the network shares.
#[derive(Debug)]
pub(crate) struct Common<'a> {
    pub(crate) dir_authority_lines: &'a [String],
}

fn base(c: &Common<'_>, nickname: &str, data_dir: &Path, extra_log: Option<&str>) -> String {
    let d = data_dir.display();
    let mut t = format!(
        "TestingTorNetwork 1\n\
         PathsNeededToBuildCircuits 0.67\n\
         DataDirectory {d}\n\
         RunAsDaemon 0\n\
         Nickname {nickname}\n\
         ShutdownWaitLength 0\n\
         Log notice file {d}/notice.log\n\
         SafeLogging 0\n\
         LogTimeGranularity 1\n\
         ProtocolWarnings 1\n\
         Sandbox 0\n\
         GeoIPFile /dev/null\n\
         GeoIPv6File /dev/null\n\
         ConnLimit 60\n"
    );
    if let Some(line) = extra_log {
        t.push_str(line);
        t.push('\n');
    }
    for line in c.dir_authority_lines {
        t.push_str(line);
        t.push('\n');
    }
    t
}

fn relay_part(t: &mut String, orport: u16, dirport: u16) {
    let _ = write!(
        t,
        "SocksPort 0\n\
         OrPort 127.0.0.1:{orport}\n\
         Address 127.0.0.1\n\
         DirPort 127.0.0.1:{dirport}\n\
         AssumeReachable 1\n\
         ServerDNSDetectHijacking 0\n\
         ServerDNSTestAddresses\n\
         ServerDNSResolvConfFile /dev/null\n\
         ContactInfo tornet@test.invalid\n"
    );
}

/// An authority's torrc.
///
/// Every running relay gets the Stable flag at once (uptime ≥ 0 is "always
/// stable"): otherwise only those above the median uptime do, and arti's
/// vanguards (Fast + Stable relays only) find one or two candidates where
/// vanguards-lite wants four.
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename them
pub(crate) fn authority(
    c: &Common<'_>,
    nickname: &str,
    data_dir: &Path,
    orport: u16,
    dirport: u16,
    voting_start_offset: u64,
    guard_fps: &[String],
    exit_fps: &[String],
    bandwidth_file: &Path,
) -> String {
    let mut t = base(c, nickname, data_dir, None);
    relay_part(&mut t, orport, dirport);
    let guards = routerset(guard_fps);
    let exits = routerset(exit_fps);
    let _ = write!(
        t,
        "AuthoritativeDirectory 1\n\
         V3AuthoritativeDirectory 1\n\
         ExitRelay 0\n\
         V3AuthNIntervalsValid 2\n\
         TestingV3AuthInitialVotingInterval {INITIAL_VOTING_INTERVAL_SECS}\n\
         TestingV3AuthInitialVoteDelay {DELAY_SECS}\n\
         TestingV3AuthInitialDistDelay {DELAY_SECS}\n\
         V3AuthVotingInterval {VOTING_INTERVAL_SECS}\n\
         V3AuthVoteDelay {DELAY_SECS}\n\
         V3AuthDistDelay {DELAY_SECS}\n\
         TestingV3AuthVotingStartOffset {voting_start_offset}\n\
         V3BandwidthsFile {}\n\
         TestingMinExitFlagThreshold 0\n\
         TestingDirAuthVoteHSDir *\n\
         TestingDirAuthVoteGuard {guards}\n\
         TestingDirAuthVoteGuardIsStrict 1\n\
         TestingDirAuthVoteExit {exits}\n\
         TestingDirAuthVoteExitIsStrict 1\n\
         AuthDirVoteStableGuaranteeMinUptime 0\n\
         AuthDirVoteStableGuaranteeMTBF 0\n",
        bandwidth_file.display()
    );
    t
}

/// An exit relay's torrc: exits to loopback only.
pub(crate) fn exit_relay(
    c: &Common<'_>,
    nickname: &str,
    data_dir: &Path,
    orport: u16,
    dirport: u16,
) -> String {
    let mut t = base(c, nickname, data_dir, None);
    relay_part(&mut t, orport, dirport);
    t.push_str(
        "ExitRelay 1\n\
         ExitPolicyRejectPrivate 0\n\
         ExitPolicyRejectLocalInterfaces 0\n\
         ExitPolicy accept 127.0.0.0/8:*\n\
         ExitPolicy reject *:*\n",
    );
    t
}

/// A client's torrc; `hidden_service` adds an onion service forwarding
/// `virtual_port` to `target`.
pub(crate) fn client(
    c: &Common<'_>,
    nickname: &str,
    data_dir: &Path,
    socks: SocketAddr,
    hidden_service: Option<(&Path, u16, SocketAddr)>,
) -> String {
    // The onion service logs at info level: "Uploading hidden service
    // descriptor: finished with status 200" is the readiness signal.
    let info_log = format!("Log info file {}/info.log", data_dir.display());
    let mut t = base(
        c,
        nickname,
        data_dir,
        hidden_service.map(|_| info_log.as_str()),
    );
    let _ = write!(
        t,
        "SocksPort {socks} ExtendedErrors\n\
         UseMicrodescriptors 0\n"
    );
    if let Some((dir, virtual_port, target)) = hidden_service {
        let _ = write!(
            t,
            "HiddenServiceDir {}\nHiddenServicePort {virtual_port} {target}\n",
            dir.display()
        );
    }
    t
}

/// `$FP1,$FP2,…` (a tor routerset of identity fingerprints).
fn routerset(fps: &[String]) -> String {
    fps.iter()
        .map(|fp| format!("${fp}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The authorities' bandwidth file: every node measured equal, so the first
/// consensus weights all of them (unmeasured relays are capped and clients
/// then refuse to build paths through them).
pub(crate) fn bandwidth_file(now_unix: u64, fps: &[String]) -> String {
    let mut t = format!("{now_unix}\n");
    for fp in fps {
        let _ = writeln!(t, "node_id=${fp} bw=1000");
    }
    t
}

/// `TestingV3AuthVotingStartOffset` so that the first vote falls soon after
/// `start_unix`: voting rounds begin at `offset + k·interval`, and tor
/// requires the offset to be below the initial interval.
pub(crate) fn voting_start_offset(start_unix: u64) -> u64 {
    let lead = u64::from(2 * DELAY_SECS) + 1;
    (start_unix + lead) % INITIAL_VOTING_INTERVAL_SECS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsdir_interval_is_whole_and_accepted_by_arti() {
        assert_eq!(24 * VOTING_INTERVAL_SECS % 60, 0);
        assert!(hsdir_interval_minutes() >= 5);
        assert_eq!(hsdir_interval_minutes(), 6);
    }

    #[test]
    fn offset_below_initial_interval() {
        for t in 1_700_000_000..1_700_000_020 {
            assert!(voting_start_offset(t) < INITIAL_VOTING_INTERVAL_SECS);
        }
    }

    #[test]
    fn bandwidth_file_lists_every_node() {
        let f = bandwidth_file(7, &["AA".into(), "BB".into()]);
        assert_eq!(f, "7\nnode_id=$AA bw=1000\nnode_id=$BB bw=1000\n");
    }

    #[test]
    fn authority_torrc_has_strict_guards_and_exits() {
        let lines = vec!["DirAuthority x".to_string()];
        let c = Common {
            dir_authority_lines: &lines,
        };
        let t = authority(
            &c,
            "test000a",
            Path::new("/d"),
            1,
            2,
            3,
            &["G1".into(), "G2".into()],
            &["E1".into()],
            Path::new("/d/bw"),
        );
        assert!(t.contains("TestingDirAuthVoteGuard $G1,$G2\n"));
        assert!(t.contains("TestingDirAuthVoteExit $E1\n"));
        assert!(t.contains("V3AuthVotingInterval 15\n"));
        assert!(t.contains("AuthDirVoteStableGuaranteeMinUptime 0\n"));
        assert!(t.contains("DirAuthority x\n"));
        assert!(t.contains("RunAsDaemon 0\n"));
    }

    #[test]
    fn onion_service_torrc_forwards_port_and_logs_info() {
        let c = Common {
            dir_authority_lines: &[],
        };
        let t = client(
            &c,
            "svc",
            Path::new("/d"),
            "127.0.0.1:9".parse().unwrap(),
            Some((Path::new("/hs"), 80, "127.0.0.1:8080".parse().unwrap())),
        );
        assert!(t.contains("HiddenServicePort 80 127.0.0.1:8080\n"));
        assert!(t.contains("Log info file /d/info.log\n"));
        assert!(t.contains("SocksPort 127.0.0.1:9 ExtendedErrors\n"));
    }
}
