//! `torpeer keygen` and `torpeer identity`.

use super::output::say;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use torpeer_core::network::{DEFAULT_DIFFICULTY, NetworkName};
use torpeer_core::onion::OnionAddress;

use super::pow::solve_with_progress;
use super::{CliError, CliResult, output};
use torpeer_node::hsdir_fs::{self, StoredPow};

#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// HiddenServiceDir to create (mode 0700), as tor's `HiddenServiceDir`.
    #[arg(long, value_name = "DIR")]
    hs_dir: PathBuf,
    /// Network the proof-of-work is for.
    #[arg(long, value_name = "NAME", default_value = torpeer_core::network::DEFAULT_NETWORK)]
    network: NetworkName,
    /// Proof-of-work difficulty in leading zero bits.
    #[arg(long, value_name = "D", default_value_t = DEFAULT_DIFFICULTY)]
    difficulty: u8,
    /// Solver threads (0 = every core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Replace a key already in the directory.
    #[arg(long)]
    force: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct KeygenOutput<'a> {
    onion: String,
    public_key: String,
    hs_dir: &'a std::path::Path,
    network: &'a str,
    difficulty: u8,
    nonce: String,
    hashes: u64,
    hashes_per_second: f64,
}

pub(crate) fn keygen(args: KeygenArgs) -> CliResult {
    if hsdir_fs::has_key(&args.hs_dir) && !args.force {
        return Err(CliError::fatal(format!(
            "{} already holds a secret key (use --force to replace it)",
            args.hs_dir.display()
        )));
    }
    let identity = hsdir_fs::generate_identity()?;
    let address = identity.address();
    // Solve before writing anything, so an interrupted keygen leaves no
    // directory without its proof-of-work.
    let stats = solve_with_progress(
        &args.network,
        &address,
        args.difficulty,
        args.threads,
        !args.json,
    )?;
    hsdir_fs::write_hs_dir(&args.hs_dir, &identity, args.force)?;
    let stored = StoredPow {
        onion: address.to_string(),
        network: args.network.to_string(),
        difficulty: args.difficulty,
        nonce: stats.0,
    };
    hsdir_fs::write_pow(&args.hs_dir, &stored)?;
    if args.json {
        output::print_json(&KeygenOutput {
            onion: address.to_string(),
            public_key: hex::encode(address.public_key()),
            hs_dir: &args.hs_dir,
            network: args.network.as_str(),
            difficulty: args.difficulty,
            nonce: stats.0.to_string(),
            hashes: stats.1.hashes,
            hashes_per_second: stats.1.hashes_per_second(),
        })
    } else {
        say!("onion:      {address}");
        say!("public key: {}", hex::encode(address.public_key()));
        say!("hs dir:     {}", args.hs_dir.display());
        say!(
            "pow:        nonce {} at difficulty {} on network {} ({} hashes, {:.2} MH/s)",
            stats.0,
            args.difficulty,
            args.network,
            stats.1.hashes,
            stats.1.hashes_per_second() / 1e6
        );
        Ok(())
    }
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct IdentitySource {
    /// Read the identity from a HiddenServiceDir (tor's or ours).
    #[arg(long, value_name = "DIR")]
    hs_dir: Option<PathBuf>,
    /// Validate an onion address.
    #[arg(long, value_name = "ADDR")]
    onion: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct IdentityArgs {
    #[command(flatten)]
    source: IdentitySource,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct IdentityOutput {
    onion: String,
    public_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pow: Option<StoredPow>,
}

pub(crate) fn identity(args: IdentityArgs) -> CliResult {
    let (address, pow) = match (&args.source.hs_dir, &args.source.onion) {
        (Some(dir), _) => {
            let keys = hsdir_fs::read_hs_dir(dir)?;
            let address = keys.identity.address();
            (address, hsdir_fs::read_pow(dir, &address)?)
        }
        (None, Some(text)) => {
            let address = OnionAddress::parse(text).map_err(|e| CliError::invalid(e.code(), e))?;
            (address, None)
        }
        (None, None) => return Err(CliError::fatal("give --hs-dir or --onion")),
    };
    if args.json {
        output::print_json(&IdentityOutput {
            onion: address.to_string(),
            public_key: hex::encode(address.public_key()),
            pow,
        })
    } else {
        say!("onion:      {address}");
        say!("public key: {}", hex::encode(address.public_key()));
        if let Some(p) = pow {
            say!(
                "pow:        nonce {} at difficulty {} on network {}",
                p.nonce,
                p.difficulty,
                p.network
            );
        }
        Ok(())
    }
}
