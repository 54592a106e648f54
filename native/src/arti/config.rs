//! `ArtiConfig`: what the embedded Tor client needs, as a serde struct that
//! the node's `[arti]` TOML section resolves to, and (feature `arti`) its
//! translation into arti's `TorClientConfig`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[cfg(feature = "arti")]
use arti_client::TorClientConfig;
#[cfg(feature = "arti")]
use arti_client::config::TorClientConfigBuilder;
#[cfg(feature = "arti")]
use arti_client::config::dir::FallbackDir;
use serde::{Deserialize, Serialize};
#[cfg(feature = "arti")]
use tor_config::ExplicitOrAuto;
#[cfg(feature = "arti")]
use tor_guardmgr::VanguardMode;
#[cfg(feature = "arti")]
use tor_hsservice::HsNickname;
#[cfg(feature = "arti")]
use tor_keymgr::config::CTorServiceKeystoreConfigBuilder;
#[cfg(feature = "arti")]
use tor_llcrypto::pk::ed25519::Ed25519Identity;
#[cfg(feature = "arti")]
use tor_llcrypto::pk::rsa::RsaIdentity;

#[cfg(feature = "arti")]
use super::ArtiError;

/// Default for [`ArtiConfig::bootstrap_timeout_secs`]: a fresh client on the
/// public network needs tens of seconds; a private one well under a second.
pub const DEFAULT_BOOTSTRAP_TIMEOUT_SECS: u64 = 180;
/// Default for [`ArtiConfig::connect_timeout_secs`]: an onion connect is a
/// descriptor fetch, an introduction and a rendezvous (seconds on the real
/// network, more when a circuit has to be rebuilt); below the driver's own
/// 60 s dial limit so the transport's typed timeout is what callers see.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 45;

/// Which vanguards arti puts on onion-service circuits (arti's
/// `vanguards.mode`; the `vanguards` cargo feature of arti-client is on).
/// Vanguards keep the middle hops of onion-service circuits in small,
/// slowly rotating sets, so an adversary who runs relays cannot quickly
/// become the hop next to a service's guard and find that guard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VanguardsMode {
    /// Vanguards-lite: one extra layer (4 second-hop vanguards, each kept
    /// 1–12 days). arti's default, and Tor's for clients and services.
    #[default]
    Lite,
    /// Full vanguards: second- and third-hop sets (4 and 8 relays), one
    /// more hop on service-side circuits. For services facing a strong
    /// adversary; needs relays with the Fast and Stable flags in both sets.
    Full,
    /// No vanguards: onion-service circuits pick middle hops afresh.
    Disabled,
}

impl VanguardsMode {
    /// The config spelling (`lite`, `full`, `disabled`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lite => "lite",
            Self::Full => "full",
            Self::Disabled => "disabled",
        }
    }
}

/// Configuration of the embedded arti client and onion service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtiConfig {
    /// arti's state directory (guards, keystore of derived onion keys). One
    /// per running client: arti locks it.
    pub state_dir: PathBuf,
    /// arti's directory cache.
    pub cache_dir: PathBuf,
    /// Nickname of the onion service inside arti (a label, not secret).
    #[serde(default = "default_nickname")]
    pub nickname: String,
    /// A private network instead of the public Tor network.
    #[serde(default)]
    pub network: Option<CustomNetwork>,
    /// Allow streams to private addresses such as 127.0.0.1 through exits
    /// (private test networks only).
    #[serde(default)]
    pub allow_local_addrs: bool,
    /// Overrides that are only sound on a private test network.
    #[serde(default)]
    pub testing: TestingOverrides,
    /// Give up starting when arti has not bootstrapped after this long.
    #[serde(default = "default_bootstrap_timeout")]
    pub bootstrap_timeout_secs: u64,
    /// Give up one stream (dial or bootstrap fetch) after this long.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// Vanguards on onion-service circuits (default: lite).
    #[serde(default)]
    pub vanguards: VanguardsMode,
}

fn default_nickname() -> String {
    "torpeer".to_owned()
}

fn default_bootstrap_timeout() -> u64 {
    DEFAULT_BOOTSTRAP_TIMEOUT_SECS
}

fn default_connect_timeout() -> u64 {
    DEFAULT_CONNECT_TIMEOUT_SECS
}

