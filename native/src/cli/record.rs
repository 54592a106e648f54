//! `torpeer record sign | verify`.

use super::output::say;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use prost::Message;
use serde::Serialize;
use torpeer_core::codec::{self, Encoding};
use torpeer_core::network::{DEFAULT_DIFFICULTY, DEFAULT_NETWORK, NetworkName, NetworkParams};
use torpeer_core::record::{self, RecordBody, Role};
use torpeer_core::{pow, proto};

use super::{CliError, CliResult, output};
use torpeer_node::hsdir_fs;

/// Largest record or list `record verify` reads (a 10,000-peer list in JSON
/// is about 6 MiB).
const MAX_INPUT_LEN: usize = 16 << 20;

#[derive(Debug, Subcommand)]
pub(crate) enum RecordCommand {
    /// Sign a record for a HiddenServiceDir's key; prints it as proto3 JSON.
    Sign(SignArgs),
    /// Verify a record or a peer list (proto3 JSON or binary protobuf).
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// HiddenServiceDir holding the key and torpeer-pow.json.
    #[arg(long, value_name = "DIR")]
    hs_dir: PathBuf,
    /// The node's role.
    #[arg(long, default_value = "participant")]
    role: Role,
    /// Virtual port served on the onion address (repeatable, at most 8).
    #[arg(long = "port", value_name = "P")]
    ports: Vec<u16>,
    /// Network the record is for (the stored PoW must be for it too).
    #[arg(long, value_name = "NAME", default_value = DEFAULT_NETWORK)]
    network: NetworkName,
    /// Sequence number (default: the issue time, which grows on its own).
    #[arg(long, value_name = "N")]
    sequence: Option<u64>,
    /// Issue time in Unix seconds (default: now).
    #[arg(long, value_name = "UNIX")]
    issued_at: Option<u64>,
    /// Loopback endpoint to publish (development transport only).
    #[arg(long, value_name = "IP:PORT")]
    tcp_endpoint: Option<SocketAddr>,
    /// Write binary protobuf to stdout instead of proto3 JSON.
    #[arg(long)]
    binary: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// File to read; `-` or nothing for standard input.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Network the records must be for.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_NETWORK)]
    network: NetworkName,
    /// Minimum proof-of-work difficulty of the network.
    #[arg(long, value_name = "D", default_value_t = DEFAULT_DIFFICULTY)]
    difficulty: u8,
    /// Verify as of this Unix time (default: now).
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    /// The input is a peer list (detected on its own for JSON).
    #[arg(long)]
    list: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(cmd: RecordCommand) -> CliResult {
    match cmd {
        RecordCommand::Sign(args) => sign(args),
        RecordCommand::Verify(args) => verify(args),
    }
}

fn unix_now() -> Result<u64, CliError> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|_| CliError::fatal("system clock is before 1970"))
}

fn sign(args: SignArgs) -> CliResult {
    let keys = hsdir_fs::read_hs_dir(&args.hs_dir)?;
    let address = keys.identity.address();
    let stored = hsdir_fs::read_pow(&args.hs_dir, &address)?.ok_or_else(|| {
        CliError::fatal(format!(
            "{} has no {}: run `torpeer pow solve --hs-dir {} --network {} --difficulty D` first",
            args.hs_dir.display(),
            hsdir_fs::POW_FILE,
            args.hs_dir.display(),
            args.network
        ))
    })?;
    if stored.network != args.network.as_str() {
        return Err(CliError::fatal(format!(
            "the stored proof-of-work is for network {:?}, not {:?}: run `torpeer pow solve` for it",
            stored.network,
            args.network.as_str()
        )));
    }
    let issued_at = match args.issued_at {
        Some(t) => t,
        None => unix_now()?,
    };
    let body = RecordBody {
        address,
        network: args.network,
        role: args.role,
        ports: args.ports,
        issued_at,
        sequence: args.sequence.unwrap_or(issued_at),
        pow_difficulty: stored.difficulty,
        pow_nonce: stored.nonce,
        tcp_endpoint: args.tcp_endpoint,
    };
    let signed = body
        .sign(&keys.identity)
        .map_err(|e| CliError::invalid(e.code(), e))?;
    let message = signed.to_proto();
    if args.binary {
        use std::io::Write;
        std::io::stdout()
            .write_all(&message.encode_to_vec())
            .map_err(CliError::fatal)
    } else {
        output::print_json(&message)
    }
}

fn read_input(file: Option<&PathBuf>) -> Result<Vec<u8>, CliError> {
    let mut bytes = Vec::new();
    let limit = MAX_INPUT_LEN as u64 + 1;
    match file {
        Some(path) if path.as_os_str() != "-" => {
            let f = std::fs::File::open(path)
                .map_err(|e| CliError::fatal(format!("{}: {e}", path.display())))?;
            f.take(limit)
                .read_to_end(&mut bytes)
                .map_err(|e| CliError::fatal(format!("{}: {e}", path.display())))?;
        }
        _ => {
            std::io::stdin()
                .take(limit)
                .read_to_end(&mut bytes)
                .map_err(|e| CliError::fatal(format!("stdin: {e}")))?;
        }
    }
    if bytes.len() > MAX_INPUT_LEN {
        return Err(CliError::invalid(
            "input_too_large",
            format!("input exceeds {MAX_INPUT_LEN} bytes"),
        ));
    }
    Ok(bytes)
}

#[derive(Serialize)]
struct Verdict {
    ok: bool,
    code: &'static str,
    message: String,
    onion: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    achieved_difficulty: Option<u32>,
}

fn judge(record: &proto::PeerRecord, params: &NetworkParams, now: u64) -> Verdict {
    match record::verify(record, params, now) {
        Ok(signed) => Verdict {
            ok: true,
            code: "ok",
            message: "valid".to_owned(),
            onion: signed.body.address.to_string(),
            sequence: Some(signed.body.sequence.to_string()),
            achieved_difficulty: Some(pow::achieved_difficulty(
                &signed.body.network.id(),
                &signed.body.address,
                signed.body.pow_nonce,
            )),
        },
        Err(e) => Verdict {
            ok: false,
            code: e.code(),
            message: e.to_string(),
            onion: record.onion.clone(),
            sequence: None,
            achieved_difficulty: None,
        },
    }
}

/// What the input holds.
enum Parsed {
    One(proto::PeerRecord),
    List(proto::PeerList),
}

fn parse(bytes: &[u8], list: bool) -> Result<Parsed, CliError> {
    let invalid = |e: codec::MessageError| CliError::invalid(e.code(), e);
    let is_json_list = codec::detect_encoding(bytes) == Encoding::Json
        && serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .is_some_and(|v| v.get("peers").is_some());
    if list || is_json_list {
        let (l, _) =
            codec::decode_message::<proto::PeerList>(bytes, MAX_INPUT_LEN).map_err(invalid)?;
        return Ok(Parsed::List(l));
    }
    let (r, encoding) =
        codec::decode_message::<proto::PeerRecord>(bytes, MAX_INPUT_LEN).map_err(invalid)?;
    // A binary peer list also decodes as a (nonsensical) record; recognise
    // it by its entries.
    if encoding == Encoding::Binary
        && torpeer_core::OnionAddress::parse(&r.onion).is_err()
        && let Ok(l) = proto::PeerList::decode(bytes)
        && !l.peers.is_empty()
    {
        return Ok(Parsed::List(l));
    }
    Ok(Parsed::One(r))
}

fn verify(args: VerifyArgs) -> CliResult {
    let bytes = read_input(args.file.as_ref())?;
    let now = match args.now {
        Some(t) => t,
        None => unix_now()?,
    };
    let params = NetworkParams::new(args.network.clone()).with_min_difficulty(args.difficulty);
    let parsed = match parse(&bytes, args.list) {
        Ok(p) => p,
        Err(e) => {
            if let (true, CliError::Invalid { code, message }) = (args.json, &e) {
                output::print_json(&serde_json::json!({
                    "ok": false, "code": code, "message": message,
                }))?;
            }
            return Err(e);
        }
    };
    let verdicts = match parsed {
        Parsed::One(r) => vec![judge(&r, &params, now)],
        Parsed::List(l) => l
            .peers
            .iter()
            .map(|entry| match &entry.record {
                Some(r) => judge(r, &params, now),
                None => Verdict {
                    ok: false,
                    code: "malformed",
                    message: "peer entry without a record".to_owned(),
                    onion: String::new(),
                    sequence: None,
                    achieved_difficulty: None,
                },
            })
            .collect(),
    };
    let failed: Vec<&Verdict> = verdicts.iter().filter(|v| !v.ok).collect();
    if args.json {
        if verdicts.len() == 1 && !args.list {
            output::print_json(&verdicts[0])?;
        } else {
            output::print_json(&serde_json::json!({
                "ok": failed.is_empty(),
                "total": verdicts.len(),
                "failed": failed.len(),
                "results": verdicts,
            }))?;
        }
    } else {
        for v in &verdicts {
            if v.ok {
                say!(
                    "ok: {} (sequence {})",
                    v.onion,
                    v.sequence.as_deref().unwrap_or("?")
                );
            }
        }
    }
    if verdicts.len() > 1 || args.list {
        for v in &failed {
            eprintln!("invalid ({}): {}: {}", v.code, v.onion, v.message);
        }
    }
    match failed.first() {
        None => Ok(()),
        Some(_) if verdicts.len() == 1 => {
            let v = &verdicts[0];
            Err(CliError::invalid(v.code, &v.message))
        }
        Some(_) => Err(CliError::invalid(
            "list_invalid",
            format!(
                "{} of {} records failed verification",
                failed.len(),
                verdicts.len()
            ),
        )),
    }
}