/// A non-public Tor network: its authorities and where to bootstrap from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomNetwork {
    /// Directory authorities whose signatures make a consensus valid.
    pub authorities: Vec<AuthorityConfig>,
    /// Relays to bootstrap from (arti does not fall back to the
    /// authorities by itself once they are overridden).
    pub fallbacks: Vec<FallbackConfig>,
    /// Onion time period in minutes. Must equal what the network's C-tor
    /// relays use (24 voting intervals under `TestingTorNetwork`), or arti
    /// and C-tor onion services compute different descriptor locations.
    #[serde(default)]
    pub hsdir_interval_minutes: Option<u32>,
}

/// One directory authority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorityConfig {
    /// v3 identity, 40 hex digits.
    pub v3ident: String,
    /// DirPort (used for uploads; clients bootstrap over ORPorts).
    pub dirport: SocketAddr,
}

/// One fallback directory cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackConfig {
    /// RSA identity, 40 hex digits.
    pub rsa_identity: String,
    /// Ed25519 identity, base64.
    pub ed_identity: String,
    /// ORPort.
    pub orport: SocketAddr,
}

/// Settings that make arti work on a loopback test network and that must
/// never be used on the real one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TestingOverrides {
    /// Fixed circuit-build timeout. On loopback arti otherwise learns a
    /// timeout from millisecond builds and aborts most circuits after ~100.
    pub disable_circuit_build_timeout_learning: bool,
    /// Skip arti's file-permission checks (temp dirs under /tmp).
    pub trust_all_file_permissions: bool,
    /// Allow relays in the same /16 on one path (every loopback relay is).
    pub disable_subnet_family_rule: bool,
}

impl ArtiConfig {
    /// A configuration for the public Tor network.
    pub fn public(state_dir: PathBuf, cache_dir: PathBuf) -> Self {
        ArtiConfig {
            state_dir,
            cache_dir,
            nickname: default_nickname(),
            network: None,
            allow_local_addrs: false,
            testing: TestingOverrides::default(),
            bootstrap_timeout_secs: DEFAULT_BOOTSTRAP_TIMEOUT_SECS,
            connect_timeout_secs: DEFAULT_CONNECT_TIMEOUT_SECS,
            vanguards: VanguardsMode::default(),
        }
    }

    /// A configuration joining a private network launched by
    /// `torpeer-tornet`, keeping arti's directories under `dir`.
    pub fn for_test_network(net: &torpeer_tornet::NetInfo, dir: &Path) -> Self {
        ArtiConfig {
            state_dir: dir.join("state"),
            cache_dir: dir.join("cache"),
            nickname: default_nickname(),
            network: Some(CustomNetwork::from_tornet(net)),
            allow_local_addrs: true,
            testing: TestingOverrides {
                disable_circuit_build_timeout_learning: true,
                trust_all_file_permissions: true,
                disable_subnet_family_rule: true,
            },
            bootstrap_timeout_secs: DEFAULT_BOOTSTRAP_TIMEOUT_SECS,
            connect_timeout_secs: DEFAULT_CONNECT_TIMEOUT_SECS,
            vanguards: VanguardsMode::default(),
        }
    }

    /// [`Self::bootstrap_timeout_secs`] as a duration.
    pub fn bootstrap_timeout(&self) -> Duration {
        Duration::from_secs(self.bootstrap_timeout_secs)
    }

    /// [`Self::connect_timeout_secs`] as a duration.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }

    /// arti's configuration; `hs_dir` is registered as a read-only C-tor
    /// keystore for the service nickname, so the onion service arti runs is
    /// the identity in that HiddenServiceDir. Without one the client can
    /// only dial (`torpeer peers --via arti`).
    #[cfg(feature = "arti")]
    pub(crate) fn to_tor_client_config(
        &self,
        hs_dir: Option<&Path>,
    ) -> Result<TorClientConfig, ArtiError> {
        if self.bootstrap_timeout_secs == 0 || self.connect_timeout_secs == 0 {
            return Err(ArtiError::Config(
                "bootstrap_timeout_secs and connect_timeout_secs must be at least 1".into(),
            ));
        }
        // arti takes these literally; relative paths would depend on the
        // working directory of whoever reads the state later.
        let abs = |p: &Path| {
            std::path::absolute(p).map_err(|e| ArtiError::Config(format!("{}: {e}", p.display())))
        };
        let (state_dir, cache_dir) = (abs(&self.state_dir)?, abs(&self.cache_dir)?);
        let mut b = TorClientConfigBuilder::from_directories(state_dir, cache_dir);
        if let Some(net) = &self.network {
            apply_network(&mut b, net)?;
        }
        if self.allow_local_addrs {
            b.address_filter().allow_local_addrs(true);
        }
        b.vanguards()
            .mode(ExplicitOrAuto::Explicit(match self.vanguards {
                VanguardsMode::Lite => VanguardMode::Lite,
                VanguardsMode::Full => VanguardMode::Full,
                VanguardsMode::Disabled => VanguardMode::Disabled,
            }));
        if self.testing.disable_subnet_family_rule {
            b.path_rules()
                .ipv4_subnet_family_prefix(33)
                .ipv6_subnet_family_prefix(129);
        }
        if self.testing.disable_circuit_build_timeout_learning {
            b.override_net_params().insert("cbtdisabled".into(), 1);
        }
        if self.testing.trust_all_file_permissions {
            b.storage().permissions().dangerously_trust_everyone();
        }
        if let Some(hs_dir) = hs_dir {
            let mut ks = CTorServiceKeystoreConfigBuilder::default();
            ks.id("torpeer-hidden-service-dir"
                .parse::<tor_keymgr::KeystoreId>()
                .map_err(|e| ArtiError::Config(format!("keystore id: {e}")))?)
                .path(abs(hs_dir)?)
                .nickname(self.hs_nickname()?);
            b.storage().keystore().ctor_service(ks);
        }
        b.build().map_err(|e| ArtiError::Config(e.to_string()))
    }

    #[cfg(feature = "arti")]
    pub(crate) fn hs_nickname(&self) -> Result<HsNickname, ArtiError> {
        HsNickname::new(self.nickname.clone())
            .map_err(|e| ArtiError::Config(format!("nickname {:?}: {e}", self.nickname)))
    }
}

#[cfg(feature = "arti")]
fn apply_network(b: &mut TorClientConfigBuilder, net: &CustomNetwork) -> Result<(), ArtiError> {
    if net.authorities.is_empty() || net.fallbacks.is_empty() {
        return Err(ArtiError::Config(
            "a custom network needs at least one authority and one fallback".into(),
        ));
    }
    for auth in &net.authorities {
        let v3 = RsaIdentity::from_hex(&auth.v3ident)
            .ok_or_else(|| ArtiError::Config(format!("v3ident {:?}", auth.v3ident)))?;
        let a = b.tor_network().authorities();
        a.v3idents().push(v3);
        a.uploads().push(vec![auth.dirport]);
        a.downloads().push(vec![auth.dirport]);
        a.votes().push(vec![auth.dirport]);
    }
    let mut fallbacks = Vec::with_capacity(net.fallbacks.len());
    for f in &net.fallbacks {
        let rsa = RsaIdentity::from_hex(&f.rsa_identity)
            .ok_or_else(|| ArtiError::Config(format!("rsa_identity {:?}", f.rsa_identity)))?;
        let ed = Ed25519Identity::from_base64(&f.ed_identity)
            .ok_or_else(|| ArtiError::Config(format!("ed_identity {:?}", f.ed_identity)))?;
        let mut fb = FallbackDir::builder();
        fb.rsa_identity(rsa).ed_identity(ed);
        fb.orports().push(f.orport);
        fallbacks.push(fb);
    }
    b.tor_network().set_fallback_caches(fallbacks);
    if let Some(minutes) = net.hsdir_interval_minutes {
        // arti silently raises values below 5 to 5; refuse them instead, so
        // a mismatch with the network is an error rather than a mystery.
        if !(5..=14_400).contains(&minutes) {
            return Err(ArtiError::Config(format!(
                "hsdir_interval_minutes {minutes} outside 5..=14400"
            )));
        }
        let v = i32::try_from(minutes).map_err(|_| ArtiError::Config("hsdir_interval".into()))?;
        b.override_net_params().insert("hsdir_interval".into(), v);
    }
    Ok(())
}

impl CustomNetwork {
    /// The network described by a `torpeer-tornet` `net.json`.
    pub fn from_tornet(net: &torpeer_tornet::NetInfo) -> Self {
        CustomNetwork {
            authorities: net
                .authorities()
                .into_iter()
                .map(|a| AuthorityConfig {
                    v3ident: a.v3ident,
                    dirport: a.dirport,
                })
                .collect(),
            fallbacks: net
                .fallbacks()
                .into_iter()
                .map(|f| FallbackConfig {
                    rsa_identity: f.rsa_identity,
                    ed_identity: f.ed_identity,
                    orport: f.orport,
                })
                .collect(),
            hsdir_interval_minutes: Some(net.hsdir_interval_minutes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "arti")]
    fn net() -> CustomNetwork {
        CustomNetwork {
            authorities: vec![AuthorityConfig {
                v3ident: "AB".repeat(20),
                dirport: "127.0.0.1:7001".parse().unwrap(),
            }],
            fallbacks: vec![FallbackConfig {
                rsa_identity: "CD".repeat(20),
                // 32 zero bytes, unpadded base64.
                ed_identity: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
                orport: "127.0.0.1:5001".parse().unwrap(),
            }],
            hsdir_interval_minutes: Some(6),
        }
    }

    #[cfg(feature = "arti")]
    fn cfg(dir: &Path) -> ArtiConfig {
        let mut c = ArtiConfig::public(dir.join("s"), dir.join("c"));
        c.network = Some(net());
        c.testing.trust_all_file_permissions = true;
        c
    }

    #[test]
    #[cfg(feature = "arti")]
    fn custom_network_builds() {
        let d = tempfile::tempdir().unwrap();
        cfg(d.path())
            .to_tor_client_config(Some(&d.path().join("hs")))
            .unwrap();
    }

    #[test]
    #[cfg(feature = "arti")]
    fn bad_fingerprint_is_a_config_error() {
        let d = tempfile::tempdir().unwrap();
        let mut c = cfg(d.path());
        if let Some(n) = c.network.as_mut() {
            n.fallbacks[0].rsa_identity = "xyz".into();
        }
        let err = c.to_tor_client_config(Some(d.path())).unwrap_err();
        assert_eq!(err.code(), "arti.config");
    }

    #[test]
    #[cfg(feature = "arti")]
    fn too_short_time_period_is_refused_not_rounded() {
        let d = tempfile::tempdir().unwrap();
        let mut c = cfg(d.path());
        if let Some(n) = c.network.as_mut() {
            n.hsdir_interval_minutes = Some(4);
        }
        let err = c.to_tor_client_config(Some(d.path())).unwrap_err();
        assert!(err.to_string().contains("hsdir_interval"), "{err}");
    }

    #[test]
    fn deserializes_from_json_with_defaults() {
        let c: ArtiConfig = serde_json::from_str(r#"{"state_dir":"/s","cache_dir":"/c"}"#).unwrap();
        assert_eq!(c.nickname, "torpeer");
        assert!(c.network.is_none());
        assert_eq!(c.bootstrap_timeout_secs, DEFAULT_BOOTSTRAP_TIMEOUT_SECS);
        assert_eq!(c.connect_timeout_secs, DEFAULT_CONNECT_TIMEOUT_SECS);
        assert!(!c.allow_local_addrs);
        assert_eq!(c.testing, TestingOverrides::default());
        assert_eq!(c.vanguards, VanguardsMode::Lite);
        for (s, mode) in [
            ("lite", VanguardsMode::Lite),
            ("full", VanguardsMode::Full),
            ("disabled", VanguardsMode::Disabled),
        ] {
            let c: ArtiConfig = serde_json::from_str(&format!(
                r#"{{"state_dir":"/s","cache_dir":"/c","vanguards":"{s}"}}"#
            ))
            .unwrap();
            assert_eq!((c.vanguards, c.vanguards.as_str()), (mode, s));
        }
        assert!(
            serde_json::from_str::<ArtiConfig>(
                r#"{"state_dir":"/s","cache_dir":"/c","vanguards":"on"}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<ArtiConfig>(r#"{"state_dir":"/s","cache_dir":"/c","bogus":1}"#)
                .is_err()
        );
    }

    #[test]
    #[cfg(feature = "arti")]
    fn every_vanguards_mode_builds() {
        let d = tempfile::tempdir().unwrap();
        for mode in [
            VanguardsMode::Lite,
            VanguardsMode::Full,
            VanguardsMode::Disabled,
        ] {
            let mut c = cfg(d.path());
            c.vanguards = mode;
            c.to_tor_client_config(None).unwrap();
        }
    }

    #[test]
    #[cfg(feature = "arti")]
    fn zero_timeouts_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let mut c = cfg(d.path());
        c.connect_timeout_secs = 0;
        let err = c.to_tor_client_config(Some(d.path())).unwrap_err();
        assert_eq!(err.code(), "arti.config");
    }
}
